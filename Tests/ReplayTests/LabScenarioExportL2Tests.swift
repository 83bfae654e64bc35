import Foundation
import NestedSVM
@testable import Replay
import TestSupport
import Testing
import TraceKit

/// Issue 16, "from a trace back to a reproducer": `export --format lab-scenario` for L2's
/// MSR, IOIO and CPUID exits. Every such exit of the shipped lab traces (with their facts
/// files) is written as a `.scn` that the lab's parser reads, that states the exit's inputs
/// (program, registers, intercept, MSRPM/IOPM bits) and whose lab facts decide the exit the
/// way replay did; unknown bits are refused; a wrong bit changes the scenario.
@Suite struct LabScenarioExportL2Tests {
    static let exitCodes: Set<UInt32> = [0x7c, 0x7b, 0x72]

    /// A shipped lab trace, with its shipped facts file (made with the run's manifest, so it
    /// gives the operands of each L2 step).
    static func replay(_ name: String, facts: Bool = true) throws -> ReplayResult {
        let path = RepositoryPaths.root.appendingPathComponent("traces/lab/6.12-zen3/\(name).facts.json").path
        return try ScopedLabFactsTests.replay("6.12-zen3", name, npt: true, facts: facts ? [try FactsFile.read(path: path)] : [])
    }

    /// The exit's event with RCX/RAX as the facts file's RIP-scoped operands give them when
    /// the exit's own lines do not (a reflected RDMSR has no kvm_msr line).
    static func withOperands(_ hardware: HardwareExit, exit: ExitRecord, in result: ReplayResult) -> HardwareExit {
        var event = hardware
        for file in result.options.facts {
            for entry in file.entries where entry.level == .l2 && entry.rip != nil && entry.rip == exit.rip {
                if event.rcx == nil { event.rcx = entry.rcx }
                if event.rax == nil { event.rax = entry.rax }
            }
        }
        return event
    }

    /// Writes `text` to a temporary .scn and reads it with the lab's parser (`svmdbg lab facts`).
    static func labFacts(_ text: String) throws -> FactsFile {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("l2export-\(UUID().uuidString).scn").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ScopedLabFactsTests.labFacts("export", scn: path)
    }

    /// Where `text` does not state the inputs of `exit` as `state` holds them (empty: it does).
    static func statedDifferences(_ text: String, exit: ExitRecord, hardware: HardwareExit, state: VCPUState) -> [String] {
        guard let stated = LabScenarioStatedInputs(text: text) else { return ["the scenario does not parse"] }
        guard let info1 = exit.exitInfo1 else { return ["exit_info_1 unknown"] }
        var differences: [String] = []
        func check(_ ok: Bool, _ what: String) { if !ok { differences.append(what) } }
        switch exit.exitCode {
        case 0x7c:
            let write = info1 & 1 != 0
            check(stated.program == (write ? "replay_wrmsr" : "replay_rdmsr"), "program \(stated.program)")
            guard let msr = hardware.rcx?.value else { return differences + ["RCX unknown"] }
            check(stated.register(1) == msr, "RCX")
            guard let prot = state.vmcb12.intercepts.bit(InterceptBit.msrProt)?.value else { return differences + ["MSR_PROT unknown"] }
            check(stated.intercepts.contains("msr") == prot, "MSR_PROT")
            if prot, let bit = state.vmcb12.msrpm.bit(msr: UInt32(msr), write: write) {
                check((write ? stated.msrWrite : stated.msrRead).contains(msr) == bit.value, "MSRPM bit of \(Hex.format(msr))")
            }
        case 0x7b:
            let io = IOIOExitInfo(info1)
            let suffix = io.size == 1 ? "b" : io.size == 2 ? "w" : "l"
            check(stated.program == "replay_" + (io.isRep ? "rep_" : "") + (io.isIn ? "in" : "out") + (io.isString ? "s" : "") + suffix, "program \(stated.program)")
            check(stated.register(2) == UInt64(io.port), "DX")
            guard let prot = state.vmcb12.intercepts.bit(InterceptBit.ioioProt)?.value else { return differences + ["IOIO_PROT unknown"] }
            check(stated.intercepts.contains("ioio") == prot, "IOIO_PROT")
            if prot {
                for port in io.port..<(io.port + UInt32(io.size)) {
                    guard let bit = state.vmcb12.iopm.bit(port: port)?.value else { differences.append("IOPM \(port) unknown"); continue }
                    check(stated.ioPorts.contains(UInt64(port)) == bit, "IOPM bit of \(Hex.format(port))")
                }
            }
        default:
            check(stated.program == "replay_cpuid", "program \(stated.program)")
            check(stated.intercepts.contains("cpuid") == state.vmcb12.intercepts.bit(LabScenarioExport.cpuidIntercept)?.value, "CPUID intercept")
        }
        check(stated.intercepts.isSuperset(of: ["vmrun", "hlt"]), "vmrun/hlt intercepts")
        return differences
    }

