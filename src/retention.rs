//! Retention: finished flows (with their atoms) and delivered events are
//! forgotten once older than `[retention]` says (7 days by default), so
//! the store does not grow with history. After each command a bounded
//! batch goes (cheap: an index lookup when there is nothing to do);
//! `volctl flow prune` forgets everything past the age at once.
//!
//! Kept whatever their age: unfinished flows (they may be resumed or
//! rolled back), finished flows whose parent (an `apply`) is unfinished
//! (its rollback reads them), and events a configured sink has not
//! received yet, and reconciliation's decisions about unfinished flows.

use std::time::{Duration, SystemTime};

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::Result;
use crate::flow::Micros;
use crate::service::Service;

/// How much one command prunes after it ran: bounded, so no command pays
/// for a long history at once.
pub const BATCH: usize = 100;

/// What a prune forgot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// Finished flows (and their atoms).
    pub flows: usize,
    /// Events.
    pub events: usize,
}

fn before(age: Duration) -> SystemTime {
    SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn micros(t: SystemTime) -> Micros {
    Micros(
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0),
    )
}

/// Forgets up to `limit` finished flows last changed before `cutoff`,
/// oldest first.
fn prune_flows(conn: &Connection, cutoff: Micros, limit: usize) -> Result<usize> {
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM flows AS f INDEXED BY flows_finished
             WHERE state IN ('success', 'reverted') AND updated_at < ?1
               AND NOT EXISTS (SELECT 1 FROM flows AS p
                   WHERE p.id = json_extract(f.meta, '$.parent')
                     AND p.state NOT IN ('success', 'reverted'))
             ORDER BY updated_at LIMIT ?2",
        )?
        .query_map(params![cutoff, limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut del = conn.prepare_cached("DELETE FROM flows WHERE id = ?1")?;
    let mut tries = conn.prepare_cached("DELETE FROM flow_recovery WHERE flow_id = ?1")?;
    for id in &ids {
        del.execute([id])?; // its atoms go with it (ON DELETE CASCADE)
        tries.execute([id])?;
    }
    Ok(ids.len())
}

/// Forgets up to `limit` events recorded before `cutoff` that every
/// configured sink has received (`kept_after`: the lowest sink cursor).
fn prune_events(
    conn: &Connection,
    cutoff: SystemTime,
    kept_after: Option<i64>,
    limit: usize,
) -> Result<usize> {
    // `at` is RFC 3339 in one fixed format (UTC, microseconds): it sorts
    // as text.
    let at = humantime::format_rfc3339_micros(cutoff).to_string();
    Ok(conn
        .prepare_cached(
            "DELETE FROM events WHERE id IN (
                SELECT id FROM events WHERE at < ?1 AND (?2 IS NULL OR id <= ?2)
                  -- What reconciliation decided about a flow still
                  -- unfinished (one left for a person) is kept with it.
                  AND NOT (type IN ('flow.reconcile', 'flow.needs_person')
                    AND EXISTS (SELECT 1 FROM flows
                      WHERE id = json_extract(events.payload, '$.flow_id')
                        AND state NOT IN ('success', 'reverted')))
                ORDER BY id LIMIT ?3)",
        )?
        .execute(params![at, kept_after, limit as i64])?)
}

/// Forgets up to `limit` flows and `limit` events older than the ages
/// configured (or `older_than` for both), in one write transaction.
pub fn prune(svc: &Service, older_than: Option<Duration>, limit: usize) -> Result<Pruned> {
    let cfg = &svc.config.retention;
    let flows_cut = micros(before(older_than.unwrap_or(cfg.flows)));
    let events_cut = before(older_than.unwrap_or(cfg.events));
    svc.store.db().immediate(|conn| {
        let kept_after = crate::events::lowest_cursor(svc, conn)?;
        Ok(Pruned {
            flows: prune_flows(conn, flows_cut, limit)?,
            events: prune_events(conn, events_cut, kept_after, limit)?,
        })
    })
}

/// Whether anything is past its age (a read through the indexes: what
/// every command pays when there is nothing to prune).
fn anything_to_prune(svc: &Service) -> Result<bool> {
    let cfg = &svc.config.retention;
    let conn = svc.store.db().lock();
    let flow: bool = conn
        .prepare_cached(
            // The partial index, named: the planner would take the index
            // on `state` and walk every finished flow.
            "SELECT EXISTS (SELECT 1 FROM flows INDEXED BY flows_finished
                WHERE state IN ('success', 'reverted') AND updated_at < ?1)",
        )?
        .query_row([micros(before(cfg.flows))], |r| r.get(0))?;
    if flow {
        return Ok(true);
    }
    let at = humantime::format_rfc3339_micros(before(cfg.events)).to_string();
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM events WHERE at < ?1)")?
        .query_row([at], |r| r.get(0))?)
}

/// The bounded prune after a command: a batch of [`BATCH`], only when
/// something is past its age.
pub fn after_command(svc: &Service) -> Result<Pruned> {
    if !anything_to_prune(svc)? {
        return Ok(Pruned::default());
    }
    prune(svc, None, BATCH)
}

/// Everything past the age, batch by batch (`volctl flow prune`).
pub fn prune_all(svc: &Service, older_than: Option<Duration>) -> Result<Pruned> {
    let mut total = Pruned::default();
    loop {
        let p = prune(svc, older_than, 1000)?;
        total.flows += p.flows;
        total.events += p.events;
        if p.flows < 1000 && p.events < 1000 {
            return Ok(total);
        }
    }
}
