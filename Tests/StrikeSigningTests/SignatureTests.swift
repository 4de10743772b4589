import Foundation
import StrikeCore
import StrikeSigning
import Testing

// Signed messages (issue 7): the vectors in docs/messages.md, tampering, the
// policy matrix, rotation and the identity of signed copies.

/// RFC 8032 §7.1, TEST 1: the secret key (seed) used for every vector here.
let rfcSeed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
let rfcPublic = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

func keyring(_ keys: [String: [[UInt8]]]) throws -> Keyring {
    try Keyring(directory: "test-keyring", keys: Dictionary(uniqueKeysWithValues: keys.map { (Slug($0.key)!, $0.value) }))
}

func policy(_ policy: SignaturePolicy, _ keyring: Keyring?) -> ValidationPolicy {
    ValidationPolicy(now: 1_700_000_000, signatures: SignatureRules(policy: policy, verifier: keyring))
}

func object(_ text: String) throws -> JSONObject {
    try #require(try JSONReader.read(Array(text.utf8)).objectValue)
}

let statusMessage = #"{"v":1,"origin":"tractor-works","seq":8,"sent_at":"2020-08-24T09:30:00+03:00","type":"delegate.status","data":{"delegate":"rook","status":"detained"}}"#

func signed(_ text: String, with key: SigningKey) throws -> [UInt8] {
    JSONWriter.bytes(.object(key.sign(try object(text))), style: .compact)
}

@Suite struct Vectors {
    /// swift-crypto's Ed25519 is RFC 8032's: the first test vector, exactly.
    @Test func rfc8032TestOne() throws {
        let key = try SigningKey(seed: rfcSeed)
        #expect(key.publicKey == rfcPublic)
        #expect(key.signature(for: []) == hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"))
    }

    /// The vector in docs/messages.md, for signers in other languages: the
    /// key, the signed bytes (the worked example's canonical form), the exact
    /// signature and the signed message are all checked from the document.
    @Test func documentedVector() throws {
        let docs = try String(contentsOf: RepositoryRoot.url.appendingPathComponent("docs/messages.md"), encoding: .utf8)
        func block(_ name: String) throws -> String {
            try #require(RepositoryRoot.codeBlock(after: "<!-- signature-example:\(name) -->", in: docs), "no \(name) block")
        }
        let secret = try block("secret")
        let publicLine = try block("public")
        let signedBytes = try block("signed")
        let sig = try block("sig")
        let message = try block("message")

        let seed = try KeyText.secretSeed(Array(secret.utf8), file: "docs")
        #expect(seed == rfcSeed)
        let key = try SigningKey(seed: seed)
        #expect(try KeyText.publicKeys(Array(publicLine.utf8), file: "docs") == [key.publicKey])
        #expect(signedBytes.utf8.count == 256)
        #expect(Base64.encode(key.signature(for: Array(signedBytes.utf8))) == sig)
        #expect(sig == "bS+wmVUscLhbMAQVxcvlkhccDday3UwrmuNaW2nJL7OJuitIy7KaXFpNbggACoc8Srz56AWVlSu1egDAPpF/Bg==")

        // The signed message: its canonical form without sig is the signed
        // bytes, and it passes under `required` with only the public key.
        let value = try JSONReader.read(Array(message.utf8))
        #expect(MessageReader.signedBytes(of: try #require(value.objectValue)) == Array(signedBytes.utf8))
        let ring = try keyring(["tractor-works": [key.publicKey]])
        let reading = MessageReader.read(Array(message.utf8), policy: policy(.required, ring))
        #expect(reading.message?.sig == sig, "\(String(describing: reading.rejection))")
        #expect(reading.identity == .value(Array(signedBytes.utf8)))
    }

    @Test func base64IsStrict() {
        #expect(Base64.decode("") == [])
        #expect(Base64.decode("Zg==") == Array("f".utf8))
        #expect(Base64.decode("Zm8=") == Array("fo".utf8))
        #expect(Base64.decode("Zm9v") == Array("foo".utf8))
        for bad in ["Zg", "Zg=", "Zh==", "Zm9=", "Z===", "Zm 9v", "Zm9v\n", "Zm-_", "=Zm9", "Zg==Zg==", "Zm9v===="] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
        var rng = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
    }
}

