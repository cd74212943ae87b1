//! Volume state changes shared by several flows, each a single consistent
//! step inside the caller's transaction.

use rusqlite::Connection;
use serde_json::json;

use crate::error::Result;
use crate::quota::{Quota, volume_deltas};
use crate::store::events;
use crate::store::volumes::{self, Volume, VolumeStatus};

/// Gives back whatever quota the volume holds or has reserved.
pub fn release_quota(quota: &Quota<'_>, conn: &Connection, v: &Volume) -> Result<()> {
    if v.quota_held {
        quota.release(
            conn,
            &v.project,
            &volume_deltas(v.size, v.type_name.as_deref()),
        )?;
    }
    if let Some(r) = &v.reservation {
        quota.rollback(conn, r)?;
    }
    volumes::set_quota_state(conn, &v.id, false, None)
}

/// Puts a volume in `error` with `reason`: it holds no quota any more (its
/// backend object was already reverted), and the event `event` says why.
/// Nothing to do if the volume is gone.
pub fn mark_error(
    quota: &Quota<'_>,
    conn: &Connection,
    volume_id: &str,
    reason: &str,
    event: crate::store::events::EventType,
    mut payload: serde_json::Value,
) -> Result<()> {
    let Some(v) = volumes::get(conn, volume_id)? else {
        return Ok(());
    };
    release_quota(quota, conn, &v)?;
    volumes::set_status(conn, volume_id, VolumeStatus::Error, Some(reason))?;
    if let Some(p) = payload.as_object_mut() {
        p.insert("reason".into(), json!(reason));
    }
    events::append(conn, event, Some(volume_id), payload)?;
    Ok(())
}

/// Undoes a create entirely — the user cancelled it: the volume's quota is
/// returned and its row removed (its backend object was already reverted).
pub fn discard(quota: &Quota<'_>, conn: &Connection, volume_id: &str, reason: &str) -> Result<()> {
    let Some(v) = volumes::get(conn, volume_id)? else {
        return Ok(());
    };
    release_quota(quota, conn, &v)?;
    volumes::delete(conn, volume_id)?;
    events::append(
        conn,
        crate::store::events::EventType::VolumeCreateError,
        Some(volume_id),
        json!({ "reason": reason, "kind": "cancelled" }),
    )?;
    Ok(())
}

/// What a failed create leaves: nothing when the user cancelled it, else
/// a volume in `error` explaining why.
pub fn fail_create(
    quota: &Quota<'_>,
    conn: &Connection,
    volume_id: &str,
    failure: &crate::flow::Failure,
    reason: &str,
    event: crate::store::events::EventType,
    payload: serde_json::Value,
) -> Result<()> {
    if failure.is(crate::flow::Failure::CANCELLED) {
        discard(quota, conn, volume_id, reason)
    } else {
        mark_error(quota, conn, volume_id, reason, event, payload)
    }
}
