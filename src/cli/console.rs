//! The console listener, on stderr. By default a person sees the steps
//! they care about (each task's [headline](crate::flow::Task::headline)),
//! one progress bar per phase of a long copy, and every revert in words;
//! with `-v`, every task with its time and output.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;

use super::style::{self, Tone};
use crate::flow::{
    AtomEvent, AtomKind, AtomState, Failure, FlowEvent, FlowState, Listener, ProgressEvent,
};

/// How much the console shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// The steps a person cares about, progress and reverts.
    Steps,
    /// Every task, with its time and output (`-v`).
    Tasks,
}

/// The bars of this process, drawn together; notes print above them.
fn drawn() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(|| {
        MultiProgress::with_draw_target(ProgressDrawTarget::term_like_with_hz(
            Box::new(Margin(console::Term::stderr())),
            20,
        ))
    })
}

/// stderr's terminal, said to be two columns narrower than it is. indicatif
/// pads every bar line to the terminal's width; the `^C` a Ctrl-C echoes
/// after a full-width line wraps onto a line of its own, and indicatif,
/// counting one line fewer, would then leave the bar on screen when it
/// clears it.
#[derive(Debug)]
struct Margin(console::Term);

impl indicatif::TermLike for Margin {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(2).max(20)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Prints a line for people on stderr, above any progress bars (which are
/// redrawn below it).
pub fn note(text: &str) {
    drawn().suspend(|| {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    });
}

/// Prints a line after a Ctrl-C: the terminal echoed `^C` where the cursor
/// was, so the line starts over rather than after it.
pub fn note_after_interrupt(text: &str) {
    drawn().suspend(|| {
        let mut err = std::io::stderr().lock();
        if std::io::stderr().is_terminal() {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{text}");
    });
}

/// Clears every bar (on error, on Ctrl-C, at exit) so none stays on screen.
pub fn clear_bars() {
    let _ = drawn().clear();
}

/// One progress bar: what it measures and when it started.
struct Bar {
    bar: ProgressBar,
    label: String,
    started: Instant,
    detailed: bool,
}

/// Prints flow progress for a person.
pub struct Console {
    detail: Detail,
    tty: bool,
    bars: Mutex<HashMap<String, Bar>>,
}

/// Whether "undoing what was done" was said (once per process).
static UNDOING_SAID: AtomicBool = AtomicBool::new(false);

/// Whether anything was undone (and said) in this process.
pub fn undid_something() -> bool {
    UNDOING_SAID.load(Ordering::SeqCst)
}

/// Tells a person something was undone: under one heading, the first time.
pub fn undone(words: &str) {
    if !UNDOING_SAID.swap(true, Ordering::SeqCst) {
        note(&style::paint(Tone::Warn, "undoing what was done:"));
    }
    note(&format!("  {}", style::paint(Tone::Warn, words)));
}

impl Console {
    /// A console on stderr.
    pub fn new(detail: Detail) -> Self {
        Console {
            detail,
            tty: std::io::stderr().is_terminal(),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn finish_bars_of(&self, flow_id: &str, atom: &str) {
        finish_bars(&mut self.bars.lock(), flow_id, atom);
    }
}

/// Clears and forgets the bars of one task (all its phases).
fn finish_bars(bars: &mut HashMap<String, Bar>, flow_id: &str, atom: &str) {
    let prefix = format!("{flow_id}/{atom}/");
    bars.retain(|key, b| {
        let mine = key.starts_with(&prefix);
        if mine {
            b.bar.finish_and_clear();
            bars_remove(&b.bar);
        }
        !mine
    });
}

fn bars_remove(bar: &ProgressBar) {
    drawn().remove(bar);
}

/// `volume_create_manager` → `manager`, `volume_delete` → `delete`.
pub fn flow_label(name: &str) -> &str {
    name.strip_prefix("volume_create_")
        .or_else(|| name.strip_prefix("volume_"))
        .unwrap_or(name)
}

/// A duration for people: `0.42 ms`, `12.3 ms`, `1.25 s`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// The first line of a failure's message.
fn first_line(f: Option<&Failure>) -> &str {
    let msg = f.map(|f| f.message.as_str()).unwrap_or("?");
    msg.lines().next().unwrap_or(msg)
}

/// Why a flow reverts, in a person's words.
fn why_reverting(failures: &[Failure]) -> String {
    match failures.first() {
        Some(f) if f.is(Failure::CANCELLED) => "cancelled by you".to_string(),
        f => first_line(f).to_string(),
    }
}

impl Listener for Console {
    fn flow_changed(&self, e: &FlowEvent<'_>) {
        let label = flow_label(e.flow_name);
        match e.state {
            FlowState::Reverting if self.detail == Detail::Tasks => {
                let why = why_reverting(e.failures);
                note(&format!(
                    "{} {}",
                    style::pad(label, 12),
                    style::paint(Tone::Warn, &format!("reverting: {why}"))
                ));
            }
            FlowState::RevertFailed => {
                clear_bars();
                note(&format!(
                    "{} {} (flow {} is left to resume or roll back)",
                    style::paint(Tone::Bad, "REVERT FAILED:"),
                    first_line(e.revert_failure),
                    e.flow_id
                ));
            }
            _ => {}
        }
    }

    fn atom_changed(&self, e: &AtomEvent<'_>) {
        if matches!(
            e.state,
            AtomState::Success | AtomState::Failure | AtomState::Reverted | AtomState::RevertFailed
        ) {
            self.finish_bars_of(e.flow_id, e.atom);
        }
        let text = match self.detail {
            Detail::Steps => steps_line(e),
            Detail::Tasks => tasks_line(e),
        };
        if let Some(text) = text {
            note(&text);
        }
    }

    fn progress(&self, e: &ProgressEvent<'_>) {
        // A task's own count of steps (no phase) is detail, for `-v`.
        if !self.tty || e.total == 0 || (e.phase.is_empty() && self.detail == Detail::Steps) {
            return;
        }
        let key = format!("{}/{}/{}", e.flow_id, e.atom, e.phase);
        let mut bars = self.bars.lock();
        if !bars.contains_key(&key) {
            // A new phase of the same task ends the one before.
            finish_bars(&mut bars, e.flow_id, e.atom);
            let label = match (e.phase, self.detail) {
                ("", _) => e.atom.to_string(),
                (phase, Detail::Steps) => phase.to_string(),
                (phase, Detail::Tasks) => format!("{:<12} {phase}", flow_label(e.flow_name)),
            };
            let bar = drawn().add(ProgressBar::new(e.total));
            bar.set_style(bar_style(&label, !e.phase.is_empty(), false));
            bar.set_message(label.clone());
            bars.insert(
                key.clone(),
                Bar {
                    bar,
                    label,
                    started: Instant::now(),
                    detailed: false,
                },
            );
        }
        let Some(b) = bars.get_mut(&key) else {
            return;
        };
        // A rate and an ETA only once they mean something: a second in,
        // with something done and something left.
        if !b.detailed
            && !e.phase.is_empty()
            && b.started.elapsed() >= Duration::from_secs(1)
            && e.done > 0
            && e.done < e.total
            && bar_width(&b.label, true).is_some()
        {
            b.bar.set_style(bar_style(&b.label, true, true));
            b.detailed = true;
        }
        b.bar.set_length(e.total);
        b.bar.set_position(e.done);
    }
}

/// A bar's look: bytes or counts; with a rate and an ETA, or not yet. The
/// line fits the terminal with a margin: a line that filled it would make
/// the `^C` a Ctrl-C echoes wrap onto a line of its own, and the bar could
/// no longer be cleared.
fn bar_style(label: &str, bytes: bool, rate: bool) -> ProgressStyle {
    let width = bar_width(label, rate).unwrap_or(10);
    let template = match (bytes, rate) {
        (true, true) => format!(
            "{{msg}} [{{bar:{width}}}] {{binary_bytes}}/{{binary_total_bytes}} {{binary_bytes_per_sec}} ETA {{eta}}"
        ),
        (true, false) => {
            format!("{{msg}} [{{bar:{width}}}] {{binary_bytes}}/{{binary_total_bytes}}")
        }
        (false, _) => format!("{{msg}} [{{bar:{width}}}] {{pos}}/{{len}}"),
    };
    ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// How many cells the bar itself gets on this terminal next to `label` and
/// the figures (with the rate and ETA if `rate`); `None` if fewer than 10
/// would be left.
fn bar_width(label: &str, rate: bool) -> Option<usize> {
    let columns = console::Term::stderr()
        .size_checked()
        .map_or(80, |(_, cols)| usize::from(cols));
    // `[`, `]`, the figures (`1023.99 MiB/1023.99 MiB`), the rate and ETA
    // (` 1023.99 MiB/s ETA 59m`), and the margin.
    let rest = 4 + 23 + if rate { 22 } else { 0 } + 4;
    let width = columns.checked_sub(style::width(label) + rest)?;
    (width >= 10).then_some(width.min(60))
}

/// The default display: headlines, reschedules and reverts in words.
fn steps_line(e: &AtomEvent<'_>) -> Option<String> {
    match (e.kind, e.state) {
        (AtomKind::Task, AtomState::Success) => e.headline.map(|h| match h {
            "available" => style::paint(Tone::Good, h),
            h => h.to_string(),
        }),
        (AtomKind::Task, AtomState::Reverted) => {
            // The error itself is the command's last line.
            undone(e.headline?);
            None
        }
        (_, AtomState::RevertFailed) => Some(format!(
            "  {} {}: {}",
            style::paint(Tone::Bad, "REVERT FAILED"),
            e.atom,
            first_line(e.failure)
        )),
        (AtomKind::Retry, AtomState::Running) if e.failure.is_some() => Some(format!(
            "{} (attempt {}): {}",
            style::paint(Tone::Warn, "retrying"),
            e.attempt + 1,
            first_line(e.failure)
        )),
        _ => None,
    }
}

/// The detailed display (`-v`): every task, its time and its output.
fn tasks_line(e: &AtomEvent<'_>) -> Option<String> {
    let label = style::pad(flow_label(e.flow_name), 12);
    let atom = style::pad(e.atom, 28);
    let took = e.elapsed.map(human_duration).unwrap_or_default();
    let took = style::paint(Tone::Dim, &format!("{took:>9}"));
    Some(match (e.kind, e.state) {
        (AtomKind::Task, AtomState::Success) => {
            format!("{label} {atom} {took}  {}", e.summary.unwrap_or(""))
        }
        (AtomKind::Task, AtomState::Failure) => format!(
            "{label} {atom} {took}  {} {}",
            style::paint(Tone::Bad, "FAILED:"),
            first_line(e.failure)
        ),
        (AtomKind::Task, AtomState::Reverted) => {
            UNDOING_SAID.store(true, Ordering::SeqCst);
            match e.headline {
                Some(words) => format!(
                    "{label} {atom} {took}  {}: {words}",
                    style::paint(Tone::Warn, "reverted")
                ),
                None => format!(
                    "{label} {atom} {took}  {}",
                    style::paint(Tone::Warn, "reverted")
                ),
            }
        }
        (_, AtomState::RevertFailed) => format!(
            "{label} {atom} {took}  {} {}",
            style::paint(Tone::Bad, "REVERT FAILED:"),
            first_line(e.failure)
        ),
        (AtomKind::Retry, AtomState::Running) if e.failure.is_some() => format!(
            "{label} {atom} {} (attempt {}): {}",
            style::paint(Tone::Warn, "retrying"),
            e.attempt + 1,
            first_line(e.failure)
        ),
        _ => return None,
    })
}
