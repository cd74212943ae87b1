//! Attach (`volume_attach`: AttachStart → AttachDevice → RecordAttachment)
//! and detach (`volume_detach`: DetachStart → DetachDevice →
//! RecordDetachment): exposing a volume as a block device and back.
//!
//! Initial store: `volume_id`, and for attach optionally `attach_mode`.

use std::sync::Arc;

use crate::backends::{AttachMode, Obj};
use crate::error::{Error, ErrorKind};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::service::Service;
use crate::store::events;
use crate::store::volumes::{self, Volume, VolumeStatus};
use crate::symbols::{ATTACH_MODE, DEVICE, VOLUME, VOLUME_ID};
use crate::task_signature;

/// The attach flow's name.
pub const ATTACH_FLOW: &str = "volume_attach";
/// The detach flow's name.
pub const DETACH_FLOW: &str = "volume_detach";

/// The attach flow.
pub fn attach_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(ATTACH_FLOW)
        .add(AttachStart(svc.clone()))
        .add(AttachDevice(svc.clone()))
        .add(RecordAttachment(svc.clone()))
}

/// The detach flow.
pub fn detach_flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(DETACH_FLOW)
        .add(DetachStart(svc.clone()))
        .add(DetachDevice(svc.clone()))
        .add(RecordDetachment(svc.clone()))
}

/// Checks the volume can be attached and marks it `attaching`, so nothing
/// else (a delete) starts on it meanwhile. Revert: `available` again.
pub struct AttachStart(pub Arc<Service>);

impl Task for AttachStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("marking the volume available again".to_string())
    }

    task_signature!("AttachStart", requires: [VOLUME_ID], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(VOLUME_ID)?;
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &id)?;
        if v.status != VolumeStatus::Available {
            return Err(Error::conflict(format!(
                "volume {id} is {}; only an available volume can be attached",
                v.status.phrase()
            ))
            .into());
        }
        volumes::set_status(&conn, &id, VolumeStatus::Attaching, None)?;
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

/// Binds the volume to a block device. Revert: unbinds it.
pub struct AttachDevice(pub Arc<Service>);

impl Task for AttachDevice {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("detaching the loop device".to_string())
    }

    task_signature!("AttachDevice", requires: [VOLUME], optional: [ATTACH_MODE], provides: [DEVICE]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        let mode: AttachMode = ctx.get_opt(ATTACH_MODE)?.unwrap_or_default();
        let backend = v
            .backend
            .as_deref()
            .ok_or_else(|| Error::internal("volume has no backend"))?;
        let device = self
            .0
            .backends
            .get(backend)?
            .attach(Obj::volume(&v.id), mode)?;
        // Bound, not yet recorded: a process killed here leaves a device
        // that only the volume's file identifies (the revert finds it so).
        ctx.progress(1, 2);
        Ok(outputs().with(DEVICE, device))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        let mode: AttachMode = ctx.get_opt(ATTACH_MODE)?.unwrap_or_default();
        // Refused because the file is exposed otherwise already: that
        // device is not this run's to remove.
        if ctx
            .own_failure()
            .is_some_and(|f| f.is(ErrorKind::Conflict.as_str()))
        {
            return Ok(());
        }
        let Some(backend) = v.backend.as_deref() else {
            return Ok(());
        };
        let driver = self.0.backends.get(backend)?;
        let obj = Obj::volume(&v.id);
        // A run killed between binding and recording left no result: find
        // the device by the volume's file (only a device backing it
        // counts); an LV is its own device.
        let device = ctx
            .result(DEVICE)
            .or_else(|| driver.device_of(obj))
            .or_else(|| (!driver.attachable()).then(|| driver.path(obj)));
        if let Some(device) = device {
            driver.detach(obj, &device, mode)?;
        }
        Ok(())
    }

    fn summary(&self, out: &Values) -> Option<String> {
        out.read(DEVICE)
    }
}

/// Records the device: the volume is `in-use`.
pub struct RecordAttachment(pub Arc<Service>);

impl Task for RecordAttachment {
    task_signature!("RecordAttachment", requires: [VOLUME, DEVICE], optional: [ATTACH_MODE], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        let device: String = ctx.get(DEVICE)?;
        let mode: AttachMode = ctx.get_opt(ATTACH_MODE)?.unwrap_or_default();
        let conn = self.0.store.db().lock();
        volumes::set_device(&conn, &v.id, Some(&device))?;
        volumes::set_attach_mode(&conn, &v.id, mode)?;
        events::emit(
            &conn,
            Some(&v.id),
            &events::Event::VolumeAttach { device, mode },
        )?;
        Ok(outputs())
    }
}

