// SECURITY: this handler parses every call a client sends (strictly, by
// VarlinkCall) and answers the bounded ones itself. It never answers a call
// that needs the peer's group membership before the connection's task has
// looked it up, never answers out of order, and never answers while the
// client leaves earlier replies unread: in each of those cases the call goes
// to the connection's task, which waits its turn and for the client, and the
// framing handlers before this one keep bounding what the client can send.
import Logging
import NIOCore
import VarlinkProtocol

/// What the connection's task receives from `CallHandler`: the calls the
/// handler did not answer itself, in the order they came.
enum Inbound: Sendable {
    case call(VarlinkCall)
    /// The frame broke the protocol: the task logs it and closes the connection.
    case violation(VarlinkViolation)
}

/// Answers bounded calls on the connection's event loop, as they arrive.
///
/// Why: handing every call to a Swift task, the store's read to GRDB's
/// reader pool, and the reply back to the event loop took three thread
/// hand-offs per call, most of a Summary's time (docs/performance.md). Here a
/// bounded call (org.varlink.service, Summary, GetWorkplace; see
/// `Dispatcher.answerNow`) is parsed, authorized, read from SQLite and written
/// on the loop, with no hand-off. The loop waits for that read: a few index
/// look-ups, tens of microseconds.
///
/// Everything else goes to the connection's task (`Inbound.call`): Watch, Admin,
/// the list calls (a page, but not bounded work), a Query before the
/// connection's access is known, and any call while an
/// earlier one is still with the task or the channel is not writable. The
/// task reports each call it has finished (`finished(access:)`); until every
/// call handed over is finished, later calls follow them, so replies keep
/// the calls' order however many a client pipelines.
final class CallHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Inbound
    typealias OutboundOut = ByteBuffer

    private let peer: PeerCredentials
    private let dispatcher: Dispatcher
    private let logger: Logger
    /// What the peer may call; nil until known. Root's is known at once; for
    /// anyone else the task looks it up (NSS may ask a directory service,
    /// which must not stall the loop) and reports it.
    private var access: Access?
    /// Calls handed to the task and not yet finished.
    private var handedOver = 0
    /// A protocol violation was seen: nothing more from this client is read.
    private var violated = false
    /// Replies written since the last flush.
    private var unflushed = false

    init(peer: PeerCredentials, dispatcher: Dispatcher, access: Access?, logger: Logger) {
        self.peer = peer
        self.dispatcher = dispatcher
        self.access = access
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !violated else { return }
        let frame = unwrapInboundIn(data)
        let call: VarlinkCall
        do {
            call = try VarlinkCall.parse(frame.readableBytesView)
        } catch {
            violated = true
            handOver(.violation(error), context: context)
            return
        }
        logger.debug("call", metadata: ["peer_uid": "\(peer.uid)", "method": "\(call.method)"])
        // A client that leaves replies unread gets its calls answered by the
        // task, which waits for the channel to drain (and the stalled-output
        // limit applies) instead of queueing more here.
        guard handedOver == 0, context.channel.isWritable, let result = dispatcher.answerNow(call, access: access) else {
            handOver(.call(call), context: context)
            return
        }
        let reply: VarlinkReply
        switch result {
        case .success(let parameters):
            reply = VarlinkReply(parameters: parameters)
        case .failure(let error):
            dispatcher.noteRefusal(error, of: call, peer: peer)
            reply = VarlinkReply(error)
        }
        guard !call.oneway else { return }
        context.write(wrapOutboundOut(reply.frame(allocator: context.channel.allocator)), promise: nil)
        unflushed = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context)
        context.fireChannelReadComplete()
    }

    /// The task finished a call it was handed (its reply, if any, is written);
    /// `access` is the connection's, once the task has looked it up.
    func finished(access: Access?) {
        handedOver -= 1
        if self.access == nil { self.access = access }
    }

    private func handOver(_ inbound: Inbound, context: ChannelHandlerContext) {
        // Replies already written go first.
        flush(context)
        handedOver += 1
        context.fireChannelRead(wrapInboundOut(inbound))
    }

    private func flush(_ context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        context.flush()
    }
}

extension VarlinkReply {
    /// The reply as one frame, NUL included, for the channel.
    func frame(allocator: ByteBufferAllocator) -> ByteBuffer {
        let bytes = self.bytes()
        var buffer = allocator.buffer(capacity: bytes.count + 1)
        buffer.writeBytes(bytes)
        buffer.writeInteger(UInt8(0))
        return buffer
    }
}
