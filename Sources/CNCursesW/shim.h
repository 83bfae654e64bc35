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
#endif
