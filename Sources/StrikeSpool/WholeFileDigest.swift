#if canImport(Glibc)
import Glibc
#endif
import Crypto
import StrikeCore
import StrikeOS

// SECURITY: a file over max_file_size is never read as a message, but it is
// counted as one rejected copy, and its identity decides whether another
// file is the same (a duplicate, removed) or another (quarantined too). So
// the identity covers every byte: a digest of the size and the first 64 KiB
// let two different files of one size collide, and the second was deleted
// as a duplicate of the first. Memory stays one block, and a sparse file's
// holes are never read: a `truncate -s 4T` file costs a few thousand
// `lseek` calls, not four terabytes of reading.

/// The identity of a file too large to be read: a SHA-256 of its content,
/// canonically encoded in 1 MiB blocks.
///
/// The encoding is the size, then for each run of blocks that are all
/// zeros its length, and for each other block its length and bytes. It
/// depends on the content alone, not on how the file system stores it: a
/// block of zeros written out and a hole are the same, so the same bytes
/// always give the same identity, whether copied sparse or not, and holes
/// need not be read to be hashed.
enum WholeFileDigest {
    static let blockBytes = 1 << 20

    /// Reads `fd` (`size` bytes, from its start; the file offset is not
    /// used) and returns its identity.
    static func identity(of fd: Int32, size: Int64, display: String) throws(SystemError) -> CopyReading.Identity {
        var hasher = SHA256()
        hasher.update(data: Array("file:\(size);".utf8))
        var zeros: Int64 = 0
        func flushZeros() {
            guard zeros > 0 else { return }
            hasher.update(data: Array("z\(zeros);".utf8))
            zeros = 0
        }
        let block = Int64(blockBytes)
        var buffer = [UInt8](repeating: 0, count: blockBytes)
        var offset: Int64 = 0
        while offset < size {
            let length = Int(min(block, size - offset))
            // Whole blocks before the next data are holes: zeros, unread.
            guard let data = Sys.nextData(fd, from: offset) else {
                zeros += size - offset
                break
            }
            if data >= offset + Int64(length) {
                let skipTo = min(size, data / block * block)
                zeros += skipTo - offset
                offset = skipTo
                continue
            }
            var failure: SystemError?
            let (count, allZero) = buffer.withUnsafeMutableBytes { raw in
                let slice = UnsafeMutableRawBufferPointer(rebasing: raw[0..<length])
                let count: Int
                do throws(SystemError) {
                    count = try Sys.pread(fd, into: slice, at: offset, path: display)
                } catch {
                    failure = error
                    return (0, true)
                }
                return (count, isZero(UnsafeRawBufferPointer(rebasing: raw[0..<count])))
            }
            if let failure { throw failure }
            // Shorter than fstat said: it shrank meanwhile; what was there is hashed.
            if count == 0 { break }
            if allZero {
                zeros += Int64(count)
            } else {
                flushZeros()
                hasher.update(data: Array("d\(count);".utf8))
                hasher.update(data: buffer[0..<count])
            }
            offset += Int64(count)
        }
        flushZeros()
        return .bytesDigest(Array(hasher.finalize()))
    }

    /// Whether every byte is zero, eight at a time.
    private static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        for index in 0..<words where bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) != 0 { return false }
        for index in (words * 8)..<bytes.count where bytes[index] != 0 { return false }
        return true
    }
}
