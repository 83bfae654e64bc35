import Foundation
import TestSupport
import Testing
import TraceKit

@Suite struct TraceDatReaderTests {
    @Test("every shipped trace.dat has as many lines per event as its trace-cmd report -N twin",
          arguments: TraceDatFixtures.scenarioDatFiles)
    func eventCountsMatchReport(dat: String) throws {
        let text = try TraceDatFixtures.rendered(dat)
        let report = try #require(try TraceDatFixtures.twin(String(dat.dropLast(4)) + ".report-noplugin"))
        let rendered = TraceDatFixtures.lines(text.bytes)
        #expect(text.recordCount == rendered.count)
        #expect(text.fileVersion == 7)
        #expect(text.cpus == 1)
        #expect(text.diagnostics.isEmpty, "\(text.diagnostics)")
        let aligned = try #require(TraceDatFixtures.alignedPairs(rendered: rendered, twin: report))
        if !aligned.capped {
            #expect(TraceDatFixtures.eventCounts(rendered) == TraceDatFixtures.eventCounts(report))
        }
        // Capped twins (6.1 vmmcall): the kept lines pair up with the same events, in order.
        for (ours, theirs) in aligned.pairs {
            #expect(TraceDatFixtures.eventNameAndPayload(ours)?.name == TraceDatFixtures.eventNameAndPayload(theirs)?.name)
        }
    }

