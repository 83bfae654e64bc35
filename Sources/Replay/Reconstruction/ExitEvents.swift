import TraceKit

/// The events of one exit (its own thread, in order) with the payloads replay reads decoded
/// once: the outcome reader, the model's inputs and the exit's state all read these
/// instead of decoding the same lines again.
struct ExitEvents: Sendable {
    /// The event numbers.
    let numbers: [EventNumber]
    /// Their payloads; `.raw` for events whose payload nothing in an exit's judgement reads.
    let payloads: [EventPayload]

    /// Events whose payloads an exit's judgement reads (``RecordedOutcomeReader``,
    /// ``ModelInputs``, `Walk.exitState(for:)`); the others are only counted and named.
    static let readNames: Set<String> = [
        "kvm_exit", "kvm_nested_vmexit", "kvm_nested_vmexit_inject", "kvm_nested_vmenter", "kvm_nested_vmrun",
        "kvm_nested_intercepts", "kvm_nested_vmenter_failed", "kvm_inj_exception", "kvm_inj_virq",
        "kvm_userspace_exit", "kvm_emulate_insn", "kvm_msr",
    ]

    /// Per name id of `trace`: whether ``readNames`` holds the name.
    static func readMask(_ trace: LoadedTrace) -> [Bool] { trace.eventNames.map { readNames.contains($0) } }

    /// Decodes the payloads of `numbers` that `mask` (by name id) selects.
    init(trace: LoadedTrace, numbers: [EventNumber], mask: [Bool]) {
        self.numbers = numbers
        var payloads: [EventPayload] = []
        payloads.reserveCapacity(numbers.count)
        for number in numbers {
            payloads.append(mask[trace.nameID(of: number)] ? trace.payload(of: number) : .raw)
        }
        self.payloads = payloads
    }

    /// Like ``init(trace:numbers:mask:)``, reusing the payloads in `decoded` that are not nil.
    init(trace: LoadedTrace, numbers: [EventNumber], decoded: [EventPayload?], mask: [Bool]) {
        self.numbers = numbers
        var payloads: [EventPayload] = []
        payloads.reserveCapacity(numbers.count)
        for (index, number) in numbers.enumerated() {
            if index < decoded.count, let payload = decoded[index] {
                payloads.append(payload)
            } else {
                payloads.append(mask[trace.nameID(of: number)] ? trace.payload(of: number) : .raw)
            }
        }
        self.payloads = payloads
    }

    /// The events with their payloads, in order.
    var all: Zip2Sequence<[EventNumber], [EventPayload]> { zip(numbers, payloads) }
}
