import Foundation
import StrikeCore
import Testing
import VarlinkProtocol

// The Varlink fuzzer's seeds and every input it ever crashed on
// (Fuzz/Corpus/varlink, Fuzz/Regressions/varlink; see Fuzz/README.md): the
// first byte is how the fuzzer cut the rest into reads, the rest NUL-framed
// calls. Replayed through the call parser and the typed calls.

@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func varlinkInputs() throws {
        var count = 0
        for directory in ["Fuzz/Corpus/varlink", "Fuzz/Regressions/varlink"] {
            let url = Self.root.appendingPathComponent(directory)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) where name != ".keep" {
                count += 1
                let bytes = Array(try Data(contentsOf: url.appendingPathComponent(name)))
                for frame in bytes.dropFirst().split(separator: 0, omittingEmptySubsequences: false).dropLast() {
                    _ = try? VarlinkReply.parse(frame)
                    guard let call = try? VarlinkCall.parse(frame) else { break }
                    switch call.interface {
                    case Interface.query?: _ = try? QueryCall(name: call.name, parameters: call.parameters)
                    case Interface.admin?: _ = try? AdminCall(name: call.name, parameters: call.parameters)
                    case Interface.service?: _ = try? ServiceCall(name: call.name, parameters: call.parameters)
                    default: break
                    }
                    #expect(try VarlinkCall.parse(call.bytes()).method == call.method, "\(name)")
                }
            }
        }
        #expect(count >= 5)
    }
}
