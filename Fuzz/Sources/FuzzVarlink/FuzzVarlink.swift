// libFuzzer target: any bytes from a client of the socket, delivered in
// chunks. They go through the server's own NUL framing handler, the strict
// call parser and the dispatcher (against a real store holding the examples,
// with every permission granted and Admin.Submit enabled). Nothing may crash
// or hang, and every reply the server would write must parse strictly as a
// Varlink reply.
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import CFuzzerDriver
import StrikeCore
@testable import StrikeServer
import StrikeStore
import VarlinkProtocol

let directory: String = {
    let path = NSTemporaryDirectory() + "strikecd-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

let store: Store = {
    let store = try! Store(path: directory + "/state.sqlite")
    // The examples of the repository, so that queries find something.
    let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")
    var copies: [CopyInput] = []
    for name in (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? [] where name.hasSuffix(".json") || name.hasSuffix(".jsonl") {
        guard let data = FileManager.default.contents(atPath: examples.appendingPathComponent(name).path) else { continue }
        let pieces = name.hasSuffix(".jsonl") ? Array(data).split(separator: 0x0A) : [Array(data)[...]]
        for piece in pieces {
            copies.append(CopyInput(reading: MessageReader.read(piece, policy: .stored), source: name))
        }
    }
    _ = try! store.ingest(copies, now: 1_600_000_000)
    return store
}()

let dispatcher = Dispatcher(
    store: store, admin: StoreAdmin(store: store, feed: nil, clock: { 1_600_000_000 }),
    info: ServiceInfo(version: "fuzz"), logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
)
let peer = PeerCredentials(pid: 1, uid: 0, gid: 0)

/// Runs `body` to completion from the fuzzer's synchronous callback.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    let result = ResultBox<T>()
    Task {
        result.value = await body()
        done.signal()
    }
    done.wait()
    return result.value!
}

final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// SwiftPM points `main` at MODULE_main: hand over to libFuzzer.
@_cdecl("FuzzVarlink_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data!, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte chooses how the rest is cut into reads.
    let step = Int(bytes.first ?? 0) % 17 + 1
    let input = bytes.dropFirst()
    let channel = EmbeddedChannel()
    try! channel.pipeline.syncOperations.addHandler(NULFrameHandler(maximumFrameBytes: 4096, partialTimeout: .seconds(10)))
    var frames: [[UInt8]] = []
    var offset = input.startIndex
    while offset < input.endIndex {
        let end = min(offset + step, input.endIndex)
        do {
            try channel.writeInbound(ByteBuffer(bytes: input[offset..<end]))
        } catch {
            break  // cut off (a frame too large): the connection closes
        }
        while let frame = try? channel.readInbound(as: ByteBuffer.self) {
            frames.append(Array(frame.readableBytesView))
        }
        if !channel.isActive { break }
        offset = end
    }
    _ = try? channel.finish()

    for frame in frames {
        _ = try? VarlinkReply.parse(frame)  // the client's side of the same bytes
        guard let call = try? VarlinkCall.parse(frame) else { break }  // a violation closes the connection
        let reply: VarlinkReply? = blocking {
            do throws(VarlinkError) {
                switch try await dispatcher.answer(call, peer: peer, access: { Access(query: true, admin: true) }) {
                case .reply(let parameters): return VarlinkReply(parameters: parameters)
                case .watch: return nil
                }
            } catch {
                return VarlinkReply(error)
            }
        }
        if let reply {
            guard (try? VarlinkReply.parse(reply.bytes())) != nil else { fatalError("the server's reply does not parse as a Varlink reply") }
            guard !reply.bytes().contains(0) else { fatalError("a reply contains a NUL byte and would break the framing") }
        }
    }
    return 0
}
