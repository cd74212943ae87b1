//! Volume state changes shared by several flows, each a single consistent
//! step inside the caller's transaction.

use rusqlite::Connection;

use crate::error::{ErrorKind, Result};
use crate::quota::{Quota, volume_deltas};
use crate::store::events::{self, Event};
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
/// backend object was already reverted), and `event` (normally a
/// `volume.create.error`) says why. Nothing to do if the volume is gone.
pub fn mark_error(
    quota: &Quota<'_>,
    conn: &Connection,
    volume_id: &str,
    reason: &str,
    event: &Event,
) -> Result<()> {
    let Some(v) = volumes::get(conn, volume_id)? else {
        return Ok(());
    };
    release_quota(quota, conn, &v)?;
    volumes::set_status(conn, volume_id, VolumeStatus::Error, Some(reason))?;
    events::emit(conn, Some(volume_id), event)?;
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
    let event = Event::create_error(ErrorKind::Cancelled, reason);
    events::emit(conn, Some(volume_id), &event)?;
    Ok(())
}

/// What [`fail_create`] does, in words, for a person watching.
pub fn fail_create_words(failure: &crate::flow::Failure) -> &'static str {
    if failure.is(crate::flow::Failure::CANCELLED) {
        "removing the volume's entry and returning its quota"
    } else {
        "marking the volume `error`, its quota returned"
    }
}

/// What a failed create leaves: nothing when the user cancelled it, else
/// a volume in `error` explaining why (in `event`).
pub fn fail_create(
    quota: &Quota<'_>,
    conn: &Connection,
    volume_id: &str,
    failure: &crate::flow::Failure,
    reason: &str,
    event: &Event,
) -> Result<()> {
    if failure.is(crate::flow::Failure::CANCELLED) {
        discard(quota, conn, volume_id, reason)
    } else {
        mark_error(quota, conn, volume_id, reason, event)
    }
}
