import Foundation
import TraceKit

/// One #VMEXIT as one side of a KVM-on-KVM lab run records it: L0's
/// `kvm_nested_vmexit_inject` (what L0 wrote into vmcb12) or L1's own `kvm_exit` (what L1's
/// KVM read from its VMCB after VMRUN returned).
public struct L1VisibleExit: Sendable, Equatable, Codable {
    /// Trace line.
    public var line: Int
    /// Exit code.
    public var exitCode: UInt32
    /// `exit_info_1`, `nil` when the event does not print it.
    public var info1: UInt64?
    /// `exit_info_2`.
    public var info2: UInt64?
    /// `exit_int_info` (L1's `intr_info`).
    public var intInfo: UInt32?
    /// `exit_int_info_err` (L1's `error_code`).
    public var intInfoErr: UInt32?

    enum CodingKeys: String, CodingKey {
        case line, info1, info2
        case exitCode = "exit_code", intInfo = "exit_int_info", intInfoErr = "exit_int_info_err"
    }

    /// Creates an exit.
    public init(line: Int, exitCode: UInt32, info1: UInt64?, info2: UInt64?, intInfo: UInt32?, intInfoErr: UInt32?) {
        self.line = line
        self.exitCode = exitCode
        self.info1 = info1
        self.info2 = info2
        self.intInfo = intInfo
        self.intInfoErr = intInfoErr
    }

    /// The fields that differ from `other` (`reason`, `exit_info_1`, ...); a field one side
    /// does not print counts as differing, since equality cannot be shown.
    public func differences(from other: L1VisibleExit) -> [String] {
        var fields: [String] = []
        func hex<T: BinaryInteger & CVarArg>(_ value: T?) -> String { value.map { "0x" + String($0, radix: 16) } ?? "?" }
        if exitCode != other.exitCode {
            fields.append("reason \(ExitCodeText.name(exitCode)) vs \(ExitCodeText.name(other.exitCode))")
        }
        if info1 == nil || info1 != other.info1 { fields.append("exit_info_1 \(hex(info1)) vs \(hex(other.info1))") }
        if info2 == nil || info2 != other.info2 { fields.append("exit_info_2 \(hex(info2)) vs \(hex(other.info2))") }
        if intInfo == nil || intInfo != other.intInfo { fields.append("exit_int_info \(hex(intInfo)) vs \(hex(other.intInfo))") }
        if intInfoErr == nil || intInfoErr != other.intInfoErr {
            fields.append("exit_int_info_err \(hex(intInfoErr)) vs \(hex(other.intInfoErr))")
        }
        return fields
    }
}

/// L0's reflections against L1's own trace in a KVM-on-KVM lab run, per L1 vCPU.
///
/// L0 runs L1's vCPU n as one QEMU thread (its `kvm_entry`/`kvm_exit` say `vcpu n`); every #VMEXIT L0 reflects to L1 on
/// that vCPU (`kvm_nested_vmexit_inject`) is the next exit L1's KVM handles on its CPU n
/// (`kvm_exit` in L1's trace, buffer `[00n]`). So per L1 CPU the two sequences must be
/// equal, in order, field by field (reason, exit_info_1/2, exit_int_info and its error
/// code). L1's trace window lies inside L0's, and L2 runs only inside L1's window.
public struct L1TraceComparison: Sendable, Equatable {
    /// One L1 vCPU.
    public struct VCPU: Sendable, Equatable {
        /// L1's CPU number (= L0's vCPU id of the thread).
        public var cpu: Int
        /// L0's thread id for it, `nil` when L0's trace has no such thread.
        public var l0Thread: Int32?
        /// L0's reflections on that thread, in order.
        public var l0: [L1VisibleExit]
        /// L1's `kvm_exit` events on that CPU, in order.
        public var l1: [L1VisibleExit]

        /// The first position where the two differ (a field or one side ending), else `nil`.
        public var firstDivergence: (index: Int, differences: [String])? {
            let common = min(l0.count, l1.count)
            for index in 0..<common {
                let differences = l0[index].differences(from: l1[index])
                if !differences.isEmpty { return (index, differences) }
            }
            guard l0.count != l1.count else { return nil }
            return (common, [l0.count > l1.count ? "L1's trace ends first" : "L0's trace shows no more reflections"])
        }

        public static func == (lhs: VCPU, rhs: VCPU) -> Bool {
            lhs.cpu == rhs.cpu && lhs.l0Thread == rhs.l0Thread && lhs.l0 == rhs.l0 && lhs.l1 == rhs.l1
        }
    }

    /// Every L1 CPU either side shows, by number.
    public var vcpus: [VCPU]
    /// L0 threads with reflections but no vCPU id and no `CPU n/KVM` name (cannot be paired).
    public var unpairedL0Threads: [String]

