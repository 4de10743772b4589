import StrikeCore
import Testing

// examples/ tells the story of late August 2020 in message files. These tests
// keep it honest: every copy there is valid, each copy in examples/bad/ fails
// the way examples/bad/README.md says, and the Summary that examples/README.md
// claims is what the rules of docs/design.md ("Reconciliation") and docs/protocol.md give.

/// One copy: a whole `.json` file or one non-blank line of a `.jsonl` file.
struct Copy: Sendable, CustomStringConvertible {
    let file: String
    let line: Int?
    let bytes: [UInt8]

    var description: String { line.map { "\(file):\($0)" } ?? file }
}

/// The copies in `files`, in file order.
func copies(of files: [String]) throws -> [Copy] {
    var result: [Copy] = []
    for file in files where file.hasSuffix(".json") || file.hasSuffix(".jsonl") {
        let bytes = try RepositoryFiles.bytes(file)
        if file.hasSuffix(".jsonl") {
            for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                // Blank lines are skipped.
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                result.append(Copy(file: file, line: index + 1, bytes: Array(line)))
            }
        } else {
            result.append(Copy(file: file, line: nil, bytes: bytes))
        }
    }
    return result
}

/// The clock of the examples: 2020-09-01T00:00:00Z, just after the story.
let examplesPolicy = ValidationPolicy(now: septemberFirst)

/// A small reconciler after docs/design.md ("Reconciliation") and docs/protocol.md, enough for the examples:
/// duplicates by identity, conflicts by (origin, seq), the fold by subject and
/// the Summary.
/// A hashable form of a copy's identity.
func identityKey(_ identity: CopyReading.Identity) -> [UInt8] {
    switch identity {
    case .value(let bytes): [0] + bytes
    case .bytes(let bytes): [1] + bytes
    case .bytesDigest(let digest): [2] + digest
    case .unverified(let bytes): [3] + bytes
    }
}

struct Reconciliation {
    var seen = Set<[UInt8]>()
    var valid: [Envelope: [UInt8]] = [:]
    var messages: [Envelope: Message] = [:]
    var conflicted = Set<Envelope>()
    var rejectedVersions = Set<[UInt8]>()
    var duplicates = 0

    mutating func ingest(_ copy: Copy) {
        let reading = MessageReader.read(copy.bytes, policy: examplesPolicy)
        guard seen.insert(identityKey(reading.identity)).inserted else { duplicates += 1; return }
        guard let message = reading.message else { rejectedVersions.insert(identityKey(reading.identity)); return }
        let envelope = Envelope(origin: message.origin, seq: message.seq)
        if let earlier = valid[envelope], earlier != message.content {
            // Every version of a conflicting (origin, seq) is rejected.
            if conflicted.insert(envelope).inserted { rejectedVersions.insert(identityKey(.value(earlier))) }
            rejectedVersions.insert(identityKey(reading.identity))
            messages[envelope] = nil
            return
        }
        if conflicted.contains(envelope) { rejectedVersions.insert(identityKey(reading.identity)); return }
        valid[envelope] = message.content
        messages[envelope] = message
    }

    var states: [Subject: SubjectState] {
        Dictionary(grouping: messages.values, by: \.subject).reduce(into: [:]) { states, group in
            states[group.key] = SubjectState.fold(group.key, group.value)
        }
    }

    var summary: Summary {
        var summary = Summary()
        for state in states.values {
            switch state {
            case .workplace(let workplace):
                if workplace.reported != nil { summary.workplaces += 1 }
                if let strike = workplace.strike?.value, strike.status.isStriking {
                    summary.striking += 1
                    summary.participants += Int(strike.participants ?? 0)
                }
            case .delegate(let delegate):
                guard let status = delegate.status else { continue }
                switch status {
                case .active: summary.delegates.active += 1
                case .detained: summary.delegates.detained += 1
                case .missing: summary.delegates.missing += 1
                case .exiled: summary.delegates.exiled += 1
                case .recalled: summary.delegates.recalled += 1
                case .resigned: summary.delegates.resigned += 1
                }
                for (_, mandate) in delegate.mandateStatuses {
                    switch mandate.value {
                    case .active: summary.mandates.active += 1
                    case .recalled: summary.mandates.recalled += 1
                    case .resigned: summary.mandates.resigned += 1
                    }
                }
            case .demand(let demand):
                switch demand.proposal?.value.category {
                case .economic?: summary.demands.economic += 1
                case .democratic?: summary.demands.democratic += 1
                case nil: break
                }
            default: continue
            }
        }
        summary.messages.applied = messages.count
        summary.messages.duplicates = duplicates
        summary.messages.rejected = rejectedVersions.count
        return summary
    }

