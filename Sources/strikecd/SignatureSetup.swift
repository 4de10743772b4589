import ArgumentParser
import StrikeConfig
import StrikeCore
import StrikeSigning
import Synchronization

/// The signature rules in use, shared by the spool's settings and Admin.Submit;
/// a reload (SIGHUP) replaces them.
final class CurrentSignatures: Sendable {
    private let value: Mutex<SignatureRules>

    init(_ rules: SignatureRules) { value = Mutex(rules) }

    var rules: SignatureRules {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// The signature policy and keyring the commands use, from the configuration.
enum SignatureSetup {
    /// Loads the keyring of `config`; the warning says when nothing can pass.
    static func rules(policy: SignaturePolicy, keyring: String) throws(KeyError) -> (rules: SignatureRules, warnings: [String]) {
        let loaded = try Keyring.load(directory: keyring)
        var warnings = loaded.warnings
        if policy != .off, loaded.keyTotal == 0 {
            let what = loaded.exists ? "has no keys" : "does not exist"
            warnings.append(policy == .required
                ? "signatures: required, but the keyring \(keyring) \(what): every message will be quarantined (unsigned or unknown-origin) until origins' keys are added"
                : "signatures: optional, but the keyring \(keyring) \(what): every origin's messages are accepted unsigned")
        }
        return (SignatureRules(policy: policy, verifier: loaded), warnings)
    }

    /// "2 keys of 2 origins: granit-plant, mtz": the origins named, so that a
    /// key filed under the wrong name shows at once.
    static func describe(_ rules: SignatureRules) -> String {
        guard let keyring = rules.verifier as? Keyring else { return "no keyring" }
        let origins = keyring.origins
        let count = "\(keyring.keyTotal) \(keyring.keyTotal == 1 ? "key" : "keys") of \(origins.count) \(origins.count == 1 ? "origin" : "origins")"
        if origins.isEmpty { return count }
        let shown = origins.prefix(20).map(\.rawValue).joined(separator: ", ")
        return "\(count): \(shown)\(origins.count > 20 ? ", and \(origins.count - 20) more" : "")"
    }
}

extension SignatureSetup {
    /// What each origin speaks for, one `speaks-for ORIGIN: SCOPE…` line
    /// each (the keyring's origins, sorted), then one line for the origins
    /// without a key: what `check-config` prints after the settings.
    static func describeScopes(_ rules: SignatureRules) -> [String] {
        guard rules.policy != .off else {
            return ["speaks-for *: every origin speaks for everything (signatures: off)"]
        }
        var lines: [String] = []
        let keyring = rules.verifier as? Keyring
        for origin in keyring?.origins ?? [] {
            guard let scopes = keyring?.scopeTable[origin] else { continue }
            let listed = keyring?.originsWithScopeLines.contains(origin) ?? false
            lines.append("speaks-for \(origin): \(scopes)\(listed ? "" : " (no speaks-for line: its own workplace and council)")")
        }
        lines.append(rules.policy == .optional
            ? "speaks-for others: origins without a key speak for everything (signatures: optional, unsigned)"
            : "speaks-for others: origins without a key pass no message (signatures: required); those kept from before speak for their own workplace and council")
        return lines
    }
}

/// `--config`, `--signatures` and `--keyring` for the commands that read
/// messages without the daemon (`check`, `ingest`): they judge signatures as
/// the daemon on this machine would, unless told otherwise.
struct SignatureOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file whose signatures and keyring settings apply (default \(DaemonConfig.defaultPath); a missing default file means built-in defaults).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Which messages must be signed: required, optional or off (overrides the setting signatures).", valueName: "policy"))
    var signatures: String?

    @Option(name: .long, help: ArgumentHelp("The directory of origins' public keys (overrides the setting keyring).", valueName: "dir"))
    var keyring: String?

    func validate() throws {
        if let signatures, SignaturePolicy(rawValue: signatures) == nil {
            throw ValidationError("--signatures must be required, optional or off (got \"\(signatures)\")")
        }
    }

    /// The rules, or exit 78 with the problem (a bad configuration or keyring).
    func rules() throws -> SignatureRules {
        var policy: SignaturePolicy
        var directory: String
        do {
            let loaded = try DaemonConfig.load(file: config ?? DaemonConfig.defaultPath, allowMissing: config == nil)
            (policy, directory) = (loaded.signatures, loaded.keyring)
        } catch {
            Console.error("configuration: \(error)")
            throw ExitCode(78)
        }
        if let signatures { policy = SignaturePolicy(rawValue: signatures)! }
        if let keyring { directory = keyring }
        do {
            let (rules, warnings) = try SignatureSetup.rules(policy: policy, keyring: directory)
            for warning in warnings { Console.warning(warning) }
            return rules
        } catch {
            Console.error("keyring: \(error)")
            throw ExitCode(78)
        }
    }
}
