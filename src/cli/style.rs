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

/// Whether stderr, and stdout, are coloured.
static ERR: AtomicBool = AtomicBool::new(false);
static OUT: AtomicBool = AtomicBool::new(false);

impl ColorChoice {
    /// The choice the command line makes, read before clap parses it (so
    /// that clap's own messages follow it too): the last `--color WHEN` or
    /// `--color=WHEN`, else `auto`.
    pub fn from_args(args: &[std::ffi::OsString]) -> ColorChoice {
        let mut choice = ColorChoice::Auto;
        let mut next_is_value = false;
        for a in args.iter().filter_map(|a| a.to_str()) {
            let value = match a.strip_prefix("--color=") {
                Some(v) => Some(v),
                None if next_is_value => Some(a),
                None => None,
            };
            next_is_value = a == "--color";
            if let Some(v) = value.and_then(|v| ColorChoice::from_str(v, true).ok()) {
                choice = v;
            }
        }
        choice
    }

    /// Whether a stream that `is_terminal` is coloured.
    fn colours(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && is_terminal
            }
        }
    }

    /// The same choice for clap's own messages.
    pub fn for_clap(self) -> clap::ColorChoice {
        match self {
            ColorChoice::Always => clap::ColorChoice::Always,
            ColorChoice::Never => clap::ColorChoice::Never,
            ColorChoice::Auto if self.colours(std::io::stderr().is_terminal()) => {
                clap::ColorChoice::Auto
            }
            ColorChoice::Auto => clap::ColorChoice::Never,
        }
    }
}

/// Decides once, at start, whether this process colours what it writes to
/// stderr and to stdout (each: a terminal, unless `NO_COLOR`).
pub fn init(choice: ColorChoice) {
    ERR.store(
        choice.colours(std::io::stderr().is_terminal()),
        Ordering::Relaxed,
    );
    OUT.store(
        choice.colours(std::io::stdout().is_terminal()),
        Ordering::Relaxed,
    );
}

/// Whether stderr is coloured.
pub fn enabled() -> bool {
    ERR.load(Ordering::Relaxed)
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

/// `text` in the colour of `tone`, for stderr, when it is coloured.
pub fn paint(tone: Tone, text: &str) -> String {
    paint_if(enabled(), tone, text)
}

/// `text` in the colour of `tone`, for stdout (results, tables), when it is
/// coloured: a pipe gets plain text.
pub fn paint_out(tone: Tone, text: &str) -> String {
    paint_if(OUT.load(Ordering::Relaxed), tone, text)
}

fn paint_if(on: bool, tone: Tone, text: &str) -> String {
    if !on || text.is_empty() {
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

/// A state word, coloured by [`tone_of_state`], for stdout.
pub fn state(word: &str) -> String {
    match tone_of_state(word) {
        Some(t) => paint_out(t, word),
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