    func delegate(_ id: String) -> DelegateState? {
        if case .delegate(let state)? = states[.delegate(Slug(id)!)] { return state }
        return nil
    }
}

func storyFiles() throws -> [String] {
    try RepositoryFiles.files(under: "examples").filter { !$0.hasPrefix("examples/bad/") && !$0.hasPrefix("examples/forged/") }
}

func badFiles() throws -> [String] {
    try RepositoryFiles.files(under: "examples/bad").filter { !$0.hasSuffix(".md") }
}

@Suite struct Examples {
    @Test func everyCopyIsValid() throws {
        let all = try copies(of: try storyFiles())
        #expect(all.count >= 40)
        for copy in all {
            let reading = MessageReader.read(copy.bytes, policy: examplesPolicy)
            #expect(reading.message != nil, "\(copy): \(reading.rejection?.code.rawValue ?? "") \(reading.rejection?.detail ?? "")")
        }
    }

    /// Both kinds of file, pretty-printed ones among them, and blank lines.
    @Test func mixOfFiles() throws {
        let files = try storyFiles()
        #expect(files.contains { $0.hasSuffix(".json") })
        #expect(files.contains { $0.hasSuffix(".jsonl") })
        let pretty = try files.filter { $0.hasSuffix(".json") }.filter { try RepositoryFiles.bytes($0).filter { $0 == 0x0A }.count > 2 }
        #expect(!pretty.isEmpty)
    }

    /// Each origin numbers its messages 1, 2, 3, … with no gap or repeat, and
    /// every sent_at is in late August 2020, Minsk time.
    @Test func numberingAndDates() throws {
        var seqs: [Slug: [Int64]] = [:]
        for copy in try copies(of: try storyFiles()) {
            guard let message = MessageReader.read(copy.bytes, policy: examplesPolicy).message else { continue }
            seqs[message.origin, default: []].append(message.seq)
            #expect(message.sentAt.text.hasPrefix("2020-08-"), "\(copy)")
            #expect(message.sentAt.text.hasSuffix("+03:00"), "\(copy)")
        }
        #expect(seqs.count == 6)
        for (origin, numbers) in seqs {
            #expect(numbers.sorted() == Array(1...Int64(numbers.count)), "\(origin)")
        }
    }

    /// Delegates are pseudonyms: single-word slugs, no field for a real name.
    @Test func delegatesArePseudonyms() throws {
        var delegates = Set<String>()
        for copy in try copies(of: try storyFiles()) {
            guard let message = MessageReader.read(copy.bytes, policy: examplesPolicy).message else { continue }
            if case .delegate(let id) = message.subject { delegates.insert(id.rawValue) }
        }
        #expect(delegates == ["rook", "kestrel", "lapwing", "heron", "wren", "swift"])
    }

    @Test func finalState() throws {
        var reconciliation = Reconciliation()
        for copy in try copies(of: try storyFiles()) { reconciliation.ingest(copy) }
        let summary = reconciliation.summary

        #expect(summary.messages.applied == 55)
        #expect(summary.messages.duplicates == 0)
        #expect(summary.messages.rejected == 0)
        #expect(summary.workplaces == 4)
        #expect(summary.striking == 4)
        #expect(summary.participants == 2500 + 900 + 120 + 60)
        #expect(reconciliation.delegate("rook")?.status == .active)       // detained, then released
        #expect(reconciliation.delegate("heron")?.status == .detained)    // missing, then found detained
        #expect(reconciliation.delegate("kestrel")?.status == .recalled)  // recalled, then detained and released
        #expect(reconciliation.delegate("wren")?.status == .resigned)
        #expect(reconciliation.delegate("lapwing")?.status == .active)
        #expect(reconciliation.delegate("swift")?.status == .active)      // arrested for 15 days, then free
        // The chain tractor-works → city → region → national.
        let rook = try #require(reconciliation.delegate("rook"))
        #expect(rook.mandateStatuses.map { "\($0.council):\($0.status.value)" }
            == ["city-strike-council:active", "minsk-region-council:active", "national-strike-council:active"])
        #expect(rook.mandates[Slug("national-strike-council")!]?.giver?.value == .council(Slug("minsk-region-council")!))
        #expect(rook.irregularities.isEmpty)
        #expect(reconciliation.delegate("swift")?.safety?.value.status == .free)

