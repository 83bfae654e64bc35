/// Events of issue #15's remaining features (vGIF, the pause filter, Hyper-V's enlightened
/// MSR bitmap): an instruction L2 executes where the question is first whether the CPU exits
/// at all, then what L0 does with the exit. Carried by `Event.feature`.
public enum FeatureEvent: Sendable, Equatable, Codable {
    /// L2 executes STGI (`isSTGI`) or CLGI. `then`: an event pending right after it, decided
    /// with GIF as the instruction left it (`svm/svm.h:gif_set`).
    case gifInstruction(isSTGI: Bool, then: PendingEvent?)
    /// L2 executes runs of PAUSE (`svm/nested.c:nested_vmcb02_prepare_control` sets vmcb02's
    /// pause filter; the CPU exits when the filter count runs out).
    case pauseLoop(PauseLoop)
    /// L2 executes RDMSR/WRMSR of `msr`: the CPU exits only if vmcb02's MSR permission map
    /// (L0's map merged with L1's by `svm/nested.c:nested_svm_vmrun_msrpm`) has the bit.
    case msrAccess(MSRAccess)
}

/// L2's PAUSE loops: `bursts` PAUSEs each, `gapCycles` between two bursts, `burstGapCycles`
/// between two PAUSEs of a burst; vmcb12's pause filter fields (they matter only here).
public struct PauseLoop: Sendable, Equatable, Codable {
    /// Number of PAUSEs in each burst, in order.
    public var bursts: [UInt64]
    /// Cycles between the last PAUSE of a burst and the first of the next, when known.
    public var gapCycles: UInt64?
    /// Cycles between two PAUSEs of a burst, when known.
    public var burstGapCycles: UInt64?
    /// vmcb12 `pause_filter_count`.
    public var count12: Known<UInt64>?
    /// vmcb12 `pause_filter_thresh`.
    public var thresh12: Known<UInt64>?

    /// Builds a loop description.
    public init(bursts: [UInt64], gapCycles: UInt64? = nil, burstGapCycles: UInt64? = nil, count12: Known<UInt64>? = nil, thresh12: Known<UInt64>? = nil) {
        self.bursts = bursts
        self.gapCycles = gapCycles
        self.burstGapCycles = burstGapCycles
        self.count12 = count12
        self.thresh12 = thresh12
    }
}

/// One RDMSR/WRMSR that L2 executes.
public struct MSRAccess: Sendable, Equatable, Codable {
    /// The MSR (ECX).
    public var msr: UInt32
    /// WRMSR (`true`) or RDMSR.
    public var write: Bool
    /// L1's MSRPM bit for this MSR and direction as it was when KVM last merged L1's map
    /// into vmcb02's (what a skipped merge keeps), when known.
    public var lastMerge: Known<Bool>?

    /// Builds an access.
    public init(msr: UInt32, write: Bool, lastMerge: Known<Bool>? = nil) {
        self.msr = msr
        self.write = write
        self.lastMerge = lastMerge
    }
}

/// Yes/no facts the feature rules fork on (`Fact.feature`); the raw value is the fact id.
public enum FeatureFact: String, Sendable, Hashable, CaseIterable, Codable {
    /// V_GIF_ENABLE (bit 25) in vmcb12 `int_ctl`.
    case vGIFEnable = "vmcb12.v-gif-enable"
    /// L0 set INTERCEPT_STGI to catch the moment GIF opens for a waiting NMI or SMI
    /// (`svm/svm.c:svm_enable_nmi_window`, `svm_enable_smi_window` with vGIF).
    case l0STGIWindow = "l0.stgi-window"
    /// `kvm_pause_in_guest`: the VMM disabled PAUSE exits (KVM_X86_DISABLE_EXITS_PAUSE,
    /// QEMU `-overcommit cpu-pm=on`).
    case hostPauseInGuest = "host.pause-in-guest"
    /// L0's current PLE window (vmcb01's pause filter count, at least `pause_filter_count`) is
    /// reached by L2's PAUSEs.
    case l0PLEWindowReached = "l0.ple-window-reached"
    /// An unstated gap between two PAUSEs is above the filter threshold (the counter resets).
    case pauseGapOverThreshold = "l2.pause-gap-over-threshold"
    /// L1 enabled Hyper-V hypercalls (`kvm_hv_hypercall_enabled`: HV_X64_MSR_HYPERCALL).
    case hvHypercallEnabled = "hv.hypercall-enabled"
    /// vmcb12 `hv_enlightenments_control.msr_bitmap` (enlightened MSR bitmap).
    case hvMSRBitmap = "vmcb12.hv-msr-bitmap"
    /// vmcb12 `clean` has HV_VMCB_NESTED_ENLIGHTENMENTS: L1 says its MSR bitmap did not change.
    case hvCleanEnlightenments = "vmcb12.hv-clean-enlightenments"
    /// KVM must re-merge the MSR bitmaps anyway (`svm->nested.force_msr_bitmap_recalc`: a new
    /// vmcb12, restored nested state, or a change of L0's own MSR intercepts).
    case forceMSRBitmapRecalc = "nested.force-msr-bitmap-recalc"
    /// vmcb12 `hv_enlightenments_control.nested_flush_hypercall`.
    case hvNestedFlushHypercall = "vmcb12.hv-nested-flush-hypercall"
    /// L1's VP assist page has `nested_control.features.directhypercall`.
    case hvDirectHypercall = "l1.hv-direct-hypercall"
    /// L1's Hyper-V CPUID has HV_X64_NESTED_DIRECT_FLUSH (`guest_hv_cpuid_has_l2_tlb_flush`).
    case hvCPUIDDirectFlush = "guest.hv-cpuid.direct-flush"
    /// The partition assist page's `tlb_lock_count` is non-zero (`kvm_hv_hypercall_complete`).
    case hvTLBLockCount = "hv.tlb-lock-count"
    /// L0's own MSR permission map intercepts the access (`svm/svm.c:svm_vcpu_init_msrpm`).
    case l0InterceptsMSR = "l0.msrpm-intercepts"
    /// L1's DEBUGCTL.LBR was set at VMRUN (vmcb02 then inherits LBR virtualization from vmcb01).
    case l1DebugctlLBR = "l1.debugctl-lbr"
}

