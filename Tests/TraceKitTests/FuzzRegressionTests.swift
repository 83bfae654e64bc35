import Foundation
import TestSupport
import Testing
@testable import TraceKit

/// Inputs kept from fuzzing (`Fuzz/run.sh`) and hand-made hostile inputs, in
/// `Tests/Fixtures/fuzz/`: each must load without crashing, keep every line in the
/// accounting, and say what it could not read.
@Suite struct FuzzRegressionTests {
    /// `Tests/Fixtures/fuzz/`.
    static let folder = RepositoryPaths.root.appendingPathComponent("Tests/Fixtures/fuzz")

    /// Every kept input, by file name.
    static let inputs: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }()

    @Test("the regression folder holds inputs")
    func folderIsNotEmpty() {
        #expect(!Self.inputs.isEmpty, "no inputs in \(Self.folder.path)")
    }

    @Test("a corrupt trace.dat on which libtraceevent crashes is refused or read up to the crash, never a dead process",
          arguments: inputs.filter { $0.hasPrefix("dat-") })
    func datCrash(name: String) throws {
        let bytes = try Array(Data(contentsOf: Self.folder.appendingPathComponent(name)))
        do {
            // A crash on the format sections refuses the file...
            let trace = try TraceLoader.load(bytes: bytes, source: name)
            // ...a crash on one record keeps the records before it and says so.
            #expect(name.hasPrefix("dat-record-"))
            #expect(trace.count > 0)
            let last = try #require(trace.diagnostics.last)
            #expect(last.message.contains("libtraceevent crashed (signal"))
            #expect(last.line == trace.lineAccounting.read)
        } catch let error as TraceLoadError {
            #expect(name.hasPrefix("dat-format-"))
            #expect(error.file == name)
            #expect(error.problem.contains("crashed (signal"))
        }
        // The process keeps working: a good trace.dat still loads afterwards.
        let good = try TraceLoader.load(path: RepositoryPaths.trace("6.12/minimal.dat").path)
        #expect(good.count == 81)
    }

    @Test("a kept input loads, accounts for every line, decodes every event and reports a diagnostic", arguments: inputs)
    func loads(name: String) throws {
        let bytes = try Array(Data(contentsOf: Self.folder.appendingPathComponent(name)))
        for format in [nil] + TraceFormat.allCases.filter({ $0 != .traceDat }) {
            let trace: LoadedTrace
            do {
                trace = try TraceLoader.load(bytes: bytes, source: name, format: format)
            } catch let error as TraceLoadError {
                // Unusable as a whole (corrupt compression or trace.dat): said in one line.
                #expect(!error.problem.isEmpty)
                continue
            }
            let lines = trace.lineAccounting
            #expect(lines.read == lines.understood + lines.raw + lines.unreadable + lines.metadata)
            #expect(lines.events == trace.count)
            #expect(trace.diagnosticCount > 0, "a hostile input must say what it could not read (format \(String(describing: format)))")
            for number in 0..<trace.count {
                let event = trace.event(at: EventNumber(number))
                #expect(event.lineNumber >= 1 && event.lineNumber <= lines.read)
            }
            _ = ExitStatistics(trace: trace)
        }
    }
}
