//! Colour for people: states and verdicts on a terminal, never in a pipe,
//! never when `NO_COLOR` is set (unless `--color always`).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::ValueEnum;

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always, even in a pipe.
    Always,
    /// Never.
    Never,
}

static ON: AtomicBool = AtomicBool::new(false);

/// Decides once, at start, whether this process colours its output.
pub fn init(choice: ColorChoice) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    ON.store(on, Ordering::Relaxed);
}

/// Whether output is coloured.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// What a piece of text means, which decides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Done, healthy: `available`, `ok`.
    Good,
    /// Undone or needing attention: `reverted`, warnings.
    Warn,
    /// Failed: `FAILED`, `rejected`, `error`.
    Bad,
    /// Secondary detail: timings, ids.
    Dim,
}

/// `text` in the colour of `tone`, when colour is on.
pub fn paint(tone: Tone, text: &str) -> String {
    if !enabled() || text.is_empty() {
        return text.to_string();
    }
    let code = match tone {
        Tone::Good => "32",
        Tone::Warn => "33",
        Tone::Bad => "1;31",
        Tone::Dim => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The tone of a volume, snapshot or flow state word, if it has one.
pub fn tone_of_state(state: &str) -> Option<Tone> {
    match state {
        "available" | "in-use" | "success" | "ok" | "ready" => Some(Tone::Good),
        "error" | "failure" | "revert_failed" | "error_deleting" | "error_extending"
        | "error_restoring" | "rejected" => Some(Tone::Bad),
        "reverted" | "reverting" | "creating" | "deleting" | "downloading" | "running"
        | "pending" | "extending" | "attaching" | "detaching" | "migrating" => Some(Tone::Warn),
        _ => None,
    }
}

/// A state word, coloured by [`tone_of_state`].
pub fn state(word: &str) -> String {
    match tone_of_state(word) {
        Some(t) => paint(t, word),
        None => word.to_string(),
    }
}

/// The width `text` takes on a terminal: wide characters count two, colour
/// codes nothing.
pub fn width(text: &str) -> usize {
    let mut w = 0;
    let mut rest = text;
    while let Some(start) = rest.find('\x1b') {
        w += unicode_width::UnicodeWidthStr::width(&rest[..start]);
        rest = &rest[start..];
        rest = match rest.find('m') {
            Some(end) => &rest[end + 1..],
            None => "",
        };
    }
    w + unicode_width::UnicodeWidthStr::width(rest)
}

/// `text` padded with spaces to `w` terminal cells.
pub fn pad(text: &str, w: usize) -> String {
    let have = width(text);
    format!("{text}{}", " ".repeat(w.saturating_sub(have)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cells_not_chars_or_escapes() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("データ"), 6);
        assert_eq!(width("\x1b[32mok\x1b[0m"), 2);
        assert_eq!(pad("データ", 8), "データ  ");
    }
}
