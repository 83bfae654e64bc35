import Foundation
import NestedSVM
import TraceKit

extension Walk {
    /// Where a re-walk of one thread can start: the thread's tracked state at a `kvm_exit`
    /// with no exit open on it, and how many facts the ledger held then.
    struct Checkpoint: Sendable {
        /// The event to start at (a `kvm_exit` of the thread).
        var position: Int
        /// The thread's tracked state before that event.
        var vcpu: TrackedVCPU
        /// ``InferenceLedger/mark`` then.
        var ledgerMark: Int
    }

    /// A thread gets a checkpoint every this many exits: a re-walk replays at most this many
    /// exits of the thread (well under a millisecond), and checkpoints cost ~1 KB each.
    static let checkpointInterval = 64
    // MARK: checkpoints

    /// Stores a checkpoint of `pid` at `number` (a `kvm_exit` with nothing open on the
    /// thread) when the thread closed enough exits since its last one.
    mutating func takeCheckpointIfDue(pid: Int32, at number: EventNumber) {
        guard case .replay = mode, exitsSinceCheckpoint[pid, default: 0] >= Self.checkpointInterval else { return }
        exitsSinceCheckpoint[pid] = 0
        checkpoints[pid, default: []].append(Checkpoint(
            position: number.rawValue, vcpu: vcpus[pid] ?? TrackedVCPU(pid: pid), ledgerMark: ledger.mark))
    }

    // MARK: re-derivation

    /// Re-derivation: captures the target exit's state (every exit's when `target` is nil);
    /// every other exit only teaches the ledger what the replay learned there (its verdict says).
    mutating func rederive(_ current: ExitSpan, built: ExitState, target: EventNumber?, exits known: ReplayExits) {
        let state = { ReplayState(
            vcpu: built.model, vmcb12Address: built.tracked.vmcb12Address, nestedRIP: built.tracked.nestedRIP,
            configuration: built.tracked.configuration) }
        if let target, current.first == target {
            captured = state()
            return
        }
        guard let position = known.position(ofFirstEvent: current.first) else { return }
        if target == nil { capturedAll.append((position, state())) }
        let verdict = known.tables.verdicts[Int(known.records[position].verdict)]
        if !verdict.inferred.isEmpty { learn(verdict.settled, current: current) }
    }
}
