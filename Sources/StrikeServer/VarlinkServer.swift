// SECURITY: this accepts connections from any local process that can open
// the socket. Before a byte is parsed, each connection is counted against the
// total and per-uid limits and its peer credentials are taken from the kernel
// (SO_PEERCRED). Framing handlers bound every call's size and time; calls are
// parsed strictly (VarlinkCall) and their parameters checked (QueryCall,
// AdminCall) before any work; Query and Admin need the access that
// Server+Authorization.swift grants. A client that breaks the protocol or a
// limit is cut off without affecting the others, and logged at most once per
// 10 s per kind of trouble. Message bodies are never logged.
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StrikeCore
import StrikeJournal
import StrikeOS
import StrikeStore
import Synchronization
import VarlinkProtocol

/// The Varlink service on strikecd's Unix socket (docs/protocol.md).
///
/// Run it as a swift-service-lifecycle `Service`, or call `run()` in a task
/// and cancel the task. It stops accepting on graceful shutdown or `stop()`,
/// ends open connections (Watch streams included), and returns. Use
/// `waitUntilListening()` to learn when clients can connect (for READY=1).
public final class VarlinkServer: Service, Sendable {
    public let configuration: ServerConfiguration
    private let store: Store
    private let feed: ChangeFeed
    private let dispatcher: Dispatcher
    private let authorizer: Authorizer
    private let counter: ConnectionCounter
    private let throttle = LogThrottle()
    private let logger: Logger
    private let group: any EventLoopGroup
    private let state = Mutex(ListenState.starting([]))
    /// The socket this server bound at its path (not systemd's), to remove
    /// at the stop.
    private let boundSocket = Mutex<SocketPath.Bound?>(nil)

    private enum ListenState {
        case starting([CheckedContinuation<Void, any Error>])
        case listening(any Channel)
        case stopped(ServerError?)
    }

    /// - Parameters:
    ///   - store: queries read it without blocking (GRDB's async reads).
    ///   - feed: Watch subscribes to it; whoever commits publishes into it.
    ///   - admin: what Admin calls do; nil answers them MethodNotImplemented.
    ///   - logger: metadata keys are lower_snake; bodies are never logged.
    ///   - eventLoopGroup: where sockets are served (NIO's shared group by default).
    public init(
        configuration: ServerConfiguration, store: Store, feed: ChangeFeed, admin: (any AdminBackend)?, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.store = store
        self.feed = feed
        self.logger = logger
        self.group = eventLoopGroup
        dispatcher = Dispatcher(store: store, admin: admin, info: configuration.info, logger: logger)
        authorizer = Authorizer(queryGroup: configuration.queryGroup, adminGroup: configuration.adminGroup)
        counter = ConnectionCounter(
            maximum: configuration.limits.maximumConnections, maximumPerUID: configuration.limits.maximumConnectionsPerUID)
    }

    /// Connections open now.
    public var connectionCount: Int { counter.total }