extension FeatureEvent {
    /// One-line description for the decision header.
    public var subject: String {
        switch self {
        case .gifInstruction(let isSTGI, let then):
            return "L2 executes \(isSTGI ? "STGI" : "CLGI")" + (then.map { ", then \($0.description) is pending" } ?? "")
        case .pauseLoop(let loop):
            return "L2 executes PAUSE \(loop.bursts.map(String.init).joined(separator: " + ")) times"
                + (loop.count12.map { " (vmcb12 pause_filter_count \($0.value))" } ?? "")
        case .msrAccess(let access):
            return "L2 executes \(access.write ? "WRMSR" : "RDMSR") \(Hex.format(access.msr))"
        }
    }

    /// The scenario JSON of the event (`export --format scenario`).
    public var scenarioJSON: [String: Any] {
        switch self {
        case .gifInstruction(let isSTGI, let then):
            var out: [String: Any] = ["type": isSTGI ? "stgi" : "clgi"]
            if let then { out["then"] = then.description }
            return out
        case .pauseLoop(let loop):
            var out: [String: Any] = ["type": "pause_loop", "bursts": loop.bursts.map { Int($0) }]
            if let gap = loop.gapCycles { out["gap_cycles"] = Int(gap) }
            if let gap = loop.burstGapCycles { out["burst_gap_cycles"] = Int(gap) }
            if let count = loop.count12 { out["pause_filter_count"] = Int(count.value) }
            if let thresh = loop.thresh12 { out["pause_filter_thresh"] = Int(thresh.value) }
            return out
        case .msrAccess(let access):
            var out: [String: Any] = ["type": "msr_access", "msr": Hex.format(access.msr), "write": access.write ? 1 : 0]
            if let last = access.lastMerge { out["last_merge"] = last.value ? 1 : 0 }
            return out
        }
    }
}

extension Scenario {
    /// The feature event types: `stgi`/`clgi` (+ `then`: a pending event name), `pause_loop`
    /// (`bursts`, `gap_cycles`, `burst_gap_cycles`, `pause_filter_count`,
    /// `pause_filter_thresh`), `msr_access` (`msr`, `write`, `last_merge`).
    static func featureEvent(_ type: String, _ reader: ObjectReader) throws(ScenarioError) -> Event? {
        switch type {
        case "stgi", "clgi":
            try reader.allowOnly(["type", "then", "vector"])
            var then: PendingEvent?
            if let kind = try reader.string("then") {
                then = try pendingEvent(kind, path: "\(reader.path).then", reader)
            }
            return .feature(.gifInstruction(isSTGI: type == "stgi", then: then))
        case "pause_loop":
            try reader.allowOnly(["type", "bursts", "gap_cycles", "burst_gap_cycles", "pause_filter_count", "pause_filter_thresh"])
            guard let (value, path, _) = reader.leaf("bursts"), case .array(let items) = value, !items.isEmpty else {
                throw ScenarioError(path: "\(reader.path).bursts", message: "missing (an array of PAUSE counts, one per burst)")
            }
            var bursts: [UInt64] = []
            for (index, item) in items.enumerated() { bursts.append(try ObjectReader.number(item, "\(path)[\(index)]")) }
            func plain(_ key: String) throws(ScenarioError) -> UInt64? {
                guard let (value, path, _) = reader.leaf(key) else { return nil }
                return try ObjectReader.number(value, path)
            }
            return .feature(.pauseLoop(PauseLoop(
                bursts: bursts, gapCycles: try plain("gap_cycles"), burstGapCycles: try plain("burst_gap_cycles"),
                count12: try reader.known("pause_filter_count", ObjectReader.number),
                thresh12: try reader.known("pause_filter_thresh", ObjectReader.number))))
        case "msr_access":
            try reader.allowOnly(["type", "msr", "write", "last_merge"])
            guard let (value, path, _) = reader.leaf("msr") else { throw ScenarioError(path: "\(reader.path).msr", message: "missing") }
            let msr = try ObjectReader.number(value, path)
            guard msr <= UInt64(UInt32.max) else { throw ScenarioError(path: path, message: "an MSR number is 32 bits") }
            guard let (writeValue, writePath, _) = reader.leaf("write") else { throw ScenarioError(path: "\(reader.path).write", message: "missing (0 = RDMSR, 1 = WRMSR)") }
            return .feature(.msrAccess(MSRAccess(
                msr: UInt32(msr), write: try ObjectReader.flag(writeValue, writePath),
                lastMerge: try reader.known("last_merge", ObjectReader.flag))))
        default:
            return nil
        }
    }
}

