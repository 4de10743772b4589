import Foundation
import StrikeCore
import StrikeOS
import StrikeStore

extension SpoolService {
    /// The quarantined copies recorded under `hash`, each requeued as by name.
    ///
    /// A copy is recognised by the identities it was recorded under (the same
    /// `MessageReader.recordedIdentities` that a requeue forgets), so this
    /// holds whatever the quarantine's naming: a whole file, one line of a
    /// .jsonl, a name with a suffix added to keep it apart. Files that are no
    /// message copies (reason files, say) simply never match.
    func requeueRejected(_ hash: [UInt8], processor: SpoolProcessor) -> Result<[String], RequeueError> {
        let wanted = Data(hash)
        let names: [String]
        do {
            names = try Sys.listDirectory(layout.quarantine).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            return .failure(.trouble("could not list \(layout.quarantine): \(error)"))
        }
        var matches: [String] = []
        for name in names {
            guard let info = try? Sys.lstatat(layout.quarantineFD, name), info.isRegularFile,
                  case .reader(let reader)? = try? MessageFileReader.open(
                      at: layout.quarantineFD, name, display: layout.quarantine + "/" + name, lines: false, policy: .stored),
                  let copy = try? reader.next(limit: 1).first else { continue }
            let identities = copy.raw.map { MessageReader.recordedIdentities($0) } ?? [copy.reading.identity]
            if identities.contains(where: { Reconciler.hash($0) == wanted }) { matches.append(name) }
        }
        if matches.isEmpty { return .failure(.notFound(AdminHash.text(hash))) }
        var requeued: [String] = []
        for name in matches {
            switch requeue(name, processor: processor) {
            case .success(let target): requeued.append(target)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(requeued)
    }
}

/// A version's identity as ListRejected shows it: lower-case hexadecimal.
enum AdminHash {
    static func text(_ bytes: [UInt8]) -> String {
        bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}
