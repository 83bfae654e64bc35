import NestedSVM

/// Facts the trace never prints but that recorded outcomes prove, scoped to one vCPU and one
/// L1 configuration (issue: "inferred from recorded outcomes within one L1 configuration,
/// marked as inferred, and checked for contradictions").
///
/// Facts are keyed by the model's facts (`msrpm[0xc0000080].write`, `iopm[0x3f8]`);
/// a fact learned at one exit is handed to the model at later exits of the same
/// configuration, so a later exit that behaves differently shows up as a mismatch that
/// names the earlier line.
struct InferenceLedger: Sendable {
    /// One learned fact.
    struct Fact: Sendable, Hashable {
        var value: Bool
        var source: Provenance
        /// Position in the order facts were learned (``InferenceLedger/mark``).
        var sequence = 0
    }

    private var facts: [Key: Fact] = [:]
    /// How many facts each (thread, configuration) holds: facts are only added, so with the
    /// scope the count names the set (the decision memo keys on it), and a scope without
    /// facts is skipped without looking at the others.
    private var counts: [Scope: Int] = [:]
    /// Facts learned so far: a fact learned later has a higher ``Fact/sequence``.
    private(set) var mark = 0

    /// One thread's configuration.
    struct Scope: Hashable, Sendable {
        var pid: Int32
        var configuration: Int
    }

    /// The number of facts learned for `pid` in `configuration`.
    func count(pid: Int32, configuration: Int) -> Int { counts[Scope(pid: pid, configuration: configuration)] ?? 0 }

    private struct Key: Hashable, Sendable {
        var pid: Int32
        var configuration: Int
        var field: NestedSVM.Fact
    }

    /// The fact for `field`, if learned on this vCPU in this configuration.
    func fact(pid: Int32, configuration: Int, field: NestedSVM.Fact) -> Fact? {
        facts[Key(pid: pid, configuration: configuration, field: field)]
    }

    /// Records a fact; returns the earlier, contradicting fact when there is one.
    mutating func learn(pid: Int32, configuration: Int, field: NestedSVM.Fact, value: Bool, source: Provenance) -> Fact? {
        let key = Key(pid: pid, configuration: configuration, field: field)
        if let old = facts[key] {
            return old.value == value ? nil : old
        }
        facts[key] = Fact(value: value, source: source, sequence: mark)
        counts[Scope(pid: pid, configuration: configuration), default: 0] += 1
        mark += 1
        return nil
    }

    /// The facts about thread `pid` learned before `mark` (the ledger as it was then, for
    /// that thread), to re-walk the thread from a checkpoint.
    func prefix(pid: Int32, before mark: Int) -> InferenceLedger {
        var ledger = InferenceLedger()
        ledger.facts = facts.filter { $0.key.pid == pid && $0.value.sequence < mark }
        for key in ledger.facts.keys { ledger.counts[Scope(pid: key.pid, configuration: key.configuration), default: 0] += 1 }
        ledger.mark = mark
        return ledger
    }

    /// Joins ledgers of walks over disjoint threads.
    mutating func merge(_ other: InferenceLedger) {
        facts.merge(other.facts) { mine, _ in mine }
        counts = [:]
        for key in facts.keys { counts[Scope(pid: key.pid, configuration: key.configuration), default: 0] += 1 }
    }

    /// Copies every fact about permission-map bits of this configuration into `vmcb12`, marked
    /// as inferred, so the model can use them.
    func apply(to vmcb12: inout VMCB12, pid: Int32, configuration: Int) {
        guard count(pid: pid, configuration: configuration) > 0 else { return }
        for (key, fact) in facts where key.pid == pid && key.configuration == configuration {
            let provenance: Provenance
            if case .recordedOutcome(let line) = fact.source {
                provenance = .inferred(line: line)
            } else {
                provenance = .text("inferred: \(fact.source.text)")
            }
            let known = Known(fact.value, from: provenance)
            switch key.field {
            case .msrpm(let msr?, let write):
                var entry = vmcb12.msrpm.entries[msr] ?? MSRPermissionMap.Entry()
                if write { entry.write = known } else { entry.read = known }
                vmcb12.msrpm.entries[msr] = entry
            case .iopm(let port):
                vmcb12.iopm.ports[port] = known
            default:
                break
            }
        }
    }

    /// Whether the ledger can hold `fact`: a permission-map bit of a known MSR or port.
    static func isLearnable(_ fact: NestedSVM.Fact) -> Bool {
        switch fact {
        case .msrpm(.some, _), .iopm: true
        default: false
        }
    }
}
