import Foundation
import TestSupport
import Testing

// The version has one source, Sources/VarlinkProtocol/Version.swift: both binaries'
// --version and GetInfo read it, scripts/package names the .deb after it, and the
// man pages' headers and the Debian changelog's latest entry must agree with it
// (scripts/package refuses to build when the changelog does not).
@Suite struct VersionTests {
    static func version(of binary: String) throws -> String {
        let result = try runCommand(binary, ["--version"])
        #expect(result.status == 0, "\(binary) --version: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func oneVersionEverywhere() throws {
        let version = try Self.version(of: Binaries.strikecd)
        #expect(version.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+$"#, options: .regularExpression) != nil, "\(version)")
        #expect(try Self.version(of: Binaries.strikectl) == version)

        for page in ["man/strikecd.8", "man/strikectl.1", "man/strikecd.yaml.5"] {
            let header = try #require(try ManPage.source(page).split(separator: "\n").first { $0.hasPrefix(".TH ") })
            #expect(header.contains("\"strikecd \(version)\""), "\(page): \(header)")
        }
        let changelog = try ManPage.source("packaging/debian/changelog")
        #expect(changelog.hasPrefix("strikecd (\(version)) "), "packaging/debian/changelog: \(changelog.prefix(60))")
    }
}
