import Foundation
import StrikeCore
import StrikeSigning
import TestSupport
import Testing

@Suite struct KeyringTests {
    func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode_t(mode))
    }

    func keyringDirectory() -> TemporaryDirectory {
        let directory = TemporaryDirectory("strikecd-keyring")
        chmod(directory.path, 0o755)
        return directory
    }

    /// Several keys per origin (rotation): either verifies; after the old key
    /// is removed and the keyring reloaded, only the new one does.
    @Test func rotation() throws {
        let directory = keyringDirectory()
        let old = try SigningKey(seed: rfcSeed)
        let new = SigningKey.generate()
        try write("# tractor works, rotating in November\n\(old.publicLine(origin: "tractor-works"))\n\n\(new.publicLine(origin: "tractor-works"))\n",
                  to: directory.path + "/tractor-works.pub")
        try write(SigningKey.generate().publicLine(origin: "depot") + "\n", to: directory.path + "/depot.pub")
        let ring = try Keyring.load(directory: directory.path)
        #expect(ring.exists)
        #expect(ring.keyCount(for: Slug("tractor-works")!) == 2)
        #expect(ring.origins.map(\.rawValue) == ["depot", "tractor-works"])
        let byOld = try signed(statusMessage, with: old)
        let byNew = try signed(statusMessage, with: new)
        for file in [byOld, byNew] {
            #expect(MessageReader.read(file, policy: policy(.required, ring)).message != nil)
        }
        try write(new.publicLine(origin: "tractor-works") + "\n", to: directory.path + "/tractor-works.pub")
        let rotated = try Keyring.load(directory: directory.path)
        #expect(MessageReader.read(byOld, policy: policy(.required, rotated)).rejection?.code == .badSignature)
        #expect(MessageReader.read(byNew, policy: policy(.required, rotated)).message != nil)
        // Another origin's key does not speak for tractor-works.
        let depotOnly = try keyring(["tractor-works": [SigningKey.generate().publicKey]])
        #expect(MessageReader.read(byNew, policy: policy(.required, depotOnly)).rejection?.code == .badSignature)
    }

    @Test func missingDirectoryIsEmpty() throws {
        let ring = try Keyring.load(directory: "/nonexistent/strikecd/keys")
        #expect(!ring.exists)
        #expect(ring.keyTotal == 0)
    }

    /// Every problem names the file (and line), and nothing is half-loaded.
    @Test(arguments: [
        ("tractor-works.pub", "ed25519 notbase64!\n", ":1: the key is not the base64 of 32 bytes"),
        ("tractor-works.pub", "# ok\n\ned25519 AAAA\n", ":3: the key is not the base64 of 32 bytes"),
        ("tractor-works.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI test\n", ":1: expected a public key line"),
        ("tractor-works.pub", "ed25519-secret nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n", ":1: this is a SECRET key"),
        ("tractor-works.pub", "# nothing yet\n", "holds no key"),
        ("tractor-works.key", "ed25519-secret nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n", "not a keyring file"),
        ("Tractor.pub", "ed25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n", "not a keyring file"),
        ("README", "keys go here\n", "not a keyring file"),
        ("tractor-works.pub", "ed25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n\u{FF}\n", "not UTF-8"),
        ("tractor-works.pub", "ed25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\nspeaks-for\n", ":2: `speaks-for` names no scope"),
        ("tractor-works.pub", "ed25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n# scopes\nspeaks-for workplace:mtz factory:mtz\n", ":3: \"factory:mtz\" is not a scope"),
        ("tractor-works.pub", "speaks-for workplace:MTZ\ned25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n", ":1: \"workplace:MTZ\" is not a scope"),
        ("tractor-works.pub", "speaks-for workplace:\ned25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n", ":1: \"workplace:\" is not a scope"),
        ("tractor-works.pub", "speaks-for **\ned25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n", ":1: \"**\" is not a scope"),
        ("tractor-works.pub", "speaks-for council:*\n", "holds no key"),
    ])
    func badFiles(name: String, content: String, message: String) throws {
        let directory = keyringDirectory()
        var bytes = Array(content.utf8)
        if content.hasSuffix("\u{FF}\n") { bytes = Array(content.dropLast(2).utf8) + [0xFF, 0x0A] }
        try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/" + name))
        do {
            _ = try Keyring.load(directory: directory.path)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.file == directory.path + "/" + name)
            #expect(error.description.contains(message), "\(error)")
        }
    }

    /// `speaks-for` lines, over one or several lines, in any order with the
    /// keys; without one an origin speaks for its own workplace and council.
    @Test func scopes() throws {
        let directory = keyringDirectory()
        let key = "ed25519 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= minsk-city"
        try write("speaks-for council:minsk-city workplace:mtz\n\(key)\n# and the depot's assembly\nspeaks-for\tworkplace:depot workplace:mtz\n",
                  to: directory.path + "/minsk-city.pub")
        try write("\(key.dropLast(10))national\nspeaks-for council:* *\n", to: directory.path + "/national.pub")
        try write("\(key.dropLast(10))mtz\n", to: directory.path + "/mtz.pub")
        let ring = try Keyring.load(directory: directory.path)
        #expect(ring.warnings.isEmpty, "\(ring.warnings)")
        #expect(ring.scopeTable[Slug("minsk-city")!]?.description == "council:minsk-city workplace:depot workplace:mtz")
        #expect(ring.scopeTable[Slug("national")!] == .everything)
        #expect(ring.scopeTable[Slug("mtz")!] == .own(Slug("mtz")!))
        #expect(ring.originsWithScopeLines == [Slug("minsk-city")!, Slug("national")!])
    }

    @Test func hiddenFilesAreIgnored() throws {
        let directory = keyringDirectory()
        try write("anything\n", to: directory.path + "/.tractor-works.pub.swp")
        #expect(try Keyring.load(directory: directory.path).keyTotal == 0)
    }

    @Test func worldWritableIsRefused() throws {
        let directory = keyringDirectory()
        try write(SigningKey.generate().publicLine(origin: "depot") + "\n", to: directory.path + "/depot.pub", mode: 0o666)
        #expect(throws: KeyError.self) { try Keyring.load(directory: directory.path) }
        chmod(directory.path + "/depot.pub", 0o644)
        #expect(try Keyring.load(directory: directory.path).keyTotal == 1)
        chmod(directory.path, 0o777)
        do {
            _ = try Keyring.load(directory: directory.path)
            Issue.record("a world-writable keyring was accepted")
        } catch {
            #expect(error.description.contains("writable by everybody"))
        }
        chmod(directory.path, 0o755)
    }

    @Test func symlinkedKeyFileIsRefused() throws {
        let directory = keyringDirectory()
        let elsewhere = TemporaryDirectory("strikecd-elsewhere")
        try write(SigningKey.generate().publicLine(origin: "depot") + "\n", to: elsewhere.path + "/depot.pub")
        #expect(symlink(elsewhere.path + "/depot.pub", directory.path + "/depot.pub") == 0)
        #expect(throws: KeyError.self) { try Keyring.load(directory: directory.path) }
    }
}

