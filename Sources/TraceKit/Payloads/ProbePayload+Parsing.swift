extension PayloadParser {
    /// Limit on fields per probe line (the kernel's `MAX_TRACE_ARGS`, `kernel/trace/trace_probe.h`, is 128).
    static let maxProbeFields = 128

    /// A probe event payload: an optional `(location)` — `svm_handle_exit+0x0/0x3a0 [kvm_amd]` in
    /// tracefs, a bare address in `perf script` and `trace-cmd report` — then `name=value`
    /// pairs whose values are hex with `0x` or (signed) decimal. Anything else is not a probe line.
    static func probe(_ c: inout ByteCursor) -> ProbePayload? {
        c.skipSpaces()
        if c.literal("(") {
            guard let close = c.find(")") else { return nil }
            c.position = close + 1
        }
        var fields: [ProbeField] = []
        while true {
            c.skipSpaces()
            if c.isAtEnd { break }
            guard fields.count < maxProbeFields, let token = c.word() else { return nil }
            var field = ByteCursor(c.base, from: token.lowerBound, to: token.upperBound)
            let nameStart = field.position
            while let byte = field.peek, byte != UInt8(ascii: "=") { field.position += 1 }
            let nameEnd = field.position
            guard nameEnd > nameStart, field.literal("=") else { return nil }
            let value: UInt64
            if field.literal("0x") {
                guard let hex = field.hex(allowPrefix: false) else { return nil }
                value = hex
            } else if let signed = field.signedDecimal() {
                value = UInt64(bitPattern: signed)
            } else if let unsigned = field.decimal() {
                value = unsigned
            } else {
                return nil
            }
            guard field.isAtEnd else { return nil }
            fields.append(ProbeField(name: field.string(nameStart..<nameEnd), value: value))
        }
        return fields.isEmpty ? nil : ProbePayload(fields: fields)
    }
}
