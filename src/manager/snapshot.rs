//! Snapshots. Create (`snapshot_create`: SnapshotEntryCreate →
//! CreateSnapshotOnBackend → SnapshotOnFinish) and delete
//! (`snapshot_delete`: SnapshotDeleteStart → DeleteSnapshotOnBackend →
//! SnapshotDeleteEntry).
//!
//! Create's initial store: `snapshot_id`, `volume_id`, `name`. Delete's:
//! `snapshot_id`.

use std::sync::Arc;

use crate::api::check_name;
use crate::backends::{Io, Obj, Phase};
use crate::error::Error;
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::quota::snapshot_deltas;
use crate::service::Service;
use crate::store::snapshots::{self, Snapshot, SnapshotStatus};
use crate::store::volumes::{self, VolumeStatus};
use crate::store::{events, now};
use crate::symbols::{NAME, PATH, SNAPSHOT, SNAPSHOT_ID, VOLUME_ID};
use crate::task_signature;

/// The create flow's name.
pub const CREATE_FLOW: &str = "snapshot_create";
/// The delete flow's name.
pub const DELETE_FLOW: &str = "snapshot_delete";

/// The create flow.
pub fn create_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(CREATE_FLOW)
        .add(SnapshotEntryCreate(svc.clone()))
        .add(CreateSnapshotOnBackend(svc.clone()))
        .add(SnapshotOnFinish(svc.clone()))
}

/// The delete flow.
pub fn delete_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(DELETE_FLOW)
        .add(SnapshotDeleteStart(svc.clone()))
        .add(DeleteSnapshotOnBackend(svc.clone()))
        .add(SnapshotDeleteEntry(svc.clone()))
}

/// The create flow's initial store.
pub fn create_inputs(snapshot_id: &str, volume_id: &str, name: Option<&str>) -> Values {
    outputs()
        .with(SNAPSHOT_ID, snapshot_id.to_string())
        .with(VOLUME_ID, volume_id.to_string())
        .with(NAME, name.map(str::to_string))
}

/// Checks the volume, takes the snapshot's quota (`snapshots` +1,
/// `gigabytes` +size) and records it `creating` — together. Revert: gives
/// the quota back and removes the row.
pub struct SnapshotEntryCreate(pub Arc<Service>);

impl Task for SnapshotEntryCreate {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("returning the snapshot's quota and removing its entry".to_string())
    }

    task_signature!("SnapshotEntryCreate", requires: [SNAPSHOT_ID, VOLUME_ID, NAME], provides: [SNAPSHOT], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(SNAPSHOT_ID)?;
        let volume_id: String = ctx.get(VOLUME_ID)?;
        let name = check_name(ctx.get(NAME)?.as_deref())?;
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &volume_id)?;
        if !matches!(v.status, VolumeStatus::Available | VolumeStatus::InUse) {
            return Err(Error::conflict(format!(
                "volume {} is {}; only an available or in-use volume can be snapshotted",
                v.id,
                v.status.phrase()
            ))
            .into());
        }
        let backend = v
            .backend
            .clone()
            .ok_or_else(|| Error::internal("volume has no backend"))?;
        if let Some(name) = &name {
            snapshots::claim_name(&conn, &v.project, name)?;
        }
        let quota = self.0.quota();
        let r = quota.reserve(
            &conn,
            &v.project,
            &snapshot_deltas(v.size, v.type_name.as_deref()),
        )?;
        quota.commit(&conn, &r.id)?;
        let t = now();
        let snap = Snapshot {
            id,
            name,
            volume_id: v.id.clone(),
            size: v.size,
            status: SnapshotStatus::Creating,
            backend,
            path: None,
            project: v.project.clone(),
            type_name: v.type_name.clone(),
            error: None,
            created_at: t.clone(),
            updated_at: t,
            quota_held: true,
        };
        snapshots::insert(&conn, &snap)?;
        events::emit(
            &conn,
            Some(&v.id),
            &events::Event::SnapshotCreateStart {
                snapshot_id: snap.id.clone(),
                size: snap.size,
            },
        )?;
        Ok(outputs().with(SNAPSHOT, snap))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let Some(snap) = ctx.result(SNAPSHOT) else {
            return Ok(());
        };
        let conn = self.0.store.db().lock();
        if snapshots::get(&conn, &snap.id)?.is_some() {
            self.0.quota().release(
                &conn,
                &snap.project,
                &snapshot_deltas(snap.size, snap.type_name.as_deref()),
            )?;
            snapshots::delete(&conn, &snap.id)?;
            let why = ctx.flow_failures().first().map(|f| f.message.clone());
            events::emit(
                &conn,
                Some(&snap.volume_id),
                &events::Event::SnapshotCreateError {
                    snapshot_id: snap.id,
                    reason: why,
                },
            )?;
        }
        Ok(())
    }
}