@Suite struct SecretKeyFiles {
    @Test func writtenPrivateAndNeverReplaced() throws {
        let directory = TemporaryDirectory("strikecd-secret")
        let path = directory.path + "/depot.key"
        let key = SigningKey.generate()
        let previous = umask(0)
        defer { umask(previous) }
        try key.write(secretTo: path, origin: "depot")
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let loaded = try SigningKey.load(file: path)
        #expect(loaded.publicKey == key.publicKey)
        #expect(throws: KeyError.self) { try SigningKey.generate().write(secretTo: path, origin: "depot") }
        #expect(try SigningKey.load(file: path).publicKey == key.publicKey)
        // The file says what it is, and the public key is not in it.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("SECRET"))
        #expect(!text.contains(Base64.encode(key.publicKey)))
    }

    @Test func looseModeIsRefused() throws {
        let directory = TemporaryDirectory("strikecd-secret")
        let path = directory.path + "/depot.key"
        try SigningKey.generate().write(secretTo: path, origin: "depot")
        chmod(path, 0o644)
        do {
            _ = try SigningKey.load(file: path)
            Issue.record("a secret key readable by others was used")
        } catch {
            #expect(error.description.contains("chmod 600"))
            // The error never quotes the key.
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let secret = String(text.split(separator: "\n").first { $0.hasPrefix("ed25519-secret") }!.dropFirst("ed25519-secret ".count))
            #expect(!error.description.contains(secret))
        }
    }

    @Test func publicKeyIsNotASecretKey() throws {
        let directory = TemporaryDirectory("strikecd-secret")
        let path = directory.path + "/depot.key"
        try (SigningKey.generate().publicLine(origin: "depot") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        do {
            _ = try SigningKey.load(file: path)
            Issue.record("a public key was taken for a secret key")
        } catch {
            #expect(error.description.contains("this is a public key"))
        }
    }
}
