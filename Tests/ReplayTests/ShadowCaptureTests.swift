import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
@testable import TraceKit

/// Issue 16, shadow paging: the lab captures with an L0 without NPT
/// (`traces/capture/lab-6.12-no-npt/`, `lab-6.1-no-npt/`: real KVM 6.12 and 6.1 in the lab,
/// `svmdbg capture`). Every
/// #PF there exits to L0, whose walk of the running level's page tables (`kvmmmu` walker
/// tracepoints) gives the model the entries; the model decides whether the #PF is the guest's
/// own. A flipped outcome or a wrong entry is a mismatch with no facts file.
@Suite struct ShadowCaptureTests {
    /// The folders and their profiles.
    static let folders: [(String, String)] = [("traces/capture/lab-6.12-no-npt", "6.12"), ("traces/capture/lab-6.1-no-npt", "6.1")]

    /// Host and guest facts of those runs (their manifests: `l0.kvm_amd_params`, `l1.guest_cpuid`).
    static func options(_ profile: String) throws -> ReplayOptions {
        let host = try HostFacts(parsing: "svme_addr_chk=0,vgif=0,npt=0,nrips=0,decode_assists=0,vls=0", source: "--host")
        var guest = GuestFacts()
        guest.maxPhysAddr = Known(40, source: "--guest")
        guest.features[.longMode] = Known(true, source: "--guest")
        return ReplayOptions(profile: profile == "6.1" ? .v6_1 : .v6_12, host: host, guest: guest)
    }

    static func lines(_ folder: String, _ name: String) throws -> [String] {
        let data = try Data(contentsOf: RepositoryPaths.root.appendingPathComponent("\(folder)/\(name).trace.xz"))
        return String(decoding: try Decompression.unxz([UInt8](data)), as: UTF8.self).components(separatedBy: "\n")
    }

    static func exit(at line: Int, in lines: [String], profile: String) throws -> ExitRecord {
        let trace = try TraceLoader.load(bytes: Array(lines.joined(separator: "\n").utf8), source: "mutated.trace")
        let result = Replayer(trace: trace, options: try options(profile)).run()
        return try #require(result.exits.first { $0.lines.lowerBound == line })
    }

    /// The first L1 #PF exit (no `kvm_nested_vmexit`) L0 resolved after a clean walk: the
    /// `kvm_exit` index, the walk's leaf element and the `kvm_page_fault` line.
    static func shadowFault(in lines: [String]) throws -> (exit: Int, leaf: Int, fault: Int) {
        for index in lines.indices where lines[index].contains(" kvm_exit: ") && lines[index].contains("reason PF excp") {
            guard let entry = lines[(index + 1)...].firstIndex(where: { $0.contains(" kvm_entry: ") || $0.contains(" kvm_exit: ") }),
                  lines[entry].contains(" kvm_entry: ") else { continue }
            let span = lines[index..<entry]
            guard !span.contains(where: { $0.contains("kvm_nested_vmexit") || $0.contains("kvm_inj_exception") || $0.contains("kvm_mmu_walker_error") }),
                  span.contains(where: { $0.contains("kvm_mmu_pagetable_walk:") }),
                  let leaf = span.lastIndex(where: { $0.contains("kvm_mmu_paging_element:") }),
                  let fault = span.firstIndex(where: { $0.contains("kvm_page_fault:") }) else { continue }
            return (index, leaf, fault)
        }
        throw ShadowCaptureError.noExit
    }

    enum ShadowCaptureError: Error { case noExit }

    @Test("an L1 #PF L0 resolved as a shadow fault, turned into a #PF injected into L1: decided from the walk, so a mismatch", arguments: folders)
    func flippedShadowFault(folder: String, profile: String) throws {
        var lines = try Self.lines(folder, "exceptions")
        let (exitLine, _, fault) = try Self.shadowFault(in: lines)
        let clean = try Self.exit(at: exitLine + 1, in: lines, profile: profile)
        #expect(clean.level == .l1)
        #expect(clean.verdict.kind == .match && !clean.verdict.isConsistent, "decided, not settled from the outcome")
        let prefix = String(lines[fault].prefix { $0 != ":" })
        lines.insert(prefix + ": kvm_inj_exception: #PF (0x2)", at: fault + 1)
        let flipped = try Self.exit(at: exitLine + 1, in: lines, profile: profile)
        #expect(flipped.verdict.kind == .mismatch)
    }

    @Test("the same L1 #PF with its leaf entry read as not present: the model's walk faults, so a mismatch", arguments: folders)
    func wrongEntry(folder: String, profile: String) throws {
        var lines = try Self.lines(folder, "exceptions")
        let (exitLine, leaf, _) = try Self.shadowFault(in: lines)
        let level = try #require(lines[leaf].range(of: " level "))
        let prefix = try #require(lines[leaf].range(of: "kvm_mmu_paging_element: "))
        lines[leaf] = String(lines[leaf][..<prefix.upperBound]) + "pte 0" + String(lines[leaf][level.lowerBound...])
        let wrong = try Self.exit(at: exitLine + 1, in: lines, profile: profile)
        #expect(wrong.verdict.kind == .mismatch)
    }

    @Test("the same L1 #PF without the walker lines: settled from the recorded outcome, as before", arguments: folders)
    func withoutWalk(folder: String, profile: String) throws {
        let lines = try Self.lines(folder, "exceptions")
        let (exitLine, _, _) = try Self.shadowFault(in: lines)
        let stripped = lines.enumerated().filter { $0.offset <= exitLine || !$0.element.contains(": kvm_mmu_") }.map(\.element)
        let settled = try Self.exit(at: exitLine + 1, in: stripped, profile: profile)
        #expect(settled.verdict.kind == .match && settled.verdict.isConsistent)
    }

    @Test("an L2 #PF whose walk of L2's tables faulted, its #VMEXIT to L1 dropped: a mismatch", arguments: folders)
    func flippedGuestFault(folder: String, profile: String) throws {
        var lines = try Self.lines(folder, "pf-intercept")
        let inject = try #require(lines.firstIndex { $0.contains("kvm_nested_vmexit_inject: reason: PF excp") })
        let exitLine = try #require(lines[..<inject].lastIndex { $0.contains(" kvm_exit: ") })
        #expect(lines[exitLine..<inject].contains { $0.contains("kvm_mmu_walker_error:") }, "KVM's walk of L2's tables faulted")
        let clean = try Self.exit(at: exitLine + 1, in: lines, profile: profile)
        #expect(clean.level == .l2)
        #expect(clean.verdict.kind == .match && !clean.verdict.isConsistent)
        lines.remove(at: inject)
        let flipped = try Self.exit(at: exitLine + 1, in: lines, profile: profile)
        #expect(flipped.verdict.kind == .mismatch)
    }

    @Test("the model reads the walk's entries as a page-map range cited by line")
    func provenance() throws {
        let lines = try Self.lines(Self.folders[0].0, "exceptions")
        let (exitLine, _, _) = try Self.shadowFault(in: lines)
        let trace = try TraceLoader.load(bytes: Array(lines.joined(separator: "\n").utf8), source: "exceptions.trace")
        let result = Replayer(trace: trace, options: try Self.options("6.12")).run()
        let exit = try #require(result.exits.first { $0.lines.lowerBound == exitLine + 1 })
        let state = result.decidedState(of: exit)
        let range = try #require(state.l1.pageTables?.ranges.first)
        #expect(range.source.hasPrefix("trace kvm_mmu_pagetable_walk line "))
        #expect(range.present)
    }
}
