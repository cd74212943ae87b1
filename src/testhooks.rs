//! Test-only switches, compiled in only with the `test-hooks` feature (which
//! the test suite turns on): at a named point of a flow — `flow/atom/state`,
//! `flow/state`, or `flow/atom/progress` in the middle of a copy — the
//! process can record the point, stop dead (`abort()`: no unwinding, no
//! destructors, like `kill -9`), or pause until released.
//!
//! - `VOLCTL_TRACE_POINTS=FILE`: append every point passed to FILE.
//! - `VOLCTL_CRASH_AT=POINT`: abort when reaching POINT.
//! - `VOLCTL_PAUSE_AT=POINT` with `VOLCTL_PAUSE_FILE=FILE`: the first time
//!   POINT is reached, create FILE and wait until someone removes it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::flow::{AtomEvent, FlowEvent, Listener, ProgressEvent};

/// The listener that implements the switches.
pub struct Hooks;

static PAUSED: AtomicBool = AtomicBool::new(false);

fn point(p: &str) {
    if let Some(file) = std::env::var_os("VOLCTL_TRACE_POINTS")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
    {
        let _ = writeln!(f, "{p}");
    }
    if std::env::var("VOLCTL_CRASH_AT").is_ok_and(|c| c == p) {
        eprintln!("test hook: crashing at {p}");
        std::process::abort();
    }
    if std::env::var("VOLCTL_PAUSE_AT").is_ok_and(|c| c == p)
        && let Some(file) = std::env::var_os("VOLCTL_PAUSE_FILE")
        && !PAUSED.swap(true, Ordering::SeqCst)
    {
        let _ = std::fs::write(&file, p);
        while std::path::Path::new(&file).exists() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Listener for Hooks {
    fn flow_changed(&self, e: &FlowEvent<'_>) {
        point(&format!("{}/{}", e.flow_name, e.state));
    }
    fn atom_changed(&self, e: &AtomEvent<'_>) {
        point(&format!("{}/{}/{}", e.flow_name, e.atom, e.state));
    }
    fn progress(&self, e: &ProgressEvent<'_>) {
        if e.done > 0 && e.done < e.total && !e.reverting {
            point(&format!("{}/{}/progress", e.flow_name, e.atom));
        }
    }
}
