//! Where a command's milliseconds go: named marks, printed to stderr at exit
//! when `VOLCTL_TIMINGS=1` is set (used by `benches/floor.sh`).
//!
//! Off by default and then costs one relaxed load per mark: the first mark
//! reads the environment once.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

struct Marks {
    start: Instant,
    marks: Mutex<Vec<(&'static str, Instant)>>,
}

fn marks() -> Option<&'static Marks> {
    static MARKS: OnceLock<Option<Marks>> = OnceLock::new();
    MARKS
        .get_or_init(|| {
            std::env::var_os("VOLCTL_TIMINGS")
                .is_some_and(|v| v == "1")
                .then(|| Marks {
                    start: Instant::now(),
                    marks: Mutex::new(Vec::new()),
                })
        })
        .as_ref()
}

/// Starts the clock (call first thing in `main`).
pub fn start() {
    let _ = marks();
}

/// Records that the step `what` has just ended.
pub fn mark(what: &'static str) {
    if let Some(m) = marks() {
        if let Ok(mut v) = m.marks.lock() {
            v.push((what, Instant::now()));
        }
    }
}

/// Prints each step's cost in microseconds, one `step<TAB>µs` line each,
/// then the total since [`start`].
pub fn report() {
    let Some(m) = marks() else { return };
    let Ok(v) = m.marks.lock() else { return };
    let mut last = m.start;
    for (what, at) in v.iter() {
        eprintln!("timing\t{what}\t{}", at.duration_since(last).as_micros());
        last = *at;
    }
    eprintln!(
        "timing\ttotal\t{}",
        last.duration_since(m.start).as_micros()
    );
}
