import CNCursesW

/// Facts about the ncursesw library svmdbg was linked against.
public enum CursesLibrary {
    /// The library's own version string, e.g. `ncurses 6.4.20230625`.
    public static var version: String { String(cString: curses_version()) }
}
