#if canImport(Glibc)
import Glibc
#endif

/// Lines for people on stdout and stderr, one write(2) each.
enum Console {
    static func line(_ text: String) {
        write(text + "\n", to: STDOUT_FILENO)
    }

    /// A plain line on stderr (for lists that must not mix with stdout's data).
    static func note(_ text: String) {
        write(text + "\n", to: STDERR_FILENO)
    }

    static func warning(_ text: String) {
        write("strikecd: warning: " + text + "\n", to: STDERR_FILENO)
    }

    static func error(_ text: String) {
        write("strikecd: error: " + text + "\n", to: STDERR_FILENO)
    }

    static func info(_ text: String) {
        write("strikecd: " + text + "\n", to: STDERR_FILENO)
    }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue } else { return } }
                done += n
            }
        }
    }
}

let AT_FDCWD_VALUE: Int32 = AT_FDCWD
