import Foundation
import NestedSVM
import TraceKit

extension Walk {
    // MARK: closing an exit

    mutating func close(_ current: ExitSpan, entry: EventNumber?) {
        exitsSinceCheckpoint[current.state.pid, default: 0] += 1
        let events = ExitEvents(trace: trace, numbers: current.events, decoded: current.payloads, mask: readMask)
        let built = exitState(for: current, events: events)
        if let instruction = built.l1Instruction {
            vcpus[current.state.pid, default: TrackedVCPU(pid: current.state.pid)].l1Instructions[instruction, default: 0] += 1
        }
        switch mode {
        case .replay:
            break
        case .rederive(let target, let known):
            rederive(current, built: built, target: target, exits: known)
            return
        case .rederiveAll(let known):
            rederive(current, built: built, target: nil, exits: known)
            return
        }
        let recorded = RecordedOutcomeReader.read(events: events, entry: entry, level: current.level, origin: current.origin)
        var decidedState = built.model
        let operands = built.inputs.assumptions(level: current.level)
        decidedState.assumptions.merge(operands) { known, _ in known }
        // svmdbg capture's probes at this exit, if any: registers the stock events lack (ProbeValues).
        let probe = ProbeValues.of(
            trace: trace, origin: current.origin, first: current.first, events: current.events, exitCode: current.exit.exitReason.rawValue, level: current.level)
        probe?.apply(to: &decidedState)
        let answer: Int
        let event = built.inputs.event().map { probe?.refine($0) ?? $0 }
        if let event {
            // A probe refines state and event, facts files fill them by scopes beyond what the key
            // holds: such exits are decided directly.
            let key = probe == nil && options.facts.isEmpty
                ? decisionKey(event, current: current, built: built, state: decidedState, operands: operands) : nil
            answer = memo.decide(event, key: key, state: decidedState, model: model)
        } else {
            answer = memo.unmodelledSynthesized(code: current.exit.exitReason.rawValue)
        }
        let outcome = memo.outcomes[memo.answers[answer].outcome]
        let recordedID = intern(recorded: recorded)
        let judgeKey = JudgeKey(answer: answer, recorded: recordedID, origin: current.origin)
        var verdictID: Int
        if let known = judged[judgeKey] {
            verdictID = known
        } else {
            verdictID = intern(verdict: VerdictPolicy.judge(outcome: outcome, recorded: recorded, origin: current.origin))
            judged[judgeKey] = verdictID
        }
        let verdict = verdictTable[verdictID]
        if !verdict.inferred.isEmpty { learn(verdict: verdictID, current: current) }
        if verdict.kind == .match, case .vmrunFails = recorded.kind, let message = recorded.failedCheck {
            // The trace names the failed check: ask the model whether this kernel has it.
            let check = model.decision(for: .vmrunConsistencyFailure(message: message), state: built.model)
            // A profile that forks on whether it has the check (apm, where sources disagree) does not contradict the trace.
            let forksOnCheck = (check.outcome.alternatives ?? []).contains { $0.outcome.kind == .vmrunFails && $0.outcome.check != nil }
            if check.outcome.kind != .vmrunFails && !forksOnCheck {
                verdictID = intern(verdict: Verdict(
                    kind: .mismatch,
                    differences: [Verdict.Difference(field: "check", model: check.outcome.description, recorded: message)],
                    explanation: "the trace fails VMRUN on a check the \(options.profile.name) profile does not have"))
            } else if options.profile.kind != .architectural, let event,
                let wrong = FailedCheckPolicy.verdict(message: message, decision: model.decision(for: event, state: decidedState))
            {
                verdictID = intern(verdict: wrong)
            }
        }
        if verdictTable[verdictID].kind == .match, current.origin == .hardwareExit,
            let lost = Reinjection.mismatch(
                intrInfo: current.exit.intrInfo, errorCode: current.exit.errorCode, outcome: outcome, recorded: recorded,
                payloads: events.payloads, traceRecords: { [names = trace.eventNames] in names.contains($0) })
        {
            // svm_complete_interrupts re-queued the event in flight; the trace lost its re-injection.
            var verdict = verdictTable[verdictID]
            verdict.kind = .mismatch
            verdict.differences.append(lost)
            verdict.explanation = Reinjection.explanation
            verdictID = intern(verdict: verdict)
        }
        if !built.conflicts.isEmpty {
            // A facts file and the trace (or an inference from a recorded outcome) disagree.
            verdictID = intern(verdict: Verdict(
                kind: .mismatch,
                differences: built.conflicts.map { Verdict.Difference(field: $0.field, model: "facts \($0.fact)", recorded: $0.other) },
                explanation: "a facts file contradicts what the trace shows or settles: "
                    + built.conflicts.map { "\($0.field) = \($0.fact) but \($0.other)" }.joined(separator: "; ")))
        } else if verdictTable[verdictID].kind == .mismatch, !options.facts.isEmpty,
            let settledAgainst = settledWithoutFacts(current: current, events: events, recorded: recorded, built: built)
        {
            // Without the facts the recorded outcome would have settled an input the facts give
            // otherwise: name both sources.
            var verdict = verdictTable[verdictID]
            verdict.differences += settledAgainst
            verdict.explanation += "; the recorded outcome settles " + settledAgainst.map { "\($0.field) = \($0.recorded)" }
                .joined(separator: ", ") + " where the facts say otherwise"
            verdictID = intern(verdict: verdict)
        }
        if verdictTable[verdictID].kind == .mismatch, keptStates.count < Self.keptStateLimit {
            keptStates[current.first] = ReplayState(
                vcpu: built.model, vmcb12Address: built.tracked.vmcb12Address, nestedRIP: built.tracked.nestedRIP,
                configuration: built.tracked.configuration)
        }
        var flags: UInt8 = current.origin == .synthesized ? CompactExit.Flag.synthesized : 0
        switch current.level {
        case .l1: flags |= CompactExit.Flag.levelL1
        case .l2: flags |= CompactExit.Flag.levelL2
        case nil: break
        }
        let vcpu = current.exit.vcpu ?? built.tracked.vcpu
        if vcpu != nil { flags |= CompactExit.Flag.hasVCPU }
        if recorded.entry != nil { flags |= CompactExit.Flag.hasEntry }
        let head = recorded.evidence.first.flatMap { $0 == recorded.entry ? nil : $0 }
        exits.append(CompactExit(
            firstEvent: UInt32(truncatingIfNeeded: current.first.rawValue),
            lastEvent: UInt32(truncatingIfNeeded: current.last.rawValue), exitCode: current.exit.exitReason.rawValue,
            vcpuID: vcpu ?? 0, configuration: UInt32(truncatingIfNeeded: built.tracked.configuration),
            answer: UInt32(answer), recorded: UInt32(recordedID), verdict: UInt32(verdictID),
            evidence: head.map { UInt32(truncatingIfNeeded: $0.rawValue) } ?? CompactExit.noEvent, flags: flags))
    }


