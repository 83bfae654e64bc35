import BTF
import Testing

/// Offsets the reader computes from real Debian kernels' BTF, against `pahole` (dwarves 1.24)
/// run on the same blobs (`Tests/Fixtures/btf/README.md`).
@Suite struct BTFReaderTests {
    /// (kernel, path, expected offsets per pointer level) — each value read from `pahole -C`.
    static let offsets: [(String, String, [Int])] = [
        ("6.12.117", "kvm_vcpu.arch", [296]),
        ("6.12.117", "kvm_vcpu.arch.regs[0]", [296]),
        ("6.12.117", "kvm_vcpu.arch.regs[1]", [304]),
        ("6.12.117", "kvm_vcpu.arch.hflags", [512]),
        ("6.12.117", "kvm_vcpu.arch.efer", [520]),
        ("6.12.117", "vcpu_svm.vmcb", [6480]),
        ("6.12.117", "vcpu_svm.vmcb01.ptr", [6488]),
        ("6.12.117", "vcpu_svm.nested.vmcb12_gpa", [6656]),
        ("6.12.117", "vcpu_svm.nested.ctl.intercepts[3]", [6700]),
        ("6.12.117", "vcpu_svm.vmcb->save.cr0", [6480, 1368]),
        ("6.12.117", "vcpu_svm.vmcb01.ptr->save.efer", [6488, 1232]),
        ("6.12.117", "vmcb.save.cpl", [1227]),
        ("6.12.117", "vmcb.control.exit_code", [112]),
        ("6.1.192", "kvm_vcpu.arch.regs[0]", [296]),
        ("6.1.192", "vcpu_svm.vmcb", [6552]),
        ("6.1.192", "vcpu_svm.vmcb01.ptr", [6560]),
        ("6.1.192", "vcpu_svm.nested.ctl.intercepts[3]", [6772]),
        ("6.1.192", "vcpu_svm.vmcb->save.cr3", [6552, 1360]),
        ("6.1.192", "vmcb.save.cpl", [1227]),
    ]

    @Test("member paths resolve to the offsets pahole prints", arguments: offsets)
    func memberOffsets(kernel: String, path: String, expected: [Int]) throws {
        let (_, module) = try BTFFixture.kvmAMD(kernel)
        #expect(try module.location(of: path).offsets == expected)
    }

    @Test("6.12's vmcb save area is found through the anonymous union that holds it")
    func anonymousUnion() throws {
        let (_, module) = try BTFFixture.kvmAMD("6.12.117")
        let vmcb = try #require(module.structure(named: "vmcb"))
        #expect(vmcb.members.contains { $0.name == nil })
        let cpl = try module.location(of: "vmcb.save.cpl")
        #expect(cpl.size == 1)
        let intercepts = try module.location(of: "vcpu_svm.nested.ctl.intercepts")
        #expect(intercepts.size == 24)
    }

    @Test("split BTF continues vmlinux's type ids and strings")
    func splitContinuesBase() throws {
        let (vmlinux, module) = try BTFFixture.kvmAMD("6.12.117")
        #expect(module.firstTypeID == vmlinux.typeIDLimit)
        #expect(module.structure(named: "vcpu_svm") != nil)
        #expect(vmlinux.structure(named: "vcpu_svm") == nil)
        // task_struct lives in vmlinux only; the module resolves it through its base.
        #expect(try module.location(of: "task_struct.pid").offsets == vmlinux.location(of: "task_struct.pid").offsets)
        let regs = try module.location(of: "kvm_vcpu.arch.regs")
        let element = try #require(module.resolvingAliases(regs.type)?.array?.element)
        #expect(module.resolvingAliases(element)?.name == "long unsigned int")
    }

    @Test("a path that does not resolve names what is missing", arguments: [
        ("vcpu_svm.no_such_member", "has no member no_such_member"),
        ("no_such_struct.x", "no struct no_such_struct"),
        ("vcpu_svm.nested.ctl.intercepts[6]", "index 6 is outside the array of 6"),
        ("vcpu_svm.asid->x", "not a pointer"),
        ("vcpu_svm.vmcb[0]", "not an array"),
        ("vcpu_svm..vmcb", "'.'"),
        ("vcpu_svm.vmcb->", "ends in '->'"),
        ("vcpu_svm.regs[x]", "non-negative index"),
    ])
    func unresolvedPaths(path: String, message: String) throws {
        let (_, module) = try BTFFixture.kvmAMD("6.12.117")
        #expect {
            try module.location(of: path)
        } throws: { error in
            (error as? BTFError)?.message.contains(message) == true
        }
    }

    @Test("module BTF without its base cannot resolve base types but does not crash")
    func moduleWithoutBase() throws {
        let module = try BTF(bytes: BTFFixture.bytes("6.12.117", "kvm_amd.btf"), source: "kvm_amd")
        #expect(throws: BTFError.self) { try module.location(of: "vcpu_svm.vmcb->save.cr0") }
    }
}

/// Function prototypes, as the capture's return probe on `kvm_vcpu_map` checks them.
@Suite struct BTFFunctionTests {
    @Test("kvm_vcpu_map's parameters are vcpu, gfn, map in kvm's split BTF of 6.12 and 6.1", arguments: ["6.12.117", "6.1.192"])
    func kvmVCPUMap(kernel: String) throws {
        let (vmlinux, _) = try BTFFixture.kvmAMD(kernel)
        let kvm = try BTF(bytes: BTFFixture.bytes(kernel, "kvm.btf"), base: vmlinux, source: "\(kernel)/kvm")
        let parameters = try #require(kvm.functionParameters("kvm_vcpu_map"))
        #expect(parameters.map(\.name) == ["vcpu", "gfn", "map"])
        #expect(kvm.resolvingAliases(parameters[1].type)?.name == "long long unsigned int")
    }

    @Test("an unknown function has no parameters")
    func unknown() throws {
        let (_, module) = try BTFFixture.kvmAMD("6.12.117")
        #expect(module.functionParameters("no_such_function_anywhere") == nil)
    }
}
