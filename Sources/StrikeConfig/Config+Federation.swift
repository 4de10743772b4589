import Foundation
import StrikeCore
import Yams

/// A neighbour this node sends its accepted copies to (docs/federation.md).
public struct PeerConfig: Sendable, Equatable {
    /// How batches reach the peer.
    public enum Transport: Sendable, Equatable {
        /// Batches are written to `OUTBOX_DIRECTORY/NAME/`; something outside
        /// the daemon's sandbox hands each to `nncp-exec NODE strikecd`.
        /// `NNCP_SENDER` of what that node sends us maps back to this peer.
        case nncp(node: String)
        /// Batches are written to this directory: a Syncthing send-only
        /// folder, or a courier's stick.
        case outbox(directory: String)
    }

    /// The peer's name: a slug, unique among the peers.
    public var name: String
    public var transport: Transport
    /// The NNCP node id that NNCP_SENDER holds for what this peer sends,
    /// when `nncp:` is an alias name (NNCP passes the id, never the alias).
    public var nncpID: String?
    /// Which copies may go to this peer: any filter that admits a copy sends it.
    public var send: [PeerFilter]

    public init(name: String, transport: Transport, send: [PeerFilter] = [.all], nncpID: String? = nil) {
        self.name = name
        self.transport = transport
        self.send = send
        self.nncpID = nncpID
    }

    /// What NNCP_SENDER says for this peer's packets: its `nncp_id`, else its `nncp:` node.
    public var nncpSender: String? { nncpID ?? nncpNode }

    /// The NNCP node, for an `nncp:` peer.
    public var nncpNode: String? {
        if case .nncp(let node) = transport { return node }
        return nil
    }
}

/// One entry of a peer's `send` list.
public enum PeerFilter: Sendable, Equatable, CustomStringConvertible {
    /// `*`: every accepted copy.
    case all
    /// An origin's slug: that origin's copies.
    case origin(String)
    /// `workplace:SLUG`, `council:SLUG`, `workplace:*`, `council:*`: the
    /// copies about such a body (docs/messages.md, "Scopes"); never a safety
    /// report, which is about no body.
    case scope(Scope)

    public var description: String {
        switch self {
        case .all: "*"
        case .origin(let origin): origin
        case .scope(let scope): scope.description
        }
    }

    /// Whether a copy of `origin` about `body` may go where this filter is given.
    public func admits(origin: String, body: BodyRef?) -> Bool {
        switch self {
        case .all: true
        case .origin(let allowed): allowed == origin
        case .scope(let scope): body.map(scope.admits) ?? false
        }
    }
}

extension [PeerFilter] {
    /// Whether any filter admits a copy of `origin` about `body`.
    public func admit(origin: String, body: BodyRef? = nil) -> Bool { contains { $0.admits(origin: origin, body: body) } }
}

/// A directory read like the spool but never deleted from.
public struct InboxConfig: Sendable, Equatable {
    public var path: String
    /// The peer whose copies arrive here: they are not sent back to it.
    public var from: String?

    public init(path: String, from: String? = nil) {
        self.path = path
        self.from = from
    }
}

extension DaemonConfig {
    /// The value of `node` that means none is set (the default).
    public static let noNode = "none"

    /// The peer whose `nncp:` node is `sender` (NNCP_SENDER of an import).
    public func peer(nncpNode sender: String) -> PeerConfig? {
        peers.first { $0.nncpSender == sender }
    }

    /// The directory batches for `peer` are written to.
    public func outboxDirectory(for peer: PeerConfig) -> String {
        switch peer.transport {
        case .nncp: (outboxDirectory as NSString).appendingPathComponent(peer.name)
        case .outbox(let directory): directory
        }
    }

    // MARK: - Parsing

    static func node(_ node: Node, _ file: String) throws(ConfigError) -> String {
        let text = try string(node, file, "node")
        guard Slug.isValid(text) else {
            throw ConfigError(file: file, line: node.mark?.line, key: "node",
                              message: "must be a slug: 1 to 63 of a-z, 0-9 and '-', starting with a letter or digit (got \"\(text)\")")
        }
        return text
    }