    /// The `n` of a QEMU vCPU thread name `CPU n/KVM` (as the trace prints it), else `nil`.
    public static func vcpuNumber(ofThread comm: String) -> Int? {
        guard comm.hasPrefix("CPU "), let slash = comm.firstIndex(of: "/") else { return nil }
        let digits = comm[comm.index(comm.startIndex, offsetBy: 4)..<slash]
        guard comm[slash...].hasPrefix("/KVM") else { return nil }
        return Int(digits)
    }

    /// Pairs L0's reflections with L1's exits.
    public init(l0: LoadedTrace, l1: LoadedTrace) {
        var l0ByCPU: [Int: (thread: Int32, exits: [L1VisibleExit])] = [:]
        var unpaired: Set<String> = []
        var l1ByCPU: [Int: [L1VisibleExit]] = [:]
        // L0's vCPU id of each thread: kvm_entry/kvm_exit print it (`vcpu N`), and L0 runs
        // L1's vCPU N with vCPU id N. QEMU's thread name `CPU N/KVM` (with debug-threads=on)
        // is the fallback.
        var vcpuOfThread: [Int32: Int] = [:]
        for event in l0.events {
            guard vcpuOfThread[event.pid] == nil, let vcpu = event.vcpu else { continue }
            vcpuOfThread[event.pid] = Int(vcpu)
        }
        for event in l0.events {
            guard case .nestedVMExitInject(let inject) = event.payload else { continue }
            let exit = L1VisibleExit(
                line: event.lineNumber, exitCode: inject.exitReason.rawValue, info1: inject.exitInfo1,
                info2: inject.exitInfo2, intInfo: inject.exitIntInfo, intInfoErr: inject.exitIntInfoErr)
            guard let cpu = vcpuOfThread[event.pid] ?? Self.vcpuNumber(ofThread: event.comm) else {
                unpaired.insert("\(event.comm)-\(event.pid)")
                continue
            }
            l0ByCPU[cpu, default: (event.pid, [])].exits.append(exit)
        }
        for event in l1.events {
            guard case .exit(let exit) = event.payload else { continue }
            l1ByCPU[event.cpu, default: []].append(L1VisibleExit(
                line: event.lineNumber, exitCode: exit.exitReason.rawValue, info1: exit.exitInfo1,
                info2: exit.exitInfo2, intInfo: exit.intrInfo, intInfoErr: exit.errorCode))
        }
        let cpus = Set(l0ByCPU.keys).union(l1ByCPU.keys).sorted()
        vcpus = cpus.map { cpu in
            VCPU(cpu: cpu, l0Thread: l0ByCPU[cpu]?.thread, l0: l0ByCPU[cpu]?.exits ?? [], l1: l1ByCPU[cpu] ?? [])
        }
        unpairedL0Threads = unpaired.sorted()
    }

    /// Every L1 CPU's sequences are equal and every L0 reflection could be paired.
    public var isEqual: Bool {
        unpairedL0Threads.isEmpty && vcpus.allSatisfy { $0.firstDivergence == nil }
    }

    /// Reflections L0 shows in all.
    public var l0Count: Int { vcpus.reduce(0) { $0 + $1.l0.count } }
    /// `kvm_exit` events L1 shows in all.
    public var l1Count: Int { vcpus.reduce(0) { $0 + $1.l1.count } }

    /// One line: `equal (38 #VMEXITs: CPU 0 38)` or where the first CPU's sequences part.
    public var summary: String {
        let perCPU = vcpus.map { "CPU \($0.cpu) \($0.l0.count)" }.joined(separator: ", ")
        if isEqual {
            return "equal to L1's own trace (\(l0Count) #VMEXIT\(l0Count == 1 ? "" : "s"): \(perCPU.isEmpty ? "none" : perCPU))"
        }
        if let vcpu = vcpus.first(where: { $0.firstDivergence != nil }), let divergence = vcpu.firstDivergence {
            let l0Line = divergence.index < vcpu.l0.count ? "L0 line \(vcpu.l0[divergence.index].line)" : "L0 ends"
            let l1Line = divergence.index < vcpu.l1.count ? "L1 line \(vcpu.l1[divergence.index].line)" : "L1 ends"
            return "differs from L1's own trace on L1 CPU \(vcpu.cpu) at #VMEXIT \(divergence.index + 1) "
                + "(\(vcpu.l0.count) reflected by L0 / \(vcpu.l1.count) seen by L1; \(l0Line), \(l1Line)): "
                + divergence.differences.joined(separator: "; ")
        }
        return "L0 reflections on threads that are no QEMU vCPU (CPU n/KVM): " + unpairedL0Threads.joined(separator: ", ")
    }
}
