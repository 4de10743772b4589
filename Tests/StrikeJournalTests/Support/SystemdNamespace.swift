import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real systemd as PID 1 of its own PID and mount namespace, booted into one
/// target, for end-to-end unit tests.
///
/// It must not change the host. Every mount is private to the namespace; /etc is an overlay
/// whose upper layer is a tmpfs (so `ConfigurationDirectory=` creating /etc/strikecd, or
/// anything else writing there, stays in the namespace), /etc/passwd and friends,
/// /etc/systemd/system, /run, /tmp, /var/{tmp,log,lib,spool} are covered by copies or tmpfs;
/// and the units that would touch the kernel or the host's files (tmpfiles, which would
/// empty the host's /tmp; sysctl; modules; udev; ldconfig; hwdb…) are masked.
/// `stop()` kills exactly that PID 1 with SIGKILL, which ends the namespace.
final class SystemdNamespace {
    let unshare: Process
    /// systemd's PID on the host.
    let pid: pid_t

    static let maskedUnits = [
        "kmod-static-nodes.service", "systemd-binfmt.service", "systemd-firstboot.service",
        "systemd-machine-id-commit.service", "systemd-modules-load.service", "systemd-pcrphase-sysinit.service",
        "systemd-pcrphase.service", "systemd-random-seed.service", "systemd-repart.service",
        "systemd-sysctl.service", "systemd-sysusers.service", "systemd-tmpfiles-setup-dev.service",
        "systemd-tmpfiles-setup.service", "systemd-tmpfiles-clean.timer", "systemd-tmpfiles-clean.service",
        "systemd-update-utmp.service", "systemd-journal-flush.service", "ldconfig.service",
        "systemd-hwdb-update.service", "systemd-update-done.service", "systemd-journal-catalog-update.service",
        "systemd-udevd.service", "systemd-udev-trigger.service", "systemd-udev-settle.service",
        "systemd-remount-fs.service", "systemd-fsck-root.service", "proc-sys-fs-binfmt_misc.automount",
        "dev-hugepages.mount", "dev-mqueue.mount", "sys-fs-fuse-connections.mount", "sys-kernel-config.mount",
        "sys-kernel-debug.mount", "sys-kernel-tracing.mount", "tmp.mount", "console-getty.service",
        "getty.target", "rc-local.service", "systemd-ask-password-console.path",
        "systemd-ask-password-wall.path", "systemd-journald-audit.socket", "dbus.socket",
    ]

    /// The script run as PID 1 before it becomes systemd. `$1` is the prepared directory
    /// (etc/, units/, tmpfiles.conf, copy/…): files listed in copy.list are copied to
    /// /run/strikecd-test/ first, since /tmp will be covered. prepare.sh, if there, runs once
    /// every private mount but /tmp's is in place (so it can still read the directory).
    static let bootScript = """
        set -eu
        D="$1"
        mkdir "$D/etc-overlay"
        mount -t tmpfs -o mode=0700 tmpfs "$D/etc-overlay"
        mkdir "$D/etc-overlay/upper" "$D/etc-overlay/work"
        mount -t overlay overlay \
          -o "lowerdir=/etc,upperdir=$D/etc-overlay/upper,workdir=$D/etc-overlay/work" /etc
        [ "$(findmnt -n -o FSTYPE /etc)" = overlay ]
        for f in passwd group shadow gshadow; do mount --bind "$D/etc/$f" "/etc/$f"; done
        mount -t tmpfs -o mode=0755 tmpfs /etc/systemd/system
        cp "$D"/units/* /etc/systemd/system/
        for unit in \(maskedUnits.joined(separator: " ")); do
          ln -sf /dev/null "/etc/systemd/system/$unit"
        done
        mount -t tmpfs -o mode=0755 tmpfs /run
        mkdir -p /run/strikecd-test
        while IFS= read -r file; do cp "$file" /run/strikecd-test/; done < "$D/copy.list"
        for dir in /var/spool /var/lib /var/log; do mount -t tmpfs -o mode=0755 tmpfs "$dir"; done
        if [ -e "$D/prepare.sh" ]; then bash "$D/prepare.sh" "$D"; fi
        systemd-tmpfiles --create "$D/tmpfiles.conf"
        for dir in /var/tmp /tmp; do mount -t tmpfs -o mode=1777 tmpfs "$dir"; done
        exec env container=unshare /lib/systemd/systemd --system --unit="$2"
        """

    /// Whether this machine can do it: root, systemd, unshare and nsenter present.
    static var isAvailable: Bool {
        getuid() == 0
            && ["/lib/systemd/systemd", "/usr/bin/unshare", "/usr/bin/nsenter"].allSatisfy {
                FileManager.default.isExecutableFile(atPath: $0)
            }
    }

    /// Boots and waits (with a deadline) until `systemctl is-system-running` settles.
    init(directory: URL, target: String) async throws {
        let script = directory.appendingPathComponent("boot.sh")
        try Self.bootScript.write(to: script, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("boot.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = [
            "--pid", "--fork", "--mount", "--mount-proc", "--propagation", "private",
            "/bin/bash", script.path, directory.path, target,
        ]
        process.standardInput = FileHandle.nullDevice
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try output.close()
        unshare = process
        let parent = process.processIdentifier
        let child = await waitFor(timeout: .seconds(10)) { () -> pid_t? in
            let children = try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8)
            return children?.split(separator: " ").first.flatMap { pid_t($0) }
        }
        guard let child else {
            process.terminate()
            process.waitUntilExit()
            throw SystemdNamespaceError.noChild(try String(contentsOf: log, encoding: .utf8))
        }
        pid = child
        let state = await waitFor(timeout: .seconds(60), every: .milliseconds(100)) { () -> String? in
            guard let result = try? self.run("/bin/systemctl", ["is-system-running"]) else { return nil }
            let state = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return ["running", "degraded"].contains(state) ? state : nil
        }
        if state == nil {
            let bootLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            stop()
            throw SystemdNamespaceError.notRunning(bootLog)
        }
    }

    /// Runs a program inside the namespace (nsenter).
    func run(_ path: String, _ arguments: [String]) throws -> CommandResult {
        try StrikeJournalTests.run("/usr/bin/nsenter", ["-t", "\(pid)", "-m", "-p", path] + arguments)
    }

    /// A path inside the namespace, as seen from the host.
    func hostPath(_ path: String) -> String {
        "/proc/\(pid)/root\(path)"
    }

    /// SIGKILL to the namespace's PID 1 (ends every process in it), then reap unshare.
    func stop() {
        kill(pid, SIGKILL)
        unshare.waitUntilExit()
    }
}

enum SystemdNamespaceError: Error {
    case noChild(String)
    case notRunning(String)
}
