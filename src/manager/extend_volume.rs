//! The extend flow (`volume_extend`): ExtendStart → ExtendOnBackend →
//! ExtendFinish. Grows a volume in place, attached or not; never shrinks.
//!
//! Initial store: `volume_id`, `new_size`.
//!
//! What a revert can undo: the quota (reserved for the difference, committed
//! at the end) and the status always; the object's growth only where it is
//! safe (no device exposes it, none holds it open: nothing can have used the
//! new space). An object that could not be shrunk back keeps its new size,
//! and so does the volume's record and quota — never a record smaller than
//! its object, never a cut in data a running system already wrote.

use std::sync::Arc;

use crate::backends::Obj;
use crate::error::{Error, ErrorKind};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::quota::{Reservation, negate, volume_deltas};
use crate::scheduler::filters::{Want, capacity};
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::volumes::{self, Volume, VolumeStatus};
use crate::symbols::{NEW_SIZE, RESERVATION, VOLUME, VOLUME_ID};
use crate::task_signature;
use crate::units::{Bytes, RecordedSize};

/// The flow's name.
pub const FLOW: &str = "volume_extend";

/// The extend flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(ExtendStart(svc.clone()))
        .add(ExtendOnBackend(svc.clone()))
        .add(ExtendFinish(svc.clone()))
}

/// The flow's initial store.
pub fn inputs(volume_id: &str, new_size: Bytes) -> Values {
    outputs()
        .with(VOLUME_ID, volume_id.to_string())
        .with(NEW_SIZE, RecordedSize(new_size))
}

/// What growing a volume to `to` counts against: its gigabytes (not
/// another volume).
pub fn extend_deltas(v: &Volume, to: Bytes) -> crate::quota::Deltas {
    volume_deltas(to.saturating_sub(v.size), v.type_name.as_deref())
        .into_iter()
        .filter(|(r, _)| crate::quota::counts_bytes(r))
        .collect()
}

/// Checks the request (grow only, a settled volume, room on its backend),
/// reserves quota for the difference and marks the volume `extending`.
/// Revert: see the module's note.
pub struct ExtendStart(pub Arc<Service>);

impl ExtendStart {
    fn check_capacity(
        &self,
        conn: &rusqlite::Connection,
        v: &Volume,
        delta: Bytes,
    ) -> Result<(), Error> {
        let backend = v
            .backend
            .as_deref()
            .ok_or_else(|| Error::internal("volume has no backend"))?;
        let c = crate::scheduler::candidate(&self.0, conn, backend)?;
        let want = Want {
            size: delta,
            ..Want::default()
        };
        let (fits, why, _) = capacity(&want, &c);
        if !fits {
            return Err(Error::new(
                ErrorKind::NoValidBackend,
                format!(
                    "volume {} cannot grow by {} on its backend `{backend}`: {why}",
                    v.id,
                    delta.human()
                ),
            ));
        }
        Ok(())
    }
}

impl Task for ExtendStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the volume's status back".to_string())
    }

    task_signature!("ExtendStart", requires: [VOLUME_ID, NEW_SIZE], provides: [VOLUME, RESERVATION], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(VOLUME_ID)?;
        let new_size = ctx.get(NEW_SIZE)?.0;
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &id)?;
        if !matches!(v.status, VolumeStatus::Available | VolumeStatus::InUse) {
            return Err(Error::conflict(format!(
                "volume {id} is {}; only an available or in-use volume can be extended",
                v.status.phrase()
            ))
            .into());
        }
        if new_size <= v.size {
            return Err(Error::invalid(format!(
                "volume {id} is {}: extend only grows a volume (to more than that); \
                 shrinking would cut off its data",
                v.size.human()
            ))
            .into());
        }
        self.check_capacity(&conn, &v, new_size.saturating_sub(v.size))?;
        let quota = self.0.quota();
        quota.check_per_volume(&conn, &v.project, new_size)?;
        let r = quota.reserve(&conn, &v.project, &extend_deltas(&v, new_size))?;
        volumes::set_status(&conn, &id, VolumeStatus::Extending, None)?;
        events::emit(
            &conn,
            Some(&id),
            &Event::VolumeExtendStart {
                size: v.size,
                new_size,
                new_size_bytes: new_size,
            },
        )?;
        Ok(outputs().with(VOLUME, v).with(RESERVATION, r))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let (Some(v), Some(r)) = (ctx.result(VOLUME), ctx.result(RESERVATION)) else {
            return Ok(());
        };
        let new_size = ctx.get(NEW_SIZE)?.0;
        let driver = self
            .0
            .backends
            .get(v.backend.as_deref().unwrap_or_default())?;
        // Grown and not shrinkable back (ExtendOnBackend's revert said so by
        // leaving it): keep the growth, recorded and paid for.
        let kept = driver
            .size(Obj::volume(&v.id))?
            .is_some_and(|n| n >= new_size);
        let conn = self.0.store.db().lock();
        let quota = self.0.quota();
        let reason = ctx.flow_failures().first().map(|f| f.message.clone());
        if kept {
            commit_or_charge(&quota, &conn, &r)?;
            volumes::set_size(&conn, &v.id, new_size)?;
        } else {
            quota.rollback(&conn, &r.id)?;
        }
        if volumes::get(&conn, &v.id)?.is_some() {
            volumes::set_device(&conn, &v.id, v.device.as_deref())?;
        }
        events::emit(
            &conn,
            Some(&v.id),
            &Event::VolumeExtendError {
                reason,
                size: if kept { new_size } else { v.size },
            },
        )?;
        Ok(())
    }
}

