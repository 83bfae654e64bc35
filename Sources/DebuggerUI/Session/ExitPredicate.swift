import Replay

/// A condition on one exit, answered by the session from its index.
///
/// Filters, breakpoints, mismatch navigation and search are all predicates, so the
/// session can answer `nextExit(matching:after:direction:)` without the UI touching
/// rows it does not show.
public indirect enum ExitPredicate: Sendable, Hashable {
    /// Every exit.
    case any
    /// Exits of this vCPU.
    case vcpu(Int)
    /// Exits taken while this guest level ran.
    case level(Level)
    /// Exits whose reason name is this (case-insensitive, e.g. `msr`).
    case reason(String)
    /// Exits with this SVM exit code.
    case exitCode(UInt64)
    /// MSR exits (RDMSR/WRMSR) on this MSR (ECX); exits whose ECX the trace does not
    /// record never match.
    case msr(UInt32)
    /// IOIO exits on this port (exit_info_1 bits 31:16).
    case port(UInt16)
    /// Exits with this verdict.
    case verdict(ExitVerdict)
    /// Exits whose recorded or predicted (model) outcome is this, named as `check --json`
    /// names outcomes (``OutcomeNames``): `reflect_to_l1`, `l0_handles`, `undetermined`, …
    case outcome(String)
    /// Exits whose raw lines or decoded fields match a regular expression.
    case text(TextQuery)
    /// All of these hold (an empty list holds).
    case all([ExitPredicate])
    /// At least one of these holds (an empty list never holds).
    case either([ExitPredicate])
    /// This does not hold (answered by a scan).
    case not(ExitPredicate)
}
