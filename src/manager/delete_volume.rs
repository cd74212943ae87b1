//! The delete flow (`volume_delete`): DeleteStart → DetachDevice →
//! DeleteBackendObject → DeleteEntry. The quota is released only once the
//! backend object is gone, in the same transaction that removes the row.
//!
//! Initial store: `volume_id`.

use std::sync::Arc;

use super::attach_volume::DetachDevice;
use crate::backends::Obj;
use crate::error::Error;
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::lifecycle::release_quota;
use crate::service::Service;
use crate::store::volumes::{self, Volume, VolumeStatus};
use crate::store::{events, snapshots};
use crate::symbols::{FORCE, VOLUME, VOLUME_ID};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_delete";

/// The name of the flow that deletes a volume's snapshots first
/// (`delete --cascade`).
pub const CASCADE_FLOW: &str = "volume_delete_cascade";

/// The delete flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(DeleteStart(svc.clone()))
        .add(DetachDevice(svc.clone()))
        .add(DeleteBackendObject(svc.clone()))
        .add(DeleteEntry(svc.clone()))
}

/// The cascade flow: the volume marked `deleting` (so no new snapshot or
/// clone starts), its snapshots deleted, then the volume.
pub fn cascade_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(CASCADE_FLOW)
        .add(CascadeDeleteStart(svc.clone()))
        .add(DeleteSnapshotsOfVolume(svc.clone()))
        .add(DetachDevice(svc.clone()))
        .add(DeleteBackendObject(svc.clone()))
        .add(DeleteEntry(svc.clone()))
}

/// Checks the volume may be deleted and marks it `deleting`. Revert: puts
/// back its previous status, noting why the delete failed.
pub struct DeleteStart(pub Arc<Service>);

/// [`DeleteStart`] for a cascade: a volume with snapshots may be deleted
/// (they are deleted next, in the same flow).
pub struct CascadeDeleteStart(pub Arc<Service>);

impl Task for CascadeDeleteStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the volume's status back".to_string())
    }

    task_signature!("DeleteStart", requires: [VOLUME_ID, FORCE], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        DeleteStart::check_and_mark(&self.0, ctx, true)
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        DeleteStart(self.0.clone()).revert(ctx)
    }
}

/// Deletes every snapshot of the volume, each in its own steps (marked
/// `deleting`, its object removed, its row and quota gone together), so a
/// resumed run goes on with those left. Revert: none — a snapshot deleted
/// stays deleted; one cut short is `error_deleting` and can be deleted
/// again.
pub struct DeleteSnapshotsOfVolume(pub Arc<Service>);

impl Task for DeleteSnapshotsOfVolume {
    task_signature!("DeleteSnapshotsOfVolume", requires: [VOLUME], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        let snaps = snapshots::list(&self.0.store.db().lock(), None, Some(&v.id))?;
        let total = snaps.len() as u64;
        for (i, s) in snaps.iter().enumerate() {
            ctx.check_cancelled()?;
            super::snapshot::delete_now(&self.0, &s.id)?;
            ctx.progress(i as u64 + 1, total);
        }
        Ok(outputs())
    }
}

impl Task for DeleteStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the volume's status back".to_string())
    }

    task_signature!("DeleteStart", requires: [VOLUME_ID, FORCE], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        DeleteStart::check_and_mark(&self.0, ctx, false)
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let Some(v) = ctx.result(VOLUME) else {
            return Ok(());
        };
        let reason = ctx.flow_failures().first().map(|f| f.message.clone());
        // Refused at the detach (its device in use): nothing of the volume
        // was touched, so it is as it was, not half-deleted.
        let untouched = !ctx.flow_failures().is_empty()
            && ctx
                .flow_failures()
                .iter()
                .all(|f| f.atom.as_deref() == Some("DetachDevice"));
        let conn = self.0.store.db().lock();
        if let Some(row) = volumes::get(&conn, &v.id)? {
            if untouched {
                volumes::set_device(&conn, &v.id, row.device.as_deref())?;
            } else {
                volumes::set_status(&conn, &v.id, VolumeStatus::ErrorDeleting, reason.as_deref())?;
            }
            events::emit(
                &conn,
                Some(&v.id),
                &events::Event::VolumeDeleteError { reason },
            )?;
        }
        Ok(())
    }
}

