import Foundation
import NestedSVM
import TestSupport
import Testing
@testable import Replay
import TraceKit

/// `LiveReplay` (`--follow`, `--pipe`): the model's state carried across appends gives the
/// verdicts a replay of the whole file gives.
@Suite struct LiveReplayTests {
    /// The shipped traces with the profile and host facts they check under (0 mismatches).
    static let traces: [(String, String)] = [
        ("6.12/msr-prot.trace", "6.12"), ("6.12/cr-access.trace", "6.12"), ("6.1/cr-access.trace", "6.1"),
        ("6.12/cpuid-toggle.trace", "6.12"), ("6.1/exceptions.trace", "6.1"),
    ]

    static func exitKey(_ exit: ExitRecord) -> String {
        "\(exit.firstEvent.rawValue) \(exit.exitCode) \(exit.verdict.kind) \(exit.model) | \(exit.recorded.kind) \(exit.recorded.entry.map { "\($0)" } ?? "-")"
    }

    @Test("appended in pieces, the live replay's exits and verdicts equal the whole file's replay",
          arguments: LiveReplayTests.traces.map(\.0))
    func piecesEqualWhole(_ name: String) throws {
        let profile = Self.traces.first { $0.0 == name }!.1
        let bytes = Array(try Data(contentsOf: RepositoryPaths.trace(name)))
        let options = ReplayOptions(profile: KernelProfile(named: profile)!)
        let whole = try TraceLoader.load(bytes: bytes, source: name)
        let full = Replayer(trace: whole, options: options).run()
        let expected = full.exits.map(Self.exitKey)

        var splitter = LineSplitter()
        var live = LiveReplay(trace: .empty(source: name), options: options)
        var start = 0
        var continued = 0
        var seen = 0
        for cut in stride(from: 700, to: bytes.count + 700, by: 700) {
            let lines = splitter.feed(bytes[start..<min(cut, bytes.count)])
            start = min(cut, bytes.count)
            if case .continued = live.extend(to: live.trace.appending(lines: lines)) { continued += 1 }
            // Exits closed so far never change afterwards (unless the inferred facts changed).
            let now = live.result.exits.map(Self.exitKey)
            #expect(now.count >= seen)
            seen = now.count
        }
        live.extend(to: live.trace.appending(lines: splitter.finish()))
        #expect(continued > 0)
        let finished = live.finishedResult.exits.map(Self.exitKey)
        let missing = Set(expected).subtracting(finished).sorted().prefix(3)
        let extra = Set(finished).subtracting(expected).sorted().prefix(3)
        #expect(missing.isEmpty && extra.isEmpty, "missing \(Array(missing)) extra \(Array(extra))")
        #expect(finished.count == expected.count)
        #expect(live.finishedResult.exits.filter { $0.verdict.kind == .mismatch }.count == 0)
        // The closed exits are the whole replay's, less those still open at the end.
        let closed = Set(live.result.exits.map(Self.exitKey))
        #expect(closed.isSubset(of: Set(expected)))
        #expect(expected.count - closed.count <= whole.threads.count)
    }

    @Test("a flipped recorded outcome is a mismatch live too (the live replay judges each exit)")
    func flippedOutcomeMismatches() throws {
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
            .replacingOccurrences(
                of: "22.046753: kvm_nested_vmexit_inject: reason: msr", with: "22.046753: kvm_nested_vmexit_inject: reason: hlt")
        let bytes = Array(text.utf8)
        let options = ReplayOptions(profile: KernelProfile(named: "6.12")!)
        let whole = Replayer(trace: try TraceLoader.load(bytes: bytes, source: "x"), options: options).run()
        var splitter = LineSplitter()
        var live = LiveReplay(trace: .empty(source: "x"), options: options)
        for cut in stride(from: 0, to: bytes.count, by: 512) {
            live.extend(to: live.trace.appending(lines: splitter.feed(bytes[cut..<min(cut + 512, bytes.count)])))
        }
        live.extend(to: live.trace.appending(lines: splitter.finish()))
        let liveMismatches = live.result.exits.filter { $0.verdict.kind == .mismatch }.map(\.firstEvent)
        #expect(liveMismatches.count == 1)
        #expect(liveMismatches == whole.exits.filter { $0.verdict.kind == .mismatch }.map(\.firstEvent))
    }

