//! The console listener: one line per task as it finishes, every revert as
//! it happens, on stderr; progress bars only on a terminal.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;

use crate::flow::{AtomEvent, AtomKind, AtomState, FlowEvent, FlowState, Listener, ProgressEvent};

/// Prints flow progress for a person.
pub struct Console {
    tty: bool,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Console {
    /// A console on stderr.
    pub fn new() -> Self {
        Console {
            tty: std::io::stderr().is_terminal(),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn line(&self, text: &str) {
        let bars = self.bars.lock();
        if let Some(bar) = bars.values().next() {
            bar.println(text);
        } else {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
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

impl Listener for Console {
    fn flow_changed(&self, e: &FlowEvent<'_>) {
        let label = flow_label(e.flow_name);
        match e.state {
            FlowState::Reverting => {
                let why = e
                    .failures
                    .first()
                    .map(|f| f.message.as_str())
                    .unwrap_or("?");
                let why = why.lines().next().unwrap_or(why);
                self.line(&format!("{label:<12} reverting: {why}"));
            }
            FlowState::RevertFailed => {
                let rf = e.revert_failure.map(|f| f.message.as_str()).unwrap_or("?");
                self.line(&format!(
                    "{label:<12} REVERT FAILED: {rf} (flow {} is left to resume or roll back)",
                    e.flow_id
                ));
            }
            _ => {}
        }
    }

    fn atom_changed(&self, e: &AtomEvent<'_>) {
        let label = flow_label(e.flow_name);
        let took = e.elapsed.map(human_duration).unwrap_or_default();
        let text = match (e.kind, e.state) {
            (AtomKind::Task, AtomState::Success) => {
                format!(
                    "{label:<12} {:<28} {took:>9}  {}",
                    e.atom,
                    e.summary.unwrap_or("")
                )
            }
            (AtomKind::Task, AtomState::Failure) => {
                let msg = e.failure.map(|f| f.message.as_str()).unwrap_or("?");
                format!(
                    "{label:<12} {:<28} {took:>9}  FAILED: {}",
                    e.atom,
                    msg.lines().next().unwrap_or(msg)
                )
            }
            (AtomKind::Task, AtomState::Reverted) => {
                format!("{label:<12} {:<28} {took:>9}  reverted", e.atom)
            }
            (_, AtomState::RevertFailed) => {
                let msg = e.failure.map(|f| f.message.as_str()).unwrap_or("?");
                format!("{label:<12} {:<28} {took:>9}  REVERT FAILED: {msg}", e.atom)
            }
            (AtomKind::Retry, AtomState::Running) if e.failure.is_some() => format!(
                "{label:<12} {:<28} retrying (attempt {}): {}",
                e.atom,
                e.attempt + 1,
                e.failure.map(|f| f.message.as_str()).unwrap_or("")
            ),
            _ => return,
        };
        if matches!(e.state, AtomState::Success | AtomState::Failure)
            && let Some(bar) = self.bars.lock().remove(e.atom)
        {
            bar.finish_and_clear();
        }
        self.line(&text);
    }

    fn progress(&self, e: &ProgressEvent<'_>) {
        if !self.tty || e.total == 0 {
            return;
        }
        let mut bars = self.bars.lock();
        let bar = bars.entry(e.atom.to_string()).or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(e.total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:<38} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(e.atom.to_string());
            bar
        });
        bar.set_length(e.total);
        bar.set_position(e.done);
    }
}