/// Checks the volume is attached and marks it `detaching`. Revert:
/// `in-use` again.
pub struct DetachStart(pub Arc<Service>);

impl Task for DetachStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("marking the volume in-use again".to_string())
    }

    task_signature!("DetachStart", requires: [VOLUME_ID], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(VOLUME_ID)?;
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &id)?;
        if v.device.is_none() || v.status != VolumeStatus::InUse {
            return Err(Error::conflict(format!(
                "volume {id} is {}, not attached",
                v.status.phrase()
            ))
            .into());
        }
        refuse_busy(&self.0, &v)?;
        volumes::set_status(&conn, &id, VolumeStatus::Detaching, None)?;
        Ok(outputs().with(VOLUME, v))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(v) = ctx.result(VOLUME) {
            volumes::set_status(&self.0.store.db().lock(), &v.id, VolumeStatus::InUse, None)?;
        }
        Ok(())
    }
}

/// Refuses (conflict) when the volume's device is mounted or held: checked
/// before anything changes, so a refused detach or delete leaves the volume
/// as it was. The driver checks again as it unbinds.
pub fn refuse_busy(svc: &Service, v: &Volume) -> Result<(), Error> {
    if let (Some(device), Some(backend)) = (v.device.as_deref(), v.backend.as_deref()) {
        let driver = svc.backends.get(backend)?;
        // Unknown counts as ours: refuse rather than guess.
        if driver.exposes(Obj::volume(&v.id), device).unwrap_or(true)
            && let Some(why) = driver.device_busy(device)
        {
            return Err(Error::conflict(format!(
                "volume {} cannot be detached: {why}; unmount it or stop what holds it first",
                v.id
            )));
        }
    }
    Ok(())
}

/// Unbinds the volume's block device, if it has one. Used by detach and
/// delete. Revert: binds it again as it was.
pub struct DetachDevice(pub Arc<Service>);

impl Task for DetachDevice {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("attaching the volume again as it was".to_string())
    }

    task_signature!("DetachDevice", requires: [VOLUME], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        if let (Some(device), Some(backend)) = (v.device.as_deref(), v.backend.as_deref()) {
            self.0.backends.get(backend)?.detach(
                Obj::volume(&v.id),
                device,
                v.attach_mode.unwrap_or_default(),
            )?;
        }
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        Ok(rebind(&self.0, &ctx.get(VOLUME)?)?)
    }
}

/// Binds an attached volume `v` (as it was recorded before its device was
/// unbound) again, in its mode, on the device it had if that is still free,
/// and records the device, keeping the volume's status. Nothing to do for a
/// volume that was not attached, or whose object is gone (deleted since).
pub fn rebind(svc: &Service, v: &Volume) -> Result<(), Error> {
    let (Some(device), Some(backend)) = (v.device.as_deref(), v.backend.as_deref()) else {
        return Ok(());
    };
    let driver = svc.backends.get(backend)?;
    let obj = Obj::volume(&v.id);
    if driver.size(obj)?.is_none() {
        return Ok(());
    }
    let mode = v.attach_mode.unwrap_or_default();
    let now = driver.reattach(obj, mode, device)?;
    if now != device {
        tracing::warn!(
            "volume {}: {device} was taken meanwhile; it is attached at {now} now",
            v.id
        );
    }
    // Recorded whatever the record says now (something may have found the
    // device unbound meanwhile and forgotten it).
    svc.store.db().transact(|conn| {
        let status = volumes::require(conn, &v.id)?.status;
        volumes::set_device(conn, &v.id, Some(&now))?;
        volumes::set_attach_mode(conn, &v.id, mode)?;
        volumes::set_status(conn, &v.id, status, None)?;
        Ok::<_, Error>(((), true))
    })
}

/// Records the detachment: the volume is `available`.
pub struct RecordDetachment(pub Arc<Service>);

impl Task for RecordDetachment {
    task_signature!("RecordDetachment", requires: [VOLUME], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        let conn = self.0.store.db().lock();
        volumes::set_device(&conn, &v.id, None)?;
        events::emit(
            &conn,
            Some(&v.id),
            &events::Event::VolumeDetach { device: v.device },
        )?;
        Ok(outputs())
    }
}