    /// Returns once the socket accepts connections; throws if the server
    /// failed to start or stopped first.
    public func waitUntilListening() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let resume: Result<Void, ServerError>? = state.withLock { state in
                switch state {
                case .starting(let waiters):
                    state = .starting(waiters + [continuation])
                    return nil
                case .listening:
                    return .success(())
                case .stopped(let error):
                    return .failure(error ?? ServerError("the Varlink server stopped before it listened"))
                }
            }
            if let resume { continuation.resume(with: resume) }
        }
    }

    /// Stops accepting and ends every connection; `run()` then returns.
    public func stop() {
        let channel: (any Channel)? = state.withLock { state in
            switch state {
            case .listening(let channel):
                return channel
            case .starting(let waiters):
                state = .stopped(nil)
                for waiter in waiters { waiter.resume(throwing: ServerError("the Varlink server was stopped before it listened")) }
                return nil
            case .stopped:
                return nil
            }
        }
        channel?.close(promise: nil)
    }

    public func run() async throws {
        let server: NIOAsyncChannel<Accepted, Never>
        do {
            server = try await bind()
        } catch {
            let failure = error as? ServerError ?? ServerError("cannot listen on the Varlink socket: \(error)")
            finishStarting(with: failure)
            throw failure
        }
        let waiters: [CheckedContinuation<Void, any Error>]? = state.withLock { state in
            guard case .starting(let waiters) = state else { return nil }
            state = .listening(server.channel)
            return waiters
        }
        guard let waiters else {
            // stop() came first.
            try? await server.channel.close()
            removeSocket()
            return
        }
        for waiter in waiters { waiter.resume() }
        logger.info("the Varlink server is listening", metadata: ["socket": "\(socketDescription)"])

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await accepted in connections {
                        admit(accepted, into: &group)
                    }
                }
                // Accepting stopped: end the open connections too.
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        state.withLock { $0 = .stopped(nil) }
        removeSocket()
        logger.info("the Varlink server stopped")
    }

    /// A stopped daemon leaves no socket behind: a client then hears that
    /// nothing is there, not that something there refuses it.
    private func removeSocket() {
        guard let bound = boundSocket.withLock({ $0 }) else { return }
        do {
            try bound.remove()
        } catch {
            logger.warning("cannot remove the socket \(bound.path): \(error)")
        }
    }

    private var socketDescription: String {
        switch configuration.listen {
        case .path(let path, _, _): path
        case .adopted(let fd): "fd \(fd)"
        }
    }

    private func finishStarting(with error: ServerError) {
        let waiters: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            guard case .starting(let waiters) = state else { return [] }
            state = .stopped(error)
            return waiters
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    // MARK: - Accepting

    /// A connection with its peer's credentials, as the child initializer
    /// made it: framing and the call handler installed, not reading yet. It
    /// is wrapped in an NIOAsyncChannel only by the task that serves it,
    /// because NIO requires every NIOAsyncChannel to be consumed, and a
    /// refused connection, or one still queued at shutdown, never is.
    struct Accepted: Sendable {
        let channel: any Channel
        let peer: PeerCredentials
        /// Answers bounded calls on the loop; the task reports to it.
        let calls: NIOLoopBound<CallHandler>
    }

    private func bind() async throws -> NIOAsyncChannel<Accepted, Never> {
        let limits = configuration.limits
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(
                .writeBufferWaterMark, value: .init(low: limits.outputLowWater, high: limits.outputHighWater))
            // Reading starts once the connection is admitted and served.
            .childChannelOption(.autoRead, value: false)
        let (dispatcher, authorizer, logger) = (dispatcher, authorizer, logger)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Accepted> = { channel in
            channel.peerCredentials().flatMapThrowing { peer in
                let pipeline = channel.pipeline.syncOperations
                try pipeline.addHandler(StalledOutputHandler(stalledTimeout: TimeAmount(limits.stalledOutputTimeout)))
                if let idle = limits.idleTimeout { try pipeline.addHandler(IdleConnectionHandler(timeout: TimeAmount(idle))) }
                try pipeline.addHandler(NULFrameHandler(
                    maximumFrameBytes: limits.maximumMessageBytes, partialTimeout: TimeAmount(limits.partialMessageTimeout)))
                let calls = CallHandler(peer: peer, dispatcher: dispatcher, access: authorizer.accessAtOnce(for: peer), logger: logger)
                try pipeline.addHandler(calls)
                return Accepted(channel: channel, peer: peer, calls: NIOLoopBound(calls, eventLoop: channel.eventLoop))
            }
        }
        switch configuration.listen {
        case .path(let path, let mode, let socketGroup):
            try SocketPath.prepare(path, logger: logger)
            let server = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
            do {
                try SocketPath.secure(path, mode: mode, group: socketGroup, logger: logger)
                let bound = try SocketPath.Bound(path)
                boundSocket.withLock { $0 = bound }
            } catch {
                try? await server.channel.close()
                try? SocketPath.Bound(path).remove()
                throw error
            }
            return server
        case .adopted(let fd):
            return try await bootstrap.bind(fd, childChannelInitializer: initializer)
        }
    }

    private func admit(_ accepted: Accepted, into group: inout ThrowingDiscardingTaskGroup<any Error>) {
        let peer = accepted.peer
        switch counter.admit(uid: peer.uid) {
        case .admitted:
            group.addTask {
                defer { self.counter.release(uid: peer.uid) }
                await self.serve(accepted)
            }
        case .tooMany:
            accepted.channel.close(promise: nil)
            warnThrottled("too-many", "a connection was refused: the server has the most connections it allows",
                          ["peer_uid": "\(peer.uid)", "limit": "\(configuration.limits.maximumConnections)"])
        case .tooManyForUID:
            accepted.channel.close(promise: nil)
            warnThrottled("too-many-for-uid", "a connection was refused: its user has the most connections allowed per user",
                          ["peer_uid": "\(peer.uid)", "limit": "\(configuration.limits.maximumConnectionsPerUID)"])
        }
    }

    private func warnThrottled(_ kind: String, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        guard let suppressed = throttle.allow(kind, now: Sys.monotonicNanoseconds()) else { return }
        // Every caller refuses or cuts off a client: the catalog entry for client_rejected
        // explains it with STRIKECD_REASON and STRIKECD_PEER_UID.
        var metadata = JournalEvent.clientRejected.metadata(metadata)
        if metadata["reason"] == nil { metadata["reason"] = "\(kind)" }
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        logger.warning(message, metadata: metadata)
    }

    // MARK: - One connection

    /// Why a connection's loop ended early.
    private enum Ending: Error {
        case feedFinished
    }

    private func serve(_ accepted: Accepted) async {
        let peer = accepted.peer
        let calls = accepted.calls
        var access: Access?
        do {
            let channel = accepted.channel
            // Reading is switched on first, in the same turn of the loop that
            // adds the async handlers, so nothing is read before they are
            // there. The other order leaked the wrapper of every connection
            // whose peer had already gone (setting the option then throws, and
            // an NIOAsyncChannel never consumed is never freed): LeakSanitizer
            // found it, and a client that connects and leaves in a loop would
            // have grown the daemon without bound.
            let connection: NIOAsyncChannel<Inbound, ByteBuffer>
            do {
                connection = try await channel.eventLoop.submit {
                    try channel.syncOptions?.setOption(.autoRead, value: true)
                    return try NIOAsyncChannel<Inbound, ByteBuffer>(wrappingChannelSynchronously: channel)
                }.get()
            } catch {
                channel.close(promise: nil)
                throw error
            }
            try await connection.executeThenClose { inbound, outbound in
                // Only what CallHandler did not answer on the loop comes here.
                for try await received in inbound {
                    let call: VarlinkCall
                    switch received {
                    case .call(let handed):
                        call = handed
                    case .violation(let error):
                        warnThrottled("violation", "a client broke the Varlink protocol; its connection was closed",
                                      ["peer_uid": "\(peer.uid)", "peer_pid": "\(peer.pid)", "reason": "\(error)"])
                        return
                    }
                    try await answer(call, peer: peer, access: &access, outbound: outbound, channel: channel)
                    let known = access
                    calls.eventLoop.execute { calls.value.finished(access: known) }
                }
            }
        } catch let cut as CutOff {
            let reason = switch cut {
            case .frameTooLarge: "a call longer than \(configuration.limits.maximumMessageBytes) bytes"
            case .partialFrameTimeout: "a call left unfinished for \(configuration.limits.partialMessageTimeout)"
            case .stalledOutput: "replies left unread for \(configuration.limits.stalledOutputTimeout)"
            }
            warnThrottled("cut-off", "a client was cut off", ["peer_uid": "\(peer.uid)", "peer_pid": "\(peer.pid)", "reason": "\(reason)"])
        } catch {
            // The peer went away, or the server is stopping: nothing to tell anyone.
            logger.debug("connection ended", metadata: ["peer_uid": "\(peer.uid)", "error": "\(error)"])
        }
    }

    /// Answers one call the loop handed over, with the connection's `access`
    /// looked up on first need.
    private func answer(
        _ call: VarlinkCall, peer: PeerCredentials, access: inout Access?,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel
    ) async throws {
        let answer: Answer
        do throws(VarlinkError) {
            var known = access
            defer { access = known }
            answer = try await dispatcher.answer(call, peer: peer) {
                if let known { return known }
                let found = await authorizer.access(for: peer, logger: logger)
                known = found
                return found
            }
        } catch {
            dispatcher.noteRefusal(error, of: call, peer: peer)
            if !call.oneway { try await write(VarlinkReply(error), to: outbound) }
            return
        }
        switch answer {
        case .reply(let parameters):
            if !call.oneway { try await write(VarlinkReply(parameters: parameters), to: outbound) }
        case .watch:
            if call.oneway { return }
            try await watch(outbound: outbound, channel: channel)
        }
    }

    private func write(_ reply: VarlinkReply, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        var bytes = reply.bytes()
        bytes.append(0)
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Streams the feed to one Watch: the summary first (after subscribing,
    /// so no change falls between), then each change, until the client goes
    /// away (connection ends), falls behind (WatchOverflow; the connection
    /// goes on), or the feed finishes (the daemon is stopping).
    private func watch(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel) async throws {
        let subscription = feed.subscribe()
        let summary: Summary
        do {
            summary = try await store.summaryAsync()
        } catch {
            let detail = switch error {
            case .store(let failure): failure.detail
            case .invalidCursor: "\(error)"
            }
            try await write(VarlinkReply(.storeFailed(detail)), to: outbound)
            return
        }
        // A watcher waits, maybe for hours, for the next change: not idle.
        channel.pipeline.fireUserInboundEventTriggered(IdleConnectionHandler.Streaming())
        var first = ObjectBuilder()
        first.set("summary", summary.json)
        try await write(VarlinkReply(parameters: first.object, continues: true), to: outbound)

        // The changes are awaited in a child task that the channel's closing
        // cancels: an idle watcher whose client left must not linger.
        let streaming = Task {
            for await change in subscription.changes {
                try await self.write(VarlinkReply(parameters: Replies.change(change), continues: true), to: outbound)
            }
        }
        channel.closeFuture.whenComplete { _ in streaming.cancel() }
        try await withTaskCancellationHandler {
            try await streaming.value
        } onCancel: {
            streaming.cancel()
        }
        try Task.checkCancellation()
        if subscription.overflowed {
            try await write(VarlinkReply(.watchOverflow), to: outbound)
            return
        }
        if !channel.isActive { return }
        throw Ending.feedFinished
    }
}