/// Copies the volume into the snapshot's object (a reflink where the
/// filesystem can, so it is instant and consistent). Revert: removes it.
pub struct CreateSnapshotOnBackend(pub Arc<Service>);

impl Task for CreateSnapshotOnBackend {
    fn headline(&self, _: &Values) -> Option<String> {
        Some("snapshot taken on the backend".to_string())
    }

    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the snapshot from the backend".to_string())
    }

    task_signature!("CreateSnapshotOnBackend", requires: [SNAPSHOT], provides: [PATH]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let snap: Snapshot = ctx.get(SNAPSHOT)?;
        let progress = |p: Phase, d, t| ctx.progress_in(p.label(), d, t);
        let io = Io {
            progress: &progress,
            cancel: ctx.cancel_token(),
            phase: None,
        };
        let path = self.0.backends.get(&snap.backend)?.copy(
            Obj::volume(&snap.volume_id),
            Obj::snapshot(&snap.id),
            None,
            &io,
        )?;
        Ok(outputs().with(PATH, path))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let snap: Snapshot = ctx.get(SNAPSHOT)?;
        self.0
            .backends
            .get(&snap.backend)?
            .delete(Obj::snapshot(&snap.id))?;
        Ok(())
    }

    fn summary(&self, out: &Values) -> Option<String> {
        out.read(PATH)
    }
}

/// Marks the snapshot available.
pub struct SnapshotOnFinish(pub Arc<Service>);

impl Task for SnapshotOnFinish {
    task_signature!("SnapshotOnFinish", requires: [SNAPSHOT, PATH], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let snap: Snapshot = ctx.get(SNAPSHOT)?;
        let path: String = ctx.get(PATH)?;
        let conn = self.0.store.db().lock();
        snapshots::set_created(&conn, &snap.id, &path)?;
        crate::store::backends::invalidate(&conn, &snap.backend)?;
        events::emit(
            &conn,
            Some(&snap.volume_id),
            &events::Event::SnapshotCreateEnd {
                snapshot_id: snap.id,
                size: snap.size,
                path,
            },
        )?;
        Ok(outputs())
    }
}

/// Refuses to delete a snapshot volumes are being made from; marks it
/// `deleting`. Revert: `error_deleting`, with the reason.
pub struct SnapshotDeleteStart(pub Arc<Service>);

impl Task for SnapshotDeleteStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("marking the snapshot `error_deleting`".to_string())
    }

    task_signature!("SnapshotDeleteStart", requires: [SNAPSHOT_ID], provides: [SNAPSHOT], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(SNAPSHOT_ID)?;
        let conn = self.0.store.db().lock();
        let snap = snapshots::get(&conn, &id)?
            .ok_or_else(|| Error::not_found(format!("no snapshot {id}")))?;
        if !matches!(
            snap.status,
            SnapshotStatus::Available | SnapshotStatus::ErrorDeleting
        ) {
            return Err(Error::conflict(format!("snapshot {id} is {}", snap.status)).into());
        }
        let busy = crate::store::volumes::in_flight_from(
            &conn,
            crate::store::volumes::SourceKind::Snapshot,
            &id,
        )?;
        if busy > 0 {
            return Err(Error::conflict(format!(
                "snapshot {id} is being copied into {busy} volume(s); delete it when they are done"
            ))
            .into());
        }
        snapshots::set_status(&conn, &id, SnapshotStatus::Deleting, None)?;
        events::emit(
            &conn,
            Some(&snap.volume_id),
            &events::Event::SnapshotDeleteStart { snapshot_id: id },
        )?;
        Ok(outputs().with(SNAPSHOT, snap))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(snap) = ctx.result(SNAPSHOT) {
            let why = ctx.flow_failures().first().map(|f| f.message.clone());
            snapshots::set_status(
                &self.0.store.db().lock(),
                &snap.id,
                SnapshotStatus::ErrorDeleting,
                why.as_deref(),
            )?;
        }
        Ok(())
    }
}

