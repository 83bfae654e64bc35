extension Rule {
    /// vmcb02's PAUSE intercept: L1's bit ∪ L0's (vmcb01 intercepts PAUSE unless the VMM
    /// disabled PAUSE exits, `kvm_pause_in_guest`); the 2026 kvm-x86 snapshot keeps it only
    /// when L1 intercepts PAUSE.
    public static let pauseVMCB02Intercept = Rule(
        "svm.pause.vmcb02-intercept", "does vmcb02 intercept PAUSE (L1's bit, or L0's unless PAUSE exits are disabled)?",
        kernel: "svm/nested.c:recalc_intercepts")
    /// vmcb02's pause filter count and threshold.
    public static let pauseFilter = Rule(
        "svm.pause.filter", "which pause filter count / threshold does vmcb02 carry (L1's, L0's PLE window, or 0)?",
        kernel: "svm/nested.c:nested_vmcb02_prepare_control")
    /// Whether one of L2's PAUSEs exhausts the filter count (the threshold resets it).
    public static let pauseFilterExits = Rule(
        "svm.pause.exits", "does L2's PAUSE count reach vmcb02's filter count before a gap above the threshold resets it?",
        kernel: "svm/nested.c:nested_vmcb02_prepare_control")
}

extension HostFacts {
    /// The feature keys `set(key:value:source:)` accepts (input only, never inferred from a trace).
    static let featureKeys = ["pause_in_guest", "pause_filter_count", "pause_filter_thresh"]
}

extension Evaluator {
    /// L2's PAUSE loops (`FeatureEvent.pauseLoop`): whether the CPU exits at all, then that
    /// PAUSE exit as any other (`nested_svm_exit_handled`: reflected if L1 intercepts PAUSE,
    /// else L0's `pause_interception`).
    mutating func decidePauseLoop(_ loop: PauseLoop) -> Outcome {
        let bit = Int(VMExitCode.pause.rawValue)
        let l1 = l1Intercepts(bit)
        let exit = HardwareExit(exitCode: .pause, exitInfo1: 0, exitInfo2: 0, exitIntInfo: 0, exitIntInfoErr: 0, instructionBytes: [0xf3, 0x90])
        let noExit: (String) -> Outcome = { why in
            .noExit(level: .l2, detail: "no PAUSE #VMEXIT: \(why)", handler: "svm/nested.c:nested_vmcb02_prepare_control")
        }
        let pauseInGuest = host.pauseInGuest ?? fact(FeatureFact.hostPauseInGuest.fact)
        let afterIntercept: (inout Evaluator, Bool) -> Outcome = { evaluator, l0Intercepts in
            evaluator.pauseFilterValues(loop, l1Intercepts: l1?.value == true, l0Intercepts: l0Intercepts) { evaluator, exits in
                guard exits else { return noExit("the pause filter count is not reached") }
                evaluator.hardwareExitCode = .pause
                return evaluator.decideL2Exit(exit)
            }
        }
        return branch(
            .pauseVMCB02Intercept, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1,
            note: "L1's PAUSE intercept is always in vmcb02",
            yes: { evaluator in
                if evaluator.profile.pauseOnlyIfL1Intercepts { return afterIntercept(&evaluator, false) }
                guard let pauseInGuest else {
                    evaluator.record(.pauseFilter, [.flag("host pause_in_guest", nil)], .unknown)
                    return evaluator.fork(missing: ["host pause_in_guest"], [
                        Branch("the VMM disabled PAUSE exits", [FeatureFact.hostPauseInGuest.fact: true], { afterIntercept(&$0, false) }),
                        Branch("L0 intercepts PAUSE", [FeatureFact.hostPauseInGuest.fact: false], { afterIntercept(&$0, true) }),
                    ])
                }
                return afterIntercept(&evaluator, !pauseInGuest.value)
            },
            no: { evaluator in
                if evaluator.profile.pauseOnlyIfL1Intercepts {
                    evaluator.record(
                        .pauseVMCB02Intercept, [.profile("PAUSE kept for L2", "only if L1 intercepts it", evaluator.profile)], .no,
                        note: "recalc_intercepts clears L0's PAUSE intercept when L1 does not want it")
                    return noExit("vmcb02 does not intercept PAUSE")
                }
                return evaluator.branch(
                    .pauseVMCB02Intercept, field: "host pause_in_guest", fact: FeatureFact.hostPauseInGuest.fact, pauseInGuest,
                    note: "vmcb01 intercepts PAUSE unless the VMM disabled PAUSE exits (init_vmcb)",
                    yes: { _ in noExit("neither L0 (PAUSE exits disabled) nor L1 intercepts PAUSE") },
                    no: { afterIntercept(&$0, true) })
            })
    }

