import TraceKit

/// A trace excerpt for bug reports: the original lines of each chosen exit, plus the lines
/// that set up the state it was judged in, so that svmdbg can open the excerpt and check
/// it again.
///
/// For every exit it keeps, on the exit's thread: the last `kvm_nested_vmenter` /
/// `kvm_nested_vmrun` and `kvm_nested_intercepts` before it (L1's configuration), the
/// last `kvm_msr` lines of EFER and `MSR_VM_HSAVE_PA`, the exits whose recorded outcomes
/// settled a permission-map bit it used, and the exit itself up to its `kvm_entry`. Gaps
/// are marked with a `# [svmdbg] … lines omitted …` comment (the loader reports them).
/// The header lines of the original (tracefs `#` lines, `cpus=`) are kept. A `.dat` source
/// is written in the tracefs layout it was read as.
enum TraceExcerpt {
    static func text(for exits: some Collection<ExitRecord>, in result: ReplayResult) -> String {
        let trace = result.trace
        var keep = Set<Int>()
        for exit in exits {
            for line in exit.lines { keep.insert(line) }
            for line in setupLines(before: exit, in: result) { keep.insert(line) }
        }
        var out = ""
        var line = 1
        // One forward walk: a long stretch of non-event lines inside an exit stays linear.
        var reader = RawLineReader(trace)
        while let text = reader.line(line), isHeader(text) {
            out += text + "\n"
            keep.remove(line)
            line += 1
        }
        var previous: Int?
        for number in keep.sorted() {
            guard let text = reader.line(number) else { continue }
            if let previous, number > previous + 1 {
                out += "# [svmdbg] \(number - previous - 1) lines omitted here (lines \(previous + 1)-\(number - 1) of \(trace.source))\n"
            } else if previous == nil, number > line {
                out += "# [svmdbg] \(number - line) lines omitted here (lines \(line)-\(number - 1) of \(trace.source))\n"
            }
            out += text + "\n"
            previous = number
        }
        return out
    }

    private static func isHeader(_ text: String) -> Bool {
        text.hasPrefix("#") || text.hasPrefix("cpus=") || text.hasPrefix("version =") || text.hasPrefix("CPU ")
    }

    /// Lines that set up `exit`'s state, found by walking back on its thread.
    private static func setupLines(before exit: ExitRecord, in result: ReplayResult) -> [Int] {
        let trace = result.trace
        var wanted: Set<String> = ["kvm_nested_vmenter", "kvm_nested_intercepts", "efer", "hsave"]
        var lines: [Int] = []
        var position = exit.firstEvent.rawValue - 1
        var sawVMEnter = false
        while position >= 0, !wanted.isEmpty {
            let number = EventNumber(position)
            position -= 1
            guard trace.pid(of: number) == exit.pid else { continue }
            let name = trace.name(of: number)
            switch name {
            case "kvm_nested_vmenter", "kvm_nested_vmrun":
                if wanted.remove("kvm_nested_vmenter") != nil {
                    lines.append(trace.lineNumber(of: number))
                    sawVMEnter = true
                }
            case "kvm_nested_intercepts":
                if wanted.remove("kvm_nested_intercepts") != nil { lines.append(trace.lineNumber(of: number)) }
            case "kvm_msr":
                if case .msr(let msr) = trace.payload(of: number) {
                    let key = msr.msr == 0xC000_0080 ? "efer" : (msr.msr == 0xC001_0117 ? "hsave" : "")
                    if !key.isEmpty, wanted.remove(key) != nil { lines.append(trace.lineNumber(of: number)) }
                }
            default:
                break
            }
        }
        _ = sawVMEnter
        // The exits that settled facts this exit's configuration relied on.
        let exits = result.exits
        let configuration = exits.configuration(at: exit.index)
        for other in 0..<exit.index where exits.pid(at: other) == exit.pid
            && exits.hasInferred(at: other) && exits.configuration(at: other) == configuration
        {
            lines.append(contentsOf: exits[other].lines)
        }
        return lines
    }
}
