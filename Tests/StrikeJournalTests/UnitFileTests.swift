import Foundation
import Testing

@testable import StrikeJournal

/// The files in systemd/, checked with systemd's own tools.
extension ProcessWideTests {
    @Suite struct UnitFileTests {
        let systemdDirectory = packageRoot.appendingPathComponent("systemd")

        /// The exposure README.md and docs/security.md claim, exactly: a looser unit
        /// (0.6 and more) must change the claim with it, a tighter one may lower it.
        @Test func securityExposureIsTheDocumentedOne() throws {
            let unit = systemdDirectory.appendingPathComponent("strikecd.service").path
            let result = try run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", unit])
            let output = result.stdout + result.stderr
            let pattern = try Regex(#"Overall exposure level for strikecd\.service: (\d+\.\d+)"#)
            let match = try #require(output.firstMatch(of: pattern), "no score in:\n\(output)")
            let score = try #require(Double(String(match.output[1].substring ?? "")))
            #expect(score == 0.5, "exposure \(score), documented as 0.5 in README.md and docs/security.md:\n\(output)")
        }

        /// `verify` on copies whose ExecStart= names a binary that exists here; with the real
        /// path it fails only because /usr/bin/strikecd is not installed on a build machine.
        @Test func serviceAndSocketVerify() throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let service = try String(contentsOf: systemdDirectory.appendingPathComponent("strikecd.service"), encoding: .utf8)
            #expect(service.contains("\nExecStart=/usr/bin/strikecd --log journal\n"))
            try service.replacingOccurrences(of: "ExecStart=/usr/bin/strikecd", with: "ExecStart=/bin/true")
                .write(to: directory.appendingPathComponent("strikecd.service"), atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(
                at: systemdDirectory.appendingPathComponent("strikecd.socket"),
                to: directory.appendingPathComponent("strikecd.socket")
            )
            let result = try run("/usr/bin/systemd-analyze", [
                "verify", "--man=no",
                directory.appendingPathComponent("strikecd.socket").path,
                directory.appendingPathComponent("strikecd.service").path,
            ])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stderr.isEmpty && result.stdout.isEmpty, "\(result.stdout)\(result.stderr)")
        }

        /// The hand-off to NNCP (strikecd-nncp-send@.path, .timer, .service) verifies as an
        /// instance, and the service's exposure is the one its comments and
        /// docs/federation.md give: it runs as root, but only to become strikecd and nncp.
        @Test func nncpSendUnitsVerifyWithTheDocumentedExposure() throws {
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            var instances: [String] = []
            for suffix in ["service", "path", "timer"] {
                var text = try String(contentsOf: systemdDirectory.appendingPathComponent("strikecd-nncp-send@.\(suffix)"), encoding: .utf8)
                if suffix == "service" {
                    #expect(text.contains("\nExecStart=/usr/lib/strikecd/strikecd-nncp-send %i\n"))
                    #expect(text.contains("\nPrivateNetwork=yes\n") && text.contains("\nCapabilityBoundingSet=CAP_SETUID CAP_SETGID\n"))
                    text = text.replacingOccurrences(of: "ExecStart=/usr/lib/strikecd/strikecd-nncp-send", with: "ExecStart=/bin/true")
                }
                let instance = directory.appendingPathComponent("strikecd-nncp-send@gomel.\(suffix)")
                try text.write(to: instance, atomically: true, encoding: .utf8)
                instances.append(instance.path)
            }
            let verify = try run("/usr/bin/systemd-analyze", ["verify", "--man=no"] + instances)
            #expect(verify.status == 0 && verify.stdout.isEmpty && verify.stderr.isEmpty, "\(verify.stdout)\(verify.stderr)")
            let security = try run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", instances[0]])
            let output = security.stdout + security.stderr
            let pattern = try Regex(#"Overall exposure level for strikecd-nncp-send@gomel\.service: (\d+\.\d+)"#)
            let match = try #require(output.firstMatch(of: pattern), "no score in:\n\(output)")
            #expect(Double(String(match.output[1].substring ?? "")) == 1.1, "documented as 1.1 in docs/federation.md:\n\(output)")
        }

        @Test func verifyCatchesABrokenUnit() throws {
            // The check above can fail: a typo in a directive is reported.
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let broken = directory.appendingPathComponent("strikecd.service")
            try "[Service]\nExecStart=/bin/true\nPrivateNetwrok=yes\n".write(to: broken, atomically: true, encoding: .utf8)
            let result = try run("/usr/bin/systemd-analyze", ["verify", "--man=no", broken.path])
            #expect((result.stdout + result.stderr).contains("PrivateNetwrok"))
        }

        @Test func socketPassesTheVarlinkName() throws {
            let socket = try String(contentsOf: systemdDirectory.appendingPathComponent("strikecd.socket"), encoding: .utf8)
            for line in ["ListenStream=/run/strikecd/socket", "FileDescriptorName=varlink", "SocketMode=0660",
                         "SocketGroup=strikecd", "Service=strikecd.service"] {
                #expect(socket.contains("\n\(line)\n"), "missing \(line)")
            }
        }

        /// sysusers.d and tmpfiles.d applied to an empty root directory, then the result read
        /// back: the users, groups and spool modes the daemon's design depends on.
        @Test func sysusersThenTmpfilesBuildTheSpool() throws {
            let root = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: root) }
            try FileManager.default.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
            let sysusers = try run("/usr/bin/systemd-sysusers", [
                "--root=\(root.path)", systemdDirectory.appendingPathComponent("sysusers.d/strikecd.conf").path,
            ])
            #expect(sysusers.status == 0, "\(sysusers.stderr)")
            let passwd = try String(contentsOf: root.appendingPathComponent("etc/passwd"), encoding: .utf8)
            let group = try String(contentsOf: root.appendingPathComponent("etc/group"), encoding: .utf8)
            func entry(_ file: String, _ name: String) -> [Substring]? {
                file.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
                    .first { $0.first.map(String.init) == name }
            }
            let user = try #require(entry(passwd, "strikecd"))
            let uid = try #require(UInt32(user[2]))
            #expect(uid > 0 && uid < 1000, "a system user")
            #expect(user[6] == "/usr/sbin/nologin")
            func gid(_ name: String) throws -> UInt32 {
                let fields = try #require(entry(group, name), "no group \(name)")
                return try #require(UInt32(fields[2]))
            }
            #expect(try gid("strikecd") == UInt32(user[3]))
            let writers = try #require(entry(group, "strikecd-writers"))
            #expect(writers[3] == "strikecd", "the daemon reads what writers drop")
            _ = try gid("strikecd-admin")

