#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// User and group look-ups through NSS (getpwuid_r, getgrnam_r, getgrouplist).
// They may read files or ask a directory service, so they can block: call
// them off event loops. Buffers grow on ERANGE up to a cap, so a hostile or
// broken directory cannot make us allocate without bound.

/// A user account, as NSS reports it.
public struct UserAccount: Sendable, Equatable {
    public let uid: UInt32
    public let name: String
    public let primaryGroup: UInt32
}

/// A group, as NSS reports it.
public struct GroupEntry: Sendable, Equatable {
    public let gid: UInt32
    public let name: String
    /// User names listed as members (supplementary membership).
    public let members: [String]
}

extension Sys {
    private static let maximumBuffer = 1 << 20

    /// The account of `uid`, or nil when there is none.
    public static func user(uid: UInt32) throws(SystemError) -> UserAccount? {
        var size = 1024
        while true {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: size)
            let code = getpwuid_r(uid_t(uid), &entry, &buffer, size, &result)
            if code == ERANGE, size < maximumBuffer { size *= 2; continue }
            if code == EINTR { continue }
            if code != 0 { throw SystemError(errno: code, operation: "getpwuid_r", path: nil) }
            guard result != nil, let name = entry.pw_name else { return nil }
            return UserAccount(uid: uid, name: String(cString: name), primaryGroup: UInt32(entry.pw_gid))
        }
    }

    /// The group called `name`, or nil when there is none.
    public static func group(named name: String) throws(SystemError) -> GroupEntry? {
        var size = 4096
        while true {
            var entry = Glibc.group()
            var result: UnsafeMutablePointer<Glibc.group>?
            var buffer = [CChar](repeating: 0, count: size)
            let code = getgrnam_r(name, &entry, &buffer, size, &result)
            if code == ERANGE, size < maximumBuffer { size *= 2; continue }
            if code == EINTR { continue }
            if code != 0 { throw SystemError(errno: code, operation: "getgrnam_r", path: name) }
            guard result != nil else { return nil }
            var members: [String] = []
            if var member = entry.gr_mem {
                while let pointer = member.pointee {
                    members.append(String(cString: pointer))
                    member += 1
                }
            }
            return GroupEntry(gid: UInt32(entry.gr_gid), name: name, members: members)
        }
    }

    /// Every group `user` belongs to, `primaryGroup` included (getgrouplist).
    public static func groups(ofUser user: String, primaryGroup: UInt32) -> [UInt32] {
        var count: Int32 = 64
        while true {
            var groups = [gid_t](repeating: 0, count: Int(count))
            var found = count
            if getgrouplist(user, gid_t(primaryGroup), &groups, &found) >= 0 {
                return groups.prefix(Int(found)).map { UInt32($0) }
            }
            // -1: the list was too small; `found` now holds the size needed.
            guard found > count, found <= 65536 else { return [primaryGroup] }
            count = found
        }
    }
}
