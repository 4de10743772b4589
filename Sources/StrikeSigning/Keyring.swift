#if canImport(Glibc)
import Glibc
#endif
import Crypto
import StrikeCore
import StrikeOS

// SECURITY: the keyring decides whose messages are believed. Whoever can add
// a file to it can speak for any origin, so the directory and its files must
// not be writable by everybody, and anything that is not a well-formed public
// key file is an error that stops the daemon (or a reload), never skipped: a
// half-read keyring would silently quarantine a committee's genuine messages,
// or a secret key left there by mistake would go unnoticed.

/// Origins' Ed25519 public keys: a directory of `ORIGIN.pub` files, each with
/// one or more keys (several during a rotation: any of them verifies), and
/// what each origin speaks for (its `speaks-for` lines).
public final class Keyring: SignatureVerifier {
    public let directory: String
    /// False when the directory does not exist: an empty keyring.
    public let exists: Bool
    /// Raw 32-byte keys, each checked to make a `Curve25519.Signing.PublicKey`
    /// (kept as bytes: swift-crypto's key type is not Sendable).
    private let keys: [Slug: [[UInt8]]]
    /// What looks wrong but does not stop the keyring being used: a key whose
    /// comment names another origin than its file does, for people to read.
    public let warnings: [String]

    /// What each origin of the keyring speaks for: its `speaks-for` lines,
    /// or by default its own workplace and council. Computed once per load.
    public let scopeTable: [Slug: Scopes]
    /// The origins whose files have `speaks-for` lines (the others have the default).
    public let originsWithScopeLines: Set<Slug>

    public init(directory: String, keys: [Slug: [[UInt8]]], scopes: [Slug: Scopes] = [:], exists: Bool = true, warnings: [String] = []) throws(KeyError) {
        self.directory = directory
        self.exists = exists
        self.warnings = warnings
        var table: [Slug: Scopes] = [:]
        for origin in keys.keys { table[origin] = scopes[origin] ?? .own(origin) }
        self.scopeTable = table
        self.originsWithScopeLines = Set(scopes.keys.filter { keys[$0] != nil })
        for (origin, raws) in keys {
            for raw in raws where (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) == nil {
                throw KeyError(file: directory + "/" + origin.rawValue + ".pub", "not an Ed25519 public key")
            }
        }
        self.keys = keys
    }

    /// The origins with keys, sorted.
    public var origins: [Slug] { keys.keys.sorted() }

    public var keyTotal: Int { keys.values.reduce(0) { $0 + $1.count } }

    public func keyCount(for origin: Slug) -> Int { keys[origin]?.count ?? 0 }

    public func verify(_ signature: [UInt8], of message: [UInt8], by origin: Slug) -> Bool {
        guard signature.count == 64, let candidates = keys[origin] else { return false }
        return candidates.contains { raw in
            (try? Curve25519.Signing.PublicKey(rawRepresentation: raw))?.isValidSignature(signature, for: message) == true
        }
    }

    /// Reads every `ORIGIN.pub` in `directory`. A missing directory is an empty
    /// keyring (`exists` false); anything else wrong is an error naming the file.
    public static func load(directory: String) throws(KeyError) -> Keyring {
        let info: stat
        do {
            info = try Sys.statPath(directory)
        } catch where error.isNotFound {
            return try Keyring(directory: directory, keys: [:], exists: false)
        } catch {
            throw KeyError(file: directory, "cannot read the keyring: \(error)")
        }
        guard info.isDirectory else { throw KeyError(file: directory, "the keyring must be a directory of ORIGIN.pub files") }
        if info.st_mode & S_IWOTH != 0 {
            throw KeyError(file: directory, "the keyring directory is writable by everybody, so anybody could add a key and speak for any origin; chmod o-w it (root-owned, 0755)")
        }
        let names: [String]
        do {
            names = try Sys.listDirectory(directory).sorted()
        } catch {
            throw KeyError(file: directory, "cannot list the keyring: \(error)")
        }
        var keys: [Slug: [[UInt8]]] = [:]
        var scopes: [Slug: Scopes] = [:]
        var warnings: [String] = []
        for name in names where !name.hasPrefix(".") {
            let path = directory + "/" + name
            if name.hasSuffix(".key") {
                // A secret key: whoever points a keyring at strikectl's key
                // directory must not be told to move it.
                throw KeyError(file: path, "a secret key, not a keyring file: a keyring holds only public keys (ORIGIN.pub); leave the secret key where it is and name a directory of public keys only (to check your own messages, use `strikectl check`)")
            }
            guard name.hasSuffix(".pub"), let origin = Slug(String(name.dropLast(4))) else {
                throw KeyError(file: path, "not a keyring file: the keyring holds only ORIGIN.pub files, named after the origin's slug (move this file elsewhere)")
            }
            let bytes: [UInt8]
            do {
                switch try Sys.readFile(path, limit: KeyText.maximumFileBytes) {
                case .bytes(let read, let fileInfo):
                    if fileInfo.st_mode & S_IWOTH != 0 {
                        throw KeyError(file: path, "writable by everybody, so anybody could replace this origin's key; chmod o-w it")
                    }
                    bytes = read
                case .notRegular(let kind):
                    throw KeyError(file: path, "not a regular file but a \(kind); copy the key file itself into the keyring")
                case .tooLarge(let size):
                    throw KeyError(file: path, "\(size) bytes is too large for a key file")
                }
            } catch let error as KeyError {
                throw error
            } catch let error as SystemError {
                throw KeyError(file: path, "cannot read it: \(error)")
            } catch {
                throw KeyError(file: path, "cannot read it: \(error)")
            }
            let parsed = try KeyText.keyringFile(bytes, file: path)
            if parsed.keys.isEmpty {
                throw KeyError(file: path, "holds no key: add the origin's `ed25519 …` line, or remove the file")
            }
            keys[origin] = parsed.keys
            if let listed = parsed.scopes { scopes[origin] = Scopes(listed) }
            // `strikectl keygen` ends the line with the origin: a key filed
            // under another name would make the origin's messages fail.
            for (line, words) in (try? KeyText.lines(bytes, file: path)) ?? [] where words.count >= 3 && words[0] == KeyText.publicTag {
                if let named = Slug(words[2]), named != origin {
                    warnings.append("\(path):\(line): the key is marked as \(named)'s, but this file gives it to \(origin) (the file name decides): if it is \(named)'s key, rename the file \(named).pub, or \(named)'s messages will fail their signatures")
                }
            }
        }
        return try Keyring(directory: directory, keys: keys, scopes: scopes, warnings: warnings)
    }
}