extension Evaluator {
    /// Decides a feature event (`decide` for `Event.feature`).
    mutating func decideFeature(_ event: FeatureEvent) -> Outcome {
        switch event {
        case .gifInstruction(let isSTGI, let then): return decideGIFInstruction(isSTGI: isSTGI, then: then)
        case .pauseLoop(let loop): return decidePauseLoop(loop)
        case .msrAccess(let access): return decideMSRAccess(access)
        }
    }

    /// The `apm` profile: vmcb12 alone decides (L1 is the host of L2 on bare metal).
    mutating func apmFeature(_ event: FeatureEvent) -> Outcome {
        func l1Sees(_ bit: Int, _ code: VMExitCode, info1: UInt64, _ otherwise: String) -> Outcome {
            branch(
                .apmFeature, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit),
                yes: { _ in .reflect(code, info1: info1, info2: 0, handler: "architecture: L1's intercept") },
                no: { _ in Self.continues(.l2, otherwise) })
        }
        switch event {
        case .gifInstruction(let isSTGI, _):
            let code: VMExitCode = isSTGI ? .stgi : .clgi
            return l1Sees(Int(code.rawValue), code, info1: 0, "\(isSTGI ? "STGI" : "CLGI") changes L2's GIF (the virtual one with vGIF)")
        case .pauseLoop(let loop):
            // The CPU applies L1's own filter values (no CPUID gating: that is KVM's choice).
            let bit = Int(VMExitCode.pause.rawValue)
            return branch(
                .apmFeature, field: InterceptWords.fieldName(ofBit: bit), fact: FactID.intercept(bit), l1Intercepts(bit),
                yes: { evaluator in
                    guard let count = loop.count12, let thresh = loop.thresh12 else {
                        return .undetermined([], missing: ["vmcb12 pause_filter_count / pause_filter_thresh"])
                    }
                    return evaluator.pauseFilterValuesKnown(loop, count: (count.value, true), thresh: (thresh.value, true), rule: .apmFeature) { _, exits in
                        exits ? .reflect(.pause, info1: 0, info2: 0, handler: "architecture: L1's intercept and pause filter")
                            : Self.continues(.l2, "the pause filter count is not reached")
                    }
                },
                no: { _ in Self.continues(.l2, "PAUSE runs in L2") })
        case .msrAccess(let access):
            return branch(
                .apmFeature, field: InterceptWords.fieldName(ofBit: InterceptBit.msrProt), fact: FactID.intercept(InterceptBit.msrProt),
                l1Intercepts(InterceptBit.msrProt),
                yes: { evaluator in
                    evaluator.branch(
                        .apmFeature, field: "msrpm \(Hex.format(access.msr)) \(access.write ? "write" : "read")",
                        fact: FactID.msrpm(access.msr, write: access.write), evaluator.state.vmcb12.msrpm.bit(msr: access.msr, write: access.write),
                        yes: { _ in .reflect(.msr, info1: access.write ? 1 : 0, info2: 0, handler: "architecture: L1's MSRPM") },
                        no: { _ in Self.continues(.l2, "the MSR access runs in L2") })
                },
                no: { _ in Self.continues(.l2, "the MSR access runs in L2") })
        }
    }
}

extension Rule {
    /// The `apm` profile's answer for a feature event.
    public static let apmFeature = Rule(
        "apm.feature.intercept", "does L1's VMCB intercept the instruction (bare-metal L1: nothing else does)?",
        kernel: "APM vol. 2 §15.9 (instruction intercepts), §15.11 (MSR permission map), §15.14.4 (pause filter) (text not at hand)")
}
