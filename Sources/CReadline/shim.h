// GNU readline and its history library, for the REPL's line editing. readline.h uses FILE
// without including stdio.h, so it comes first.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <readline/readline.h>
#include <readline/history.h>

// readline is configured through global variables. Swift 6 refuses to touch imported
// mutable globals from Swift (they are shared mutable state to it), so these accessors are
// the one place they are read and written; the REPL calls them from its one thread.

/// Lists Tab's matches as a shell does: a path by its last component (`cpu/  cpuacct/`, not
/// `/sys/fs/cgroup/cpu/  /sys/fs/cgroup/cpuacct/`). readline shortens them itself only when
/// told the matches are file names, and then it looks them up on the host's file system to
/// decorate them; these are the lab's.
static inline void gantry_rl_display_matches(char **matches, int count, int longest) {
    (void)longest;
    char **shown = (char **)malloc((size_t)(count + 2) * sizeof(char *));
    if (shown == NULL) return;
    shown[0] = matches[0];
    int widest = 0;
    for (int index = 1; index <= count; index++) {
        char *match = matches[index];
        size_t length = strlen(match);
        char *start = match + length;
        if (length > 0 && start[-1] == '/') start--;
        while (start > match && start[-1] != '/') start--;
        shown[index] = start;
        int width = (int)strlen(start);
        if (width > widest) widest = width;
    }
    shown[count + 1] = NULL;
    rl_display_match_list(shown, count, widest);
    rl_forced_update_display();
    free(shown);
}

static inline void gantry_rl_configure(const char *name, rl_completion_func_t *complete) {
    rl_readline_name = name;
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_attempted_completion_function = complete;
    rl_completion_display_matches_hook = gantry_rl_display_matches;
}

/// Called from the completion function: no fallback to readline's file names (those would
/// be the host's), and what to append after a single match (0: nothing, for a directory).
static inline void gantry_rl_completion_settings(int append_character) {
    rl_attempted_completion_over = 1;
    rl_completion_append_character = append_character;
}

/// Forgets a Ctrl-D seen at an earlier prompt. readline sets rl_eof_found on EOF and, in
/// the callback interface, never clears it; while set, every accepted line is followed by
/// an extra newline (rl_deprep_terminal prints one after ending bracketed paste).
static inline void gantry_rl_forget_eof(void) { rl_eof_found = 0; }

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

