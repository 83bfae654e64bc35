import Foundation
import NestedSVM
@testable import Replay
import TestSupport
import Testing
import TraceKit

/// Replay splits the vCPU threads into groups walked in parallel; the merged result must
/// equal one walk over all threads, exit by exit, state by state, finding by finding.
@Suite struct ParallelReplayTests {
    /// Everything observable about a replay, as text.
    static func fingerprint(_ result: ReplayResult) -> [String] {
        var lines = result.exits.map { exit -> String in
            // Values with dictionaries inside print in no fixed order: their hashes stand for them.
            "\(exit.index) \(exit.firstEvent) \(exit.lastEvent) \(exit.lines) \(exit.pid) \(String(describing: exit.level)) "
                + "\(exit.model.description) \(exit.recorded.hashValue) \(exit.verdict.hashValue) "
                + "\(exit.verdict.kind) \(String(describing: exit.decidingRule)) configuration \(result.exits.configuration(at: exit.index))"
        }
        lines += result.findings.map { "\($0.kind) \($0.line) \($0.message)" }
        lines.append("exits \(result.exits.count)")
        return lines
    }

    /// Two real captures on two threads, interleaved in blocks of five lines (the second
    /// capture's thread renamed to pid 618).
    static func twoThreadTrace(_ first: String, _ second: String) throws -> String {
        let left = try readText(first).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let right = try readText(second).split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.replacingOccurrences(of: "svmlab-617", with: "svmlab-618") }
        var lines: [String] = []
        var index = 0
        while index < max(left.count, right.count) {
            lines += left[min(index, left.count)..<min(index + 5, left.count)].map { String($0) }
            lines += right[min(index, right.count)..<min(index + 5, right.count)]
            index += 5
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("two threads walked in parallel give the same exits, states and findings as one walk",
          arguments: [("6.12/msr-prot.trace", "6.12/exceptions.trace"), ("6.12/nested-npt.trace", "6.12/l2-badrax-vmrun.trace"),
                      ("6.12/vmcb12-invalid.trace", "6.12/cpuid-toggle.trace")])
    func parallelEqualsSequential(first: String, second: String) throws {
        let text = try Self.twoThreadTrace(first, second)
        let trace = try TraceLoader.load(bytes: Array(text.utf8), source: "two-threads")
        #expect(trace.threads.count == 2)
        let folder = try #require(CaptureHosts.folder("6.12"))
        let options = ReplayOptions(profile: folder.profile, host: try HostFacts(parsing: folder.host, source: "--host"))
        let single = Replayer(trace: trace, options: options).run(workers: 1)
        let parallel = Replayer(trace: trace, options: options).run(workers: 2)
        #expect(single.exits.count > 20)
        let expected = Self.fingerprint(single)
        let actual = Self.fingerprint(parallel)
        #expect(actual.count == expected.count)
        let firstDifference = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }
        // States compare by value (their dictionaries print in no fixed order).
        let sameStates = zip(parallel.exits, single.exits).allSatisfy { left, right in
            let (mine, theirs) = (parallel.state(of: left), single.state(of: right))
            return mine.vcpu == theirs.vcpu && mine.configuration == theirs.configuration
                && "\(String(describing: mine.vmcb12Address)) \(String(describing: mine.nestedRIP))"
                == "\(String(describing: theirs.vmcb12Address)) \(String(describing: theirs.nestedRIP))"
        }
        #expect(sameStates)
        #expect(zip(parallel.exits, single.exits).allSatisfy { $0.model == $1.model && $0.recorded == $1.recorded && $0.verdict == $1.verdict })
        #expect(parallel.findings == single.findings)
        let (mine, theirs) = (Array(firstDifference?.element.0 ?? ""), Array(firstDifference?.element.1 ?? ""))
        let common = zip(mine, theirs).prefix { $0 == $1 }.count
        #expect(firstDifference == nil, "first difference at \(firstDifference?.offset ?? 0): …\(String(mine.dropFirst(max(0, common - 40)).prefix(300)))\nvs\n…\(String(theirs.dropFirst(max(0, common - 40)).prefix(300)))")
    }

    @Test("a gap (omitted lines) closes the open exits of both threads and is reported once, as in one walk")
    func gapAcrossGroups() throws {
        var lines = try Self.twoThreadTrace("6.12/msr-prot.trace", "6.12/exceptions.trace").split(separator: "\n").map(String.init)
        lines.insert("# ... 40 lines omitted ...", at: lines.count / 2)
        let trace = try TraceLoader.load(bytes: Array((lines.joined(separator: "\n") + "\n").utf8), source: "two-threads-gap")
        #expect(trace.gaps.count == 1)
        let options = ReplayOptions(profile: .v6_12)
        let single = Replayer(trace: trace, options: options).run(workers: 1)
        let parallel = Replayer(trace: trace, options: options).run(workers: 2)
        #expect(parallel.findings.filter { $0.kind == "gap" }.count == 1)
        #expect(Self.fingerprint(parallel) == Self.fingerprint(single))
        #expect(zip(parallel.exits, single.exits).allSatisfy { $0.model == $1.model && $0.recorded == $1.recorded && $0.verdict == $1.verdict })
    }

    @Test("threads are split into groups of about equal event counts, each thread in exactly one")
    func groupsCoverEveryThread() throws {
        let text = try Self.twoThreadTrace("6.12/msr-prot.trace", "6.12/exceptions.trace")
        let trace = try TraceLoader.load(bytes: Array(text.utf8), source: "two-threads")
        let groups = Replayer.pidGroups(trace, workers: 2)
        #expect(groups.count == 2)
        #expect(groups.reduce(Set<Int32>()) { $0.union($1) } == Set(trace.threads.keys))
        #expect(groups[0].isDisjoint(with: groups[1]))
        #expect(Replayer.pidGroups(trace, workers: 1).count == 1)
    }
}
