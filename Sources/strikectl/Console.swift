#if canImport(Glibc)
import Glibc
#endif

/// Output for people and scripts, each call one write(2).
enum Console {
    static func out(_ text: String) { write(text + "\n", to: STDOUT_FILENO) }

    static func error(_ text: String) { write("strikectl: " + text + "\n", to: STDERR_FILENO) }

    static func note(_ text: String) { write(text + "\n", to: STDERR_FILENO) }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    // stdout closed (e.g. `| head`): stop quietly, like other tools.
                    if errno == EPIPE { exit(0) }
                    return
                }
                done += n
            }
        }
    }
}
