import Foundation
import StrikeCore
import StrikeOS
import StrikeSpool
import StrikeStore
import TestSupport
import Testing

/// Files over max_file_size: never read as messages, identified by all
/// their bytes.
@Suite struct OversizedFileTests {
    static func processor(_ dir: TemporaryDirectory) throws -> (SpoolLayout, Store, SpoolProcessor) {
        let layout = try SpoolLayout(root: dir.path + "/spool")
        let store = try Store(path: dir.path + "/state.sqlite")
        var settings = SpoolProcessor.Settings()
        settings.limits.maximumFileBytes = 64 << 10
        return (layout, store, try SpoolProcessor(layout: layout, store: store, settings: settings))
    }

    /// Writes `incoming/name`: `size` bytes, zeros except `data` at each offset,
    /// the zeros left as holes when `sparse`.
    static func write(_ layout: SpoolLayout, _ name: String, size: Int64, data: [Int64: [UInt8]], sparse: Bool = true) throws {
        let fd = open(layout.incoming + "/" + name, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw SystemError(errno: errno, operation: "open", path: name) }
        defer { close(fd) }
        if sparse {
            #expect(ftruncate(fd, off_t(size)) == 0)
        } else {
            let zeros = [UInt8](repeating: 0, count: 1 << 20)
            var written: Int64 = 0
            while written < size {
                let n = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, Int(min(Int64($0.count), size - written)), off_t(written)) }
                written += Int64(n)
            }
        }
        for (offset, bytes) in data {
            #expect(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) } == bytes.count)
        }
    }

    static func quarantined(_ layout: SpoolLayout) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: layout.quarantine).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Two files of one size with the same first 64 KiB had one identity:
    /// the second was counted as a duplicate of the first, and deleted.
    @Test func filesThatDifferAfterTheirFirst64KiBAreTwo() throws {
        let dir = TemporaryDirectory()
        let (layout, store, processor) = try Self.processor(dir)
        let head = [UInt8](repeating: UInt8(ascii: "a"), count: 100 << 10)
        try Self.write(layout, "one.json", size: 200 << 10, data: [0: head, 150 << 10: [1]], sparse: false)
        try Self.write(layout, "two.json", size: 200 << 10, data: [0: head, 150 << 10: [2]], sparse: false)
        let report = try processor.process(["one.json", "two.json"], now: Sys.now()) { false }
        #expect(report.rejected.map(\.rejection.code) == [.tooLarge, .tooLarge])
        #expect(report.duplicates == 0)
        #expect(try Self.quarantined(layout) == ["one.json", "two.json"])
        #expect(try store.summary().messages.rejected == 2)
    }

    /// Identified by content, not by how it is stored: a hole and written
    /// zeros are the same bytes (a duplicate), a byte changed 6 GiB into a
    /// sparse 8 GiB file makes another file; and the holes are not read.
    @Test func holesAreZerosAndAreNotRead() throws {
        let dir = TemporaryDirectory()
        let (layout, store, processor) = try Self.processor(dir)
        let size: Int64 = 8 << 30
        try Self.write(layout, "sparse-1.json", size: size, data: [6 << 30: [1], size - 1: [9]])
        try Self.write(layout, "sparse-2.json", size: size, data: [6 << 30: [2], size - 1: [9]])
        let small: Int64 = 3 << 20 + 12345
        try Self.write(layout, "holey.json", size: small, data: [(5 << 19) + 7: [7]])
        try Self.write(layout, "dense.json", size: small, data: [(5 << 19) + 7: [7]], sparse: false)
        let readBefore = procValue(file: "io", key: "rchar")
        let report = try processor.process(["sparse-1.json", "sparse-2.json", "holey.json", "dense.json"], now: Sys.now()) { false }
        let read = procValue(file: "io", key: "rchar") - readBefore
        #expect(report.rejected.count == 3 && report.duplicates == 1)
        #expect(report.duplicateCopies.map(\.file) == ["dense.json"])
        #expect(try Self.quarantined(layout) == ["holey.json", "sparse-1.json", "sparse-2.json"])
        #expect(try store.summary().messages.rejected == 3)
        #expect(read < 64 << 20, "read \(read) bytes of two 8 GiB sparse files")
    }

    /// A crash after the commit that counted an oversized file and before
    /// its move into quarantine/: the next start judged it again, found it a
    /// duplicate of itself, and deleted it.
    @Test func anOversizedFileAccountedForBeforeACrashIsQuarantined() throws {
        let dir = TemporaryDirectory()
        let (layout, store, _) = try Self.processor(dir)
        try Self.write(layout, "big.json", size: 100 << 10, data: [0: Array("not a message".utf8)], sparse: false)
        // What the committed batch left: the rejected version and the ledger row.
        guard case .tooLarge(let size, let identity) = try MessageFileReader.open(
            at: layout.incomingFD, "big.json", display: "big.json", lines: false, policy: .stored, limits: FileLimits(maximumFileBytes: 64 << 10)
        ) else {
            Issue.record("not too large")
            return
        }
        _ = try store.ingest([CopyInput(reading: CopyReading(identity: identity, envelope: nil, verdict: .failure(Rejection(.tooLarge, "too large"))),
                                        source: "big.json")], now: Sys.now())
        var info = stat()
        #expect(lstat(layout.incoming + "/big.json", &info) == 0)
        var entry = LedgerEntry(name: "big.json", device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
                                ctime: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
        entry.disposition = .quarantine
        entry.code = "too-large"
        entry.detail = "file is \(size) bytes"
        entry.size = size
        try store.write { db in
            var ledger = LedgerWriter(db)
            try ledger.save(entry)
        }

        var settings = SpoolProcessor.Settings()
        settings.limits.maximumFileBytes = 64 << 10
        let restarted = try SpoolProcessor(layout: layout, store: store, settings: settings)
        let report = try restarted.recover(now: Sys.now())
        #expect(report.filesDone == 1 && report.duplicates == 0)
        #expect(try Self.quarantined(layout) == ["big.json"])
        #expect(try store.summary().messages.rejected == 1 && store.summary().messages.duplicates == 0)
    }
}

/// A value of this process from /proc/self/status (kB) or /proc/self/io (bytes).
func procValue(file: String, key: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/\(file)", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        return Int(line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
    }
    return 0
}
