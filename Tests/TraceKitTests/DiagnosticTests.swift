import Foundation
import Testing
import TestSupport
@testable import TraceKit

/// A line that must become one diagnostic of `kind`, and how the line is counted.
struct DiagnosticCase: Sendable, CustomTestStringConvertible {
    var kind: Diagnostic.Kind
    var text: String
    /// 1-based line of the diagnostic.
    var line: Int
    var accounting: LineAccounting
    /// Other diagnostics the text causes, as (kind, line).
    var also: [Diagnostic.Kind: Int] = [:]
    var testDescription: String { kind.rawValue }
}

private let good = "          svmlab-384     [000] d..1.     4.501767: kvm_fpu: load\n"

let diagnosticCases: [DiagnosticCase] = [
    .init(kind: .unrecognizedLine, text: "hello world\n" + good, line: 1,
          accounting: LineAccounting(read: 2, understood: 1, raw: 0, unreadable: 1, metadata: 0)),
    .init(kind: .binaryData, text: good + "svmlab\u{0}\u{0}\u{1}junk\n" + good, line: 2,
          accounting: LineAccounting(read: 3, understood: 2, raw: 0, unreadable: 1, metadata: 0)),
    .init(kind: .truncatedLine, text: good + "          svmlab-384     [000] d..1.     4.5", line: 2,
          accounting: LineAccounting(read: 2, understood: 1, raw: 0, unreadable: 1, metadata: 0)),
    .init(kind: .truncatedLine, text: good + "          svmlab-384     [000] d..1.     4.501767: kvm_exit: vcpu 0 reason npf rip 0x101c2 info1 0x00", line: 2,
          accounting: LineAccounting(read: 2, understood: 1, raw: 1, unreadable: 0, metadata: 0)),
    .init(kind: .continuationLine,
          text: "          svmlab-384     [000] d..1.     4.501767: kvm_fpu: load\n" + " and then some words\n" + good, line: 2,
          accounting: LineAccounting(read: 3, understood: 2, raw: 0, unreadable: 1, metadata: 0)),
    .init(kind: .joinedLine,
          text: "          svmlab-384     [000] d..1.     4.501767: kvm_exit: vcpu 0 reason npf rip 0x101c2 info1 0x0000000200000006\n"
              + " info2 0x0000000000001000 intr_info 0x00000000 error_code 0x00000000\n" + good, line: 2,
          accounting: LineAccounting(read: 3, understood: 2, raw: 0, unreadable: 0, metadata: 1)),
    .init(kind: .omittedLines, text: good + "# [svmlab] 77822 of 87822 lines omitted here (trace capped at first 8000 + last 2000 lines)\n" + good,
          line: 2, accounting: LineAccounting(read: 3, understood: 2, raw: 0, unreadable: 0, metadata: 1)),
    .init(kind: .lostEvents, text: good + "CPU:2 [LOST 123 EVENTS]\n" + good, line: 2,
          accounting: LineAccounting(read: 3, understood: 2, raw: 0, unreadable: 0, metadata: 1)),
    .init(kind: .missingField,
          text: "          svmlab-401   [000]     6.294787: kvm_nested_vmexit:    <CANT FIND FIELD rip>vcpu 0 reason npf rip 0x101c2 info1 0x0000000200000006 info2 0x0000000000001000 intr_info 0x00000000 error_code 0x00000000\n",
          line: 1, accounting: LineAccounting(read: 1, understood: 1, raw: 0, unreadable: 0, metadata: 0)),
    .init(kind: .failedToParse,
          text: "         kvmloop-12012 [001]   662.098587: kvm_inj_exception:    [FAILED TO PARSE] exception=13 has_error=1 error_code=0 reinjected=0\n",
          line: 1, accounting: LineAccounting(read: 1, understood: 1, raw: 0, unreadable: 0, metadata: 0)),
    .init(kind: .failedToParse,
          text: "         kvmloop-12012 [001]   662.098587: kvm_apic_ipi:    [FAILED TO PARSE] icr_low=1 dest_id=2\n",
          line: 1, accounting: LineAccounting(read: 1, understood: 0, raw: 1, unreadable: 0, metadata: 0)),
    .init(kind: .unrecognizedPayload, text: good + "          svmlab-384     [000] d..1.     4.501767: kvm_msr: msr_frobnicate 1b\n", line: 2,
          accounting: LineAccounting(read: 2, understood: 1, raw: 1, unreadable: 0, metadata: 0)),
]

