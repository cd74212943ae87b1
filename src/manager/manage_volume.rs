//! Taking existing data in as a volume, and giving a volume up, without
//! copying or deleting anything.
//!
//! `volume_manage` (ManageStart → AdoptObject → ManageFinish) adopts a raw
//! file in a loopback backend's directory, or an LV in an LVM backend's VG:
//! its size read from the object, quota charged, the object renamed to
//! volctl's naming and marked as this store's. Anything else — another
//! format, a file outside the directory, one with other names (hard links)
//! or another owner, an attached or open object, another store's — is
//! refused, changing nothing.
//!
//! `volume_unmanage` (UnmanageStart → ReleaseObject → UnmanageEntry) forgets
//! a volume but keeps its data: the object is unmarked and renamed
//! `unmanaged-<id>` (a name volctl never treats as its own), its quota
//! returned.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::backends::Obj;
use crate::error::Error;
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::lifecycle::release_quota;
use crate::quota::volume_deltas;
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::volumes::{self, SourceKind, Volume, VolumeStatus};
use crate::store::{now, snapshots};
use crate::symbols::{FOREIGN_NAME, MANAGE, PATH, VOLUME, VOLUME_ID};
use crate::task_signature;

/// The manage flow's name.
pub const MANAGE_FLOW: &str = "volume_manage";
/// The unmanage flow's name.
pub const UNMANAGE_FLOW: &str = "volume_unmanage";

/// The manage flow.
pub fn manage_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(MANAGE_FLOW)
        .add(ManageStart(svc.clone()))
        .add(AdoptObject(svc.clone()))
        .add(ManageFinish(svc.clone()))
}

/// The unmanage flow.
pub fn unmanage_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(UNMANAGE_FLOW)
        .add(UnmanageStart(svc.clone()))
        .add(ReleaseObject(svc.clone()))
        .add(UnmanageEntry(svc.clone()))
}

/// What `manage` was asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManageRequest {
    /// The backend the object is on.
    pub backend: String,
    /// Loopback: the file's path; LVM: the LV's name.
    pub object: String,
    /// The volume's name.
    pub name: Option<String>,
    /// Its project.
    pub project: String,
}

/// The manage flow's initial store (the new volume's id chosen up front).
pub fn manage_inputs(volume_id: &str, req: &ManageRequest) -> Values {
    outputs()
        .with(VOLUME_ID, volume_id.to_string())
        .with(MANAGE, req)
}

/// The unmanage flow's initial store.
pub fn unmanage_inputs(volume_id: &str) -> Values {
    outputs().with(VOLUME_ID, volume_id.to_string())
}

/// The name an unmanaged volume's object gets.
pub fn released_name(volume_id: &str) -> String {
    format!("unmanaged-{volume_id}")
}

/// Checks the object (see the module's note), charges its quota and makes
/// the volume's row, `creating`. Revert: the row gone, the quota returned.
pub struct ManageStart(pub Arc<Service>);

impl Task for ManageStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the entry and returning its quota".to_string())
    }

    task_signature!("ManageStart", requires: [VOLUME_ID, MANAGE], provides: [VOLUME, FOREIGN_NAME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(VOLUME_ID)?;
        let req = ctx.get(MANAGE)?;
        let name = crate::api::check_name(req.name.as_deref())?;
        crate::api::check_project(&req.project)?;
        let driver = self.0.backends.get(&req.backend)?;
        let (foreign, size) = driver.inspect_foreign(&req.object)?;
        if size.get() == 0 || size.round_up(crate::units::MIB) != size {
            return Err(Error::invalid(format!(
                "{}: {} bytes is not a whole number of MiB (volctl's volume sizes)",
                req.object,
                size.get()
            ))
            .into());
        }
        let conn = self.0.store.db().lock();
        if let Some(name) = &name {
            volumes::claim_name(&conn, &req.project, name, None)?;
        }
        let quota = self.0.quota();
        quota.check_per_volume(&conn, &req.project, size)?;
        let r = quota.reserve(&conn, &req.project, &volume_deltas(size, None))?;
        quota.commit(&conn, &r.id)?;
        let t = now();
        let v = Volume {
            id: id.clone(),
            name,
            size,
            status: VolumeStatus::Creating,
            backend: Some(req.backend.clone()),
            path: None,
            device: None,
            attach_mode: None,
            created_at: t.clone(),
            updated_at: t,
            launched_at: None,
            project: req.project.clone(),
            type_name: None,
            type_id: None,
            zone: Some(driver.config().availability_zone.clone()),
            source_kind: SourceKind::Raw,
            source_id: None,
            error: None,
            attempts: 1,
            quota_held: true,
            reservation: None,
            labels: Default::default(),
            expires_at: None,
        };
        volumes::insert(&conn, &v)?;
        Ok(outputs().with(VOLUME, v).with(FOREIGN_NAME, foreign))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if ctx.result(VOLUME).is_some() {
            let id = ctx.get(VOLUME_ID)?;
            let conn = self.0.store.db().lock();
            if let Some(v) = volumes::get(&conn, &id)? {
                release_quota(&self.0.quota(), &conn, &v)?;
                volumes::delete(&conn, &id)?;
            }
        }
        Ok(())
    }
}

