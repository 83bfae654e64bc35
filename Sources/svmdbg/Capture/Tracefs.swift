import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The host's tracefs: where it is mounted, what it supports, and plain file reads and writes
/// with errors that name the file and the kernel's reason (`error_log` where it says more).
struct Tracefs: Sendable {
    /// The mount point (`/sys/kernel/tracing`, or `…/debug/tracing` under debugfs).
    let root: String

    /// Why tracefs cannot be used.
    struct Failure: Error, CustomStringConvertible {
        /// One line, naming the file.
        var description: String
    }

    /// Finds the tracefs mount point in `mounts` (the text of `/proc/mounts`): a `tracefs`
    /// mount, else `tracing/` under a `debugfs` mount.
    static func mountPoint(mounts: String) -> String? {
        var debugfs: String?
        for line in mounts.split(separator: "\n") {
            let columns = line.split(separator: " ")
            guard columns.count >= 3 else { continue }
            let path = String(columns[1]).replacingOccurrences(of: "\\040", with: " ")
            if columns[2] == "tracefs" { return path }
            if columns[2] == "debugfs", debugfs == nil { debugfs = path + "/tracing" }
        }
        return debugfs
    }

    /// The host's tracefs, or a failure saying what is missing.
    static func locate() throws -> Tracefs {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        guard let root = mountPoint(mounts: mounts), FileManager.default.fileExists(atPath: root + "/README") else {
            throw Failure(description: "tracefs is not mounted (no tracefs in /proc/mounts); mount it with: mount -t tracefs nodev /sys/kernel/tracing")
        }
        return Tracefs(root: root)
    }

    /// `root/relative`.
    func path(_ relative: String) -> String { root + "/" + relative }

    /// Reads a control file.
    func read(_ relative: String) throws -> String {
        do {
            return try String(contentsOfFile: path(relative), encoding: .utf8)
        } catch {
            throw Failure(description: "cannot read \(path(relative)): \(error.localizedDescription)")
        }
    }

    /// Writes `text` to a control file: truncating (`>`) or appending (`>>`, as `dynamic_events` needs).
    func write(_ text: String, to relative: String, append: Bool = false) throws {
        let file = path(relative)
        let descriptor = open(file, O_WRONLY | (append ? O_APPEND : O_TRUNC))
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(file): \(Self.errnoText())") }
        defer { close(descriptor) }
        let bytes = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            let reason = Self.errnoText()
            // error_log repeats the command and a caret line; its "error:" line is the reason.
            let log = (try? read("error_log")).flatMap { log in
                log.split(separator: "\n").last { $0.contains("error:") }.map { line in
                    String(line[(line.range(of: "error:")?.upperBound ?? line.startIndex)...]).trimmingCharacters(in: .whitespaces)
                }
            } ?? ""
            let shown = text.count > 120 ? String(text.prefix(117)) + "..." : text.trimmingCharacters(in: .newlines)
            throw Failure(description: "writing '\(shown)' to \(file) failed: \(reason)" + (log.isEmpty ? "" : " (kernel: \(log))"))
        }
    }

    /// Whether `relative` exists.
    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    /// What this kernel's dynamic events support, read from tracefs `README` (the lines
    /// `kernel/trace/trace.c` prints only when the matching config option is set).
    struct Features: Sendable, Equatable {
        /// `p:` kprobe events (`CONFIG_KPROBE_EVENTS`).
        var kprobes: Bool
        /// `f:` fprobe events (`CONFIG_FPROBE_EVENTS`).
        var fprobes: Bool
        /// `$argN` fetch arguments (`CONFIG_HAVE_FUNCTION_ARG_ACCESS_API`).
        var argN: Bool
        /// BTF arguments `<argname>[->field…]` (`CONFIG_PROBE_EVENTS_BTF_ARGS`).
        var btfArguments: Bool
        /// `dynamic_events` exists (else only `kprobe_events`).
        var dynamicEvents: Bool
        /// Return probes fetch arguments too (`$arg<N>` listed for kernel return probes).
        var argumentsAtReturn: Bool

        /// Reads the features from a README text and the presence of `dynamic_events`.
        init(readme: String, dynamicEvents: Bool, kprobeEvents: Bool) {
            // The `p[:…]` format line is shared with uprobes; the `place:` line is kprobe-only.
            kprobes = readme.contains("place: [<module>:]<symbol>") || kprobeEvents
            fprobes = readme.contains("f[:[<group>/][<event>]]")
            argN = readme.contains("$arg<N>")
            btfArguments = readme.contains("<argname>[->field")
            argumentsAtReturn = readme.contains("return probes support: $retval, $arg<N>")
            self.dynamicEvents = dynamicEvents
        }
    }

    /// This kernel's features.
    func features() -> Features {
        Features(readme: (try? read("README")) ?? "", dynamicEvents: exists("dynamic_events"), kprobeEvents: exists("kprobe_events"))
    }

    /// The control file probe definitions go to.
    func probeControl(_ features: Features) -> String { features.dynamicEvents ? "dynamic_events" : "kprobe_events" }

    /// Lowercase `strerror(errno)`.
    static func errnoText(_ code: Int32 = errno) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        let text = String(cString: message)
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