@Suite struct Tampering {
    /// Any change to any bit of the signed bytes breaks the signature.
    @Test func everyBitOfTheSignedBytes() throws {
        let key = try SigningKey(seed: rfcSeed)
        let ring = try keyring(["tractor-works": [key.publicKey]])
        let bytes = MessageReader.signedBytes(of: try object(statusMessage))
        let signature = key.signature(for: bytes)
        #expect(ring.verify(signature, of: bytes, by: Slug("tractor-works")!))
        for index in bytes.indices {
            for bit in 0..<8 {
                var changed = bytes
                changed[index] ^= 1 << bit
                #expect(!ring.verify(signature, of: changed, by: Slug("tractor-works")!), "byte \(index) bit \(bit)")
            }
        }
        for index in signature.indices {
            var changed = signature
            changed[index] ^= 0x01
            #expect(!ring.verify(changed, of: bytes, by: Slug("tractor-works")!), "signature byte \(index)")
        }
        // Appending to the message or the signature does not pass either.
        #expect(!ring.verify(signature, of: bytes + [0x20], by: Slug("tractor-works")!))
        #expect(!ring.verify(signature + [0], of: bytes, by: Slug("tractor-works")!))
        #expect(!ring.verify(signature, of: bytes, by: Slug("other")!))
    }

    /// Any byte of a signed message file changed: the copy is rejected, never
    /// applied (as bad-signature when it still reads as a message).
    @Test func everyByteOfTheSignedFile() throws {
        let key = try SigningKey(seed: rfcSeed)
        let ring = try keyring(["tractor-works": [key.publicKey]])
        let file = try signed(statusMessage, with: key)
        #expect(MessageReader.read(file, policy: policy(.required, ring)).message != nil)
        var badSignature = 0
        for index in file.indices {
            for replacement: UInt8 in [file[index] ^ 0x01, file[index] ^ 0x20] {
                var changed = file
                changed[index] = replacement
                let reading = MessageReader.read(changed, policy: policy(.required, ring))
                #expect(reading.message == nil, "byte \(index) → \(replacement) was accepted")
                if reading.rejection?.code == .badSignature { badSignature += 1 }
            }
        }
        #expect(badSignature > file.count / 2)
    }

