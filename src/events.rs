//! Event sinks. Events are written to the store inside the transactions
//! that cause them, so a rolled-back step emits nothing. After a command,
//! events not yet delivered go to the configured sinks — appended as JSON
//! lines to a file, and/or piped as JSON lines to a command — one process at
//! a time (a lock), each sink with its own cursor in the store. Delivery is
//! at least once: a crash between delivering and moving the cursor repeats
//! events, which carry their `id` for deduplication.

use std::io::Write;
use std::process::{Command, Stdio};

use rusqlite::OptionalExtension;

use crate::error::{Error, Result};
use crate::flow::CancelToken;
use crate::locks::FileLock;
use crate::service::Service;
use crate::store::events::{self, Event};

fn cursor(svc: &Service, sink: &str) -> Result<i64> {
    Ok(svc
        .store
        .db()
        .lock()
        .prepare_cached("SELECT last_id FROM event_cursors WHERE sink = ?1")?
        .query_row([sink], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

fn advance(svc: &Service, sink: &str, last: i64) -> Result<()> {
    svc.store
        .db()
        .lock()
        .prepare_cached(
            "INSERT INTO event_cursors (sink, last_id) VALUES (?1, ?2)
             ON CONFLICT (sink) DO UPDATE SET last_id = excluded.last_id",
        )?
        .execute(rusqlite::params![sink, last])?;
    Ok(())
}

fn lines(evs: &[Event]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for e in evs {
        serde_json::to_writer(&mut out, e)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// Delivers undelivered events to the configured sinks. Cheap when none is
/// configured.
pub fn dispatch(svc: &Service) -> Result<()> {
    let cfg = &svc.config.events;
    if cfg.jsonl.is_none() && cfg.exec.is_none() {
        return Ok(());
    }
    let lock_path = svc.store.dir().join("locks").join("events.lock");
    let _lock = FileLock::lock(&lock_path, &CancelToken::new())
        .map_err(|e| Error::internal(format!("events lock: {e}")))?;
    if let Some(path) = &cfg.jsonl {
        let evs = events::list(&svc.store.db().lock(), cursor(svc, "jsonl")?, None)?;
        if let Some(last) = evs.last() {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::invalid(format!("[events] jsonl {}: {e}", path.display())))?;
            f.write_all(&lines(&evs)?)
                .and_then(|()| f.sync_data())
                .map_err(|e| Error::internal(format!("[events] jsonl {}: {e}", path.display())))?;
            advance(svc, "jsonl", last.id)?;
        }
    }
    if let Some(cmd) = &cfg.exec {
        let evs = events::list(&svc.store.db().lock(), cursor(svc, "exec")?, None)?;
        if let Some(last) = evs.last() {
            let mut child = Command::new("sh")
                .args(["-c", cmd])
                .stdin(Stdio::piped())
                .spawn()
                .map_err(|e| Error::invalid(format!("[events] exec `{cmd}`: {e}")))?;
            let wrote = child
                .stdin
                .take()
                .map(|mut i| i.write_all(&lines(&evs)?).map_err(Error::from_io))
                .transpose();
            let status = child
                .wait()
                .map_err(|e| Error::internal(format!("[events] exec `{cmd}`: {e}")))?;
            wrote?;
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
