import BTF
import Testing

/// The reader refuses bad input with a message and never traps.
@Suite struct BTFMalformedTests {
    @Test("inputs that are not BTF are refused", arguments: [
        ([UInt8](), "shorter than the BTF header"),
        ([UInt8](repeating: 0, count: 24), "no BTF magic"),
        ([0x9f, 0xeb, 2, 0] + [UInt8](repeating: 0, count: 20), "BTF version 2"),
        ([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "outside"),
    ])
    func refused(bytes: [UInt8], message: String) {
        #expect {
            try BTF(bytes: bytes, source: "test")
        } throws: { error in
            (error as? BTFError)?.message.contains(message) == true
        }
    }

    @Test("every truncation of a real module blob is refused or read without trapping")
    func truncations() throws {
        let (vmlinux, _) = try BTFFixture.kvmAMD("6.12.117")
        let whole = try BTFFixture.bytes("6.12.117", "kvm_amd.btf")
        var refused = 0
        for length in stride(from: 0, to: whole.count, by: 1009) {
            do {
                let blob = try BTF(bytes: Array(whole[0..<length]), base: vmlinux, source: "cut")
                _ = try? blob.location(of: "vcpu_svm.vmcb->save.cr0")
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0)
    }

    @Test("flipped bytes in a real module blob never trap")
    func corruptions() throws {
        let (vmlinux, _) = try BTFFixture.kvmAMD("6.12.117")
        let whole = try BTFFixture.bytes("6.12.117", "kvm_amd.btf")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            var copy = whole
            for _ in 0..<8 {
                let index = Int.random(in: 0..<copy.count, using: &generator)
                copy[index] = UInt8.random(in: 0...255, using: &generator)
            }
            if let blob = try? BTF(bytes: copy, base: vmlinux, source: "flipped") {
                for path in ["vcpu_svm.vmcb->save.cr0", "vcpu_svm.nested.ctl.intercepts[5]", "kvm_vcpu.arch.regs[15]"] {
                    _ = try? blob.location(of: path)
                }
            }
        }
    }
}