    static func peers(_ node: Node, _ file: String) throws(ConfigError) -> [PeerConfig] {
        guard case .sequence(let sequence) = node else {
            throw ConfigError(file: file, line: node.mark?.line, key: "peers",
                              message: "must be a list of peers, each `- name: NAME` with `nncp: NODE` or `outbox: DIR`, and `send: [...]`")
        }
        var peers: [PeerConfig] = []
        for (index, item) in sequence.enumerated() {
            let where_ = "peers[\(index + 1)]"
            let fields = try mapping(item, file, where_, allowed: ["name", "nncp", "nncp_id", "outbox", "send"])
            guard let nameNode = fields["name"] else {
                throw ConfigError(file: file, line: item.mark?.line, key: where_, message: "has no name; give `name: NAME`")
            }
            let name = try string(nameNode, file, where_ + ".name")
            guard Slug.isValid(name) else {
                throw ConfigError(file: file, line: nameNode.mark?.line, key: where_ + ".name",
                                  message: "must be a slug: 1 to 63 of a-z, 0-9 and '-' (got \"\(name)\")")
            }
            guard !peers.contains(where: { $0.name == name }) else {
                throw ConfigError(file: file, line: nameNode.mark?.line, key: where_ + ".name", message: "\"\(name)\" names two peers; each needs its own name")
            }
            let transport: PeerConfig.Transport
            switch (fields["nncp"], fields["outbox"]) {
            case (let nncp?, nil):
                let text = try string(nncp, file, where_ + ".nncp")
                // NNCP's node names (its config's `neigh` keys) or ids: no
                // space, slash or control character, so it is one argument.
                guard text.utf8.count <= 128, text.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.".unicodeScalars.contains($0)) }) else {
                    throw ConfigError(file: file, line: nncp.mark?.line, key: where_ + ".nncp",
                                      message: "must be an NNCP node name or id: letters, digits, '-', '_' and '.' (got \"\(text)\")")
                }
                guard !peers.contains(where: { $0.nncpNode == text }) else {
                    throw ConfigError(file: file, line: nncp.mark?.line, key: where_ + ".nncp", message: "NNCP node \"\(text)\" is given to two peers")
                }
                transport = .nncp(node: text)
            case (nil, let outbox?):
                transport = .outbox(directory: try path(outbox, file, where_ + ".outbox"))
            case (nil, nil):
                throw ConfigError(file: file, line: item.mark?.line, key: where_, message: "\"\(name)\" needs `nncp: NODE` or `outbox: DIR`")
            case (_?, _?):
                throw ConfigError(file: file, line: item.mark?.line, key: where_, message: "\"\(name)\" has both `nncp` and `outbox`; give one")
            }
            var send: [PeerFilter] = [.all]
            if let sendNode = fields["send"] { send = try filters(sendNode, file, where_ + ".send") }
            var nncpID: String?
            if let idNode = fields["nncp_id"] {
                guard case .nncp = transport else {
                    throw ConfigError(file: file, line: idNode.mark?.line, key: where_ + ".nncp_id", message: "only an `nncp:` peer has an NNCP node id")
                }
                let text = try string(idNode, file, where_ + ".nncp_id")
                // NNCP's ids are Base32 (A-Z, 2-7), 52 characters.
                guard text.utf8.count <= 128, text.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("2"..."7").contains($0) }) else {
                    throw ConfigError(file: file, line: idNode.mark?.line, key: where_ + ".nncp_id",
                                      message: "must be an NNCP node id (Base32: A-Z and 2-7, as in `nncp-cfgdir -dump`'s neigh ids), got \"\(text)\"")
                }
                nncpID = text
            }
            peers.append(PeerConfig(name: name, transport: transport, send: send, nncpID: nncpID))
        }
        return peers
    }

    static func filters(_ node: Node, _ file: String, _ key: String) throws(ConfigError) -> [PeerFilter] {
        guard case .sequence(let sequence) = node else {
            throw ConfigError(file: file, line: node.mark?.line, key: key, message: "must be a list such as [\"*\"] or [minsk, gomel]")
        }
        var filters: [PeerFilter] = []
        for item in sequence {
            let text = try string(item, file, key)
            if text == "*" {
                filters.append(.all)
            } else if Slug.isValid(text) {
                filters.append(.origin(text))
            } else if let scope = Scope(text) {
                filters.append(.scope(scope))
            } else {
                throw ConfigError(file: file, line: item.mark?.line, key: key,
                                  message: "\"\(text)\" is neither \"*\", an origin (a slug) nor a scope (workplace:SLUG, council:SLUG, workplace:*, council:*)")
            }
        }
        return filters
    }

    static func inboxes(_ node: Node, _ file: String) throws(ConfigError) -> [InboxConfig] {
        guard case .sequence(let sequence) = node else {
            throw ConfigError(file: file, line: node.mark?.line, key: "inboxes", message: "must be a list of directories (or `- path: DIR` with `from: PEER`)")
        }
        var inboxes: [InboxConfig] = []
        for (index, item) in sequence.enumerated() {
            let where_ = "inboxes[\(index + 1)]"
            let inbox: InboxConfig
            if case .mapping = item {
                let fields = try mapping(item, file, where_, allowed: ["path", "from"])
                guard let pathNode = fields["path"] else {
                    throw ConfigError(file: file, line: item.mark?.line, key: where_, message: "has no path; give `path: DIR`")
                }
                inbox = InboxConfig(path: try path(pathNode, file, where_ + ".path"),
                                    from: try fields["from"].map { (n: Node) throws(ConfigError) in try string(n, file, where_ + ".from") })
            } else {
                inbox = InboxConfig(path: try path(item, file, where_))
            }
            guard !inboxes.contains(where: { $0.path == inbox.path }) else {
                throw ConfigError(file: file, line: item.mark?.line, key: where_, message: "\(inbox.path) is listed twice")
            }
            inboxes.append(inbox)
        }
        return inboxes
    }

    /// A mapping's members by key, refusing keys outside `allowed` by name.
    static func mapping(_ node: Node, _ file: String, _ key: String, allowed: [String]) throws(ConfigError) -> [String: Node] {
        guard case .mapping(let mapping) = node else {
            throw ConfigError(file: file, line: node.mark?.line, key: key, message: "must be `key: value` lines (\(allowed.joined(separator: ", ")))")
        }
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.string, allowed.contains(name) else {
                let name = keyNode.string ?? "?"
                let suggestion = allowed.min { editDistance($0, name) < editDistance($1, name) }
                let hint = suggestion.flatMap { editDistance($0, name) <= 3 ? " (did you mean \"\($0)\"?)" : nil } ?? ""
                throw ConfigError(file: file, line: keyNode.mark?.line, key: "\(key).\(name)",
                                  message: "unknown key\(hint); a \(key.prefix { $0 != "[" }.dropLast()) has \(allowed.joined(separator: ", "))")
            }
            fields[name] = value
        }
        return fields
    }

    /// Checks that need the whole file: run after every setting is read.
    func checkFederation(file: String) throws(ConfigError) {
        if !peers.isEmpty, node == Self.noNode {
            throw ConfigError(file: file, line: nil, key: "node", message: "peers need this node's name: set `node: NAME` (a slug)")
        }
        if let clash = peers.first(where: { $0.name == node }) {
            throw ConfigError(file: file, line: nil, key: "peers", message: "peer \"\(clash.name)\" has this node's own name")
        }
        var outboxes: [String: String] = [:]
        let spoolDirectory = (spool as NSString).standardizingPath
        for peer in peers {
            let directory = (outboxDirectory(for: peer) as NSString).standardizingPath
            if let other = outboxes[directory] {
                throw ConfigError(file: file, line: nil, key: "peers", message: "peers \"\(other)\" and \"\(peer.name)\" share the outbox \(directory); each needs its own")
            }
            if directory == spoolDirectory || directory.hasPrefix(spoolDirectory + "/") {
                throw ConfigError(file: file, line: nil, key: "peers", message: "the outbox of \"\(peer.name)\" (\(directory)) is inside the spool; the daemon would read its own batches")
            }
            outboxes[directory] = peer.name
        }
        for inbox in inboxes {
            let directory = (inbox.path as NSString).standardizingPath
            if let from = inbox.from, !peers.contains(where: { $0.name == from }) {
                throw ConfigError(file: file, line: nil, key: "inboxes", message: "\(inbox.path): from \"\(from)\" is not one of the peers")
            }
            if directory == spoolDirectory || directory.hasPrefix(spoolDirectory + "/") {
                throw ConfigError(file: file, line: nil, key: "inboxes", message: "\(inbox.path) is inside the spool; an inbox is a directory of its own, read without deleting")
            }
            if let peer = outboxes[directory] {
                throw ConfigError(file: file, line: nil, key: "inboxes", message: "\(inbox.path) is the outbox of \"\(peer)\"; the daemon would read its own batches")
            }
        }
    }
}