    /// The memo key of one exit (``DecisionKey``): the id of the tracked values it was decided
    /// on, stamped back on the thread's state when that has not changed since the exit opened.
    mutating func decisionKey(
        _ event: Event, current: ExitSpan, built: ExitState, state: VCPUState, operands: [Fact: Known<Bool>]
    ) -> DecisionKey {
        var tracked = built.unledgered
        let content = memo.contents.id(of: &tracked)
        let pid = current.state.pid
        if tracked.revision == current.state.revision, vcpus[pid]?.revision == tracked.revision {
            vcpus[pid]?.content = tracked.content
        }
        let count = ledger.count(pid: pid, configuration: tracked.configuration)
        return DecisionKey(
            event: event, content: content, level: state.level?.value,
            ledger: count > 0 ? DecisionKey.LedgerScope(pid: pid, configuration: tracked.configuration, count: count) : nil,
            msrFaults: built.msrFaults, operands: operands.mapValues(\.value))
    }

    /// The index of `recorded` (its evidence and entry left out) in ``recordedTable``.
    mutating func intern(recorded: RecordedOutcome) -> Int {
        var shared = recorded
        shared.evidence = []
        shared.entry = nil
        if let known = recordedIndex[shared] { return known }
        recordedTable.append(shared)
        recordedIndex[shared] = recordedTable.count - 1
        return recordedTable.count - 1
    }

    /// The index of `verdict` in ``verdictTable``.
    mutating func intern(verdict: Verdict) -> Int {
        if let known = verdictIndex[verdict] { return known }
        verdictTable.append(verdict)
        verdictIndex[verdict] = verdictTable.count - 1
        return verdictTable.count - 1
    }

}

/// What a verdict depends on: the model's answer, the recorded outcome, the origin.
struct JudgeKey: Hashable, Sendable {
    var answer: Int
    var recorded: Int
    var origin: ExitRecord.Origin
}