/// Removes the snapshot's object.
pub struct DeleteSnapshotOnBackend(pub Arc<Service>);

impl Task for DeleteSnapshotOnBackend {
    task_signature!("DeleteSnapshotOnBackend", requires: [SNAPSHOT], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let snap: Snapshot = ctx.get(SNAPSHOT)?;
        self.0
            .backends
            .get(&snap.backend)?
            .delete(Obj::snapshot(&snap.id))?;
        Ok(outputs())
    }
}

/// Removes the row and gives back the snapshot's quota, together.
pub struct SnapshotDeleteEntry(pub Arc<Service>);

impl Task for SnapshotDeleteEntry {
    task_signature!("SnapshotDeleteEntry", requires: [SNAPSHOT], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let snap: Snapshot = ctx.get(SNAPSHOT)?;
        let conn = self.0.store.db().lock();
        if let Some(current) = snapshots::get(&conn, &snap.id)? {
            if current.quota_held {
                self.0.quota().release(
                    &conn,
                    &current.project,
                    &snapshot_deltas(current.size, current.type_name.as_deref()),
                )?;
            }
            snapshots::delete(&conn, &snap.id)?;
        }
        crate::store::backends::invalidate(&conn, &snap.backend)?;
        events::emit(
            &conn,
            Some(&snap.volume_id),
            &events::Event::SnapshotDeleteEnd {
                snapshot_id: snap.id,
                size: snap.size,
            },
        )?;
        Ok(outputs())
    }
}

/// Deletes one snapshot outside a flow of its own, as a step of another
/// (`delete --cascade`): the same checks and steps as the delete flow —
/// marked `deleting`, its object removed, its row and quota gone together —
/// each idempotent, so a resumed caller simply calls it again. A failure
/// leaves it `error_deleting`.
pub(crate) fn delete_now(svc: &Arc<Service>, snapshot_id: &str) -> Result<(), Failure> {
    use crate::flow::{Outcome, execute_task, revert_task};
    // The atomic tasks' writes commit together, as the engine would have
    // them (one transaction each).
    let atomically = |t: &dyn Task, store: &Values| -> Result<Values, Failure> {
        Ok(svc
            .store
            .db()
            .immediate(|_| execute_task(t, store).map_err(|f| Error::from_failure(&f)))?)
    };
    let Some(current) = snapshots::get(&svc.store.db().lock(), snapshot_id)? else {
        return Ok(()); // gone already: a resumed cascade
    };
    let mut store = outputs().with(SNAPSHOT_ID, snapshot_id.to_string());
    let start = SnapshotDeleteStart(svc.clone());
    // `deleting`: a run of this same cascade was cut short after marking it
    // (the cascade's volume is `deleting` too, so nothing else could have).
    let out = if current.status == SnapshotStatus::Deleting {
        outputs().with(SNAPSHOT, current)
    } else {
        atomically(&start, &store)?
    };
    store.extend(out.clone());
    let rest = execute_task(&DeleteSnapshotOnBackend(svc.clone()), &store)
        .and_then(|_| atomically(&SnapshotDeleteEntry(svc.clone()), &store));
    if let Err(f) = rest {
        let _ = revert_task(
            &start,
            &store,
            &Outcome::Success(out),
            std::slice::from_ref(&f),
        );
        return Err(f);
    }
    Ok(())
}