@Suite struct DiagnosticTests {
    @Test("each kind of bad line becomes a diagnostic with file and line, and the rest still loads", arguments: diagnosticCases)
    func diagnosticKinds(_ testCase: DiagnosticCase) throws {
        let trace = try loadText(testCase.text)
        #expect(trace.diagnostics.count == 1 + testCase.also.count)
        let diagnostic = try #require(trace.diagnostics.first { $0.kind == testCase.kind })
        #expect(diagnostic.file == "test.trace")
        #expect(diagnostic.line == testCase.line)
        #expect(!diagnostic.message.isEmpty)
        for (kind, line) in testCase.also {
            #expect(trace.diagnostics.contains { $0.kind == kind && $0.line == line })
        }
        #expect(trace.lineAccounting == testCase.accounting)
        #expect(trace.diagnosticCount == 1 + testCase.also.count)
        #expect(trace.diagnosticCountsByKind[testCase.kind] == 1)
    }

    @Test("every diagnostic kind is covered by a test case")
    func allKindsCovered() {
        #expect(Set(diagnosticCases.map(\.kind)) == Set(Diagnostic.Kind.allCases))
    }

    @Test("<CANT FIND FIELD rip> lines of a real trace-cmd report still yield their fields")
    func cantFindFieldInRealReport() throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("6.12/minimal.report").path)
        let nested = trace.events.filter { $0.name == "kvm_nested_vmexit" }
        #expect(nested.count == 2)
        #expect(nested.first?.lineNumber == 59)
        #expect(nested.first?.payload == .nestedVMExit(KVMExit(exitReason: .npf, guestRIP: 0x101c2, exitInfo1: 0x2_0000_0006,
                                                               exitInfo2: 0x1000, intrInfo: 0, errorCode: 0, vcpu: 0)))
        #expect(trace.diagnostics.map(\.kind) == [.missingField, .missingField])
        #expect(trace.diagnostics.map(\.line) == [59, 63])
        #expect(trace.lineAccounting.unreadable == 0)
    }

    @Test("[FAILED TO PARSE] kvm_inj_exception lines of a real perf script still yield their fields")
    func failedToParseInRealPerf() throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("6.12/exceptions.perf").path)
        let injections = trace.events.filter { $0.name == "kvm_inj_exception" }
        #expect(injections.first?.lineNumber == 129)
        #expect(injections.first?.payload == .injException(KVMInjException(vector: 6, errorCode: nil, reinjected: false)))
        #expect(injections.dropFirst().first?.payload == .injException(KVMInjException(vector: 6, errorCode: nil, reinjected: true)))
        #expect(trace.diagnostics.allSatisfy { $0.kind == .failedToParse })
        #expect(trace.diagnostics.count == injections.count)
    }

    @Test("the lab's omitted-lines comment in a capped 6.1 capture is reported and counted as metadata")
    func omittedLinesInRealCapture() throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("6.1/vmmcall.trace.xz").path)
        #expect(trace.compression == .xz)
        #expect(trace.diagnostics.map(\.kind) == [.omittedLines])
        #expect(trace.diagnostics.first?.line == 8001)
        #expect(trace.rawLine(8001)?.hasPrefix("# [svmlab]") == true)
        #expect(trace.lineAccounting.unreadable == 0)
    }
}