/// Renames the object to the volume's name and marks it this store's.
/// Revert: the object back under its own name, unmarked.
pub struct AdoptObject(pub Arc<Service>);

impl Task for AdoptObject {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("giving the object its own name back".to_string())
    }

    task_signature!("AdoptObject", requires: [VOLUME, FOREIGN_NAME], provides: [PATH]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let foreign = ctx.get(FOREIGN_NAME)?;
        let driver = self
            .0
            .backends
            .get(v.backend.as_deref().unwrap_or_default())?;
        let path = driver.adopt(&foreign, Obj::volume(&v.id))?;
        Ok(outputs().with(PATH, path))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let v = ctx.get(VOLUME)?;
        let foreign = ctx.get(FOREIGN_NAME)?;
        let driver = self
            .0
            .backends
            .get(v.backend.as_deref().unwrap_or_default())?;
        driver.release(Obj::volume(&v.id), &foreign)?;
        Ok(())
    }
}

/// The volume is available.
pub struct ManageFinish(pub Arc<Service>);

impl Task for ManageFinish {
    task_signature!("ManageFinish", requires: [VOLUME, FOREIGN_NAME, PATH], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let path = ctx.get(PATH)?;
        let conn = self.0.store.db().lock();
        volumes::set_created(&conn, &v.id, &path)?;
        crate::store::backends::invalidate(&conn, v.backend.as_deref().unwrap_or_default())?;
        events::emit(
            &conn,
            Some(&v.id),
            &Event::VolumeManage {
                from: ctx.get(FOREIGN_NAME)?,
                size: v.size,
            },
        )?;
        Ok(outputs())
    }
}

/// Checks the volume can be given up (available, detached, no snapshots,
/// not being cloned) and marks it `unmanaging`. Revert: `available`.
pub struct UnmanageStart(pub Arc<Service>);

impl Task for UnmanageStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("marking the volume available again".to_string())
    }

    task_signature!("UnmanageStart", requires: [VOLUME_ID], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(VOLUME_ID)?;
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &id)?;
        if v.status != VolumeStatus::Available || v.device.is_some() {
            return Err(Error::conflict(format!(
                "volume {id} is {}; only an available, detached volume can be unmanaged",
                v.status.phrase()
            ))
            .into());
        }
        if !snapshots::list(&conn, None, Some(&id))?.is_empty() {
            return Err(Error::conflict(format!(
                "volume {id} has snapshots: they are this store's objects and would be left \
                 behind; delete them first"
            ))
            .into());
        }
        if volumes::in_flight_from(&conn, SourceKind::Volume, &id)? > 0 {
            return Err(Error::conflict(format!("volume {id} is being cloned")).into());
        }
        volumes::set_status(&conn, &id, VolumeStatus::Unmanaging, None)?;
        Ok(outputs().with(VOLUME, v))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(v) = ctx.result(VOLUME) {
            volumes::set_status(
                &self.0.store.db().lock(),
                &v.id,
                VolumeStatus::Available,
                None,
            )?;
        }
        Ok(())
    }
}

/// Unmarks the object and renames it `unmanaged-<id>`. Revert: adopted
/// back.
pub struct ReleaseObject(pub Arc<Service>);

impl Task for ReleaseObject {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("adopting the object back".to_string())
    }

    task_signature!("ReleaseObject", requires: [VOLUME], provides: [PATH]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let driver = self
            .0
            .backends
            .get(v.backend.as_deref().unwrap_or_default())?;
        let path = driver.release(Obj::volume(&v.id), &released_name(&v.id))?;
        Ok(outputs().with(PATH, path))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let v = ctx.get(VOLUME)?;
        let driver = self
            .0
            .backends
            .get(v.backend.as_deref().unwrap_or_default())?;
        driver.adopt(&released_name(&v.id), Obj::volume(&v.id))?;
        Ok(())
    }
}

/// Forgets the volume: its row gone and its quota returned, together.
pub struct UnmanageEntry(pub Arc<Service>);

impl Task for UnmanageEntry {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("restoring the volume's entry and its quota".to_string())
    }

    task_signature!("UnmanageEntry", requires: [VOLUME, PATH], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let path = ctx.get(PATH)?;
        let conn = self.0.store.db().lock();
        if let Some(current) = volumes::get(&conn, &v.id)? {
            release_quota(&self.0.quota(), &conn, &current)?;
            volumes::delete(&conn, &v.id)?;
        }
        crate::store::backends::invalidate(&conn, v.backend.as_deref().unwrap_or_default())?;
        events::emit(&conn, Some(&v.id), &Event::VolumeUnmanage { path })?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        // Rolled back after it forgot the volume: the row back (`unmanaging`,
        // for UnmanageStart's revert to settle) and its quota charged again.
        let v = ctx.get(VOLUME)?;
        let conn = self.0.store.db().lock();
        if volumes::get(&conn, &v.id)?.is_none() {
            let row = Volume {
                status: VolumeStatus::Unmanaging,
                quota_held: true,
                reservation: None,
                ..v.clone()
            };
            volumes::insert(&conn, &row)?;
            let charge = crate::quota::negate(&volume_deltas(v.size, v.type_name.as_deref()));
            self.0.quota().release(&conn, &v.project, &charge)?;
        }
        Ok(())
    }
}
