import Logging
import NIOPosix
import StrikeOS

// SECURITY: who may do what is decided here, from the peer's SO_PEERCRED
// credentials only. root may do everything. Members of the query group may
// call org.strikecd.Query; members of the admin group may call
// org.strikecd.Admin and Query too. Membership counts the peer's gid at
// connect time, the user's primary group, the group's member list, and the
// user's supplementary groups (getgrouplist), so it matches what `id USER`
// shows. org.varlink.service is open to everyone who can open the socket
// (its mode and group are the first gate). A group that does not exist
// grants nothing. Membership is looked up once per connection, on first use,
// by the connection's task (never on an event loop: NSS may be remote).

/// What one connection may call.
public struct Access: Sendable, Equatable {
    public var query: Bool
    public var admin: Bool

    public init(query: Bool, admin: Bool) {
        self.query = query
        self.admin = admin
    }
}

/// Resolves a peer's access from the configured group names.
struct Authorizer: Sendable {
    let queryGroup: String
    let adminGroup: String

    /// The access known without asking NSS: root's. Anyone else's needs
    /// `access(for:logger:)`, which the connection's task calls once; the
    /// event loop never waits for NSS, which may ask a directory service.
    func accessAtOnce(for peer: PeerCredentials) -> Access? {
        peer.uid == 0 ? Access(query: true, admin: true) : nil
    }

    /// Looks up NSS on a thread pool: it may read files or ask a directory
    /// service, which must not stall an event loop or the cooperative pool.
    func access(for peer: PeerCredentials, logger: Logger) async -> Access {
        if let known = accessAtOnce(for: peer) { return known }
        do {
            return try await NIOThreadPool.singleton.runIfActive {
                Self.lookUp(peer, queryGroup: queryGroup, adminGroup: adminGroup)
            }
        } catch {
            logger.warning("could not look up the groups of a client; treating it as unprivileged",
                           metadata: ["peer_uid": "\(peer.uid)", "error": "\(error)"])
            return Access(query: false, admin: false)
        }
    }

    static func lookUp(_ peer: PeerCredentials, queryGroup: String, adminGroup: String) -> Access {
        let user = try? Sys.user(uid: peer.uid)
        let groups: Set<UInt32> = {
            var set: Set<UInt32> = [peer.gid]
            if let user {
                set.insert(user.primaryGroup)
                set.formUnion(Sys.groups(ofUser: user.name, primaryGroup: user.primaryGroup))
            }
            return set
        }()
        func isMember(_ name: String) -> Bool {
            guard let entry = try? Sys.group(named: name) else { return false }
            if groups.contains(entry.gid) { return true }
            if let user, entry.members.contains(user.name) { return true }
            return false
        }
        let admin = isMember(adminGroup)
        return Access(query: admin || isMember(queryGroup), admin: admin)
    }
}