    /// vmcb02's filter values, then whether the loop exhausts the count.
    private mutating func pauseFilterValues(
        _ loop: PauseLoop, l1Intercepts: Bool, l0Intercepts: Bool, _ then: @escaping (inout Evaluator, Bool) -> Outcome
    ) -> Outcome {
        // L1's values count only if L1's CPUID has the feature (6.1: pause_filter_enabled;
        // 6.12/upstream: guest_cpu_cap_has(PAUSEFILTER / PFTHRESHOLD)).
        func gated(_ value: Known<UInt64>?, _ feature: GuestFeature) -> (UInt64?, [Evidence], Fact?) {
            let cpuid = state.guest.features[feature] ?? fact(FactID.guestCPUID(feature))
            let evidence: [Evidence] = [.hex("vmcb12 pause_filter_\(feature == .pausefilter ? "count" : "thresh")", value), .flag("guest CPUID \(feature.rawValue)", cpuid)]
            if cpuid?.value == false || value?.value == 0 { return (0, evidence, nil) }
            guard let value, let cpuid else { return (nil, evidence, cpuid == nil && value != nil ? FactID.guestCPUID(feature) : nil) }
            return (cpuid.value ? value.value : 0, evidence, nil)
        }
        let (count12, countEvidence, countFact) = gated(loop.count12, .pausefilter)
        let (thresh12, threshEvidence, threshFact) = gated(loop.thresh12, .pfthreshold)
        var evidence = countEvidence + threshEvidence
        guard let count12, let thresh12 else {
            record(.pauseFilter, evidence, .unknown)
            let missing = [countFact, threshFact].compactMap { $0 }
            guard !missing.isEmpty else { return .undetermined([], missing: ["vmcb12 pause_filter_count / pause_filter_thresh"]) }
            return fork(missing: ["guest CPUID pausefilter / pfthreshold"], [
                Branch("L1's CPUID has the pause filter features", Dictionary(uniqueKeysWithValues: missing.map { ($0, true) }), { evaluator in
                    evaluator.pauseFilterValuesKnown(loop, count: (loop.count12?.value ?? 0, true), thresh: (loop.thresh12?.value ?? 0, true), then)
                }),
                Branch("L1's CPUID lacks them (the filter values count as 0)", Dictionary(uniqueKeysWithValues: missing.map { ($0, false) }), { evaluator in
                    evaluator.pauseFilterValuesKnown(loop, count: (0, true), thresh: (0, true), then)
                }),
            ])
        }
        if !l0Intercepts {
            record(
                .pauseFilter, evidence + [.profile("vmcb02 filter", "L1's values", profile)], Answer(rawValue: "count \(count12), threshold \(thresh12)"),
                note: profile.pauseOnlyIfL1Intercepts ? "vmcb02 takes L1's values (2026: always)" : "L0 does not intercept PAUSE: vmcb02 takes L1's values")
            return pauseFilterValuesKnown(loop, count: (count12, true), thresh: (thresh12, true), then)
        }
        // L0 intercepts: start from vmcb01's (the PLE window, at least pause_filter_count, and
        // pause_filter_thresh); a 0 of L1's (with L1's PAUSE intercept) disables filtering.
        let l0Count = host.pauseFilterCount
        let l0Thresh = host.pauseFilterThresh
        evidence += [.hex("host pause_filter_count (PLE window floor)", l0Count), .hex("host pause_filter_thresh", l0Thresh)]
        let count: (UInt64, Bool)?
        if l1Intercepts && count12 == 0 { count = (0, true) } else { count = l0Count.map { ($0.value, false) } }
        let thresh: (UInt64, Bool)?
        if l1Intercepts && thresh12 == 0 { thresh = (0, true) } else { thresh = l0Thresh.map { ($0.value, true) } }
        guard let count, let thresh else {
            record(.pauseFilter, evidence, .unknown, note: "vmcb02 starts from L0's PLE window and threshold")
            return fork(missing: [count == nil ? "host pause_filter_count" : "host pause_filter_thresh"], [
                Branch("L0's PLE window is reached", [FeatureFact.l0PLEWindowReached.fact: true], { then(&$0, true) }),
                Branch("L0's PLE window is not reached", [FeatureFact.l0PLEWindowReached.fact: false], { then(&$0, false) }),
            ])
        }
        record(
            .pauseFilter, evidence, Answer(rawValue: "count \(count.1 ? "" : "≥ ")\(count.0), threshold \(thresh.0)"),
            note: "L0 intercepts PAUSE: vmcb02 starts from vmcb01's values; L1's 0 (with L1's PAUSE intercept) disables filtering")
        return pauseFilterValuesKnown(loop, count: count, thresh: thresh, then)
    }