            let tmpfiles = try run("/usr/bin/systemd-tmpfiles", [
                "--root=\(root.path)", "--create", systemdDirectory.appendingPathComponent("tmpfiles.d/strikecd.conf").path,
            ])
            #expect(tmpfiles.status == 0, "\(tmpfiles.stderr)")
            let expected: [(String, Int, String)] = [
                ("var/spool/strikecd", 0o711, "strikecd"),
                ("var/spool/strikecd/incoming", 0o3730, "strikecd-writers"),
                ("var/spool/strikecd/tmp", 0o3730, "strikecd-writers"),
                ("var/spool/strikecd/quarantine", 0o2750, "strikecd-admin"),
            ]
            for (path, mode, groupName) in expected {
                var info = stat()
                try #require(stat(root.appendingPathComponent(path).path, &info) == 0, "\(path) missing")
                #expect(Int(info.st_mode) & 0o7777 == mode, "\(path): mode \(String(Int(info.st_mode) & 0o7777, radix: 8))")
                #expect(info.st_uid == uid, "\(path): owner")
                #expect(info.st_gid == (try gid(groupName)), "\(path): group")
            }
        }

        /// The catalog's ids are exactly JournalEvent's, each once, every entry complete; and
        /// journalctl compiles it (into a scratch root, not the system's database).
        @Test func catalogMatchesJournalEventsAndCompiles() throws {
            let catalogURL = systemdDirectory.appendingPathComponent("strikecd.catalog")
            let text = try String(contentsOf: catalogURL, encoding: .utf8)
            #expect(!text.contains("\r"))
            var ids: [String] = []
            var headers: [String: Set<String>] = [:]
            var current: String?
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("-- ") {
                    let id = String(line.dropFirst(3))
                    ids.append(id)
                    current = id
                } else if let id = current, let colon = line.firstIndex(of: ":"), !line.contains(" ") || line.hasPrefix("Subject:") || line.hasPrefix("Defined-By:") || line.hasPrefix("Support:") || line.hasPrefix("Documentation:") {
                    headers[id, default: []].insert(String(line[..<colon]))
                }
            }
            #expect(Set(ids).count == ids.count, "duplicate ids")
            #expect(Set(ids) == Set(JournalEvent.allCases.map(\.messageID)))
            for id in ids {
                #expect(headers[id, default: []].isSuperset(of: ["Subject", "Defined-By", "Support", "Documentation"]), "\(id)")
            }

            let root = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: root) }
            let catalogDirectory = root.appendingPathComponent("usr/lib/systemd/catalog")
            try FileManager.default.createDirectory(at: catalogDirectory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: catalogURL, to: catalogDirectory.appendingPathComponent("strikecd.catalog"))
            let update = try run("/usr/bin/journalctl", ["--root=\(root.path)", "--update-catalog"])
            #expect(update.status == 0, "\(update.stderr)")
            let list = try run("/usr/bin/journalctl", ["--root=\(root.path)", "--list-catalog", "--no-pager"])
            let listed = list.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
            #expect(Set(listed) == Set(JournalEvent.allCases.map(\.messageID)))
        }
    }
}
