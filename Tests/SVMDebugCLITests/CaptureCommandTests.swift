import Foundation
import TestSupport
import Testing

/// `svmdbg capture` end to end. The tracefs tests change this host's tracefs (an instance,
/// never a probe: a host without kvm_amd gets none) and check that nothing is left behind;
/// they need root and a mounted tracefs and are skipped otherwise. Probes on real KVM are
/// exercised in the lab (docs/capture.md, traces/capture/).
@Suite(.serialized) struct CaptureCommandTests {
    /// The tracefs mount point, when this process can write to it.
    static let tracefs: String? = {
        guard geteuid() == 0, let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return nil }
        for line in mounts.split(separator: "\n") {
            let columns = line.split(separator: " ")
            if columns.count > 2, columns[2] == "tracefs", FileManager.default.fileExists(atPath: "\(columns[1])/instances") {
                return String(columns[1])
            }
        }
        return nil
    }()

    static var canTrace: Bool { tracefs != nil }

    /// Instances named `svmdbg-*` now.
    static func leftovers() -> [String] {
        guard let tracefs else { return [] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tracefs + "/instances")) ?? []
        return names.filter { $0.hasPrefix("svmdbg-") }
    }

    static func temporaryPath(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-capture-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    @Test("--print-probes prints the 6.12 definition from a BTF directory, offsets as pahole gives them")
    func printProbes() throws {
        let folder = Self.temporaryPath("btf-6.12")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fixtures = RepositoryPaths.root.appendingPathComponent("Tests/Fixtures/btf/6.12.117").path
        try FileManager.default.copyItem(atPath: fixtures + "/kvm_amd.btf", toPath: folder + "/kvm_amd")
        let xz = Process()
        xz.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
        xz.arguments = ["-dc", fixtures + "/vmlinux.btf.xz"]
        FileManager.default.createFile(atPath: folder + "/vmlinux", contents: nil)
        xz.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/vmlinux"))
        try xz.run()
        xz.waitUntilExit()
        try #require(xz.terminationStatus == 0, "xz could not decompress the fixture")
        let run = try runSVMDebug(["capture", "--print-probes", "--btf-directory", folder])
        #expect(run.status == 0)
        #expect(run.stdout.contains("p:svmdbg/exit_regs kvm_amd:svm_handle_exit rax=+296($arg1):x64 "))
        #expect(run.stdout.contains(" cpl=+1227(+6480($arg1)):x8 "))
        #expect(run.stdout.contains("ic_w5=+6708($arg1):x32"))
        #expect(run.stdout.contains("# remove: echo '-:svmdbg/exit_regs' >> "))
        #expect(run.stdout.contains("l1_efer\t+1232(+6488($arg1)):x64\tvcpu_svm.vmcb01.ptr->save.efer = 6488 → 1232"))
    }

    @Test("--print-probes without kvm_amd BTF names the missing probe target")
    func printProbesWithoutKVMAMD() throws {
        let folder = Self.temporaryPath("btf-empty")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let run = try runSVMDebug(["capture", "--print-probes", "--btf-directory", folder])
        #expect(run.status == 2)
        #expect(run.stderr.contains("vmlinux does not exist"))
    }

    @Test("the command line is checked before anything happens", arguments: [
        (["capture", "--duration", "1", "--", "/bin/true"], "choose --duration or -- COMMAND"),
        (["capture", "--duration", "0"], "--duration must be a positive"),
        (["capture", "--buffer-kb", "1"], "--buffer-kb must be at least 64"),
    ])
    func validation(arguments: [String], message: String) throws {
        let run = try runSVMDebug(arguments)
        #expect(run.status == 2)
        #expect(run.stderr.contains(message))
    }

    @Test("a --duration capture writes the file and leaves no instance", .enabled(if: canTrace, "needs root and a mounted tracefs"))
    func duration() throws {
        let output = Self.temporaryPath("duration.trace")
        let before = Self.leftovers()
        let run = try runSVMDebug(["capture", "-o", output, "--duration", "0.3"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(run.stderr.contains("recording into"))
        #expect(Self.leftovers() == before)
        // An existing file is not replaced without --force.
        let again = try runSVMDebug(["capture", "-o", output, "--duration", "0.1"])
        #expect(again.status == 2)
        #expect(again.stderr.contains("exists; use --force"))
        #expect(try runSVMDebug(["capture", "-o", output, "--duration", "0.1", "--force"]).status == 0)
    }

    @Test("a COMMAND's failure status is the capture's, and the trace is still written", .enabled(if: canTrace, "needs root and a mounted tracefs"))
    func commandStatus() throws {
        let output = Self.temporaryPath("command.trace")
        let before = Self.leftovers()
        let run = try runSVMDebug(["capture", "-o", output, "--", "/bin/sh", "-c", "exit 3"])
        #expect(run.status == 3)
        #expect(run.stderr.contains("exited with status 3"))
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(Self.leftovers() == before)
    }

    @Test("SIGINT ends the recording, writes the trace and removes the instance", .enabled(if: canTrace, "needs root and a mounted tracefs"))
    func interrupt() throws {
        let output = Self.temporaryPath("interrupt.trace")
        let before = Self.leftovers()
        let process = Process()
        process.executableURL = RepositoryPaths.svmdbgExecutable
        process.arguments = ["capture", "-o", output]
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the instance exists, then interrupt.
        var waited = 0
        while Self.leftovers().count == before.count, waited < 100 {
            usleep(50_000)
            waited += 1
        }
        usleep(200_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(Self.leftovers() == before)
    }

    @Test("--cleanup removes an instance whose capture process is gone", .enabled(if: canTrace, "needs root and a mounted tracefs"))
    func cleanup() throws {
        let tracefs = try #require(Self.tracefs)
        // pid_max is at most 2^22, so this pid never runs.
        let stale = tracefs + "/instances/svmdbg-99999999"
        try #require(mkdir(stale, 0o755) == 0, "cannot create \(stale)")
        let run = try runSVMDebug(["capture", "--cleanup"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("removed \(stale)"))
        #expect(!FileManager.default.fileExists(atPath: stale))
    }
}
