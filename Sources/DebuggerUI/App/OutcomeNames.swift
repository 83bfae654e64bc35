import NestedSVM
import Replay

/// The outcome names of the `outcome` filter and breakpoint key: the vocabulary of
/// `check --json` (the model's ``Outcome/Kind`` and the trace's ``RecordedOutcome/Kind``
/// raw values), with `-` for `_`, a few short forms (`reflect`, `l1`, `l0`, `unknown`) and
/// any unambiguous prefix (`vmrun_s`).
public enum OutcomeNames {
    /// Every outcome name, as `check --json` writes it.
    public static let all: [String] = {
        var names: [String] = []
        for name in Outcome.Kind.allCases.map(\.rawValue) + RecordedOutcome.Kind.allCases.map(\.rawValue)
        where !names.contains(name) {
            names.append(name)
        }
        return names
    }()

    /// Short forms.
    static let aliases: [String: String] = [
        "reflect": "reflect_to_l1", "l1": "reflect_to_l1", "vmexit": "reflect_to_l1",
        "l0": "l0_handles", "exception": "inject_exception", "userspace": "userspace_exit",
        "interrupt": "inject_interrupt", "nmi": "inject_nmi", "unknown": "undetermined",
    ]

    /// The `check --json` name `text` stands for; a message naming the choices when none or
    /// several fit.
    public static func canonical(_ text: String) -> Result<String, PredicateParser.Failure> {
        let word = String(text.lowercased().map { $0 == "-" ? "_" : $0 })
        if all.contains(word) { return .success(word) }
        if let alias = aliases[word] { return .success(alias) }
        let fits = all.filter { $0.hasPrefix(word) }
        if fits.count == 1, !word.isEmpty { return .success(fits[0]) }
        let which = fits.count > 1 ? "ambiguous outcome '\(text)' (\(fits.joined(separator: ", ")))" : "unknown outcome '\(text)'"
        return .failure(PredicateParser.Failure(message: "\(which): one of \(all.joined(separator: ", ")); or reflect, l0"))
    }
}
