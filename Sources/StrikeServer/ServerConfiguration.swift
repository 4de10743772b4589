/// Where the server listens.
public enum ListenSource: Sendable, Equatable {
    /// Bind a Unix socket at `path` (removing a stale socket file nobody
    /// listens on), then set its `mode` and, when `group` names an existing
    /// group, its group owner, so that the group's members can connect.
    case path(String, mode: UInt32 = 0o660, group: String? = nil)
    /// Use an already-bound, listening socket, e.g. from systemd's socket
    /// activation (`sd_listen_fds`). The server closes it when it stops but
    /// never unlinks its path: the socket unit owns it.
    case adopted(fileDescriptor: Int32)
}

/// What `org.varlink.service.GetInfo` reports.
public struct ServiceInfo: Sendable, Equatable {
    public var vendor: String
    public var product: String
    public var version: String
    public var url: String

    public init(vendor: String = "strikecd", product: String = "strikecd", version: String, url: String = "man:strikecd(8)") {
        self.vendor = vendor
        self.product = product
        self.version = version
        self.url = url
    }
}

/// Everything the Varlink server needs to know besides its backends.
public struct ServerConfiguration: Sendable {
    public var listen: ListenSource
    public var info: ServiceInfo
    /// Members may call `org.strikecd.Query` (root always may).
    public var queryGroup: String
    /// Members may call `org.strikecd.Admin`, and Query too (root always may).
    public var adminGroup: String
    public var limits: Limits

    public init(
        listen: ListenSource, info: ServiceInfo, queryGroup: String = "strikecd", adminGroup: String = "strikecd-admin",
        limits: Limits = Limits()
    ) {
        self.listen = listen
        self.info = info
        self.queryGroup = queryGroup
        self.adminGroup = adminGroup
        self.limits = limits
    }

    /// What one client may make the server hold, so that none can starve another.
    public struct Limits: Sendable, Equatable {
        /// Connections open at once; more are accepted and closed at once.
        /// The daemon's default (`max_connections`), which it always passes.
        public var maximumConnections = 256
        /// Connections open at once from one uid (root included); the
        /// daemon's default (`max_connections_per_user`).
        public var maximumConnectionsPerUID = 32
        /// The longest call, in bytes; a longer one closes the connection.
        public var maximumMessageBytes = 1 << 20
        /// A call begun but not finished (no NUL yet) within this time closes the connection.
        public var partialMessageTimeout = Duration.seconds(10)
        /// Replies the client does not read: once more than `outputHighWater`
        /// bytes wait to be sent, the client has this long to drain them below
        /// `outputLowWater` before it is cut off.
        public var stalledOutputTimeout = Duration.seconds(30)
        /// A connection with nothing read from it or written to it for this
        /// long is closed, unless it is streaming a Watch; nil: never.
        /// Connections count against the limits above, so one user's idle
        /// ones would otherwise hold its share for good.
        public var idleTimeout: Duration? = .seconds(300)
        public var outputHighWater = 1 << 20
        public var outputLowWater = 256 << 10

        public init() {}
    }
}
