#if canImport(Glibc)
import Glibc
#endif
import StrikeCore
import StrikeOS

/// This computer's clock, and whether it can be believed.
///
/// Offline laptops' clocks drift, and a dead battery puts them back to 2000;
/// messages are ordered by their sent_at, so a wrong clock silently makes a
/// new report count as older than the one it corrects.
enum Clock {
    /// Now, in seconds since the epoch. STRIKECTL_NOW (seconds) stands in for
    /// the clock in tests, which cannot set the machine's.
    static func now() -> Int64 {
        if let text = environment("STRIKECTL_NOW"), let seconds = Int64(text) { return seconds }
        return Sys.now()
    }

    /// When this strikectl was built, as far as the machine can tell: its
    /// file's modification time (a package keeps the build's). A clock before
    /// it is certainly wrong.
    static var built: Int64? {
        guard let info = try? Sys.statPath("/proc/self/exe") else { return nil }
        return Int64(info.st_mtim.tv_sec)
    }

    /// How to set the clock, for messages that say it is wrong.
    static let howToFix = "check it with `date`; set it with `sudo timedatectl set-time 'YYYY-MM-DD HH:MM'` (or `sudo date -s ...`), or give the time yourself with --sent-at"

    /// A warning when the clock is before this strikectl was built.
    static func warning(now: Int64) -> String? {
        guard let built, now < built else { return nil }
        return "warning: this computer's clock says \(Timestamp.utcText(epochSeconds: now)), before this strikectl was built (\(Timestamp.utcText(epochSeconds: built))): the clock is wrong (a flat battery?); \(howToFix)"
    }
}