    @Test("every L2 MSR, IOIO and CPUID exit of the shipped lab traces exports as a .scn the lab reads, stating the exit's inputs, whose lab facts decide like replay")
    func everyExit() throws {
        var exported: [String: Int] = [:]
        let folder = RepositoryPaths.root.appendingPathComponent("traces/lab/6.12-zen3").path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".facts.json") }
            .map { String($0.dropLast(".facts.json".count)) }.sorted()
        #expect(names.count > 40)
        for name in names {
            let result = try Self.replay(name)
            for exit in result.exits where exit.level == .l2 && exit.origin == .hardwareExit && Self.exitCodes.contains(exit.exitCode) {
                let input = try #require(result.modelInput(for: exit))
                guard case .hardwareExit(let shown) = input.event else { Issue.record("no hardware exit"); continue }
                let hardware = Self.withOperands(shown, exit: exit, in: result)
                if exit.exitCode == 0x7b, LabScenarioExport.labPorts.contains(IOIOExitInfo(exit.exitInfo1 ?? 0).port) {
                    // L1's own log port (a write in L2 context after an L2 exit): the lab's VMM answers it, so it is refused.
                    guard case .failure(let refusal) = LabScenarioExport.scenario(for: exit, in: result, traceName: name) else {
                        Issue.record("\(name) exit #\(exit.index): a lab port was exported"); continue
                    }
                    #expect(refusal.reason.contains("which the lab's VMM uses for L1's log"))
                    continue
                }
                let text = try LabScenarioExport.scenario(for: exit, in: result, traceName: name + ".trace").get()
                #expect(Self.statedDifferences(text, exit: exit, hardware: hardware, state: input.state) == [], "\(name) exit #\(exit.index)")
                // The lab's own parser reads it; its facts (the lab's vmcb12 for this scenario)
                // with the exit's event decide the recorded outcome, as replay did.
                let facts = try Self.labFacts(text)
                var state = input.state
                let lab = try #require(facts.entries.first { $0.vmcb12Address != nil || $0.vmruns != nil }).state.vmcb12
                state.vmcb12.intercepts = lab.intercepts
                state.vmcb12.msrpm = lab.msrpm
                state.vmcb12.iopm = lab.iopm
                let decision = DecisionModel(profile: .v6_12, host: result.options.host).decision(for: input.event, state: state)
                #expect(decision.outcome == result.decision(for: exit).outcome, "\(name) exit #\(exit.index)")
                #expect(exit.verdict.kind == .match)
                exported[name, default: 0] += 1
            }
        }
        #expect(exported["msr-prot", default: 0] >= 5)
        #expect(exported["ioio", default: 0] >= 10)
        #expect(exported["cpuid-toggle", default: 0] >= 4)
    }

    @Test("an exit whose MSRPM or IOPM bit is unknown is refused, naming the bit; an L2 HLT is refused")
    func unknownBitsRefused() throws {
        // Without the facts file the trace alone does not show L1's MSRPM.
        let result = try Self.replay("msr-prot", facts: false)
        let msr = try #require(result.exits.first { $0.level == .l2 && $0.exitCode == 0x7c })
        let input = try #require(result.modelInput(for: msr))
        guard case .hardwareExit(var hardware) = input.event else { Issue.record("no hardware exit"); return }
        hardware.rcx = Known(0x10, source: "test")
        var state = input.state
        state.vmcb12.intercepts.word3 = Known(1 << 28, source: "test")
        state.vmcb12.msrpm = MSRPermissionMap()
        let events = result.events(of: msr).map { result.trace.payload(of: $0) }
        let refused = LabScenarioExport.l2Scenario(for: msr, hardware: hardware, state: state, events: events, traceName: "t")
        guard case .failure(let refusal) = refused else { Issue.record("exported with an unknown MSRPM bit"); return }
        #expect(refusal.reason == "L1's MSRPM read bit of MSR 0x10 is unknown")
        // MSR_PROT itself unknown.
        state.vmcb12.intercepts.word3 = nil
        guard case .failure(let prot) = LabScenarioExport.l2Scenario(for: msr, hardware: hardware, state: state, events: events, traceName: "t") else {
            Issue.record("exported with MSR_PROT unknown"); return
        }
        #expect(prot.reason.contains("MSR_PROT intercept (intercept word 3 bit 28) is unknown"))

        let io = try Self.replay("ioio")
        let exit = try #require(io.exits.first { $0.level == .l2 && $0.exitCode == 0x7b })
        let ioInput = try #require(io.modelInput(for: exit))
        guard case .hardwareExit(let ioHardware) = ioInput.event else { Issue.record("no hardware exit"); return }
        var ioState = ioInput.state
        ioState.vmcb12.iopm = IOPermissionMap()
        let ioEvents = io.events(of: exit).map { io.trace.payload(of: $0) }
        guard case .failure(let ioRefusal) = LabScenarioExport.l2Scenario(for: exit, hardware: ioHardware, state: ioState, events: ioEvents, traceName: "t") else {
            Issue.record("exported with an unknown IOPM bit"); return
        }
        #expect(ioRefusal.reason.hasPrefix("L1's IOPM bit of port 0x80 is unknown"))

        let hlt = try #require(io.exits.first { $0.level == .l2 && $0.exitCode == 0x78 })
        guard case .failure(let hltRefusal) = LabScenarioExport.scenario(for: hlt, in: io, traceName: "t") else {
            Issue.record("an L2 HLT was exported"); return
        }
        #expect(hltRefusal.reason.hasPrefix("an exit of L2 other than MSR, IOIO and CPUID"))
    }

    @Test("a wrong MSRPM or IOPM bit in the exported state gives a different scenario, which the stated-inputs check catches")
    func wrongBitDetected() throws {
        let result = try Self.replay("msr-prot")
        let msr = try #require(result.exits.first { $0.level == .l2 && $0.exitCode == 0x7c && $0.recorded.kind == .reflectToL1 })
        let input = try #require(result.modelInput(for: msr))
        guard case .hardwareExit(let shown) = input.event else { Issue.record("no hardware exit"); return }
        let hardware = Self.withOperands(shown, exit: msr, in: result)
        let events = result.events(of: msr).map { result.trace.payload(of: $0) }
        let right = try LabScenarioExport.l2Scenario(for: msr, hardware: hardware, state: input.state, events: events, traceName: "t").get()
        var wrong = input.state
        let number = UInt32(try #require(hardware.rcx).value)
        wrong.vmcb12.msrpm.entries[number] = .init(read: Known(false, source: "wrong"), write: Known(false, source: "wrong"))
        let flipped = try LabScenarioExport.l2Scenario(for: msr, hardware: hardware, state: wrong, events: events, traceName: "t").get()
        #expect(flipped != right)
        let stated = try #require(LabScenarioStatedInputs(text: flipped))
        #expect(!stated.msrRead.contains(UInt64(number)), "the wrong bit is what the scenario states")
        // Checked against the exit's real state, the wrong scenario is caught.
        #expect(Self.statedDifferences(right, exit: msr, hardware: hardware, state: input.state) == [])
        #expect(Self.statedDifferences(flipped, exit: msr, hardware: hardware, state: input.state) == ["MSRPM bit of \(Hex.format(number))"])
        #expect(flipped.contains("expect = step 1: L1 does not intercept RDMSR"), "the wrong bit predicts another outcome")
        #expect(right.contains("expect = step 1: RDMSR \(Hex.format(number)) exits to L1"))

        let io = try Self.replay("ioio")
        let exit = try #require(io.exits.first { $0.level == .l2 && $0.exitCode == 0x7b && $0.recorded.kind == .reflectToL1 })
        let ioInput = try #require(io.modelInput(for: exit))
        guard case .hardwareExit(let ioHardware) = ioInput.event else { Issue.record("no hardware exit"); return }
        let ioEvents = io.events(of: exit).map { io.trace.payload(of: $0) }
        let port = IOIOExitInfo(try #require(exit.exitInfo1)).port
        var ioWrong = ioInput.state
        ioWrong.vmcb12.iopm.ports[port] = Known(false, source: "wrong")
        let ioRight = try LabScenarioExport.l2Scenario(for: exit, hardware: ioHardware, state: ioInput.state, events: ioEvents, traceName: "t").get()
        let ioFlipped = try LabScenarioExport.l2Scenario(for: exit, hardware: ioHardware, state: ioWrong, events: ioEvents, traceName: "t").get()
        #expect(try #require(LabScenarioStatedInputs(text: ioRight)).ioPorts.contains(UInt64(port)))
        #expect(try #require(LabScenarioStatedInputs(text: ioFlipped)).ioPorts.contains(UInt64(port)) == false)
        // The flipped scenario's lab facts decide another outcome than the trace recorded.
        let facts = try Self.labFacts(ioFlipped)
        var state = ioInput.state
        state.vmcb12.iopm = try #require(facts.entries.first { $0.vmcb12Address != nil || $0.vmruns != nil }).state.vmcb12.iopm
        let decision = DecisionModel(profile: .v6_12, host: io.options.host).decision(for: ioInput.event, state: state)
        #expect(decision.outcome != io.decision(for: exit).outcome)
    }
}

/// The exported examples committed under `lab/scenarios/exported/` (each was run on real KVM in
/// the lab: docs/lab.md, "Reproducers from a trace"): the exporter still writes them byte for
/// byte, the lab's parser reads them, and the lab's programs they name build.
@Suite struct LabScenarioExportExamplesTests {
    static var folder: URL { RepositoryPaths.root.appendingPathComponent("lab/scenarios/exported") }

    static func examples() throws -> [(name: String, text: String)] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".scn") }.sorted().map {
            ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8))
        }
    }

    @Test("each committed example is what export --format lab-scenario writes today for the exit its first line names")
    func regenerated() throws {
        let examples = try Self.examples()
        #expect(examples.count >= 8)
        for (name, text) in examples {
            // "# Written by svmdbg export --format lab-scenario from TRACE, exit #N (lines ...):"
            let first = String(text.prefix { $0 != "\n" })
            let words = first.split(separator: " ").map(String.init)
            let from = try #require(words.firstIndex(of: "from"))
            let trace = String(words[from + 1].dropLast())
            let index = try #require(Int(words[from + 3].dropFirst()))
            let path = RepositoryPaths.root.appendingPathComponent(trace).path
            let factsPath = path.replacingOccurrences(of: ".trace.xz", with: ".facts.json").replacingOccurrences(of: ".trace", with: ".facts.json")
            // The facts file under the name the export command was given (it appears in sources).
            let relative = trace.replacingOccurrences(of: ".trace", with: ".facts.json")
            let facts = FileManager.default.fileExists(atPath: factsPath) && trace.hasPrefix("traces/lab/")
                ? [try FactsFile(json: try Data(contentsOf: URL(fileURLWithPath: factsPath)), path: relative)] : []
            let loaded = try TraceLoader.load(path: path)
            let result = Replayer(trace: loaded, options: try ScopedLabFactsTests.options(npt: true, facts: facts)).run()
            let exit = result.exits[index]
            let again = try LabScenarioExport.scenario(for: exit, in: result, traceName: trace).get()
            #expect(again == text, "\(name): export writes another scenario today")
            // The lab's own parser (vmm.c's keys, svmdbg lab facts) reads it.
            _ = try LabScenarioFacts(path: Self.folder.appendingPathComponent(name).path)
        }
    }

    @Test("lab facts give RAX/RCX of a replay program's step 1 from the scenario's mem lines, so a run's exit is decided")
    func replayOperands() throws {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("replayops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let scn = temporary.appendingPathComponent("x.scn")
        try FileManager.default.copyItem(at: Self.folder.appendingPathComponent("export-msr-prot-16.scn"), to: scn)
        let manifest = temporary.appendingPathComponent("x.json")
        try Data(#"{"l2_program": {"name": "replay_rdmsr", "steps": [{"step": 1, "rip": "0x10608"}, {"step": 65535, "rip": "0x1060a"}]}}"#.utf8).write(to: manifest)
        var facts = try LabScenarioFacts(path: scn.path)
        try facts.addSteps(manifest: manifest.path, l1Source: RepositoryPaths.root.appendingPathComponent("lab/src/l1.S").path)
        let file = try FactsFile(json: Data(facts.json().utf8), path: "x.facts.json")
        let step = try #require(file.entries.first { $0.rip == 0x10608 })
        #expect(step.rcx?.value == 0x10)
        #expect(step.rax?.value == 0)
        #expect(step.level == .l2)
    }

    static var toolsPresent: Bool {
        ["/usr/bin/gcc", "/usr/bin/ld", "/usr/bin/objcopy", "/usr/bin/objdump", "/usr/bin/nm"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("lab/build builds offline and the VMM it builds lists every program the committed examples name, with a step 1",
          .enabled(if: toolsPresent, "lab/build needs gcc and binutils"))
    func programsBuild() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("labbuild-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/bin/bash")
        build.arguments = [RepositoryPaths.root.appendingPathComponent("lab/build").path, out.path]
        try build.run()
        build.waitUntilExit()
        #expect(build.terminationStatus == 0)
        let list = Process()
        list.executableURL = out.appendingPathComponent("svmlab")
        list.arguments = ["--list-programs"]
        let pipe = Pipe()
        list.standardOutput = pipe
        try list.run()
        let listed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        list.waitUntilExit()
        let programs = Set(listed.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
        let steps = try String(contentsOf: out.appendingPathComponent("l1_steps.h"), encoding: .utf8)
        for (name, text) in try Self.examples() {
            let program = try #require(LabScenarioStatedInputs(text: text)).program
            #expect(programs.contains(program), "\(name): \(program) is not in the lab's programs")
            #expect(steps.contains("{\"\(program)\", 1, "), "\(name): \(program) has no step 1")
            #expect(steps.contains("{\"\(program)\", 65535, "), "\(name): \(program) has no final step")
        }
    }
}
