/* Shim for ncursesw. SwiftPM drops pkg-config's -D flags, so the wide-character
 * API must be switched on here. Function-like macros and globals Swift cannot
 * import (or that Swift 6 rejects as shared mutable state) get static inline
 * wrappers. See ../../../shared/reference/toolchain-notes.md §1 (not shipped). */
#ifndef CNCURSESW_SHIM_H
#define CNCURSESW_SHIM_H
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <stdio.h>
#include <ncursesw/curses.h>

static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline FILE *cn_stdout(void) { return stdout; }
static inline FILE *cn_stdin(void) { return stdin; }
static inline int cn_a_bold(void) { return (int)A_BOLD; }
static inline int cn_a_reverse(void) { return (int)A_REVERSE; }
static inline int cn_a_underline(void) { return (int)A_UNDERLINE; }
static inline int cn_a_dim(void) { return (int)A_DIM; }
static inline int cn_a_normal(void) { return (int)A_NORMAL; }

/* getmaxyx is a macro that assigns to its arguments. */
static inline void cn_getmaxyx(WINDOW *w, int *y, int *x) { getmaxyx(w, *y, *x); }
/* wattr_set may be a macro; attrs are A_* bits, pair a colour pair number (0 = default). */
static inline int cn_set_attributes(WINDOW *w, int attrs, short pair) {
    return wattr_set(w, (attr_t)attrs, pair, NULL);
}
/* Writes n wide characters at row y, column x (wide characters advance two columns). */
static inline int cn_put_wide(WINDOW *w, int y, int x, const wchar_t *text, int n) {
    return mvwaddnwstr(w, y, x, text, n);
}
/* The locale's character set name, e.g. "UTF-8" or "ANSI_X3.4-1968" (after setlocale). */
static inline const char *cn_codeset(void) { return nl_langinfo(CODESET); }
/* Mouse: report button 1 presses and the wheel (buttons 4 and 5); 0 turns reporting off.
 * The masks are function-like macros, hence the wrappers. Returns the mask granted. */
static inline unsigned long cn_mouse_enable(int on) {
    mmask_t old = 0;
    mmask_t want = on ? (BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED) : 0;
    mouseinterval(0);
    return (unsigned long)mousemask(want, &old);
}
/* The key code ncurses returns for a mouse event. */
static inline int cn_key_mouse(void) { return KEY_MOUSE; }
/* Reads the pending mouse event: kind 1 click, 2 wheel up, 3 wheel down, 0 other; -1 none. */
static inline int cn_get_mouse(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return -1;
    *x = event.x;
    *y = event.y;
    if (event.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    if (event.bstate & BUTTON4_PRESSED) return 2;
    if (event.bstate & BUTTON5_PRESSED) return 3;
    return 0;
}
#endif
