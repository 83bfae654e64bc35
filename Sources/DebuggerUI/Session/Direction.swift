/// Which way a search or step goes through the exit list.
public enum Direction: Sendable, Hashable {
    /// Towards higher exit numbers.
    case forward
    /// Towards lower exit numbers.
    case backward

    /// The other direction.
    public var reversed: Direction {
        switch self {
        case .forward: .backward
        case .backward: .forward
        }
    }
}
