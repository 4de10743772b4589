import Foundation
import StrikeCore
import Testing

// The message fuzzer's seeds and every input it ever crashed on
// (Fuzz/Corpus/message, Fuzz/Regressions/message; see Fuzz/README.md), replayed
// with the fuzzer's invariants on every test run.

@Suite struct FuzzRegressionTests {
    static func inputs(_ kind: String) throws -> [(String, [UInt8])] {
        try ["Fuzz/Corpus/\(kind)", "Fuzz/Regressions/\(kind)"].flatMap { directory in
            try RepositoryFiles.files(under: directory).filter { !$0.hasSuffix("/.keep") }.map { ($0, try RepositoryFiles.bytes($0)) }
        }
    }

    @Test func messageInputs() throws {
        let inputs = try Self.inputs("message")
        #expect(inputs.count >= 10)
        for (name, bytes) in inputs {
            let reading = MessageReader.read(bytes, policy: ValidationPolicy(now: 1_600_000_000))
            if let value = try? JSONReader.read(bytes) {
                let canonical = JSONWriter.bytes(value, style: .canonical)
                #expect((try? JSONReader.read(canonical)).map { JSONWriter.bytes($0, style: .canonical) } == canonical, "\(name)")
            }
            if let message = reading.message {
                #expect(reading.identity == .value(message.content), "\(name)")
                #expect(MessageReader.read(message.canonical, policy: .stored).message != nil, "\(name)")
            }
        }
    }
}
