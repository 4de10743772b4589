/// Splits a byte stream into NUL-terminated Varlink frames, holding at most
/// `maximumFrameBytes` of an unfinished frame.
///
/// The search resumes where it stopped, so a frame arriving in many small
/// pieces costs linear time.
public struct NULFramer: Sendable {
    public let maximumFrameBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0

    public init(maximumFrameBytes: Int) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// True when no bytes of an unfinished frame are held.
    public var isEmpty: Bool { start == buffer.count }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scanned = 0
        } else if start > 65536, start * 2 > buffer.count {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame without its NUL, or nil until more bytes come.
    /// Throws when an unfinished frame exceeds the maximum.
    public mutating func nextFrame() throws(VarlinkViolation) -> [UInt8]? {
        if let end = buffer[scanned...].firstIndex(of: 0) {
            let frame = Array(buffer[start..<end])
            start = end + 1
            scanned = start
            if frame.count > maximumFrameBytes { throw tooLarge() }
            return frame
        }
        scanned = buffer.count
        if buffer.count - start > maximumFrameBytes { throw tooLarge() }
        return nil
    }

    private func tooLarge() -> VarlinkViolation {
        VarlinkViolation("a message longer than \(maximumFrameBytes) bytes")
    }
}
