import Testing
@testable import TraceKit

@Suite struct TraceTextWriterTests {
    @Test("timestamps round to the microsecond like the kernel's ns2usecs", arguments: [
        (UInt64(6_242_288_656), "    6.242289"),  // 6.12 minimal.dat record 0, minimal.trace line 13
        (UInt64(6_277_986_632), "    6.277987"),  // 6.12 minimal.dat record 6, minimal.trace line 19
        (UInt64(6_242_288_499), "    6.242288"),
        (UInt64(999_999_500), "    1.000000"),
        (UInt64(0), "    0.000000"),
        (UInt64(127_373_591_000), "  127.373591"),
        (UInt64(123_456_789_012_345), "123456.789012"),
    ])
    func timestamp(nanoseconds: UInt64, expected: String) {
        var writer = TraceTextWriter()
        writer.appendTimestamp(nanoseconds: nanoseconds)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }

    @Test("numbers print like printf's %d, %03d, 0x%x and 0x%016llx")
    func numbers() {
        var writer = TraceTextWriter()
        writer.appendDecimal(7, width: 3, pad: UInt8(ascii: "0"))
        writer.append(" ")
        writer.appendDecimal(401, width: 7)
        writer.append(" ")
        writer.appendDecimal(UInt64.max)
        writer.append(" ")
        writer.appendHex(0)
        writer.append(" ")
        writer.appendHex(0xd)
        writer.append(" ")
        writer.appendPaddedHex(0x31000, digits: 16)
        writer.append(" ")
        writer.appendPaddedHex(0x0100_0000, digits: 8)
        writer.append(" ")
        writer.appendPaddedHex(UInt64.max, digits: 8)
        #expect(String(decoding: writer.bytes, as: UTF8.self)
            == "007     401 18446744073709551615 0x0 0xd 0x0000000000031000 0x01000000 0xffffffffffffffff")
    }

    @Test("signed raw fields are sign-extended from their size", arguments: [
        (UInt64(0xffff_fffc), 4, Int64(-4)),
        (UInt64(0x0000_0004), 4, Int64(4)),
        (UInt64(0x80), 1, Int64(-128)),
        (UInt64.max, 8, Int64(-1)),
    ])
    func signExtension(raw: UInt64, size: Int, expected: Int64) {
        #expect(RawFields.signExtend(raw, size: size) == expected)
    }
}

@Suite struct TraceLatencyFlagsTests {
    /// Columns seen in the shipped 6.1 / 6.12 tracefs captures, plus the other documented
    /// characters of `Documentation/trace/ftrace.rst`.
    @Test("the latency column follows the kernel's characters", arguments: [
        (UInt32(0x00), UInt32(0x00), "....."),
        (UInt32(0x01), UInt32(0x01), "d..1."),   // kvm_entry on 6.12
        (UInt32(0x24), UInt32(0x00), ".N..."),   // need-resched + preempt-resched
        (UInt32(0x04), UInt32(0x00), ".n..."),
        (UInt32(0x20), UInt32(0x00), ".p..."),
        (UInt32(0x26), UInt32(0x00), ".B..."),
        (UInt32(0x22), UInt32(0x00), ".L..."),
        (UInt32(0x06), UInt32(0x00), ".b..."),
        (UInt32(0x02), UInt32(0x00), ".l..."),
        (UInt32(0x81), UInt32(0x00), "D...."),
        (UInt32(0x80), UInt32(0x00), "b...."),
        (UInt32(0x09), UInt32(0x12), "d.h21"),
        (UInt32(0x18), UInt32(0x0f), "..Hf."),
        (UInt32(0x10), UInt32(0xa0), "..s.a"),
        (UInt32(0x48), UInt32(0x00), "..Z.."),
        (UInt32(0x40), UInt32(0x00), "..z.."),
    ])
    func column(flags: UInt32, preemptCount: UInt32, expected: String) {
        let (a, b, c, d, e) = TraceLatencyFlags(flags: flags, preemptCount: preemptCount).bytes
        #expect(String(decoding: [a, b, c, d, e], as: UTF8.self) == expected)
    }
}
