import NIOCore

// SECURITY: the first handlers every byte from a client meets. They bound
// what a client can make the server hold: one unfinished call of at most
// `maximumFrameBytes`, for at most `partialTimeout`, and replies that wait
// unread for at most `stalledTimeout`. A client that breaks a bound is cut
// off; nothing it sent is parsed.

/// Why a connection was cut off by a handler, for the log.
enum CutOff: Error, Equatable {
    case frameTooLarge
    case partialFrameTimeout
    case stalledOutput
}

/// Splits the byte stream into NUL-terminated frames (without the NUL).
final class NULFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let maximumFrameBytes: Int
    private let partialTimeout: TimeAmount
    private var buffer: ByteBuffer?
    /// Bytes of `buffer` already searched for a NUL.
    private var scanned = 0
    private var deadline: Scheduled<Void>?

    init(maximumFrameBytes: Int, partialTimeout: TimeAmount) {
        self.maximumFrameBytes = maximumFrameBytes
        self.partialTimeout = partialTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if buffer == nil {
            buffer = chunk
        } else {
            buffer!.writeBuffer(&chunk)
        }
        while var current = buffer {
            let view = current.readableBytesView
            guard let nul = view.dropFirst(scanned).firstIndex(of: 0) else {
                scanned = view.count
                break
            }
            let length = nul - view.startIndex
            let frame = current.readSlice(length: length)!
            current.moveReaderIndex(forwardBy: 1)
            scanned = 0
            buffer = current.readableBytes == 0 ? nil : current
            if length > maximumFrameBytes {
                fail(context, .frameTooLarge)
                return
            }
            context.fireChannelRead(wrapInboundOut(frame))
        }
        if let current = buffer {
            if current.readableBytes > maximumFrameBytes {
                fail(context, .frameTooLarge)
                return
            }
            if current.readerIndex > 65536 { buffer!.discardReadBytes() }
            if deadline == nil {
                deadline = context.eventLoop.assumeIsolated().scheduleTask(in: partialTimeout) { [weak self] in
                    guard let self else { return }
                    self.deadline = nil
                    self.fail(context, .partialFrameTimeout)
                }
            }
        } else {
            deadline?.cancel()
            deadline = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: CutOff) {
        deadline?.cancel()
        deadline = nil
        buffer = nil
        context.fireErrorCaught(reason)
        context.close(promise: nil)
    }
}

/// Cuts off a client that leaves replies unread: when the channel stops
/// being writable (more than the high water mark queued), the client must
/// drain them within `stalledTimeout`.
final class StalledOutputHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let stalledTimeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(stalledTimeout: TimeAmount) {
        self.stalledTimeout = stalledTimeout
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            deadline?.cancel()
            deadline = nil
        } else if deadline == nil {
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: stalledTimeout) { [weak self] in
                self?.deadline = nil
                context.fireErrorCaught(CutOff.stalledOutput)
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}

/// Closes a connection that nothing was read from or written to for
/// `timeout`, so that idle connections do not hold a user's share of the
/// connection limits for ever; a connection streaming a Watch (announced
/// with a `Streaming` event) is never idle.
final class IdleConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    /// A Watch began on this connection: stop timing it.
    struct Streaming {}

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var streaming = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arm(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        arm(context)
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Streaming {
            streaming = true
            deadline?.cancel()
            deadline = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    private func arm(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        guard !streaming else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            self?.deadline = nil
            // Not an error: the client may connect again whenever it likes.
            context.close(promise: nil)
        }
    }
}

extension TimeAmount {
    /// Whole nanoseconds of a Swift `Duration`, saturating.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(overflow ? .max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue)
    }
}
