#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS
import VarlinkProtocol

/// A failure to report to the user: what went wrong and what to do, and the
/// exit status scripts rely on.
struct Failure: Error {
    /// strikecd answered with an error, or a local operation failed.
    static let failed: Int32 = 1
    /// Wrong usage.
    static let usage: Int32 = 2
    /// EX_UNAVAILABLE: strikecd is not running or did not answer.
    static let unavailable: Int32 = 69
    /// EX_NOPERM: permission denied.
    static let permission: Int32 = 77

    let message: String
    let status: Int32

    init(_ message: String, status: Int32 = Failure.failed) {
        self.message = message
        self.status = status
    }

    static var userName: String {
        (try? Sys.user(uid: UInt32(getuid())))?.name ?? "USER"
    }

    static func notInGroup(_ group: String) -> String {
        "your user is not in group \(group) (ask an administrator: `usermod -aG \(group) \(userName)`, then log in again)"
    }

    /// Explains a client error; `interface` says which group a denial is about.
    static func from(_ error: VarlinkClientError, interface: String) -> Failure {
        let group = interface == Interface.admin ? "strikecd-admin" : "strikecd"
        switch error {
        case .notRunning(let path, let listening):
            let why = listening ? "nothing listens on \(path)" : "no socket at \(path)"
            return Failure("strikecd is not running (\(why)): start it with `systemctl start strikecd.socket`", status: unavailable)
        case .socketPermissionDenied(let path):
            return Failure("permission denied: cannot open \(path): \(notInGroup("strikecd"))", status: permission)
        case .closed:
            return Failure("strikecd closed the connection without answering (it may be stopping, or your user has too many connections open): try again",
                           status: unavailable)
        case .timedOut(let seconds):
            return Failure("strikecd did not answer within \(seconds) s: check `systemctl status strikecd`", status: unavailable)
        case .system(let error):
            return Failure("cannot talk to strikecd: \(error)", status: unavailable)
        case .violation(let violation):
            return Failure("strikecd's answer could not be understood (\(violation.detail)); is the socket really strikecd's?")
        case .reply(let reply):
            return from(reply, group: group)
        }
    }

    static func from(_ error: VarlinkError, group: String) -> Failure {
        let service = "org.varlink.service."
        switch error.name {
        case service + "PermissionDenied":
            return Failure("permission denied: \(notInGroup(group))", status: permission)
        case service + "MethodNotImplemented", service + "MethodNotFound", service + "InterfaceNotFound":
            return Failure("this strikecd does not offer \(error.string("method") ?? error.string("interface") ?? "that"): is it older than strikectl?")
        case service + "InvalidParameter":
            return Failure("strikecd refused the value of \(error.string("parameter") ?? "a parameter")")
        case Interface.query + ".WorkplaceNotFound":
            return Failure("no workplace \"\(error.string("id") ?? "")\": no message reports on it or names it (see `strikectl workplaces`)")
        case Interface.query + ".DelegateNotFound":
            return Failure("no delegate \"\(error.string("id") ?? "")\": no message elects, recalls or reports on it (see `strikectl delegates`)")
        case Interface.query + ".CouncilNotFound":
            return Failure("no council \"\(error.string("id") ?? "")\": no message forms or names it (see `strikectl councils`)")
        case Interface.query + ".DemandNotFound":
            return Failure("no demand \"\(error.string("id") ?? "")\": no message proposes or names it (see `strikectl demands`)")
        case Interface.query + ".ActionNotFound":
            return Failure("no action \"\(error.string("id") ?? "")\": no message calls or names it (see `strikectl actions`)")
        case Interface.query + ".WatchOverflow":
            return Failure("strikectl fell too far behind the changes and missed some: run `strikectl watch` again")
        case Interface.query + ".StoreFailed":
            return Failure("strikecd could not read its database: \(error.string("detail") ?? "") (see `journalctl -u strikecd`)")
        case Interface.admin + ".TooManyMessages":
            return Failure("too many messages for one submit (at most \(error.parameters["maximum"].map { JSONWriter.string($0, style: .compact) } ?? "1000")): split the files")
        case Interface.admin + ".QuarantinedFileNotFound":
            let directory = error.string("directory") ?? "SPOOL/quarantine"
            let name = error.string("name") ?? ""
            if name.count == 64, name.allSatisfy(\.isHexDigit) {
                return Failure("no copy of \(name.prefix(12)) is left in \(directory) (a copy submitted over the socket, or one removed by hand, cannot be requeued: drop the file again)")
            }
            return Failure("no file \"\(name)\" in \(directory) (list it with `ls \(directory)`, or name the copy by its ID or SOURCE from `strikectl rejected`)")
        case Interface.admin + ".RejectedVersionNotFound":
            return Failure("no rejected version \(error.string("hash").map { String($0.prefix(12)) } ?? ""): it was forgotten already, or it is applied (see `strikectl rejected`)")
        case Interface.admin + ".Failed":
            return Failure("strikecd could not do it: \(error.string("detail") ?? "") (see `journalctl -u strikecd`)")
        default:
            return Failure("strikecd answered \(error)")
        }
    }
}