/// Commits a reservation; if it is gone (expired meanwhile), charges its
/// deltas directly: the space is in use either way.
fn commit_or_charge(
    quota: &crate::quota::Quota<'_>,
    conn: &rusqlite::Connection,
    r: &Reservation,
) -> Result<(), Error> {
    match quota.commit(conn, &r.id) {
        Ok(()) => Ok(()),
        Err(_) => quota.release(conn, &r.project, &negate(&r.deltas)),
    }
}

/// Grows the backend object and tells the device exposing it (loop
/// device: `LOOP_SET_CAPACITY`; an LV shows its size itself). Revert:
/// shrinks it back where that is safe.
pub struct ExtendOnBackend(pub Arc<Service>);

impl Task for ExtendOnBackend {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("shrinking the object back where that is safe".to_string())
    }

    task_signature!("ExtendOnBackend", requires: [VOLUME, NEW_SIZE], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let new_size = ctx.get(NEW_SIZE)?.0;
        let driver = self
            .0
            .backends
            .get(v.backend.as_deref().unwrap_or_default())?;
        // A recorded device is told only once proven to back the volume.
        let device = v
            .device
            .as_deref()
            .filter(|d| driver.exposes(Obj::volume(&v.id), d).unwrap_or(false));
        driver.extend(Obj::volume(&v.id), new_size, device)?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let v = ctx.get(VOLUME)?;
        let driver = self
            .0
            .backends
            .get(v.backend.as_deref().unwrap_or_default())?;
        driver.unextend(Obj::volume(&v.id), v.size)?;
        Ok(())
    }
}

/// Commits the quota and records the new size; the volume is settled again
/// (`in-use` if it has a device, else `available`). Revert: the old size,
/// the quota reserved again.
pub struct ExtendFinish(pub Arc<Service>);

impl Task for ExtendFinish {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the old size back, its quota reserved again".to_string())
    }

    task_signature!("ExtendFinish", requires: [VOLUME, NEW_SIZE, RESERVATION], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let new_size = ctx.get(NEW_SIZE)?.0;
        let r = ctx.get(RESERVATION)?;
        let conn = self.0.store.db().lock();
        commit_or_charge(&self.0.quota(), &conn, &r)?;
        volumes::set_size(&conn, &v.id, new_size)?;
        volumes::set_device(&conn, &v.id, v.device.as_deref())?;
        crate::store::backends::invalidate(&conn, v.backend.as_deref().unwrap_or_default())?;
        events::emit(
            &conn,
            Some(&v.id),
            &Event::VolumeExtendEnd { size: new_size },
        )?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let v = ctx.get(VOLUME)?;
        let r = ctx.get(RESERVATION)?;
        let conn = self.0.store.db().lock();
        self.0.quota().uncommit(&conn, &r)?;
        volumes::set_size(&conn, &v.id, v.size)?;
        volumes::set_status(&conn, &v.id, VolumeStatus::Extending, None)?;
        Ok(())
    }
}
