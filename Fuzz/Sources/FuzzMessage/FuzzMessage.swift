// libFuzzer target: any bytes as one spool copy. The reader must never crash,
// and what it accepts must hold together: the canonical form of a value reads
// back as the same canonical form, a valid message's identity is its content,
// and a signed copy is accepted under `required` only with a valid signature.
import CFuzzerDriver
import StrikeCore
import StrikeSigning

/// RFC 8032 TEST 1's key, for an origin `fuzz` (seeds use it to sign).
let key = try! SigningKey(seed: [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
])
let keyring = try! Keyring(directory: "fuzz", keys: [Slug("fuzz")!: [key.publicKey], Slug("tractor-works")!: [key.publicKey]])
let policies = [
    ValidationPolicy(now: 1_600_000_000),
    ValidationPolicy(now: 1_600_000_000, signatures: SignatureRules(policy: .optional, verifier: keyring)),
    ValidationPolicy(now: 1_600_000_000, signatures: SignatureRules(policy: .required, verifier: keyring)),
]

/// SwiftPM points `main` at MODULE_main: hand over to libFuzzer.
@_cdecl("FuzzMessage_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data!, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let readings = policies.map { MessageReader.read(bytes, policy: $0) }
    if let value = try? JSONReader.read(bytes) {
        let canonical = JSONWriter.bytes(value, style: .canonical)
        guard let again = try? JSONReader.read(canonical), JSONWriter.bytes(again, style: .canonical) == canonical else {
            fatalError("the canonical form does not read back as itself")
        }
        for style in [JSONWriter.Style.compact, .pretty] {
            guard let written = try? JSONReader.read(JSONWriter.bytes(value, style: style)),
                  JSONWriter.bytes(written, style: .canonical) == canonical else {
                fatalError("\(style) output does not read back as the same value")
            }
        }
    }
    for reading in readings {
        if let message = reading.message {
            guard reading.identity == .value(message.content) else { fatalError("a valid message's identity is not its content") }
            // Read back from the store: still valid (no clock, no signatures).
            guard MessageReader.read(message.canonical, policy: .stored).message != nil else {
                fatalError("a stored message no longer validates")
            }
        }
    }
    // Accepted under `required` means a valid signature by the key.
    if let message = readings[2].message {
        guard let sig = message.sig, let raw = Base64.decode(sig), keyring.verify(raw, of: message.content, by: message.origin) else {
            fatalError("accepted under required without a valid signature")
        }
    }
    // Whatever is valid without signatures is valid once signed with the
    // origin's key, and the signature covers exactly the content.
    if let message = readings[0].message, keyring.keyCount(for: message.origin) > 0,
       case .object(let object)? = try? JSONReader.read(bytes) {
        let signed = JSONWriter.bytes(.object(key.sign(object)), style: .compact)
        let reading = MessageReader.read(signed, policy: policies[2])
        guard let resigned = reading.message, resigned.content == message.content else {
            fatalError("a valid message signed with its origin's key is refused: \(reading.rejection?.detail ?? "")")
        }
    }
    _ = Base64.decode(String(decoding: bytes, as: UTF8.self))
    return 0
}