impl DeleteStart {
    fn check_and_mark(
        svc: &Arc<Service>,
        ctx: &ExecContext<'_>,
        cascade: bool,
    ) -> Result<Values, Failure> {
        let id: String = ctx.get(VOLUME_ID)?;
        // Absent in flows recorded before `--force` existed: not forced.
        let force = ctx.get(FORCE).unwrap_or(false);
        let conn = svc.store.db().lock();
        let mut v = volumes::require(&conn, &id)?;
        // Not only the record: a device bound to the volume's file (set up
        // by hand, or a record lost) makes it just as attached.
        if v.device.is_none()
            && let Some(b) = v.backend.as_deref()
            && let Ok(driver) = svc.backends.get(b)
        {
            v.device = driver.device_of(Obj::volume(&id));
        }
        if let Some(device) = v.device.as_deref() {
            if !force {
                return Err(Error::conflict(format!(
                    "volume {id} is in use (attached to {device}); detach it first, or delete --force to detach it"
                ))
                .into());
            }
            super::attach_volume::refuse_busy(svc, &v)?;
        }
        match v.status {
            VolumeStatus::Available
            | VolumeStatus::InUse
            | VolumeStatus::Error
            | VolumeStatus::ErrorDeleting => {}
            other => {
                return Err(Error::conflict(format!(
                    "volume {id} is {other}; it can be deleted once it is available or in error"
                ))
                .into());
            }
        }
        let snaps = snapshots::list(&conn, None, Some(&id))?;
        if !snaps.is_empty() && !cascade {
            let ids: Vec<&str> = snaps.iter().map(|s| s.id.as_str()).collect();
            return Err(Error::conflict(format!(
                "volume {id} has {} snapshot(s) ({}); delete them first, or delete --cascade",
                ids.len(),
                ids.join(", ")
            ))
            .into());
        }
        let clones = crate::store::volumes::in_flight_from(
            &conn,
            crate::store::volumes::SourceKind::Volume,
            &id,
        )?;
        if clones > 0 {
            return Err(Error::conflict(format!(
                "volume {id} is being cloned into {clones} volume(s); delete it when they are done"
            ))
            .into());
        }
        volumes::set_status(&conn, &id, VolumeStatus::Deleting, v.error.as_deref())?;
        events::emit(
            &conn,
            Some(&id),
            &events::Event::VolumeDeleteStart {
                size: v.size,
                backend: v.backend.clone(),
            },
        )?;
        Ok(outputs().with(VOLUME, v))
    }
}

/// Removes the volume's backend object.
pub struct DeleteBackendObject(pub Arc<Service>);

impl Task for DeleteBackendObject {
    task_signature!("DeleteBackendObject", requires: [VOLUME], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        if let Some(b) = &v.backend {
            let driver = self.0.backends.get(b)?;
            // The volume's type may say how its data goes; else its backend.
            let by_type = match &v.type_name {
                Some(t) => crate::store::types::find(&self.0.store.db().lock(), t)
                    .ok()
                    .and_then(|t| t.wipe().ok().flatten()),
                None => None,
            };
            let wipe = by_type.unwrap_or_else(|| driver.config().default_wipe());
            driver.delete_wiped(Obj::volume(&v.id), wipe)?;
        }
        Ok(outputs())
    }
}

/// Removes the row and gives back the volume's quota, together.
pub struct DeleteEntry(pub Arc<Service>);

impl Task for DeleteEntry {
    task_signature!("DeleteEntry", requires: [VOLUME], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        let conn = self.0.store.db().lock();
        // Reload: the quota state is the row's, not the snapshot taken above.
        if let Some(current) = volumes::get(&conn, &v.id)? {
            release_quota(&self.0.quota(), &conn, &current)?;
            volumes::delete(&conn, &v.id)?;
        }
        if let Some(b) = &v.backend {
            crate::store::backends::invalidate(&conn, b)?;
        }
        events::emit(
            &conn,
            Some(&v.id),
            &events::Event::VolumeDeleteEnd {
                size: v.size,
                backend: v.backend,
            },
        )?;
        Ok(outputs())
    }
}

/// The flow's initial store; `force` allows deleting an attached volume
/// (its device is detached first, unless mounted or held).
pub fn inputs(volume_id: &str, force: bool) -> Values {
    outputs()
        .with(VOLUME_ID, volume_id.to_string())
        .with(FORCE, force)
}
