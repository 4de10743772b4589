import Foundation
import StrikeCore
import StrikeOS
import StrikeStore

extension SpoolService {
    /// The quarantined copies recorded under `hash`, each requeued as by name.
    ///
    /// A copy is recognised by the identities it was recorded under (the same
    /// `recordedIdentities(ofQuarantined:limits:)` that a requeue forgets), so this
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
            guard let info = try? Sys.lstatat(layout.quarantineFD, name), info.isRegularFile else { continue }
            // The same identities a requeue by name forgets: a file over
            // max_file_size was recorded under a digest of its whole content.
            let identities = recordedIdentities(ofQuarantined: name, limits: processor.settings.limits)
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