    @Test("every rendered line is byte-equal to the tracefs capture of the same buffer",
          arguments: TraceDatFixtures.scenarioDatFiles)
    func linesMatchTracefs(dat: String) throws {
        let text = try TraceDatFixtures.rendered(dat)
        let trace = try #require(try TraceDatFixtures.twin(String(dat.dropLast(4)) + ".trace"))
        let rendered = TraceDatFixtures.lines(text.bytes)
        let aligned = try #require(TraceDatFixtures.alignedPairs(rendered: rendered, twin: trace))
        if !aligned.capped { #expect(aligned.pairs.count == rendered.count) }
        for (ours, kernels) in aligned.pairs {
            #expect(ours.elementsEqual(kernels), "\(String(decoding: ours, as: UTF8.self))\n\(String(decoding: kernels, as: UTF8.self))")
        }
        #expect(!aligned.pairs.isEmpty)
    }

    static let svmEvents: Set<String> = [
        "kvm_exit", "kvm_nested_vmexit", "kvm_nested_vmexit_inject", "kvm_nested_vmenter",
        "kvm_nested_intercepts", "kvm_inj_exception", "kvm_entry",
    ]

    @Test("6.12 minimal.dat words every SVM event exactly like minimal.trace, in the same order")
    func minimalSVMPayloads() throws {
        let text = try TraceDatFixtures.rendered("6.12/minimal.dat")
        let trace = try #require(try TraceDatFixtures.twin("6.12/minimal.trace"))
        func svmLines(_ bytes: [UInt8]) -> [String] {
            TraceDatFixtures.lines(bytes).compactMap(TraceDatFixtures.eventNameAndPayload)
                .filter { Self.svmEvents.contains($0.name) }
                .map { "\($0.name): \($0.payload)" }
        }
        let ours = svmLines(text.bytes), kernels = svmLines(trace)
        #expect(ours.count == kernels.count)
        #expect(kernels.count > 30)
        for (mine, theirs) in zip(ours, kernels) { #expect(mine == theirs) }
        #expect(ours.contains { $0.hasPrefix("kvm_nested_vmenter: ") && $0.contains(" nested_npt=n guest_cr3: 0x") })
    }

    @Test("kvm_inj_exception comes out in the kernel's wording although libtraceevent cannot parse its format",
          arguments: ["6.12/exceptions", "6.12/l1-vmrun-unbacked", "6.1/l1-vmrun-misaligned", "6.1/l2-svm-insns",
                      "6.12-naples/exceptions"])
    func injExceptionWording(scenario: String) throws {
        let text = try TraceDatFixtures.rendered(scenario + ".dat")
        let trace = try #require(try TraceDatFixtures.twin(scenario + ".trace"))
        func injections(_ bytes: [UInt8]) -> [String] {
            TraceDatFixtures.lines(bytes).compactMap(TraceDatFixtures.eventNameAndPayload)
                .filter { $0.name == "kvm_inj_exception" }.map(\.payload)
        }
        let ours = injections(text.bytes)
        #expect(!ours.isEmpty)
        #expect(ours == injections(trace))
        #expect(!ours.contains { $0.contains("FAILED") || $0.contains("=") })
    }

    @Test("all four kvm_inj_exception forms of the captures are rendered")
    func injExceptionForms() throws {
        var payloads: Set<String> = []
        for dat in TraceDatFixtures.scenarioDatFiles {
            let text = try TraceDatFixtures.rendered(dat)
            for line in TraceDatFixtures.lines(text.bytes) {
                if let event = TraceDatFixtures.eventNameAndPayload(line), event.name == "kvm_inj_exception" {
                    payloads.insert(event.payload)
                }
            }
        }
        #expect(payloads.isSuperset(of: ["#GP (0x0)", "#UD", "#GP (0x0) [reinjected]", "#UD [reinjected]"]))
    }

    /// Record counts of the samples, from `trace-cmd report -N <file> | grep -vc '^cpus='`
    /// (trace-cmd 3.1.6).
    @Test("the 6.18 samples render every record", arguments: [
        ("layouts/sample-real-20k.dat", 260_010, 7),
        ("layouts/sample-long-cpl3-1k.dat", 10_010, 7),
        ("layouts/sample-real-2k-v6.dat", 26_010, 6),
    ])
    func samples(dat: String, records: Int, version: Int) throws {
        let text = try TraceDatFixtures.rendered(dat)
        #expect(text.recordCount == records)
        #expect(text.fileVersion == version)
        #expect(text.cpus == 2)
        #expect(text.diagnostics.isEmpty, "\(text.diagnostics)")
        #expect(TraceDatFixtures.lines(text.bytes).count == records)
    }

    @Test("the 6.18 sample words kvm_inj_exception like the 6.18 tracefs capture")
    func sixEighteenInjException() throws {
        let text = try TraceDatFixtures.rendered("layouts/sample-long-cpl3-1k.dat")
        let line = try #require(TraceDatFixtures.lines(text.bytes).map { String(decoding: $0, as: UTF8.self) }
            .first { $0.contains(": kvm_inj_exception: ") })
        #expect(line.hasSuffix(": kvm_inj_exception: #GP (0x0)"))
    }

    static let traceCmd = "/usr/bin/trace-cmd"

    /// Events TraceKit words like the kernel where `trace-cmd report -N` shows libtraceevent's
    /// wrong or failed rendering: raw-field wordings, and `hostclock` enum names.
    static let rewordedEvents: Set<String> = [
        "kvm_inj_exception", "kvm_nested_vmenter", "kvm_userspace_exit", "kvm_update_master_clock", "kvm_track_tsc",
    ]

    @Test("the samples render the same records, in the same order, as a live trace-cmd report -N",
          .enabled(if: FileManager.default.isExecutableFile(atPath: traceCmd), "trace-cmd is not installed"),
          arguments: TraceDatFixtures.sampleDatFiles)
    func samplesAgainstTraceCmd(dat: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.traceCmd)
        process.arguments = ["report", "-N", TraceDatFixtures.path(dat)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let report = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let text = try TraceDatFixtures.rendered(dat)
        #expect(TraceDatFixtures.eventCounts(text.bytes) == TraceDatFixtures.eventCounts(report))

        let ours = TraceDatFixtures.lines(text.bytes).compactMap(TraceDatFixtures.eventFields)
        let theirs = TraceDatFixtures.lines(report).compactMap(TraceDatFixtures.eventFields)
        #expect(ours.count == text.recordCount)
        #expect(ours.count == theirs.count)
        var mismatches = 0
        for (mine, reported) in zip(ours, theirs) {
            let same = mine.task == reported.task && mine.cpu == reported.cpu && mine.timestamp == reported.timestamp
                && mine.name == reported.name
                && (Self.rewordedEvents.contains(mine.name) || mine.payload == reported.payload)
            if !same {
                mismatches += 1
                if mismatches <= 3 { Issue.record("\(mine) != \(reported)") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("the trace.dat magic is recognised from a file's first bytes")
    func magic() throws {
        let dat = try Data(contentsOf: URL(fileURLWithPath: TraceDatFixtures.path("6.12/minimal.dat")))
        #expect(TraceDatReader.isTraceDat(dat.prefix(16)))
        #expect(TraceDatReader.isTraceDat(TraceDatReader.magic))
        #expect(!TraceDatReader.isTraceDat(TraceDatReader.magic.dropLast()))
        #expect(!TraceDatReader.isTraceDat([UInt8]()))
        #expect(!TraceDatReader.isTraceDat(Array("# tracer: nop\n".utf8)))
        let v6 = try Data(contentsOf: URL(fileURLWithPath: TraceDatFixtures.path("layouts/sample-real-2k-v6.dat")))
        #expect(TraceDatReader.isTraceDat(v6.prefix(10)))
    }

    /// `Tests/Fixtures/dat-instance-only.dat.xz`: `trace-cmd extract -B svmdbg-fixture` of a
    /// real ftrace instance (sched_process_exec/exit of three `/bin/true` runs, kernel 6.18),
    /// as `svmdbg capture` writes its trace.dat: every record is in the named buffer and the
    /// top-level buffer is empty.
    @Test("a trace.dat whose records are all in a named buffer instance renders that instance and says so")
    func namedInstance() throws {
        let path = RepositoryPaths.root.appendingPathComponent("Tests/Fixtures/dat-instance-only.dat.xz").path
        let trace = try TraceLoader.load(path: path)
        #expect(trace.count == 6)
        let lines = (0..<trace.count).map { trace.rawText(of: EventNumber(rawValue: $0)) }
        #expect(lines.filter { $0.contains("sched_process_exec:") && $0.contains("filename=/bin/true") }.count == 3)
        #expect(lines.filter { $0.contains("sched_process_exit:") && $0.contains("comm=true") }.count == 3)
        #expect(trace.diagnostics.contains { $0.message.contains("rendered buffer instance 'svmdbg-fixture'") })
    }
}