    /// `count` (exact, or only a floor: L0's growing PLE window) and `thresh` known.
    mutating func pauseFilterValuesKnown(
        _ loop: PauseLoop, count: (UInt64, Bool), thresh: (UInt64, Bool), rule: Rule = .pauseFilterExits,
        _ then: @escaping (inout Evaluator, Bool) -> Outcome
    ) -> Outcome {
        let bursts = loop.bursts
        // Each PAUSE decrements the counter; it exits at 0. A gap above a non-zero threshold
        // reloads the counter first. Count 0: no filtering, the first PAUSE exits.
        func exits(_ c: UInt64, resetUnknown: Bool) -> Bool {
            if c == 0 { return bursts.contains { $0 > 0 } }
            var counter = c
            var first = true
            for (index, burst) in bursts.enumerated() {
                for n in 0..<burst {
                    if !first && thresh.0 > 0 {
                        let gap = n == 0 && index > 0 ? loop.gapCycles : loop.burstGapCycles
                        let over = gap.map { $0 > thresh.0 } ?? resetUnknown
                        if over { counter = c }
                    }
                    first = false
                    counter -= 1
                    if counter == 0 { return true }
                }
            }
            return false
        }
        let evidence: [Evidence] = [
            .event("PAUSEs per burst", bursts.map(String.init).joined(separator: ", ")),
            Evidence(field: "gap between bursts (cycles)", value: loop.gapCycles.map(String.init), source: "event"),
            Evidence(field: "gap inside a burst (cycles)", value: loop.burstGapCycles.map(String.init), source: "event"),
            Evidence(field: "vmcb02 pause_filter_count / thresh", value: "\(count.1 ? "" : "≥ ")\(count.0) / \(thresh.0)", source: "svm.pause.filter"),
        ]
        let surely = exits(count.0, resetUnknown: true)
        let possibly = exits(count.0, resetUnknown: false)
        let note = "each PAUSE decrements the counter, #VMEXIT at 0; a gap above a non-zero threshold reloads it (APM vol. 2 §15.14.4); count 0: every PAUSE exits"
        if !possibly {
            record(rule, evidence, .no, note: note + (count.1 ? "" : "; a larger window only delays the exit"))
            return then(&self, false)
        }
        if surely && count.1 {
            record(rule, evidence, .yes, note: note)
            return then(&self, true)
        }
        record(rule, evidence, .unknown, note: note)
        if count.1 {
            return fork(missing: ["the gaps between PAUSEs (cycles)"], [
                Branch("a gap is above the threshold (the counter reloads)", [FeatureFact.pauseGapOverThreshold.fact: true], { then(&$0, surely) }),
                Branch("no gap is above the threshold", [FeatureFact.pauseGapOverThreshold.fact: false], { then(&$0, possibly) }),
            ])
        }
        return fork(missing: ["L0's current PLE window"], [
            Branch("L0's PLE window is reached", [FeatureFact.l0PLEWindowReached.fact: true], { then(&$0, true) }),
            Branch("L0's PLE window is not reached", [FeatureFact.l0PLEWindowReached.fact: false], { then(&$0, false) }),
        ])
    }
}
