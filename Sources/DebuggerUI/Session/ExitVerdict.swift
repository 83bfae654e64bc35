/// How the model's outcome for an exit compares with what the trace recorded.
public enum ExitVerdict: String, Sendable, Hashable, CaseIterable {
    /// The model and the trace agree.
    case match
    /// The model and the trace agree only because an input the trace lacks was settled by
    /// reading the recorded outcome back: the exit could not have disagreed (issue #16).
    case consistent
    /// The model and the trace disagree: the row the user is looking for.
    case mismatch
    /// The trace does not say enough to tell (e.g. the exit is cut off at the end of the trace).
    case undetermined
    /// The model does not cover this exit; no outcome was guessed.
    case notModelled = "not-modelled"
}
