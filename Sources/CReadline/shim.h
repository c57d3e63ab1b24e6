// GNU readline and its history library, for the REPL's line editing. readline.h uses FILE
// without including stdio.h, so it comes first.
#include <stdio.h>
#include <unistd.h>
#include <wchar.h>
#include <readline/readline.h>
#include <readline/history.h>

// readline is configured through global variables. Swift 6 refuses to touch imported
// mutable globals from Swift (they are shared mutable state to it), so these accessors are
// the one place they are read and written; the REPL calls them from its one thread.

static inline void gantry_rl_configure(const char *name, rl_completion_func_t *complete) {
    rl_readline_name = name;
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_attempted_completion_function = complete;
}

/// Called from the completion function: no fallback to readline's file names (those would
/// be the host's), and what to append after a single match (0: nothing, for a directory).
static inline void gantry_rl_completion_settings(int append_character) {
    rl_attempted_completion_over = 1;
    rl_completion_append_character = append_character;
}

static inline const char *gantry_rl_line_buffer(void) { return rl_line_buffer; }

/// The most recent history entry, or NULL.
static inline const char *gantry_last_history_line(void) {
    HIST_ENTRY *entry = history_get(history_base + history_length - 1);
    return entry ? entry->line : NULL;
}

static inline int gantry_history_length(void) { return history_length; }

/// Drops the line being typed and draws a fresh prompt on the next line (Ctrl-C).
static inline void gantry_rl_drop_line(void) {
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_replace_line("", 0);
    rl_crlf();
    rl_on_new_line();
    rl_redisplay();
}

/// Clears the prompt and the half-typed line so text can be printed in their place (the
/// Swift side writes it, with POSIX.writeAll), and `gantry_rl_redraw` draws them again.
static inline void gantry_rl_clear_for_print(void) {
    rl_clear_visible_line();
    fflush(rl_outstream);
}

static inline void gantry_rl_redraw(void) {
    rl_on_new_line();
    rl_redisplay();
}

