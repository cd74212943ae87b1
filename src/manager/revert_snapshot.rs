//! The revert-to-snapshot flow (`snapshot_revert`): RevertStart →
//! UnbindForRevert → RevertOnBackend → RebindAfterRevert → RevertFinish.
//! Puts a snapshot's data back into its volume in place (Cinder's
//! revert-to-snapshot): the volume keeps its id, name, path and quota. Any
//! snapshot of the volume, not only the latest.
//!
//! Initial store: `snapshot_id`, optionally `force`.
//!
//! An attached volume is reverted only with `force`, and only while nothing
//! uses its device (mounted, held, open): a filesystem mounted on it would
//! be corrupted by data changing under its caches. Its device is unbound
//! for the swap (a loop device keeps reading the file it was bound to) and
//! bound again in the same mode, on the same device if still free — the
//! volume's attachment, as its users know it, stays.
//!
//! The backend swaps the data in whole (see `Driver::revert_to`): a revert
//! interrupted before the swap leaves the volume's own data (the copy is
//! removed); once swapped in, the snapshot's data stays — a rollback then
//! only settles the statuses (there is nothing safe to swap back).

use std::sync::Arc;

use crate::backends::{Io, Obj, Phase};
use crate::error::Error;
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::manager::attach_volume::{DetachDevice, rebind, refuse_busy};
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::snapshots::{self, SnapshotStatus};
use crate::store::volumes::{self, VolumeStatus};
use crate::symbols::{FORCE, SNAPSHOT, SNAPSHOT_ID, VOLUME};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "snapshot_revert";

/// The revert flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(RevertStart(svc.clone()))
        .add(UnbindForRevert(svc.clone()))
        .add(RevertOnBackend(svc.clone()))
        .add(RebindAfterRevert(svc.clone()))
        .add(RevertFinish(svc.clone()))
}

/// The flow's initial store.
pub fn inputs(snapshot_id: &str, force: bool) -> Values {
    outputs()
        .with(SNAPSHOT_ID, snapshot_id.to_string())
        .with(FORCE, force)
}

/// Checks the snapshot and its volume (available — or attached, with
/// `force`, to a device nothing uses — and of the snapshot's size) and
/// marks them `reverting`. Revert: statuses back.
pub struct RevertStart(pub Arc<Service>);

impl Task for RevertStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("putting the statuses back".to_string())
    }

    task_signature!("RevertStart", requires: [SNAPSHOT_ID], optional: [FORCE], provides: [SNAPSHOT, VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(SNAPSHOT_ID)?;
        let force = ctx.get_opt(FORCE)?.unwrap_or(false);
        let conn = self.0.store.db().lock();
        let s = snapshots::get(&conn, &id)?
            .ok_or_else(|| Error::not_found(format!("no snapshot {id}")))?;
        if s.status != SnapshotStatus::Available {
            return Err(Error::conflict(format!("snapshot {id} is {}", s.status)).into());
        }
        let v = volumes::require(&conn, &s.volume_id)?;
        match v.status {
            VolumeStatus::Available => {}
            VolumeStatus::InUse if force => {
                // Attached but unused only: never data changed under a
                // mounted filesystem.
                refuse_busy(&self.0, &v).map_err(|e| {
                    Error::conflict(format!(
                        "{}; even with --force, a volume is reverted only while nothing uses its device",
                        e.message
                    ))
                })?;
            }
            VolumeStatus::InUse => {
                return Err(Error::conflict(format!(
                    "volume {} is in use ({}): reverting it would change the data under \
                     whatever uses it; detach it first, or revert --force if nothing has it \
                     mounted or open",
                    v.id,
                    v.device.as_deref().unwrap_or("-")
                ))
                .into());
            }
            other => {
                return Err(Error::conflict(format!(
                    "volume {} is {other}; only an available volume can be reverted",
                    v.id
                ))
                .into());
            }
        }
        if v.size != s.size {
            return Err(Error::conflict(format!(
                "volume {} is {} GiB and snapshot {id} {} GiB (the volume was extended since): \
                 a snapshot is reverted only into a volume of its size; make a new volume \
                 from it instead (`volctl create --from-snapshot {id}`)",
                v.id, v.size, s.size
            ))
            .into());
        }
        volumes::set_status(&conn, &v.id, VolumeStatus::Reverting, None)?;
        snapshots::set_status(&conn, &id, SnapshotStatus::Reverting, None)?;
        Ok(outputs().with(SNAPSHOT, s).with(VOLUME, v))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let (Some(s), Some(v)) = (ctx.result(SNAPSHOT), ctx.result(VOLUME)) {
            settle(&self.0, &s.id, &v.id)?;
        }
        Ok(())
    }
}

/// The volume `available` (or `in-use`, as its device is now recorded)
/// and the snapshot `available`.
fn settle(svc: &Service, snapshot_id: &str, volume_id: &str) -> Result<(), Error> {
    let conn = svc.store.db().lock();
    let device = volumes::require(&conn, volume_id)?.device;
    volumes::set_device(&conn, volume_id, device.as_deref())?;
    snapshots::set_status(&conn, snapshot_id, SnapshotStatus::Available, None)
}

/// Unbinds an attached volume's device for the swap (checking again that
/// nothing uses it): the detach's own task under its own name. Revert:
/// binds it again as it was.
pub struct UnbindForRevert(pub Arc<Service>);

impl Task for UnbindForRevert {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("attaching the volume again as it was".to_string())
    }

    task_signature!("UnbindForRevert", requires: [VOLUME], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        DetachDevice(self.0.clone()).execute(ctx)
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        DetachDevice(self.0.clone()).revert(ctx)
    }
}

/// Binds an attached volume's device again after the swap, in its mode.
pub struct RebindAfterRevert(pub Arc<Service>);

impl Task for RebindAfterRevert {
    task_signature!("RebindAfterRevert", requires: [VOLUME], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        rebind(&self.0, &ctx.get(VOLUME)?)?;
        Ok(outputs())
    }
}

/// Swaps the snapshot's data into the volume. Revert: removes a copy not
/// yet swapped in (the volume keeps its own data).
pub struct RevertOnBackend(pub Arc<Service>);

impl Task for RevertOnBackend {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the copy of the snapshot not swapped in".to_string())
    }

    task_signature!("RevertOnBackend", requires: [SNAPSHOT, VOLUME], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let s = ctx.get(SNAPSHOT)?;
        let progress = |p: Phase, d, t| ctx.progress_in(p.label(), d, t);
        let io = Io {
            progress: &progress,
            cancel: ctx.cancel_token(),
            phase: None,
        };
        self.0.backends.get(&s.backend)?.revert_to(
            Obj::volume(&s.volume_id),
            Obj::snapshot(&s.id),
            &io,
        )?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let s = ctx.get(SNAPSHOT)?;
        self.0
            .backends
            .get(&s.backend)?
            .revert_cleanup(Obj::volume(&s.volume_id))?;
        Ok(())
    }
}

/// Settles the volume and the snapshot (`available`) and records the event.
pub struct RevertFinish(pub Arc<Service>);

impl Task for RevertFinish {
    task_signature!("RevertFinish", requires: [SNAPSHOT, VOLUME], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let s = ctx.get(SNAPSHOT)?;
        let v = ctx.get(VOLUME)?;
        settle(&self.0, &s.id, &v.id)?;
        events::emit(
            &self.0.store.db().lock(),
            Some(&v.id),
            &Event::SnapshotRevert { snapshot_id: s.id },
        )?;
        Ok(outputs())
    }
}