    /// The classic attacks on "sign one thing, read another" are refused by
    /// the reader before any signature is looked at.
    @Test func duplicateKeysAndSpellings() throws {
        let key = try SigningKey(seed: rfcSeed)
        let ring = try keyring(["tractor-works": [key.publicKey]])
        let file = String(decoding: try signed(statusMessage, with: key), as: UTF8.self)
        // A second "status" after the signed one: a lax reader might take either.
        let doubled = file.replacingOccurrences(of: #""status":"detained"}"#, with: #""status":"detained","status":"released"}"#)
        #expect(MessageReader.read(Array(doubled.utf8), policy: policy(.required, ring)).rejection?.code == .duplicateKey)
        let escapedKey = file.replacingOccurrences(of: #""status":"detained"}"#, with: #""status":"detained","st\u0061tus":"released"}"#)
        #expect(MessageReader.read(Array(escapedKey.utf8), policy: policy(.required, ring)).rejection?.code == .duplicateKey)
        // Re-spelling what is signed (escapes, order, spaces) keeps it valid: the signature covers the value.
        let respelt = file.replacingOccurrences(of: #""delegate":"rook""#, with: #""delegate" : "r\u006fok""#)
        #expect(MessageReader.read(Array(respelt.utf8), policy: policy(.required, ring)).message != nil)
        // A second signature member, added after signing, is not a second
        // chance: it changes what was signed (the signature is judged first).
        let twoSigs = file.replacingOccurrences(of: #","sig":"#, with: #","signature":"x","sig":"#)
        #expect(MessageReader.read(Array(twoSigs.utf8), policy: policy(.required, ring)).rejection?.code == .badSignature)
        // Signed with it, it is an unknown field.
        let signedTwice = try signed(statusMessage.replacingOccurrences(of: #""v":1"#, with: #""v":1,"signature":"x""#), with: key)
        #expect(MessageReader.read(signedTwice, policy: policy(.required, ring)).rejection?.code == .unknownField)
    }
}

/// What each policy does with each kind of copy.
@Suite struct PolicyMatrix {
    enum Kind: String, CaseIterable {
        case unsigned, signed, wrongKey, malformed, unsignedUnknownOrigin, signedUnknownOrigin, tampered
    }

    static let expected: [SignaturePolicy: [Kind: ReasonCode?]] = [
        .off: [.unsigned: nil, .signed: nil, .wrongKey: nil, .malformed: nil, .unsignedUnknownOrigin: nil,
               .signedUnknownOrigin: nil, .tampered: nil],
        .optional: [.unsigned: .unsigned, .signed: nil, .wrongKey: .badSignature, .malformed: .badSignature,
                    .unsignedUnknownOrigin: nil, .signedUnknownOrigin: nil, .tampered: .badSignature],
        .required: [.unsigned: .unsigned, .signed: nil, .wrongKey: .badSignature, .malformed: .badSignature,
                    .unsignedUnknownOrigin: .unsigned, .signedUnknownOrigin: .unknownOrigin, .tampered: .badSignature],
    ]

    static func copy(_ kind: Kind) throws -> [UInt8] {
        let key = try SigningKey(seed: rfcSeed)
        let stranger = try SigningKey(seed: Array(repeating: 7, count: 32))
        let unknown = statusMessage.replacingOccurrences(of: "tractor-works", with: "stranger-works")
        switch kind {
        case .unsigned: return Array(statusMessage.utf8)
        case .signed: return try signed(statusMessage, with: key)
        case .wrongKey: return try signed(statusMessage, with: stranger)
        case .malformed: return Array(statusMessage.replacingOccurrences(of: "}}", with: #"},"sig":"c2lnbmF0dXJl"}"#).utf8)
        case .unsignedUnknownOrigin: return Array(unknown.utf8)
        case .signedUnknownOrigin: return try signed(unknown, with: key)
        case .tampered:
            return Array(String(decoding: try signed(statusMessage, with: key), as: UTF8.self)
                .replacingOccurrences(of: "detained", with: "released").utf8)
        }
    }

    @Test(arguments: SignaturePolicy.allCases, Kind.allCases)
    func outcome(policy signaturePolicy: SignaturePolicy, kind: Kind) throws {
        let key = try SigningKey(seed: rfcSeed)
        let ring = try keyring(["tractor-works": [key.publicKey]])
        let reading = MessageReader.read(try Self.copy(kind), policy: policy(signaturePolicy, ring))
        let want = Self.expected[signaturePolicy]![kind]!
        #expect(reading.rejection?.code == want, "\(signaturePolicy) \(kind): \(reading.rejection?.detail ?? "accepted")")
        if let want {
            // A copy refused for its signature has an identity of its own, so
            // it can never pre-empt the genuine copy as its "duplicate".
            #expect(want.isSignatureFailure)
            guard case .unverified = reading.identity else {
                Issue.record("\(kind) under \(signaturePolicy): identity \(reading.identity)")
                return
            }
            #expect(reading.envelope != nil, "still listed with its (origin, seq) among the rejections")
        } else {
            guard case .value = reading.identity else {
                Issue.record("\(kind) under \(signaturePolicy): identity \(reading.identity)")
                return
            }
        }
    }

    /// `required` with no keyring at all: nothing passes.
    @Test func requiredWithoutKeyring() throws {
        let key = try SigningKey(seed: rfcSeed)
        #expect(MessageReader.read(try signed(statusMessage, with: key), policy: policy(.required, nil)).rejection?.code == .unknownOrigin)
        #expect(MessageReader.read(Array(statusMessage.utf8), policy: policy(.required, nil)).rejection?.code == .unsigned)
        #expect(MessageReader.read(Array(statusMessage.utf8), policy: policy(.optional, nil)).message != nil)
    }

    /// The signature is judged first: a copy its origin did not sign is
    /// refused for that (an identity of its own, not arrived for gaps)
    /// whatever else is wrong with it; a signed one is then judged for what
    /// is wrong with it. A forged one in the future is reported as forged.
    @Test func orderOfChecks() throws {
        let key = try SigningKey(seed: rfcSeed)
        let stranger = try SigningKey(seed: Array(repeating: 7, count: 32))
        let ring = try keyring(["tractor-works": [key.publicKey]])
        let badStatus = statusMessage.replacingOccurrences(of: #""status":"detained""#, with: #""status":"arrested""#)
        let broken = [
            badStatus,
            statusMessage.replacingOccurrences(of: #""v":1"#, with: #""v":2"#),
            statusMessage.replacingOccurrences(of: #""seq":8"#, with: #""seq":9223372036854775807,"note":1"#),
            statusMessage.replacingOccurrences(of: #""type":"delegate.status""#, with: #""type":"rumour""#),
            statusMessage.replacingOccurrences(of: #""data":{"#, with: #""data":{"n":1.5,"#),
        ]
        for text in broken {
            let unsigned = MessageReader.read(Array(text.utf8), policy: policy(.required, ring))
            #expect(unsigned.rejection?.code == .unsigned, "\(text)")
            #expect(!unsigned.countsAsArrived, "\(text)")
            let strangers = MessageReader.read(try signed(text, with: stranger), policy: policy(.required, ring))
            #expect(strangers.rejection?.code == .badSignature, "\(text)")
            #expect(!strangers.countsAsArrived)
            let unknown = MessageReader.read(try signed(text.replacingOccurrences(of: "tractor-works", with: "nobody"), with: stranger),
                                             policy: policy(.required, ring))
            #expect(unknown.rejection?.code == .unknownOrigin, "\(text)")
            #expect(!unknown.countsAsArrived)
            // A sig that is not even a string, where one is wanted.
            let notString = text.replacingOccurrences(of: #""v":"#, with: #""sig":5,"v":"#)
            #expect(MessageReader.read(Array(notString.utf8), policy: policy(.required, ring)).rejection?.code == .badSignature)
            #expect(MessageReader.read(Array(notString.utf8), policy: policy(.optional, ring)).rejection?.code == .badSignature)
            // Signed by its origin: rejected for what is wrong with it, and arrived.
            let genuine = MessageReader.read(try signed(text, with: key), policy: policy(.required, ring))
            #expect(genuine.rejection != nil && genuine.rejection?.code.isSignatureFailure == false, "\(text)")
            #expect(genuine.countsAsArrived == (genuine.envelope != nil))
        }
        #expect(MessageReader.read(try signed(badStatus, with: key), policy: policy(.required, ring)).rejection?.code == .badValue)
        // Where signatures are not looked at, `sig` is a plain field.
        let notString = statusMessage.replacingOccurrences(of: #""v":"#, with: #""sig":5,"v":"#)
        #expect(MessageReader.read(Array(notString.utf8), policy: policy(.off, ring)).rejection?.code == .badValue)
        #expect(MessageReader.read(Array(badStatus.utf8), policy: policy(.off, ring)).rejection?.code == .badValue)
        let future = statusMessage.replacingOccurrences(of: "2020-08-24", with: "2120-08-24")
        #expect(MessageReader.read(Array(future.utf8), policy: policy(.required, ring)).rejection?.code == .unsigned)
        #expect(MessageReader.read(try signed(future, with: key), policy: policy(.required, ring)).rejection?.code == .future)
    }
}

@Suite struct Identity {
    /// `sig` is not part of a message's identity: unsigned, signed, signed by
    /// the next key, and re-signed copies are one message (duplicates), never
    /// a conflict.
    @Test func signaturesDoNotMakeVersions() throws {
        let old = try SigningKey(seed: rfcSeed)
        let new = try SigningKey(seed: Array(repeating: 9, count: 32))
        let ring = try keyring(["tractor-works": [old.publicKey, new.publicKey]])
        let copies = [Array(statusMessage.utf8), try signed(statusMessage, with: old), try signed(statusMessage, with: new)]
        for signaturePolicy in [SignaturePolicy.off, .optional] {
            let identities = copies.map { MessageReader.read($0, policy: policy(signaturePolicy, ring)).identity }
            if signaturePolicy == .off {
                #expect(Set(identities.map { "\($0)" }).count == 1)
            }
        }
        let required = copies.dropFirst().map { MessageReader.read($0, policy: policy(.required, ring)) }
        #expect(required.allSatisfy { $0.message != nil })
        #expect(required[0].identity == required[1].identity)
        #expect(required[0].identity == .value(Array(MessageReader.signedBytes(of: try object(statusMessage)))))
        // The stored form keeps the signature, as evidence.
        #expect(String(decoding: required[0].message!.canonical, as: UTF8.self).contains("\"sig\":"))
    }

    /// For a requeue: a refused copy can be found under either identity.
    @Test func recordedIdentities() throws {
        let key = try SigningKey(seed: rfcSeed)
        let file = try signed(statusMessage, with: key)
        let identities = MessageReader.recordedIdentities(file)
        #expect(identities.count == 2)
        let ring = try keyring([:])
        #expect(identities.first == MessageReader.read(file, policy: policy(.required, ring)).identity)
        #expect(identities.last == MessageReader.read(file, policy: policy(.off, nil)).identity)
        #expect(MessageReader.recordedIdentities(Array("not json".utf8)).count == 1)
    }
}
