@testable import DebuggerSession
import DebuggerUI
import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// A live session indexes only the exits each append adds; the index must answer as one
/// built over the whole replay.
@Suite struct LiveIndexTests {
    @Test("the index extended append by append answers rows, counts and navigation as the index built whole",
          arguments: ["6.12/msr-prot.trace", "6.12/cr-access.trace", "6.1/exceptions.trace"])
    func extendedEqualsWhole(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: RepositoryPaths.trace(name)))
        let options = ReplayOptions(profile: name.hasPrefix("6.1/") ? .v6_1 : .v6_12)
        var splitter = LineSplitter()
        var live = LiveReplay(trace: .empty(source: name), options: options)
        var session = ReplaySession(result: live.result)
        var extended = 0
        for cut in stride(from: 0, to: bytes.count, by: 900) {
            let step = live.extend(to: live.trace.appending(lines: splitter.feed(bytes[cut..<min(cut + 900, bytes.count)])))
            if case .continued = step {
                session = ReplaySession(result: live.result, extending: session)
                extended += 1
            } else {
                session = ReplaySession(result: live.result)
            }
        }
        #expect(extended > 3)
        let whole = ReplaySession(result: live.result)
        #expect(session.exitCount == whole.exitCount && session.exitCount > 0)
        #expect(session.counts == whole.counts)
        for i in 0..<whole.exitCount { #expect(session.row(ExitNumber(i)) == whole.row(ExitNumber(i))) }
        let predicates: [ExitPredicate] = [.verdict(.consistent), .level(.l2), .vcpu(0), .reason("msr"), .exitCode(0x7b), .port(0x510), .any]
        for predicate in predicates {
            var a: ExitNumber? = nil, b: ExitNumber? = nil
            repeat {
                a = session.nextExit(matching: predicate, after: a, direction: .forward)
                b = whole.nextExit(matching: predicate, after: b, direction: .forward)
                #expect(a == b)
            } while a != nil && b != nil
        }
        #expect(session.rateBuckets(count: 40) == whole.rateBuckets(count: 40))
    }
}
