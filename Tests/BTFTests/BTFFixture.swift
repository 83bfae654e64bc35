import BTF
import CCompression
import Foundation
import TestSupport

/// Loads the real BTF blobs under `Tests/Fixtures/btf/<kernel>/`.
enum BTFFixture {
    /// The folder of one kernel's blobs.
    static func folder(_ kernel: String) -> URL {
        RepositoryPaths.root.appendingPathComponent("Tests/Fixtures/btf").appendingPathComponent(kernel)
    }

    /// Raw bytes of a fixture file, xz-decompressed when it ends in `.xz`.
    static func bytes(_ kernel: String, _ file: String) throws -> [UInt8] {
        let data = try Data(contentsOf: folder(kernel).appendingPathComponent(file))
        let input = [UInt8](data)
        guard file.hasSuffix(".xz") else { return input }
        var output = [UInt8](repeating: 0, count: 16 << 20)
        var memoryLimit: UInt64 = .max
        var inPosition = 0
        var outPosition = 0
        let status = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                lzma_stream_buffer_decode(&memoryLimit, 0, nil, source.baseAddress, &inPosition, source.count,
                                          target.baseAddress, &outPosition, target.count)
            }
        }
        guard status == LZMA_OK else { throw CocoaError(.fileReadCorruptFile) }
        return Array(output[0..<outPosition])
    }

    /// Both kernels' blobs, parsed once for all tests.
    private static let loaded: [String: Result<Pair, any Error>] = [
        "6.12.117": Result { try parse("6.12.117") },
        "6.1.192": Result { try parse("6.1.192") },
    ]

    /// vmlinux's BTF and kvm_amd's split BTF on it.
    typealias Pair = (vmlinux: BTF, module: BTF)

    /// vmlinux's BTF and kvm_amd's split BTF on it (parsed once).
    static func kvmAMD(_ kernel: String) throws -> Pair {
        guard let result = loaded[kernel] else { throw CocoaError(.fileNoSuchFile) }
        return try result.get()
    }

    private static func parse(_ kernel: String) throws -> Pair {
        let vmlinux = try BTF(bytes: bytes(kernel, "vmlinux.btf.xz"), source: "\(kernel)/vmlinux")
        let module = try BTF(bytes: bytes(kernel, "kvm_amd.btf"), base: vmlinux, source: "\(kernel)/kvm_amd")
        return (vmlinux, module)
    }
}
