import Foundation
import StrikeCore
import StrikeOS

// CORRECTNESS: the prefetcher only opens and reads. It never writes, moves or
// unlinks anything and never looks at the ledger: the writer takes each
// prepared file in the pass's order and decides what to do with it exactly as
// if it had opened the file itself, so the exactly-once protocol of
// SpoolProcessor.swift (commit, then unlink or move, then fsync, then ledger
// delete) is unchanged. A file read ahead may change before the writer gets to
// it; that race exists between any read and its commit, and is what the
// ledger's device, inode and ctime are for.

/// Opens, reads, validates and hashes one-message files ahead of the writer
/// on a thread of its own, so that on a machine with two cores reading and
/// parsing a drop overlaps with reconciling it in SQLite.
///
/// Bounded: at most `maximumFiles` prepared files and `maximumBytes` of their
/// contents wait for the writer. Only one-message files are read ahead; other
/// names are left to the writer.
final class Prefetcher: @unchecked Sendable {
    // @unchecked: every field below is guarded by `condition`, and a prepared
    // MessageFileReader is handed over whole: once stored it is only touched
    // by the thread that takes it.

    enum Prepared {
        case opened(MessageFileReader.Opened)
        case failed(SystemError)
    }

    private let names: [String]
    private let condition = NSCondition()
    private var prepared: [Int: Prepared] = [:]
    private var sizes: [Int: Int] = [:]
    /// The next index the reading thread will look at.
    private var ahead = 0
    /// The next index the writer will take.
    private var taken = 0
    private var bytes = 0
    private var stopping = false
    private var finished = false
    private let maximumFiles: Int
    private let maximumBytes: Int

    init(names: [String], maximumFiles: Int, maximumBytes: Int,
         open: @escaping @Sendable (String) throws(SystemError) -> MessageFileReader.Opened?) {
        self.names = names
        self.maximumFiles = max(1, maximumFiles)
        self.maximumBytes = maximumBytes
        let thread = Thread { [self] in run(open) }
        thread.name = "strikecd-read"
        thread.start()
    }

    private func run(_ open: (String) throws(SystemError) -> MessageFileReader.Opened?) {
        for index in names.indices {
            condition.lock()
            while !stopping, index - taken >= maximumFiles || bytes >= maximumBytes {
                condition.wait()
            }
            let stop = stopping
            condition.unlock()
            if stop { break }
            var result: Prepared?
            var size = 0
            do {
                if let opened = try open(names[index]) {
                    result = .opened(opened)
                    if case .reader(let reader) = opened { size = Int(reader.info.st_size) }
                }
            } catch {
                result = .failed(error)
            }
            condition.lock()
            if let result, index >= taken {
                prepared[index] = result
                sizes[index] = size
                bytes += size
            }
            ahead = index + 1
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        ahead = names.count
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// What was prepared for `names[index]`, or nil when the writer should
    /// open it itself. Indexes must be taken in increasing order.
    func take(_ index: Int) -> Prepared? {
        condition.lock()
        defer { condition.unlock() }
        while ahead <= index, !finished {
            condition.wait()
        }
        taken = index + 1
        let result = prepared.removeValue(forKey: index)
        bytes -= sizes.removeValue(forKey: index) ?? 0
        // Anything skipped over (the writer stopped early) is dropped.
        for stale in prepared.keys where stale < index {
            prepared[stale] = nil
            bytes -= sizes.removeValue(forKey: stale) ?? 0
        }
        condition.broadcast()
        return result
    }

    /// Stops reading ahead and waits for the thread to finish; what was read
    /// and not taken is dropped (its files stay in incoming/, untouched).
    func finish() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        prepared = [:]
        condition.unlock()
    }
}

/// Reads and validates the lines of one `.jsonl` file on a thread of its own,
/// a chunk ahead of the writer, which takes copies in file order with
/// `next(limit:)` exactly as from the reader itself. At most two chunks wait.
final class LineReadAhead: @unchecked Sendable {
    // @unchecked: the reader is used only by the reading thread from init
    // until `finish()` returns; the queue is guarded by `condition`.

    private let condition = NSCondition()
    private var chunks: [[FileCopy]] = []
    private var failure: SystemError?
    private var atEnd = false
    private var stopping = false
    private var finished = false

    init(_ reader: MessageFileReader, chunk: Int) {
        let handed = HandedOver(reader)
        let thread = Thread { [self] in run(handed.value, chunk: max(1, chunk)) }
        thread.name = "strikecd-read"
        thread.start()
    }

    private func run(_ reader: MessageFileReader, chunk: Int) {
        while true {
            condition.lock()
            while !stopping, chunks.count >= 2 { condition.wait() }
            let stop = stopping
            condition.unlock()
            if stop { break }
            let copies: [FileCopy]
            do {
                copies = try reader.next(limit: chunk)
            } catch {
                condition.lock()
                failure = error
                condition.broadcast()
                condition.unlock()
                break
            }
            condition.lock()
            if copies.isEmpty { atEnd = true } else { chunks.append(copies) }
            condition.broadcast()
            condition.unlock()
            if copies.isEmpty { break }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Up to `limit` more copies, in file order; empty at the end of the file.
    func next(limit: Int) throws(SystemError) -> [FileCopy] {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty, !atEnd, failure == nil { condition.wait() }
        guard !chunks.isEmpty else {
            if let failure { throw failure }
            return []
        }
        if chunks[0].count <= limit {
            condition.broadcast()
            return chunks.removeFirst()
        }
        let taken = Array(chunks[0].prefix(limit))
        chunks[0].removeFirst(limit)
        return taken
    }

    /// Stops reading ahead; waits for the thread to let go of the reader.
    func finish() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        chunks = []
        condition.unlock()
    }
}

/// A value given to another thread that the giver no longer touches.
private struct HandedOver<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
