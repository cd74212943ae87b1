//! The revert-to-snapshot flow (`snapshot_revert`): RevertStart →
//! RevertOnBackend → RevertFinish. Puts a snapshot's data back into its
//! volume in place (Cinder's revert-to-snapshot): the volume keeps its id,
//! name, path and quota. Any snapshot of the volume, not only the latest.
//!
//! Initial store: `snapshot_id`.
//!
//! The backend swaps the data in whole (see `Driver::revert_to`): a revert
//! interrupted before the swap leaves the volume's own data (the copy is
//! removed); once swapped in, the snapshot's data stays — a rollback then
//! only settles the statuses (there is nothing safe to swap back).

use std::sync::Arc;

use crate::backends::{Io, Obj};
use crate::error::Error;
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::snapshots::{self, SnapshotStatus};
use crate::store::volumes::{self, VolumeStatus};
use crate::symbols::{SNAPSHOT, SNAPSHOT_ID, VOLUME};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "snapshot_revert";

/// The revert flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(RevertStart(svc.clone()))
        .add(RevertOnBackend(svc.clone()))
        .add(RevertFinish(svc.clone()))
}

/// The flow's initial store.
pub fn inputs(snapshot_id: &str) -> Values {
    outputs().with(SNAPSHOT_ID, snapshot_id.to_string())
}

/// Checks the snapshot and its volume (available, not attached, of the
/// snapshot's size) and marks them `reverting`. Revert: statuses back.
pub struct RevertStart(pub Arc<Service>);

impl Task for RevertStart {
    task_signature!("RevertStart", requires: [SNAPSHOT_ID], provides: [SNAPSHOT, VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(SNAPSHOT_ID)?;
        let conn = self.0.store.db().lock();
        let s = snapshots::get(&conn, &id)?
            .ok_or_else(|| Error::not_found(format!("no snapshot {id}")))?;
        if s.status != SnapshotStatus::Available {
            return Err(Error::conflict(format!("snapshot {id} is {}", s.status)).into());
        }
        let v = volumes::require(&conn, &s.volume_id)?;
        match v.status {
            VolumeStatus::Available => {}
            VolumeStatus::InUse => {
                return Err(Error::conflict(format!(
                    "volume {} is in use ({}): reverting it would change the data under \
                     whatever uses it; detach it first",
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

fn settle(svc: &Service, snapshot_id: &str, volume_id: &str) -> Result<(), Error> {
    let conn = svc.store.db().lock();
    volumes::set_status(&conn, volume_id, VolumeStatus::Available, None)?;
    snapshots::set_status(&conn, snapshot_id, SnapshotStatus::Available, None)
}

/// Swaps the snapshot's data into the volume. Revert: removes a copy not
/// yet swapped in (the volume keeps its own data).
pub struct RevertOnBackend(pub Arc<Service>);

impl Task for RevertOnBackend {
    task_signature!("RevertOnBackend", requires: [SNAPSHOT, VOLUME], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let s = ctx.get(SNAPSHOT)?;
        let progress = |d, t| ctx.progress(d, t);
        let io = Io {
            progress: &progress,
            cancel: ctx.cancel_token(),
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
