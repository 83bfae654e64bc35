import Foundation

/// The JSON form of a `Decision`: `{"subject", "profile", "outcome": {"kind": …}, "path": [...]}`
/// (all keys single words or snake_case) with sorted keys, for `svmdbg decide --json` and `export`.
public enum DecisionJSON {
    /// Encodes `decision` as pretty-printed JSON.
    public static func data(for decision: Decision) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(decision)
    }

    /// Decodes a decision written by `data(for:)`.
    public static func decision(from data: Data) throws -> Decision {
        let decoder = JSONDecoder()
        return try decoder.decode(Decision.self, from: data)
    }
}
