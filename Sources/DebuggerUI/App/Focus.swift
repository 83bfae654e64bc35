// Which pane has the keyboard.
public enum Focus: Sendable, Hashable, CaseIterable {
    /// The exit list (arrows move the selection).
    case exitList
    /// The decision path pane.
    case decision
    /// The registers pane.
    case registers
    /// The VMCB pane.
    case vmcb
    /// The raw trace lines pane.
    case rawLines
}
