//! Ctrl-C and SIGTERM. The first one cancels cooperatively: the current task
//! stops (a running qemu-img is killed) and everything done is reverted,
//! printed as it happens. A second Ctrl-C stops at once: every step that
//! worked outside the store is recorded (steps that only wrote the store
//! commit together and may run again), so the flow is left to resume or
//! roll back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};
use std::time::Duration;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use super::console;
use crate::backends::qemu_img;
use crate::flow::CancelToken;

static HITS: AtomicUsize = AtomicUsize::new(0);
/// The last signal received.
static LAST: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
static INSTALL: Once = Once::new();
static TOKEN: OnceLock<CancelToken> = OnceLock::new();

extern "C" fn on_signal(sig: libc::c_int) {
    // Async-signal-safe: atomic stores, nothing else.
    LAST.store(sig, Ordering::SeqCst);
    HITS.fetch_add(1, Ordering::SeqCst);
}

/// Who cancelled, in words: `you` for Ctrl-C, else the signal.
pub fn canceller() -> &'static str {
    match LAST.load(Ordering::SeqCst) {
        libc::SIGTERM => "SIGTERM",
        _ => "you",
    }
}

/// Exit code of an immediate stop: the flow is left resumable.
pub const STOPPED: i32 = 7;

/// The process's cancellation token; the first call routes SIGINT and
/// SIGTERM to it.
pub fn cancel_token(quiet: bool) -> CancelToken {
    let token = TOKEN.get_or_init(CancelToken::new).clone();
    let cancel = token.clone();
    INSTALL.call_once(move || {
        let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
        // SAFETY: the handler only touches an atomic.
        unsafe {
            let _ = sigaction(Signal::SIGINT, &action);
            let _ = sigaction(Signal::SIGTERM, &action);
        }
        std::thread::spawn(move || {
            let mut seen = 0;
            loop {
                std::thread::sleep(Duration::from_millis(10));
                let n = HITS.load(Ordering::SeqCst);
                if n == seen {
                    continue;
                }
                seen = n;
                if n == 1 {
                    cancel.cancel();
                    if !quiet {
                        console::note_after_interrupt(&format!(
                            "cancelled by {}: stopping, then undoing what was done \
                             (Ctrl-C again: stop at once, resume later)",
                            canceller()
                        ));
                    }
                } else {
                    qemu_img::kill_running();
                    console::clear_bars();
                    console::note_after_interrupt(
                        "stopped at once; the flow is recorded: `volctl resume --all` \
                         continues it, `volctl rollback VOLUME` undoes it (`volctl flow list` shows it)",
                    );
                    std::process::exit(STOPPED);
                }
            }
        });
    });
    token
}
