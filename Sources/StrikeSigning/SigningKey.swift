#if canImport(Glibc)
import Glibc
#endif
import Crypto
import StrikeCore
import StrikeOS

// SECURITY: a secret key lets its holder write as the origin. It is written
// once, with O_EXCL and mode 0600 into a 0700 directory, never replaced in
// place, never printed or logged, and refused when other users could read it
// (as ssh refuses a private key with loose permissions).

/// An origin's Ed25519 secret key, for signing messages.
public struct SigningKey: Sendable {
    /// The 32-byte seed (swift-crypto's key type is not Sendable).
    private let seed: [UInt8]

    private var key: Curve25519.Signing.PrivateKey {
        // Checked in init.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    public init(seed: [UInt8]) throws(KeyError) {
        guard seed.count == 32, (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) != nil else {
            throw KeyError(file: "(seed)", "an Ed25519 secret key is 32 bytes")
        }
        self.seed = seed
    }

    /// A new random key (the system's secure random generator).
    public static func generate() -> SigningKey {
        try! SigningKey(seed: Array(Curve25519.Signing.PrivateKey().rawRepresentation))
    }

    /// The 32-byte public key.
    public var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }

    /// The keyring line for this key (the content of `ORIGIN.pub`).
    public func publicLine(origin: String) -> String {
        KeyText.publicLine(publicKey, comment: origin)
    }

    /// The 64-byte Ed25519 signature of `bytes` (deterministic, RFC 8032).
    public func signature(for bytes: [UInt8]) -> [UInt8] {
        // BoringSSL's Ed25519 signing cannot fail for a valid key.
        Array(try! key.signature(for: bytes))
    }

    /// The message with `sig` set to its signature: any earlier `sig` is
    /// dropped, the other members keep their order, `sig` comes last.
    public func sign(_ message: JSONObject) -> JSONObject {
        let signed = MessageReader.signedBytes(of: message)
        var members = message.members.filter { !$0.key.unicodeScalars.elementsEqual("sig".unicodeScalars) }
        members.append((key: "sig", value: .string(Base64.encode(signature(for: signed)))))
        return JSONObject(members)
    }

    /// Reads a secret key file, refusing one that other users may read.
    public static func load(file: String) throws(KeyError) -> SigningKey {
        let bytes: [UInt8]
        do {
            switch try Sys.readFile(file, limit: KeyText.maximumFileBytes) {
            case .bytes(let read, let info):
                if info.st_mode & 0o077 != 0 {
                    throw KeyError(file: file, "permissions \(String(info.st_mode & 0o777, radix: 8)) let other users read this secret key; chmod 600 it (and consider it exposed if others could read it)")
                }
                bytes = read
            case .notRegular(let kind):
                throw KeyError(file: file, "not a regular file but a \(kind)")
            case .tooLarge:
                throw KeyError(file: file, "too large for a key file")
            }
        } catch let error as KeyError {
            throw error
        } catch {
            throw KeyError(file: file, "cannot read the secret key: \(error)")
        }
        do {
            return try SigningKey(seed: try KeyText.secretSeed(bytes, file: file))
        } catch {
            throw KeyError(file: file, error.file == file ? error.message : "not a valid Ed25519 secret key")
        }
    }

    /// Writes the secret key to a new file, mode 0600; never replaces one.
    public func write(secretTo file: String, origin: String) throws(KeyError) {
        let text = Array(KeyText.secretText(seed, origin: origin).utf8)
        do {
            let fd = try Sys.open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o600)
            defer { Sys.close(fd) }
            // The mode is also the umask's business: make sure it is 0600.
            guard fchmod(fd, 0o600) == 0 else { throw SystemError(errno: errno, operation: "fchmod", path: file) }
            try Sys.write(fd, text, path: file)
            try Sys.fsync(fd, path: file)
        } catch let error as SystemError where error.errno == EEXIST {
            throw KeyError(file: file, "a key already exists here; it was left untouched (see ROTATING KEYS in strikectl(1))")
        } catch {
            throw KeyError(file: file, "cannot write the secret key: \(error)")
        }
    }
}
