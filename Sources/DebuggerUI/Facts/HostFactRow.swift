import NestedSVM
import Replay

/// One host fact as the facts pane (`H`) shows it: the value the replay used, where it came
/// from, and what the trace itself shows when the user's value overrides it.
public struct HostFactRow: Sendable, Hashable {
    /// Where the value the replay used came from.
    public enum Origin: String, Sendable, Hashable {
        /// `--host`, a facts file, an export header, or set in the debugger.
        case given
        /// Proved by a line of the trace (`HostInference`).
        case inferred
        /// Neither: the model treats it as unknown.
        case unknown
    }

    /// The `--host` key (`npt`, `decode_assists`, …).
    public var key: String
    /// The value used, as `--host` spells it (`1`, `0`, `48`), nil when unknown.
    public var value: String?
    /// Where it came from.
    public var origin: Origin
    /// The source's words: `--host`, `npf exit while L1 ran (line 21)`, …
    public var source: String?
    /// What the trace shows, when a given value overrides it (value and line).
    public var traceShows: String?
    /// Whether the debugger can change it (booleans; `maxphyaddr` is a number).
    public var isToggle: Bool

    /// Creates a row.
    public init(key: String, value: String?, origin: Origin, source: String?, traceShows: String? = nil, isToggle: Bool = true) {
        self.key = key
        self.value = value
        self.origin = origin
        self.source = source
        self.traceShows = traceShows
        self.isToggle = isToggle
    }

    /// The rows of a replay: every `HostFacts` key, in `--host` order, then the keys a trace
    /// never proves (`guest_debug_sw_bp`, `force_emulation_prefix`) that still decide exits.
    public static func rows(of result: ReplayResult) -> [HostFactRow] {
        HostFacts.allKeys.map { key in
            let used = HostFactKey.known(key, in: result.host)
            let given = HostFactKey.known(key, in: result.options.host)
            let inferred = HostFactKey.known(key, in: result.inferredHost)
            let origin: Origin = given != nil ? .given : inferred != nil ? .inferred : .unknown
            var shows: String?
            if given != nil, let inferred, inferred.value != used?.value {
                shows = "\(inferred.value) (\(inferred.source))"
            }
            return HostFactRow(
                key: key, value: used?.value, origin: origin, source: used?.source, traceShows: shows,
                isToggle: !HostFactKey.numericKeys.contains(key))
        }
    }
}

/// Reading and setting one `HostFacts` field by its `--host` key.
public enum HostFactKey {
    /// Keys whose value is a number, given with `--host KEY=N` (the pane does not cycle them).
    public static let numericKeys: Set<String> = ["maxphyaddr", "pause_filter_count", "pause_filter_thresh"]

    /// The field's value as text and its source, nil when unknown.
    public static func known(_ key: String, in facts: HostFacts) -> (value: String, source: String)? {
        func bool(_ fact: Known<Bool>?) -> (String, String)? { fact.map { ($0.value ? "1" : "0", $0.source) } }
        switch key {
        case "svme_addr_chk": return bool(facts.svmeAddrChk)
        case "vgif": return bool(facts.vgif)
        case "npt": return bool(facts.npt)
        case "nrips": return bool(facts.nrips)
        case "decode_assists": return bool(facts.decodeAssists)
        case "maxphyaddr": return facts.maxPhysAddr.map { ("\($0.value)", $0.source) }
        case "vls": return bool(facts.vls)
        case "vmware_backdoor": return bool(facts.vmwareBackdoor)
        case "guest_debug": return bool(facts.guestDebug)
        case "guest_debug_sw_bp": return bool(facts.guestDebugSoftwareBreakpoints)
        case "force_emulation_prefix": return bool(facts.forceEmulationPrefix)
        case "pause_in_guest": return bool(facts.pauseInGuest)
        case "pause_filter_count": return facts.pauseFilterCount.map { ("\($0.value)", $0.source) }
        case "pause_filter_thresh": return facts.pauseFilterThresh.map { ("\($0.value)", $0.source) }
        default: return nil
        }
    }

    /// `facts` with the boolean fact `key` set to `value` (nil removes it: the trace's
    /// inference, or unknown, applies again). Unknown keys and the numeric ones leave it as it is.
    public static func setting(_ key: String, to value: Bool?, in facts: HostFacts, source: String) -> HostFacts {
        var facts = facts
        let fact = value.map { Known($0, source: source) }
        switch key {
        case "svme_addr_chk": facts.svmeAddrChk = fact
        case "vgif": facts.vgif = fact
        case "npt": facts.npt = fact
        case "nrips": facts.nrips = fact
        case "decode_assists": facts.decodeAssists = fact
        case "vls": facts.vls = fact
        case "vmware_backdoor": facts.vmwareBackdoor = fact
        case "guest_debug": facts.guestDebug = fact
        case "guest_debug_sw_bp": facts.guestDebugSoftwareBreakpoints = fact
        case "force_emulation_prefix": facts.forceEmulationPrefix = fact
        case "pause_in_guest": facts.pauseInGuest = fact
        default: break
        }
        return facts
    }

    /// The value after `current` when the user cycles a fact: as the trace shows (not given)
    /// → 1 → 0 → as the trace shows.
    public static func next(after row: HostFactRow) -> Bool? {
        guard row.origin == .given else { return true }
        return row.value == "1" ? false : nil
    }
}
