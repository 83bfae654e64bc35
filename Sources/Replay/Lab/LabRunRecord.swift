import Foundation

/// A lab run's `run.json`: which kernel and CPU the lab used and how each scenario ended.
///
/// Shape: `{"kernel", "kernel_release", "qemu_cpu", "cpu_preset", "scenarios": [{"name",
/// "status", "seconds", "note"}]}`; every key but `scenarios[].name` and `.status` may be
/// missing.
public struct LabRunRecord: Sendable, Equatable {
    /// How the lab says a scenario ended.
    public enum Status: String, Sendable, Equatable, Codable, CaseIterable {
        /// The scenario ran to its end.
        case ok
        /// The lab stopped it after its time limit.
        case timeout
        /// The lab stopped a known livelock and capped its trace (first and last lines kept).
        case livelockCapped = "livelock-capped"
        /// The lab could not run it (boot, load or capture failed).
        case failed
    }

    /// One scenario's entry.
    public struct Scenario: Sendable, Equatable, Codable {
        /// Scenario name (the manifest's base name).
        public var name: String
        /// How it ended; `nil` for a status text this version does not know.
        public var status: Status?
        /// The status text as written.
        public var statusText: String
        /// Run time in seconds.
        public var seconds: Double?
        /// The lab's note.
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case name, status, seconds, note
        }

        /// Creates an entry.
        public init(name: String, statusText: String, seconds: Double? = nil, note: String? = nil) {
            self.name = name
            self.statusText = statusText
            self.status = Status(rawValue: statusText)
            self.seconds = seconds
            self.note = note
        }

        /// Encodes `status` as written.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(statusText, forKey: .status)
            try container.encodeIfPresent(seconds, forKey: .seconds)
            try container.encodeIfPresent(note, forKey: .note)
        }

        /// Decodes an entry.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                name: try container.decode(String.self, forKey: .name),
                statusText: try container.decode(String.self, forKey: .status),
                seconds: try container.decodeIfPresent(Double.self, forKey: .seconds),
                note: try container.decodeIfPresent(String.self, forKey: .note))
        }

        /// `timeout after 600 s (note)`.
        public var summary: String {
            var text = "run.json: \(statusText)"
            if let seconds { text += " after \(String(format: "%g", seconds)) s" }
            if let note, !note.isEmpty { text += " (\(note))" }
            return text
        }
    }

    /// `kernel` as the lab was asked (`6.1`, `6.12`, a path).
    public var kernel: String?
    /// `kernel_release`, e.g. `6.12.117+deb12-amd64`.
    public var kernelRelease: String?
    /// `qemu_cpu`.
    public var qemuCPU: String?
    /// `cpu_preset` (`zen3`, `naples`, …).
    public var cpuPreset: String?
    /// The scenarios, in run order.
    public var scenarios: [Scenario]

    /// The entry of scenario `name`.
    public func scenario(named name: String) -> Scenario? { scenarios.first { $0.name == name } }

    /// The file name a run folder holds.
    public static let fileName = "run.json"

    /// Reads `run.json` at `url`.
    public static func read(url: URL) throws(LabInputError) -> LabRunRecord {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LabInputError(file: url.path, problem: "cannot read (\(error.localizedDescription))")
        }
        return try parse(data: data, file: url.path)
    }

    /// Parses `run.json`; `file` names it in errors.
    public static func parse(data: Data, file: String) throws(LabInputError) -> LabRunRecord {
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw LabInputError(file: file, problem: "not valid JSON")
        }
        guard let root = object as? [String: Any] else {
            throw LabInputError(file: file, problem: "not a JSON object")
        }
        guard let list = root["scenarios"] as? [[String: Any]] else {
            throw LabInputError(file: file, problem: "no \"scenarios\" array")
        }
        var scenarios: [Scenario] = []
        for (position, item) in list.enumerated() {
            guard let name = item["name"] as? String, let status = item["status"] as? String else {
                throw LabInputError(file: file, problem: "scenarios[\(position)] lacks \"name\" or \"status\"")
            }
            scenarios.append(Scenario(
                name: name, statusText: status, seconds: (item["seconds"] as? NSNumber)?.doubleValue,
                note: item["note"] as? String))
        }
        return LabRunRecord(
            kernel: LabManifest.scalarText(root["kernel"]), kernelRelease: root["kernel_release"] as? String,
            qemuCPU: root["qemu_cpu"] as? String, cpuPreset: root["cpu_preset"] as? String, scenarios: scenarios)
    }
}
