//! Event sinks. Events are written to the store inside the transactions
//! that cause them, so a rolled-back step emits nothing. After a command,
//! events not yet delivered go to the configured sinks — appended as JSON
//! lines to a file, and/or piped as JSON lines to a command — one process at
//! a time (a lock), each sink with its own cursor in the store. Delivery is
//! at least once: a crash between delivering and moving the cursor repeats
//! events, which carry their `id` for deduplication.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::flow::CancelToken;
use crate::locks::FileLock;
use crate::service::Service;
use crate::store::events::{self, EventRecord as Event};

fn cursor(svc: &Service, sink: &str) -> Result<i64> {
    events::cursor(&svc.store.db().lock(), sink)
}

fn advance(svc: &Service, sink: &str, last: i64) -> Result<()> {
    events::set_cursor(&svc.store.db().lock(), sink, last)
}

fn lines(evs: &[Event]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for e in evs {
        serde_json::to_writer(&mut out, e)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The lowest event id every configured sink has received (events up to
/// it may be forgotten); `None` when no sink is configured.
pub fn lowest_cursor(svc: &Service, conn: &rusqlite::Connection) -> Result<Option<i64>> {
    let cfg = &svc.config.events;
    let sinks = [("jsonl", cfg.jsonl.is_some()), ("exec", cfg.exec.is_some())];
    let mut lowest = None;
    for (sink, configured) in sinks {
        if configured {
            let c = events::cursor(conn, sink)?;
            lowest = Some(lowest.map_or(c, |l: i64| l.min(c)));
        }
    }
    Ok(lowest)
}

/// Delivers undelivered events to the configured sinks. Cheap when none is
/// configured.
pub fn dispatch(svc: &Service) -> Result<()> {
    let cfg = &svc.config.events;
    if cfg.jsonl.is_none() && cfg.exec.is_none() {
        return Ok(());
    }
    let lock_path = svc.store.dir().join("locks").join("events.lock");
    // Another process delivering (or a hung one) must not stall this one.
    let _lock = FileLock::lock_for(
        &lock_path,
        &CancelToken::new(),
        Some(Duration::from_secs(5)),
    )
    .map_err(|e| Error::internal(format!("events lock: {e}; they will be delivered later")))?;
    if let Some(path) = &cfg.jsonl {
        let evs = events::list(&svc.store.db().lock(), cursor(svc, "jsonl")?, None)?;
        if let Some(last) = evs.last() {
            let mut f = crate::trust::open_append(path, "[events] jsonl")?;
            f.write_all(&lines(&evs)?)
                .and_then(|()| f.sync_data())
                .map_err(|e| Error::internal(format!("[events] jsonl {}: {e}", path.display())))?;
            advance(svc, "jsonl", last.id)?;
        }
    }
    if let Some(cmd) = &cfg.exec {
        let evs = events::list(&svc.store.db().lock(), cursor(svc, "exec")?, None)?;
        if let Some(last) = evs.last() {
            let timeout = Duration::from_secs(cfg.exec_timeout_seconds);
            let status = run_sink(cmd, lines(&evs)?, timeout)?;
            if !status.success() {
                return Err(Error::internal(format!(
                    "[events] exec `{cmd}` failed ({status}); its events will be sent again"
                )));
            }
            advance(svc, "exec", last.id)?;
        }
    }
    Ok(())
}

/// Runs the exec sink with `input` on its stdin, for at most `timeout`: a
/// hung command is killed (its whole process group) rather than blocking
/// every volctl command. Its stdout goes to volctl's stderr: a script's
/// stdout carries volctl's result only.
fn run_sink(cmd: &str, input: Vec<u8>, timeout: Duration) -> Result<ExitStatus> {
    use std::os::fd::AsFd;
    let err = |e: std::io::Error| Error::invalid(format!("[events] exec `{cmd}`: {e}"));
    let stderr = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(err)?;
    let mut child = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::piped())
        .stdout(Stdio::from(stderr))
        .process_group(0)
        .spawn()
        .map_err(err)?;
    let pgid = child.id() as i32;
    // A writer thread: a command that never reads must not block us here.
    let stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(mut i) = stdin {
            let _ = i.write_all(&input);
        }
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(err)? {
            // Not joined: a grandchild holding the pipe open without reading
            // would block it forever; the process exits soon anyway.
            drop(writer);
            return Ok(status);
        }
        if start.elapsed() >= timeout {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.wait();
            return Err(Error::internal(format!(
                "[events] exec `{cmd}` did not finish within {} s and was killed; its events will be sent again",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