        // The Summary in examples/README.md is exactly this one.
        let readme = try RepositoryFiles.text("examples/README.md")
        let claimed = try #require(RepositoryFiles.codeBlock(after: "<!-- summary -->", in: readme))
        let claimedValue = try JSONReader.read(Array(claimed.utf8))
        #expect(JSONWriter.string(claimedValue) == JSONWriter.string(summary.json))
    }

    /// Any order of the copies, and any split into files, gives the same state.
    @Test func arrivalOrderDoesNotMatter() throws {
        let all = try copies(of: try storyFiles())
        var forward = Reconciliation()
        for copy in all { forward.ingest(copy) }
        for _ in 0..<5 {
            var shuffled = Reconciliation()
            for copy in all.shuffled() { shuffled.ingest(copy) }
            #expect(shuffled.summary == forward.summary)
            #expect(shuffled.states == forward.states)
        }
    }
}

/// A row of examples/bad/README.md: | `file` | `outcome` | what it shows |
func badExpectations() throws -> [String: String] {
    let readme = try RepositoryFiles.text("examples/bad/README.md")
    var rows: [String: String] = [:]
    for line in readme.split(separator: "\n") where line.hasPrefix("| `") {
        let cells = line.split(separator: "|").map { $0.trimming(" ") }
        guard cells.count >= 2 else { continue }
        rows[cells[0].trimming("`")] = cells[1].trimming("`")
    }
    return rows
}

extension StringProtocol {
    /// Without leading and trailing `character`s.
    fileprivate func trimming(_ character: Character) -> String {
        var text = self[...]
        while text.first == character { text.removeFirst() }
        while text.last == character { text.removeLast() }
        return String(text)
    }
}

@Suite struct BadExamples {
    @Test func readmeNamesEveryFile() throws {
        let expectations = try badExpectations()
        let files = try badFiles().map { String($0.dropFirst("examples/bad/".count)) }
        #expect(Set(expectations.keys) == Set(files))
        #expect(files.count >= 4)
    }

    @Test func eachFailsAsDocumented() throws {
        let expectations = try badExpectations()
        let storyIdentities = Set(try copies(of: try storyFiles()).map { identityKey(MessageReader.read($0.bytes, policy: examplesPolicy).identity) })
        for file in try badFiles() {
            let name = String(file.dropFirst("examples/bad/".count))
            let expected = try #require(expectations[name], "\(name) is not in examples/bad/README.md")
            let fileCopies = try copies(of: [file])
            #expect(fileCopies.count == 1, "\(name)")
            for copy in fileCopies {
                let reading = MessageReader.read(copy.bytes, policy: examplesPolicy)
                if expected == "duplicate" {
                    // Valid, and the same JSON value as a copy in examples/.
                    #expect(reading.message != nil, "\(name)")
                    #expect(storyIdentities.contains(identityKey(reading.identity)), "\(name) duplicates nothing in examples/")
                    #expect(copy.bytes != (try? RepositoryFiles.bytes("examples/tractor-works-08.json")), "\(name) should be reformatted")
                } else {
                    let code = try #require(ReasonCode(rawValue: expected), "\(name): unknown code \(expected)")
                    #expect(reading.rejection?.code == code, "\(name): \(reading.rejection?.detail ?? "accepted")")
                    #expect(!storyIdentities.contains(identityKey(reading.identity)))
                }
            }
        }
    }

    /// examples/README.md also says what feeding bad/ after the story does.
    @Test func storyPlusBadCopies() throws {
        var reconciliation = Reconciliation()
        for copy in try copies(of: try storyFiles() + badFiles()) { reconciliation.ingest(copy) }
        let summary = reconciliation.summary
        #expect(summary.messages.applied == 55)
        #expect(summary.messages.duplicates == 1)
        #expect(summary.messages.rejected == 3)
        #expect(summary.striking == 4)
        #expect(summary.delegates.active == 3)

        let readme = try RepositoryFiles.text("examples/README.md")
        let claimed = try #require(RepositoryFiles.codeBlock(after: "<!-- summary-with-bad -->", in: readme))
        #expect(JSONWriter.string(try JSONReader.read(Array(claimed.utf8))) == JSONWriter.string(summary.json))
    }
}
