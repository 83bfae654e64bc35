import CNCursesW
import DebuggerUI

/// Maps `get_wch` results to `Key`s.
enum CursesKeys {
    /// Control characters sent by common keys.
    static let tab: UInt32 = 0x09, lineFeed: UInt32 = 0x0A, carriageReturn: UInt32 = 0x0D
    static let escape: UInt32 = 0x1B, delete: UInt32 = 0x7F, backspace: UInt32 = 0x08

    /// A function-key code (`KEY_CODE_YES`), or nil for keys svmdbg does not use.
    static func key(forCode code: Int32) -> Key? {
        switch code {
        case KEY_UP: .up
        case KEY_DOWN: .down
        case KEY_LEFT: .left
        case KEY_RIGHT: .right
        case KEY_PPAGE: .pageUp
        case KEY_NPAGE: .pageDown
        case KEY_HOME: .home
        case KEY_END: .end
        case KEY_ENTER: .enter
        case KEY_BACKSPACE: .backspace
        case KEY_BTAB: .backTab
        default: nil
        }
    }

    /// A character from `get_wch` (`OK`), or nil for unused control characters.
    static func key(forCharacter value: UInt32) -> Key? {
        switch value {
        case lineFeed, carriageReturn: return .enter
        case escape: return .escape
        case delete, backspace: return .backspace
        case tab: return .tab
        case 0x01...0x1A:
            guard let scalar = Unicode.Scalar(value + 0x60) else { return nil }
            return .control(Character(scalar))
        default:
            guard value >= 0x20, let scalar = Unicode.Scalar(value) else { return nil }
            return .character(Character(scalar))
        }
    }
}
