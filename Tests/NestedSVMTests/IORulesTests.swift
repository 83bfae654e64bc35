import NestedSVM
import Testing

@Suite struct IORulesTests {
    static let ioioProtWord3: UInt32 = 0x0900_0000  // HLT + IOIO_PROT (bit 123)

    static func state(_ ports: [UInt32: Bool], word3: UInt32 = ioioProtWord3) -> VCPUState {
        Fixture.l2(VMCB12(
            intercepts: Fixture.intercepts(word3: word3),
            iopm: IOPermissionMap(ports: ports.mapValues { Fixture.known($0) })))
    }

    /// `exit_info_1` for an IN/OUT: port in 31:16, size bit (SZ8/16/32) and type.
    static func info1(port: UInt32, size: Int, isIn: Bool, string: Bool = false) -> UInt64 {
        UInt64(port) << 16 | UInt64(size) << 4 | (isIn ? 1 : 0) | (string ? 1 << 2 : 0)
    }

    @Test("exit_info_1 decodes port, size, type and string")
    func decode() {
        let io = IOIOExitInfo(0x0000_0000_0510_0040)  // 6.12/minimal.trace line 43: out %eax,(%dx) port 0x510
        #expect(io.port == 0x510 && io.size == 4 && !io.isIn && !io.isString)
        let string = IOIOExitInfo(0x03f8_001d)
        #expect(string.port == 0x3f8 && string.size == 1 && string.isIn && string.isString && string.isRep)
    }

    @Test("IOPM bits: any set bit of the accessed ports reflects, including spills into the next byte and port 0xffff",
          arguments: [
            // (port, size, known bits, reflected?)
            (UInt32(0x3f8), 1, [UInt32(0x3f8): true], true),
            (0x3f8, 1, [0x3f8: false], false),
            (0x3ff, 2, [0x3ff: false, 0x400: true], true),          // crosses into byte 0x80
            (0x3ff, 2, [0x3ff: false, 0x400: false], false),
            (0xcfc, 4, [0xcfc: false, 0xcfd: false, 0xcfe: false, 0xcff: true], true),
            (0xcfe, 4, [0xcfe: false, 0xcff: false, 0xd00: false, 0xd01: true], true), // bits 6,7 of 0x19f + 0,1 of 0x1a0
            (0xffff, 1, [0xffff: true], true),
            (0xffff, 4, [0xffff: false, 0x10000: false, 0x10001: false, 0x10002: false], false),
            (0xffff, 4, [0xffff: false, 0x10000: false, 0x10001: false, 0x10002: true], true), // third IOPM page
          ])
    func iopm(port: UInt32, size: Int, bits: [UInt32: Bool], reflected: Bool) {
        let info1 = Self.info1(port: port, size: size, isIn: true)
        let decision = Fixture.decide(Fixture.exit(.ioio, info1: info1, info2: 0x10904), Self.state(bits))
        let expected: Expect = reflected ? .reflect(.ioio, info1: info1) : .l0("svm/svm.c:io_interception")
        #expect(Expect(decision.outcome) == expected)
        #expect(decision.ruleIDs == ["svm.level", "svm.io.l1-intercepts", "svm.io.decode", "svm.io.iopm-bits"] + (reflected ? [] : ["svm.io.l0-handles"]))
        if reflected { #expect(decision.outcome.exitInfo2 == 0x10904) }
    }

    @Test("an unknown IOPM bit leaves the decision undetermined unless a known bit is already set")
    func unknownBits() {
        let info1 = Self.info1(port: 0xffff, size: 2, isIn: false)
        let unknown = Fixture.decide(Fixture.exit(.ioio, info1: info1), Self.state([0xffff: false]))
        #expect(unknown.outcome.kind == .undetermined)
        #expect(unknown.outcome.missing == ["iopm[0x10000]"])
        let decided = Fixture.decide(Fixture.exit(.ioio, info1: info1), Self.state([0xffff: true]))
        #expect(Expect(decided.outcome) == .reflect(.ioio, info1: info1))
    }

    @Test("IOIO_PROT clear: L0 handles; string I/O goes through the emulator")
    func ioioProtClear() {
        let plain = Fixture.decide(Fixture.exit(.ioio, info1: Self.info1(port: 0x3f8, size: 1, isIn: false)), Self.state([:], word3: 0x0100_0000))
        #expect(Expect(plain.outcome) == .l0("svm/svm.c:io_interception"))
        let string = Fixture.decide(Fixture.exit(.ioio, info1: Self.info1(port: 0x3f8, size: 1, isIn: false, string: true)), Self.state([:], word3: 0x0100_0000))
        #expect(Expect(string.outcome) == .emulate)
    }
}

/// The IOPM cases of kvm-unit-tests `x86/svm_tests.c` (`test_ioio`): known bits per stage.
@Suite struct KVMUnitTestsIOIOTests {
    static func bitmap(set ports: [UInt32], known range: ClosedRange<UInt32>) -> [UInt32: Bool] {
        var bits: [UInt32: Bool] = [:]
        for port in range { bits[port] = ports.contains(port) }
        return bits
    }

    @Test("test_ioio stages",
          arguments: [
            ("inb 0x5000, bitmap clear", UInt32(0x5000), 1, [UInt32](), false),
            ("inb 0x0, byte 0 all set", 0x0, 1, Array(0...7), true),
            ("outw 0x0", 0x0, 2, Array(0...7), true),
            ("inl 0x0", 0x0, 4, Array(0...7), true),
            ("inb 0x5000, its bit set", 0x5000, 1, [0x5000], true),
            ("inw 0x9000, its bit set", 0x9000, 2, [0x9000], true),
            ("inl 0x4fff spills onto 0x5000", 0x4fff, 4, [0x5000], true),
            ("inl 0x7fff across the page, nothing set", 0x7fff, 4, [], false),
            ("inl 0x7fff across the page, 0x8000 set", 0x7fff, 4, [0x8000], true),
            ("inl 0xffff, third-page byte set", 0xffff, 4, [0x10000, 0x10001, 0x10002], true),
            ("inl 0xffff, only byte 0 set: no wrap to port 0", 0xffff, 4, Array(0...7), false),
          ])
    func stage(name: String, port: UInt32, size: Int, set: [UInt32], reflected: Bool) {
        var bits = Self.bitmap(set: set, known: port...(port + UInt32(size) - 1))
        for port in set { bits[port] = true }
        let info1 = IORulesTests.info1(port: port, size: size, isIn: true)
        let decision = Fixture.decide(Fixture.exit(.ioio, info1: info1), IORulesTests.state(bits))
        #expect((decision.outcome.kind == .reflectToL1) == reflected, "\(name)")
        #expect(decision.outcome.kind != .undetermined, "\(name)")
    }
}
