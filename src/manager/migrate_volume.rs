//! The migrate flow (`volume_migrate`): MigrateStart → CopyToTarget →
//! SwitchBackend → DeleteSource → MigrateFinish. Moves a volume to another
//! backend (loopback ↔ LVM, between VGs, thin ↔ thick): the target made and
//! filled (sparse: zeros stay holes), verified against the source, the
//! record switched, the source deleted. The volume keeps its id and name.
//!
//! Initial store: `volume_id`, `target_backend`.
//!
//! A revert removes the partial target and leaves the source untouched —
//! until the source is deleted. From then on the only copy is the target,
//! so a rollback keeps it: SwitchBackend's revert switches back only while
//! the source still exists, and CopyToTarget's revert removes the target
//! only if the record does not point at it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::backends::{Format, ImageSource, Io, Obj, Phase, qemu_img};
use crate::error::{Error, ErrorKind};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::scheduler::filters::{Want, capabilities, capacity};
use crate::service::Service;
use crate::store::events::{self, Event};
use crate::store::volumes::{self, VolumeStatus};
use crate::store::{snapshots, types};
use crate::symbols::{PATH, TARGET_BACKEND, TARGET_TYPE, VOLUME, VOLUME_ID};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_migrate";

/// The migrate flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(MigrateStart(svc.clone()))
        .add(CopyToTarget(svc.clone()))
        .add(SwitchBackend(svc.clone()))
        .add(DeleteSource(svc.clone()))
        .add(MigrateFinish(svc.clone()))
}

/// The flow's initial store.
pub fn inputs(volume_id: &str, target: &str, for_type: Option<&str>) -> Values {
    outputs()
        .with(VOLUME_ID, volume_id.to_string())
        .with(TARGET_BACKEND, target.to_string())
        .with(TARGET_TYPE, for_type.map(str::to_string))
}

/// Checks the volume (available, detached, no snapshots: they live on its
/// backend) and the target (another backend, with room, satisfying the
/// volume's type), and marks the volume `migrating`, its space counted on
/// the target. Revert: `available`, nothing counted on the target.
pub struct MigrateStart(pub Arc<Service>);

impl Task for MigrateStart {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("marking the volume available again".to_string())
    }

    task_signature!("MigrateStart", requires: [VOLUME_ID, TARGET_BACKEND, TARGET_TYPE], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id = ctx.get(VOLUME_ID)?;
        let target = ctx.get(TARGET_BACKEND)?;
        let conn = self.0.store.db().lock();
        let v = volumes::require(&conn, &id)?;
        if v.status != VolumeStatus::Available || v.device.is_some() {
            return Err(Error::conflict(format!(
                "volume {id} is {}; only an available, detached volume can be migrated",
                v.status.phrase()
            ))
            .into());
        }
        if v.backend.as_deref() == Some(target.as_str()) {
            return Err(
                Error::invalid(format!("volume {id} is on backend `{target}` already")).into(),
            );
        }
        if !snapshots::list(&conn, None, Some(&id))?.is_empty() {
            return Err(Error::conflict(format!(
                "volume {id} has snapshots, which live on its backend: delete them first"
            ))
            .into());
        }
        self.0.backends.get(&target)?.claimed()?;
        let c = crate::scheduler::candidate(&self.0, &conn, &target)?;
        // The copy must be exactly the volume's size: a target that would
        // round it up (LVM extents) would leave a record smaller than its
        // object.
        if let Ok(st) = &c.stats
            && v.size.round_up(st.allocation_unit.get()) != v.size
        {
            return Err(Error::invalid(format!(
                "volume {id} is {}, not a whole number of backend `{target}`'s extents ({} \
                 each): extend it to {} first",
                v.size.human(),
                st.allocation_unit.human(),
                v.size.round_up(st.allocation_unit.get()).human()
            ))
            .into());
        }
        let extra_specs = match ctx.get(TARGET_TYPE)?.as_ref().or(v.type_name.as_ref()) {
            Some(t) => types::find(&conn, t)?.extra_specs,
            None => Default::default(),
        };
        let want = Want {
            size: v.size,
            extra_specs,
            ..Want::default()
        };
        for (fits, why) in [
            {
                let (f, w, _) = capacity(&want, &c);
                (f, w)
            },
            capabilities(&want, &c),
        ] {
            if !fits {
                return Err(Error::new(
                    ErrorKind::NoValidBackend,
                    format!("volume {id} cannot move to backend `{target}`: {why}"),
                )
                .into());
            }
        }
        volumes::set_status(&conn, &id, VolumeStatus::Migrating, None)?;
        volumes::set_migrating_to(&conn, &id, Some(&target))?;
        Ok(outputs().with(VOLUME, v))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(v) = ctx.result(VOLUME) {
            let conn = self.0.store.db().lock();
            if volumes::get(&conn, &v.id)?.is_some() {
                volumes::set_migrating_to(&conn, &v.id, None)?;
                volumes::set_status(&conn, &v.id, VolumeStatus::Available, None)?;
            }
        }
        Ok(())
    }
}

/// Makes the target object and fills it from the source (qemu-img: holes
/// stay holes), then checks the two hold the same data. Revert: removes the
/// target, unless the volume's record already points at it.
pub struct CopyToTarget(pub Arc<Service>);

