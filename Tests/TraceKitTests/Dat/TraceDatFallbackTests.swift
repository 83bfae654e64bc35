import Testing
@testable import TraceKit

/// The `name=value` fallback for events whose print format libtraceevent cannot parse,
/// exercised on `kvm_inj_exception` with its raw-field wording turned off.
@Suite struct TraceDatFallbackTests {
    @Test("an event whose format failed to parse still loads, as name=value pairs, with one diagnostic")
    func rawFieldFallback() throws {
        let path = TraceDatFixtures.path("6.12/exceptions.dat")
        let fallback = try TraceDatReader.renderText(path: path, wordsFromRawFields: false)
        let worded = try TraceDatReader.renderText(path: path)
        let lines = TraceDatFixtures.lines(fallback.bytes).map { String(decoding: $0, as: UTF8.self) }
        #expect(fallback.recordCount == worded.recordCount)

        let injections = lines.enumerated().filter { $0.element.contains(": kvm_inj_exception: ") }
        #expect(injections.map { String($0.element.split(separator: ": kvm_inj_exception: ")[1]) } == [
            "exception=6 has_error=0 error_code=0 reinjected=0",  // tracefs: #UD
            "exception=6 has_error=0 error_code=0 reinjected=1",  // tracefs: #UD [reinjected]
        ])
        let first = try #require(injections.first?.offset)
        #expect(fallback.diagnostics == [TraceDatDiagnostic(
            record: first,
            message: "kvm_inj_exception: libtraceevent could not parse the print format; fields shown as name=value (2 records)")])
        // Everything else is the same text.
        let others = { (text: TraceDatText) in
            TraceDatFixtures.lines(text.bytes)
                .map { String(decoding: $0, as: UTF8.self) }
                .filter { !$0.contains(": kvm_inj_exception: ") && !$0.contains(": kvm_nested_vmenter: ") }
        }
        #expect(others(fallback) == others(worded))
    }
}