    @Test("new lines that change an inferred host fact replay from the start, and say which fact")
    func inferredFactChangeReplaysAgain() throws {
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0 + "\n" }
        let options = ReplayOptions(profile: KernelProfile(named: "6.12")!)
        var live = LiveReplay(trace: .empty(source: "x"), options: options)
        var replayedAgain: [String] = []
        for line in lines {
            if case .replayedAgain(let reason) = live.extend(to: live.trace.appending(lines: Array(line.utf8))) {
                replayedAgain.append(reason)
            }
        }
        // Each inferred fact appears once: at most one re-replay per fact key.
        #expect(replayedAgain.count <= HostFacts.keys.count)
        #expect(replayedAgain.allSatisfy { $0.hasPrefix("new lines show host ") })
        let full = Replayer(trace: try TraceLoader.load(bytes: Array(text.utf8), source: "x"), options: options).run()
        #expect(Set(live.finishedResult.exits.map(Self.exitKey)) == Set(full.exits.map(Self.exitKey)))
    }

    /// msr-prot's event lines repeated `copies` times, each copy 100 s after the last.
    static func repeatedBody(copies: Int) throws -> (header: String, bodies: [String]) {
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let header = lines.filter { $0.hasPrefix("#") }.joined(separator: "\n") + "\n"
        let body = lines.filter { !$0.hasPrefix("#") }
        let stamp = /(\s)(\d+)\.(\d{6}):/
        let bodies = (0..<copies).map { copy in
            body.map { line in
                line.replacing(stamp) { match in
                    "\(match.1)\(Int(match.2)! + 100 * copy).\(match.3):"
                }
            }.joined(separator: "\n") + "\n"
        }
        return (header, bodies)
    }

    @Test("an append feeds the host inference only its new events; the new exit gets its verdict")
    func appendInfersOnlyNewEvents() throws {
        let (header, bodies) = try Self.repeatedBody(copies: 40)
        let options = ReplayOptions(profile: KernelProfile(named: "6.12")!)
        let head = Array((header + bodies.joined()).utf8)
        var live = LiveReplay(trace: try TraceLoader.load(bytes: head, source: "x"), options: options)
        let eventsBefore = live.trace.count
        #expect(live.inferenceEventsScanned == eventsBefore)
        let exitsBefore = live.result.exits.count
        #expect(exitsBefore > 600)
        // Exits still open at the end (the new exit closes them: the thread's next exit).
        let open = live.finishedResult.exits.count - exitsBefore
        // One more exit (msr-prot's first MSR exit, its lines up to its entry) and the next exit.
        let extra = bodies[0].split(separator: "\n").map(String.init)
        let firstMSR = try #require(extra.firstIndex { $0.contains("reason msr") })
        let entry = try #require(extra[(firstMSR + 1)...].firstIndex { $0.contains("kvm_entry") })
        let shifted = extra[firstMSR...entry].map {
            $0.replacing(/(\s)(\d+)\.(\d{6}):/) { m in "\(m.1)\(Int(m.2)! + 100 * bodies.count).\(m.3):" }
        }
        let appended = shifted.joined(separator: "\n") + "\n"
        let step = live.extend(to: live.trace.appending(lines: Array(appended.utf8)))
        let newEvents = live.trace.count - eventsBefore
        #expect(step == .continued(events: newEvents))
        // The inference saw the new events once, not the whole trace again.
        #expect(live.inferenceEventsScanned == eventsBefore + newEvents)
        let exits = live.result.exits
        #expect(exits.count == exitsBefore + open + 1)
        let last = try #require(exits.last)
        #expect(last.exitCode == 0x7c)
        // Same facts and verdicts as inferring and replaying the longer trace whole.
        let whole = Replayer(trace: try TraceLoader.load(bytes: head + Array(appended.utf8), source: "x"), options: options).run()
        #expect(LiveReplay.values(live.inferredHost).map(\.value) == LiveReplay.values(whole.inferredHost).map(\.value))
        #expect(HostInference.facts(from: live.trace).npt?.value == live.inferredHost.npt?.value)
        #expect(Set(live.result.exits.map(Self.exitKey)).isSubset(of: Set(whole.exits.map(Self.exitKey))))
        let same = try #require(whole.exits.first { $0.firstEvent == last.firstEvent })
        #expect(Self.exitKey(last) == Self.exitKey(same))
        #expect(last.verdict.kind == .match)
    }

    @Test("the inference fed in pieces proves what it proves fed whole, lines cited included",
          arguments: LiveReplayTests.traces.map(\.0) + ["lab/6.12-no-npt/cr-access.trace"])
    func inferencePiecesEqualWhole(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: RepositoryPaths.trace(name)))
        let whole = HostInference.facts(from: try TraceLoader.load(bytes: bytes, source: name))
        var splitter = LineSplitter()
        var trace = LoadedTrace.empty(source: name)
        var scan = HostInference.Scan()
        for cut in stride(from: 0, to: bytes.count, by: 333) {
            trace = trace.appending(lines: splitter.feed(bytes[cut..<min(cut + 333, bytes.count)]))
            scan.advance(over: trace)
        }
        trace = trace.appending(lines: splitter.finish())
        scan.advance(over: trace)
        #expect(scan.scanned == trace.count)
        #expect("\(scan.facts)" == "\(whole)")
    }
}