impl Task for CopyToTarget {
    fn headline(&self, _: &Values) -> Option<String> {
        Some("copied to the target backend and verified".to_string())
    }

    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the copy on the target backend".to_string())
    }

    task_signature!("CopyToTarget", requires: [VOLUME, TARGET_BACKEND], provides: [PATH]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let target = ctx.get(TARGET_BACKEND)?;
        let source = self
            .0
            .backends
            .get(v.backend.as_deref().unwrap_or_default())?;
        let dst = self.0.backends.get(&target)?;
        let obj = Obj::volume(&v.id);
        let src_path = source.path(obj);
        let size = v.size;
        let progress = |p: Phase, d, t| ctx.progress_in(p.label(), d, t);
        let io = Io {
            progress: &progress,
            cancel: ctx.cancel_token(),
            phase: None,
        };
        let image = ImageSource {
            path: Path::new(&src_path),
            format: Format::Raw,
            virtual_size: size.get(),
            is_volume: true,
        };
        let path = dst.import_image(&image, obj, size, &io)?;
        // A generous bound: comparing reads both disks once.
        let wall = Duration::from_secs(600 + 60 * v.size.ceil_gib().get());
        // The copy must be on disk before the source goes (DeleteSource):
        // synced while it is compared (reading it from the page cache), so
        // the two cost the longer of them, not their sum.
        let (same, synced) = std::thread::scope(|scope| {
            let sync = scope.spawn(|| {
                std::fs::File::open(&path)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| Error::backend_io(format!("syncing {path}"), &e))
            });
            let same = qemu_img::same_data(
                Path::new(&src_path),
                Path::new(&path),
                wall,
                Some(ctx.cancel_token()),
            );
            let synced = sync
                .join()
                .unwrap_or_else(|_| Err(Error::internal("the sync thread panicked")));
            (same, synced)
        });
        synced?;
        if !same? {
            return Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "the copy of volume {} on `{target}` differs from its source",
                    v.id
                ),
            )
            .into());
        }
        Ok(outputs().with(PATH, path))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let v = ctx.get(VOLUME)?;
        let target = ctx.get(TARGET_BACKEND)?;
        let now = volumes::get(&self.0.store.db().lock(), &v.id)?;
        if now.is_some_and(|n| n.backend.as_deref() == Some(target.as_str())) {
            return Ok(()); // the only copy now: kept
        }
        self.0.backends.get(&target)?.delete(Obj::volume(&v.id))?;
        Ok(())
    }
}

/// Points the volume's record at the target. Revert: back at the source —
/// while the source object still exists.
pub struct SwitchBackend(pub Arc<Service>);

impl Task for SwitchBackend {
    fn headline(&self, _: &Values) -> Option<String> {
        Some("switched to the target backend".to_string())
    }

    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("switching the volume back to its source backend".to_string())
    }

    task_signature!("SwitchBackend", requires: [VOLUME, TARGET_BACKEND, PATH], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let target = ctx.get(TARGET_BACKEND)?;
        let path = ctx.get(PATH)?;
        let zone = self
            .0
            .backends
            .get(&target)?
            .config()
            .availability_zone
            .clone();
        let conn = self.0.store.db().lock();
        volumes::set_location(&conn, &v.id, &target, &zone, &path)?;
        crate::store::backends::invalidate(&conn, &target)?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let v = ctx.get(VOLUME)?;
        let source = v.backend.as_deref().unwrap_or_default();
        if self
            .0
            .backends
            .get(source)?
            .size(Obj::volume(&v.id))?
            .is_none()
        {
            return Ok(()); // the source is gone: the target is the volume
        }
        volumes::set_location(
            &self.0.store.db().lock(),
            &v.id,
            source,
            v.zone.as_deref().unwrap_or_default(),
            v.path.as_deref().unwrap_or_default(),
        )?;
        Ok(())
    }
}

/// Deletes the source object (the point of no return: see the module's
/// note).
pub struct DeleteSource(pub Arc<Service>);

impl Task for DeleteSource {
    fn headline(&self, _: &Values) -> Option<String> {
        Some("removed the source backend's copy".to_string())
    }

    task_signature!("DeleteSource", requires: [VOLUME], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let source = v.backend.as_deref().unwrap_or_default();
        self.0.backends.get(source)?.delete(Obj::volume(&v.id))?;
        crate::store::backends::invalidate(&self.0.store.db().lock(), source)?;
        Ok(outputs())
    }
}

/// The volume is available on its new backend; an event says where from.
pub struct MigrateFinish(pub Arc<Service>);

impl Task for MigrateFinish {
    task_signature!("MigrateFinish", requires: [VOLUME, TARGET_BACKEND], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v = ctx.get(VOLUME)?;
        let target = ctx.get(TARGET_BACKEND)?;
        let conn = self.0.store.db().lock();
        volumes::set_migrating_to(&conn, &v.id, None)?;
        volumes::set_status(&conn, &v.id, VolumeStatus::Available, None)?;
        events::emit(
            &conn,
            Some(&v.id),
            &Event::VolumeMigrate {
                from: v.backend.clone().unwrap_or_default(),
                to: target,
            },
        )?;
        Ok(outputs())
    }
}
