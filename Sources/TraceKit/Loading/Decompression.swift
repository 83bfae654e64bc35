import CCompression

/// Detects and undoes gzip/xz compression of a whole input held in memory.
enum Decompression {
    /// gzip magic (RFC 1952 §2.3.1: ID1 ID2).
    static let gzipMagic: [UInt8] = [0x1f, 0x8b]
    /// xz magic (xz file format 1.0.4 §2.1.1.1: header magic bytes).
    static let xzMagic: [UInt8] = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]
    /// `LZMA_CONCATENATED` decoder flag (`lzma/container.h`): decode concatenated .xz streams.
    static let lzmaConcatenated: UInt32 = 0x08
    /// zlib `windowBits` 15 + 32: maximum window, automatic gzip/zlib header detection (`zlib.h`, inflateInit2).
    static let zlibAutoHeaderWindowBits: Int32 = 15 + 32
    /// Output chunk size while inflating.
    static let chunkSize = 1 << 20

    /// The compression `bytes` start with.
    static func detect(_ bytes: [UInt8]) -> TraceCompression {
        if bytes.starts(with: xzMagic) { return .xz }
        if bytes.starts(with: gzipMagic) { return .gzip }
        return .none
    }

    /// Decompression failure with a short reason.
    struct Failure: Error {
        /// What went wrong.
        var reason: String
    }

    /// Inflates a gzip input (all members).
    static func gunzip(_ input: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 4)
        var consumed = 0
        try input.withUnsafeBufferPointer { source in
            guard let sourceBase = source.baseAddress else { return }
            while consumed < source.count {
                var stream = z_stream()
                guard inflateInit2_(&stream, zlibAutoHeaderWindowBits, zlibVersion(),
                                    Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    throw Failure(reason: "zlib could not be initialised")
                }
                defer { inflateEnd(&stream) }
                stream.next_in = UnsafeMutablePointer(mutating: sourceBase + consumed)
                stream.avail_in = UInt32(clamping: source.count - consumed)
                var chunk = [UInt8](repeating: 0, count: chunkSize)
                var status: Int32 = Z_OK
                while status != Z_STREAM_END {
                    let produced: Int = try chunk.withUnsafeMutableBufferPointer { buffer in
                        stream.next_out = buffer.baseAddress
                        stream.avail_out = UInt32(buffer.count)
                        status = inflate(&stream, Z_NO_FLUSH)
                        guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && stream.avail_out == 0)
                        else {
                            throw Failure(reason: "corrupt gzip data (zlib error \(status))")
                        }
                        let produced = buffer.count - Int(stream.avail_out)
                        output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<produced]))
                        return produced
                    }
                    if status != Z_STREAM_END, produced == 0, stream.avail_in == 0 {
                        throw Failure(reason: "gzip data ends early")
                    }
                }
                consumed = source.count - Int(stream.avail_in)
                // Trailing zero padding after the last member is allowed.
                if source[consumed...].allSatisfy({ $0 == 0 }) { break }
            }
        }
        return output
    }

    /// Decodes an xz input (all concatenated streams).
    static func unxz(_ input: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 6)
        var stream = lzma_stream()
        guard lzma_stream_decoder(&stream, UInt64.max, lzmaConcatenated) == LZMA_OK else {
            throw Failure(reason: "liblzma could not be initialised")
        }
        defer { lzma_end(&stream) }
        try input.withUnsafeBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = source.count
            var chunk = [UInt8](repeating: 0, count: chunkSize)
            while true {
                var status = LZMA_OK
                let produced: Int = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = buffer.count
                    status = lzma_code(&stream, stream.avail_in == 0 ? LZMA_FINISH : LZMA_RUN)
                    let produced = buffer.count - stream.avail_out
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<produced]))
                    return produced
                }
                if status == LZMA_STREAM_END { break }
                guard status == LZMA_OK else { throw Failure(reason: "corrupt xz data (liblzma error \(status.rawValue))") }
                if produced == 0, stream.avail_in == 0 {
                    // LZMA_FINISH with no progress: truncated input.
                    throw Failure(reason: "xz data ends early")
                }
            }
        }
        return output
    }
}
