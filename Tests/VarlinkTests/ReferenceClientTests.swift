import Foundation
import StrikeCore
import Testing
import VarlinkProtocol

/// The reference Python client (varlink 31.0.0 from PyPI, in a virtualenv
/// the tests create under the package) must discover and call everything.
/// It exits 0 even on error replies, so the tests read what it prints.
@Suite(.serialized) struct ReferenceClientTests {
    @Test func infoListsTheInterfaces() async throws {
        let server = try await TestServer()
        let address = "unix:" + server.socket
        let result = try await offPool { try ReferenceClient.cli(["info", address]) }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Vendor: strikecd"))
        #expect(result.stdout.contains("Version: 0.2.0"))
        for name in ["org.strikecd.Admin", "org.strikecd.Query", "org.varlink.service"] {
            #expect(result.stdout.contains("  \(name)"), "\(result.stdout)")
        }
        try await server.stop()
    }

    @Test(arguments: ["org.strikecd.Query", "org.strikecd.Admin", "org.varlink.service"])
    func helpParsesEachInterface(name: String) async throws {
        let server = try await TestServer()
        let address = "unix:" + server.socket + "/" + name
        let result = try await offPool { try ReferenceClient.cli(["help", address]) }
        #expect(result.status == 0)
        #expect(!result.stderr.contains("Error") && !result.stderr.contains("Traceback"), "\(result.stderr)")
        #expect(result.stdout.contains("interface \(name)"), "\(result.stdout)")
        try await server.stop()
    }

    @Test func callSummaryGivesTheSummary() async throws {
        let server = try await TestServer()
        let address = "unix:" + server.socket + "/org.strikecd.Query.Summary"
        let result = try await offPool { try ReferenceClient.cli(["call", address, "{}"]) }
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let printed = try JSONReader.read(Array(result.stdout.utf8))
        let expected = try server.store.summary().json
        #expect(JSONWriter.bytes(printed, style: .canonical) == JSONWriter.bytes(expected, style: .canonical))
        try await server.stop()
    }

    @Test func callsWithParametersAndErrors() async throws {
        let server = try await TestServer()
        let base = "unix:" + server.socket + "/org.strikecd.Query."
        let results = try await offPool {
            try [
                ReferenceClient.cli(["call", base + "ListWorkplaces", #"{"strike": "striking", "limit": 10}"#]),
                ReferenceClient.cli(["call", base + "GetWorkplace", #"{"id": "nowhere"}"#]),
                ReferenceClient.cli(["call", base + "GetWorkplace", #"{"id": "Not A Slug"}"#]),
                ReferenceClient.cli(["call", base + "ListDelegates", #"{"status": "detained"}"#]),
            ]
        }
        #expect(results[0].stdout.contains(#""id": "mtz""#), "\(results[0].stdout) \(results[0].stderr)")
        #expect(results[1].stderr.contains("org.strikecd.Query.WorkplaceNotFound"), "\(results[1].stderr)")
        #expect(results[2].stderr.contains("org.varlink.service.InvalidParameter"), "\(results[2].stderr)")
        #expect(results[3].stdout.contains(#""delegates": []"#), "\(results[3].stdout) \(results[3].stderr)")
        for result in results {
            #expect(!result.stderr.contains("Traceback"), "\(result.stderr)")
        }
        try await server.stop()
    }
}
