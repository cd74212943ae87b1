//! What volctl's commands do, as flows: create (api → scheduler → manager
//! through the cast queue), delete, attach, detach.

use std::sync::Arc;

use crate::store::events;

use crate::api::{CreateRequest, create_volume as api_create};
use crate::backends::{AttachMode, Format};
use crate::error::{Error, ErrorKind, Result};
use crate::flow::{Engine, Flow, FlowOutcome, FlowState, Values, ValuesExt, outputs};
use crate::images::flows as image_flows;
use crate::manager::{
    attach_volume, create_volume as manager_create, delete_volume, export_volume, extend_volume,
    manage_volume, migrate_volume, rename_volume, retype_volume, revert_snapshot, snapshot,
};
use crate::scheduler::create_volume as scheduler_create;
use crate::service::Service;
use crate::store::flows::{FlowMeta, Operation};
use crate::store::images::Image;
use crate::store::new_id;
use crate::store::snapshots::{self, Snapshot};
use crate::store::volumes::{self, Volume, VolumeStatus};
use crate::symbols::{ATTACH_MODE, IMAGE, IMAGE_ID, SNAPSHOT_ID, VOLUME_ID};

/// Every flow definition by name, so a stored flow can be rebuilt and
/// resumed by any process.
pub fn definition(name: &str, svc: &Arc<Service>) -> Option<Flow> {
    Some(match name {
        api_create::FLOW => api_create::flow(svc),
        scheduler_create::FLOW => scheduler_create::flow(svc),
        manager_create::FLOW => manager_create::flow(svc),
        delete_volume::FLOW => delete_volume::flow(svc),
        delete_volume::CASCADE_FLOW => delete_volume::cascade_flow(svc),
        extend_volume::FLOW => extend_volume::flow(svc),
        rename_volume::FLOW => rename_volume::flow(svc),
        crate::manager::label_volume::FLOW => crate::manager::label_volume::flow(svc),
        crate::apply::FLOW => crate::apply::flow(svc),
        export_volume::FLOW => export_volume::flow(svc),
        revert_snapshot::FLOW => revert_snapshot::flow(svc),
        manage_volume::MANAGE_FLOW => manage_volume::manage_flow(svc),
        migrate_volume::FLOW => migrate_volume::flow(svc),
        retype_volume::FLOW => retype_volume::flow(svc),
        manage_volume::UNMANAGE_FLOW => manage_volume::unmanage_flow(svc),
        attach_volume::ATTACH_FLOW => attach_volume::attach_flow(svc),
        attach_volume::DETACH_FLOW => attach_volume::detach_flow(svc),
        snapshot::CREATE_FLOW => snapshot::create_flow(svc),
        snapshot::DELETE_FLOW => snapshot::delete_flow(svc),
        image_flows::IMPORT_FLOW => image_flows::import_flow(svc),
        image_flows::FROM_VOLUME_FLOW => image_flows::from_volume_flow(svc),
        image_flows::DELETE_FLOW => image_flows::delete_flow(svc),
        _ => return None,
    })
}

/// The flows an operation runs, by name (a `[recovery]` rule may name one
/// of them, or one of their tasks).
pub fn flows_of(operation: Operation) -> &'static [&'static str] {
    use Operation as O;
    match operation {
        O::Create => &[
            api_create::FLOW,
            scheduler_create::FLOW,
            manager_create::FLOW,
        ],
        O::Delete => &[delete_volume::FLOW, delete_volume::CASCADE_FLOW],
        O::Attach => &[attach_volume::ATTACH_FLOW],
        O::Detach => &[attach_volume::DETACH_FLOW],
        O::Extend => &[extend_volume::FLOW],
        O::Rename => &[rename_volume::FLOW],
        O::Label => &[crate::manager::label_volume::FLOW],
        O::Apply => &[crate::apply::FLOW],
        O::Export => &[export_volume::FLOW],
        O::Manage => &[manage_volume::MANAGE_FLOW],
        O::Migrate => &[migrate_volume::FLOW],
        O::Retype => &[retype_volume::FLOW],
        O::Unmanage => &[manage_volume::UNMANAGE_FLOW],
        O::Snapshot => &[snapshot::CREATE_FLOW],
        O::SnapshotDelete => &[snapshot::DELETE_FLOW],
        O::SnapshotRevert => &[revert_snapshot::FLOW],
        O::ImageImport => &[image_flows::IMPORT_FLOW],
        O::ImageCreate => &[image_flows::FROM_VOLUME_FLOW],
        O::ImageDelete => &[image_flows::DELETE_FLOW],
    }
}

/// Something a person at the terminal should hear about that no task's
/// transition says.
#[derive(Clone, Copy, Debug)]
pub enum Note<'a> {
    /// A step of the operation (a reschedule).
    Step(&'a str),
    /// Something undone outside any task's revert, in words.
    Undone(&'a str),
}

/// Receives notes for a person.
pub type Notes = Arc<dyn Fn(Note<'_>) + Send + Sync>;

/// Runs volctl's operations with one engine (and its listeners).
pub struct Ops {
    pub(crate) svc: Arc<Service>,
    pub(crate) engine: Engine,
    notes: Option<Notes>,
    /// The operation these operations' flows are a part of.
    parent: Option<String>,
}

/// What `create --dry-run` decided.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DryRun {
    /// The normalised request.
    pub request: crate::api::VolumeRequest,
    /// What every backend's filters said, and the choice.
    pub decision: crate::scheduler::Decision,
}

/// An engine error as the command's error. When the store failed, the flow
/// stopped where its recording stopped — nothing was (knowingly) reverted
/// after that — so the command says "interrupted" (exit 7) and names the
/// flow to resume or roll back, never "failed, everything reverted".
pub(crate) fn engine_error(e: crate::flow::EngineError, flow_id: &str) -> Error {
    match e {
        crate::flow::EngineError::Store(s) => Error::new(
            ErrorKind::Interrupted,
            format!(
                "recording flow {flow_id} failed ({s}); it stopped where the record stops: once the cause \
                 is fixed, `volctl resume {flow_id}` finishes it or `volctl rollback {flow_id}` undoes it"
            ),
        ),
        other => other.into(),
    }
}

/// The first failure of a flow that did not succeed, as an error.
pub(crate) fn outcome_error(out: &FlowOutcome) -> Error {
    let mut e = out
        .failures
        .first()
        .map(Error::from_failure)
        .unwrap_or_else(|| Error::internal("flow failed"));
    if out.state == FlowState::RevertFailed {
        let rf = out
            .revert_failure
            .as_ref()
            .map(|f| f.message.as_str())
            .unwrap_or("?");
        e = Error::new(
            ErrorKind::Interrupted,
            format!(
                "{}; then undoing it failed: {rf}; fix the cause and run `volctl resume {}`",
                e.message, out.id
            ),
        );
    }
    e
}

impl Ops {
    /// Operations on `svc`, running flows with `engine`.
    pub fn new(svc: Arc<Service>, engine: Engine) -> Self {
        Ops {
            svc,
            engine,
            notes: None,
            parent: None,
        }
    }

    /// Marks every flow these operations run as a part of `parent` (an
    /// apply): its rollback then knows what it made.
    pub fn with_parent(mut self, parent: &str) -> Self {
        self.parent = Some(parent.to_string());
        self
    }

    /// The token that cancels these operations' flows (Ctrl-C).
    pub fn cancel_token(&self) -> &crate::flow::CancelToken {
        self.engine.cancel_token()
    }

    /// Operations that only read (list, show, flow list): no owner lock is
    /// taken and any attempt to run a flow fails.
    pub fn reader(svc: Arc<Service>) -> Self {
        let engine = svc.reading_engine();
        Ops::new(svc, engine)
    }

    /// The engine, for running a flow: only one that records an owner (so
    /// no other process takes its flows for orphans).
    pub(crate) fn runner(&self) -> Result<&Engine> {
        self.svc.owner_id()?;
        match self.engine.owner() {
            Some(_) => Ok(&self.engine),
            None => Err(Error::internal(
                "this command opened the store to read only: it cannot run a flow",
            )),
        }
    }

    /// Tells `notes` about things a person should see (reschedules).
    pub fn with_notes(mut self, notes: Notes) -> Self {
        self.notes = Some(notes);
        self
    }

    /// Runs the api and scheduler decisions for `req` — validation, quota,
    /// every filter on every backend — without creating anything: all of it
    /// happens in a transaction that is rolled back.
    pub fn dry_run(&self, req: &CreateRequest) -> Result<DryRun> {
        use crate::quota::volume_deltas;
        let svc = &self.svc;
        svc.store.db().transact(|conn| {
            let request = api_create::ExtractVolumeRequest(svc.clone()).extract(req)?;
            let quota = svc.quota();
            quota.check_per_volume(conn, &request.project, request.size)?;
            quota.reserve(
                conn,
                &request.project,
                &volume_deltas(request.size, request.type_name.as_deref()),
            )?;
            let spec = crate::scheduler::SchedulerRequest {
                volume_id: "(dry run)".into(),
                request: request.clone(),
                retry: crate::scheduler::Retry::first(),
            };
            let decision = scheduler_create::ScheduleCreateVolume::decide(svc, conn, &spec)?;
            Ok::<_, Error>((DryRun { request, decision }, false))
        })
    }

    /// A volume of `project` (any project when `None`) by id, id prefix or
    /// name.
    pub fn find_volume(&self, project: Option<&str>, key: &str) -> Result<Volume> {
        volumes::find(&self.svc.store.db().lock(), project, key)
    }

    /// The volumes of `project` (every project when `None`), each as it is
    /// observed: a recorded device only once proven to back its volume.
    pub fn volumes(&self, project: Option<&str>) -> Result<Vec<Volume>> {
        let vols = volumes::list(&self.svc.store.db().lock(), project)?;
        Ok(vols.iter().map(|v| self.observed(v)).collect())
    }

    /// The id a volume's history is kept under: a volume by id, prefix or
    /// name — or, for a volume since deleted (its events and flows remain),
    /// its full id as given.
    pub fn history_id(&self, project: Option<&str>, key: &str) -> Result<String> {
        match self.find_volume(project, key) {
            Ok(v) => Ok(v.id),
            Err(_) if uuid::Uuid::parse_str(key).is_ok() => Ok(key.to_string()),
            Err(e) => Err(e),
        }
    }

    /// The operation these operations' flows are a part of, if any.
    pub(crate) fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }

    /// Whether these operations run inside another operation's flow.
    pub(crate) fn is_nested(&self) -> bool {
        self.parent.is_some()
    }

    /// The service.
    pub fn service(&self) -> &Arc<Service> {
        &self.svc
    }

    /// Tells the person at the terminal something (a reschedule), if one
    /// listens.
    pub(crate) fn note(&self, note: Note<'_>) {
        if let Some(notes) = &self.notes {
            notes(note);
        }
    }

    fn run(&self, flow: &Flow, inputs: Values, mut meta: FlowMeta) -> Result<FlowOutcome> {
        // Every flow is owned (an flock) so others can tell it from an orphan.
        let engine = self.runner()?;
        let id = new_id();
        if meta.parent.is_none() {
            meta.parent = self.parent.clone();
        }
        engine
            .run_with_id(flow, &id, inputs, meta.to_value())
            .map_err(|e| engine_error(e, &id))
    }

    /// Creates a volume: the api flow, then every cast it leads to, until
    /// the volume is available or in error.
    pub fn create(&self, req: &CreateRequest) -> Result<Volume> {
        let volume_id = new_id();
        let api = api_create::flow(&self.svc);
        let out = self.run(
            &api,
            api_create::inputs(&volume_id, req),
            FlowMeta::volume(Operation::Create, &volume_id),
        )?;
        if !out.is_success() {
            return Err(outcome_error(&out));
        }
        let last_failure = self.drain(&volume_id)?;
        let Some(v) = volumes::get(&self.svc.store.db().lock(), &volume_id)? else {
            // Cancelled: everything, the volume's row included, was undone.
            return Err(last_failure
                .map(|f| Error::from_failure(&f))
                .unwrap_or_else(|| Error::internal(format!("volume {volume_id} vanished"))));
        };
        match v.status {
            VolumeStatus::Available => Ok(v),
            _ => {
                let kind = last_failure
                    .as_ref()
                    .map(|f| Error::from_failure(f).kind)
                    .unwrap_or(ErrorKind::Internal);
                Err(Error::new(
                    kind,
                    format!(
                        "volume {} is in {} (its quota is returned; `volctl delete {}` removes it): {}",
                        v.id,
                        v.status,
                        v.id,
                        v.error.as_deref().unwrap_or("no reason recorded")
                    ),
                )
                .with_details(last_failure.map(|f| f.details).unwrap_or_default()))
            }
        }
    }

    /// Runs a flow to its end; its failure as an error.
    pub(crate) fn complete(
        &self,
        flow: &Flow,
        inputs: Values,
        meta: FlowMeta,
    ) -> Result<FlowOutcome> {
        let out = self.run(flow, inputs, meta)?;
        if out.is_success() {
            Ok(out)
        } else {
            Err(outcome_error(&out))
        }
    }

    fn volume_flow(&self, flow: Flow, volume_id: &str, operation: Operation) -> Result<()> {
        self.complete(
            &flow,
            outputs().with(VOLUME_ID, volume_id.to_string()),
            FlowMeta::volume(operation, volume_id),
        )
        .map(drop)
    }

    /// Snapshots a volume; an attached one only with `force` (Cinder's rule:
    /// a snapshot of a disk being written is only crash-consistent).
    pub fn snapshot_create(
        &self,
        volume_id: &str,
        name: Option<&str>,
        force: bool,
    ) -> Result<Snapshot> {
        self.settle(volume_id)?;
        let v = self.observed(&volumes::require(&self.svc.store.db().lock(), volume_id)?);
        if let Some(device) = v.device.as_deref().filter(|_| !force) {
            return Err(Error::conflict(format!(
                "volume {} is in use (attached to {device}): a snapshot taken while it is written \
                 holds whatever was on disk at that instant, not what its filesystem would call \
                 consistent; detach it first, or snapshot create --force",
                v.id
            )));
        }
        let id = new_id();
        self.complete(
            &snapshot::create_flow(&self.svc),
            snapshot::create_inputs(&id, volume_id, name),
            FlowMeta::snapshot(Operation::Snapshot, &id, Some(volume_id)),
        )?;
        snapshots::get(&self.svc.store.db().lock(), &id)?
            .ok_or_else(|| Error::internal("the snapshot vanished"))
    }

    /// Puts a snapshot's data back into its volume (in place; an attached
    /// volume only with `force`, its device rebound); returns the volume.
    pub fn snapshot_revert(&self, snapshot_id: &str, force: bool) -> Result<Volume> {
        let s = snapshots::get(&self.svc.store.db().lock(), snapshot_id)?
            .ok_or_else(|| Error::not_found(format!("no snapshot {snapshot_id}")))?;
        self.settle(&s.volume_id)?;
        self.refresh_device(&s.volume_id)?;
        self.complete(
            &revert_snapshot::flow(&self.svc),
            revert_snapshot::inputs(snapshot_id, force),
            FlowMeta::snapshot(Operation::SnapshotRevert, snapshot_id, Some(&s.volume_id)),
        )?;
        Ok(self.observed(&volumes::require(
            &self.svc.store.db().lock(),
            &s.volume_id,
        )?))
    }

    /// Deletes a snapshot.
    pub fn snapshot_delete(&self, snapshot_id: &str) -> Result<()> {
        self.complete(
            &snapshot::delete_flow(&self.svc),
            outputs().with(SNAPSHOT_ID, snapshot_id.to_string()),
            FlowMeta::snapshot(Operation::SnapshotDelete, snapshot_id, None),
        )
        .map(drop)
    }

    /// Imports an image file into the catalog.
    pub fn image_import(
        &self,
        source: &str,
        name: Option<&str>,
        format: Option<Format>,
    ) -> Result<Image> {
        let id = new_id();
        let out = self.complete(
            &image_flows::import_flow(&self.svc),
            image_flows::import_inputs(&id, source, name, format),
            FlowMeta::image(Operation::ImageImport, &id),
        )?;
        out.get(IMAGE)
            .ok_or_else(|| Error::internal("the import produced no image"))
    }

    /// Makes image `name` of a volume or a snapshot (`source`, `id`),
    /// written as `format` into the catalog; returns it.
    pub fn image_from_volume(
        &self,
        name: &str,
        source: export_volume::Source,
        id: &str,
        format: Format,
    ) -> Result<Image> {
        let image_id = new_id();
        let meta = match source {
            export_volume::Source::Volume => {
                self.settle(id)?;
                self.refresh_device(id)?;
                FlowMeta {
                    volume_id: Some(id.to_string()),
                    ..FlowMeta::image(Operation::ImageCreate, &image_id)
                }
            }
            export_volume::Source::Snapshot => FlowMeta {
                snapshot_id: Some(id.to_string()),
                ..FlowMeta::image(Operation::ImageCreate, &image_id)
            },
        };
        let out = self.complete(
            &image_flows::from_volume_flow(&self.svc),
            image_flows::from_volume_inputs(&self.svc, &image_id, name, source, id, format),
            meta,
        )?;
        out.get(IMAGE)
            .ok_or_else(|| Error::internal("no image was made"))
    }

    /// Deletes an image and its cache entries.
    pub fn image_delete(&self, image_id: &str) -> Result<()> {
        self.complete(
            &image_flows::delete_flow(&self.svc),
            outputs().with(IMAGE_ID, image_id.to_string()),
            FlowMeta::image(Operation::ImageDelete, image_id),
        )
        .map(drop)
    }

    /// Deletes a volume. An attached one only with `force` (its device is
    /// detached first — never while mounted or held).
    pub fn delete(&self, volume_id: &str, force: bool) -> Result<()> {
        self.delete_with(volume_id, force, false)
    }

    /// Deletes a volume, and with `cascade` its snapshots first (in the
    /// same flow).
    pub fn delete_with(&self, volume_id: &str, force: bool, cascade: bool) -> Result<()> {
        let settled = self.settle(volume_id)?;
        let finished_a_delete = settled.iter().any(|d| {
            d.operation == Some(Operation::Delete) && d.result == Some(FlowState::Success)
        });
        if finished_a_delete && volumes::get(&self.svc.store.db().lock(), volume_id)?.is_none() {
            return Ok(()); // a delete that stopped half-way was finished
        }
        self.refresh_device(volume_id)?;
        let flow = if cascade {
            delete_volume::cascade_flow(&self.svc)
        } else {
            delete_volume::flow(&self.svc)
        };
        self.complete(
            &flow,
            delete_volume::inputs(volume_id, force),
            FlowMeta::volume(Operation::Delete, volume_id),
        )
        .map(drop)
    }

    /// Grows a volume to `new_size`, attached or not; returns it
    /// updated. Asking for the size it already has changes nothing (a
    /// retried extend succeeds); a smaller size is refused.
    pub fn extend(&self, volume_id: &str, new_size: crate::units::Bytes) -> Result<Volume> {
        // Volumes have MiB granularity (the CLI rounds so already), and a
        // backend may allocate in larger units (LVM extents): the size
        // recorded is the size the object will have.
        let new_size = new_size.round_up(crate::units::MIB);
        let settled = self.settle(volume_id)?;
        let v = self.refresh_device(volume_id)?;
        let resumed_extend = settled.iter().find(|d| {
            d.operation == Some(Operation::Extend)
                && d.decision == crate::reconcile::Verdict::Resume
        });
        if let Some(d) = resumed_extend
            && v.size > new_size
        {
            return Err(Error::invalid(format!(
                "volume {volume_id} is {}: an extend of it that stopped half-way (flow {}) was just finished and grew it so; it cannot shrink to {}",
                v.size,
                d.flow_id.as_deref().unwrap_or("?"),
                new_size
            )));
        }
        let new_size = match v.backend.as_deref() {
            Some(b) => crate::scheduler::allocated_size(
                &self.svc,
                &self.svc.store.db().lock(),
                b,
                new_size,
                &format!("volume {volume_id}"),
            )?,
            None => new_size,
        };
        if v.size == new_size && matches!(v.status, VolumeStatus::Available | VolumeStatus::InUse) {
            return Ok(self.observed(&v));
        }
        self.complete(
            &extend_volume::flow(&self.svc),
            extend_volume::inputs(volume_id, new_size),
            FlowMeta::volume(Operation::Extend, volume_id),
        )?;
        Ok(self.observed(&volumes::require(&self.svc.store.db().lock(), volume_id)?))
    }

    /// Writes a volume or a snapshot to a file; returns what was written.
    pub fn export(&self, req: &export_volume::ExportRequest) -> Result<export_volume::Exported> {
        let meta = match req.source {
            export_volume::Source::Volume => {
                self.settle(&req.id)?;
                self.refresh_device(&req.id)?;
                FlowMeta::volume(Operation::Export, &req.id)
            }
            export_volume::Source::Snapshot => FlowMeta::snapshot(Operation::Export, &req.id, None),
        };
        let out = self.complete(
            &export_volume::flow(&self.svc),
            export_volume::inputs(req),
            meta,
        )?;
        out.get(crate::symbols::EXPORTED)
            .ok_or_else(|| Error::internal("the export produced no file"))
    }

    /// Takes an existing object in as a volume; returns it.
    pub fn manage(&self, req: &manage_volume::ManageRequest) -> Result<Volume> {
        let id = new_id();
        self.complete(
            &manage_volume::manage_flow(&self.svc),
            manage_volume::manage_inputs(&id, req),
            FlowMeta::volume(Operation::Manage, &id),
        )?;
        Ok(self.observed(&volumes::require(&self.svc.store.db().lock(), &id)?))
    }

    /// Forgets a volume, keeping its data; returns where the data is.
    pub fn unmanage(&self, volume_id: &str) -> Result<String> {
        self.settle(volume_id)?;
        self.refresh_device(volume_id)?;
        let out = self.complete(
            &manage_volume::unmanage_flow(&self.svc),
            manage_volume::unmanage_inputs(volume_id),
            FlowMeta::volume(Operation::Unmanage, volume_id),
        )?;
        out.get(crate::symbols::PATH)
            .ok_or_else(|| Error::internal("unmanage produced no path"))
    }

    /// Moves a volume to another backend; returns it updated.
    pub fn migrate(&self, volume_id: &str, target: &str) -> Result<Volume> {
        self.migrate_for(volume_id, target, None)
    }

    /// Moves a volume to `target`, which must satisfy `for_type` (the
    /// volume's own type when `None`).
    fn migrate_for(&self, volume_id: &str, target: &str, for_type: Option<&str>) -> Result<Volume> {
        self.settle(volume_id)?;
        self.refresh_device(volume_id)?;
        self.complete(
            &migrate_volume::flow(&self.svc),
            migrate_volume::inputs(volume_id, target, for_type),
            FlowMeta::volume(Operation::Migrate, volume_id),
        )?;
        Ok(self.observed(&volumes::require(&self.svc.store.db().lock(), volume_id)?))
    }

    /// Gives a volume another volume type. If its backend does not satisfy
    /// the type, `migrate` moves it first to the backend the scheduler
    /// chooses for it (else the refusal lists every backend's verdicts).
    pub fn retype(&self, volume_id: &str, new_type: &str, migrate: bool) -> Result<Volume> {
        self.settle(volume_id)?;
        let (v, fits, decision) = self.svc.store.db().transact(|conn| {
            let v = volumes::require(conn, volume_id)?;
            let t = crate::store::types::find(conn, new_type)?;
            let backend = v.backend.clone().unwrap_or_default();
            let fits = retype_volume::backend_satisfies(&self.svc, conn, &backend, &t.name)?;
            // Every backend is asked only when the volume must move.
            let decision = match &fits {
                Ok(()) => None,
                Err(_) => {
                    let want = crate::scheduler::filters::Want {
                        size: v.size,
                        extra_specs: t.extra_specs.clone(),
                        tried: vec![backend],
                        ..Default::default()
                    };
                    let candidates = crate::scheduler::candidates(&self.svc, conn)?;
                    Some(crate::scheduler::filters::schedule(&want, &candidates))
                }
            };
            Ok::<_, Error>(((v, fits, decision), false))
        })?;
        if v.type_name.as_deref() == Some(new_type) {
            return Ok(self.observed(&v));
        }
        if let (Err(why), Some(decision)) = (fits, decision) {
            let Some(target) = decision.chosen.clone().filter(|_| migrate) else {
                let hint = if migrate {
                    ""
                } else {
                    "; `retype --migrate` moves it to one that does"
                };
                return Err(Error::new(
                    ErrorKind::NoValidBackend,
                    format!(
                        "volume {volume_id}'s backend does not satisfy type `{new_type}` ({why}){hint}:\n{}",
                        decision.explain(false)
                    ),
                ));
            };
            self.migrate_for(volume_id, &target, Some(new_type))?;
        }
        self.complete(
            &retype_volume::flow(&self.svc),
            retype_volume::inputs(volume_id, new_type),
            FlowMeta::volume(Operation::Retype, volume_id),
        )?;
        Ok(self.observed(&volumes::require(&self.svc.store.db().lock(), volume_id)?))
    }

    /// Renames a volume; returns it updated.
    pub fn rename(&self, volume_id: &str, new_name: &str) -> Result<Volume> {
        self.settle(volume_id)?;
        self.complete(
            &rename_volume::flow(&self.svc),
            rename_volume::inputs(volume_id, new_name),
            FlowMeta::volume(Operation::Rename, volume_id),
        )?;
        Ok(self.observed(&volumes::require(&self.svc.store.db().lock(), volume_id)?))
    }

    /// Attaches a volume in `mode`; returns it updated. Attaching an
    /// attached volume in the same mode returns it as it is — once its
    /// device is proven to back it; in another mode it is a conflict.
    pub fn attach(&self, volume_id: &str, mode: AttachMode) -> Result<Volume> {
        self.settle(volume_id)?;
        let v = self.refresh_device(volume_id)?;
        if let Some(device) = v.device.as_deref() {
            let has = v.attach_mode.unwrap_or_default();
            if has != mode {
                return Err(Error::conflict(format!(
                    "volume {volume_id} is attached {has} at {device}; detach it first to attach it {mode}"
                )));
            }
            return Ok(v);
        }
        self.complete(
            &attach_volume::attach_flow(&self.svc),
            outputs()
                .with(VOLUME_ID, volume_id.to_string())
                .with(ATTACH_MODE, mode),
            FlowMeta::volume(Operation::Attach, volume_id),
        )?;
        volumes::require(&self.svc.store.db().lock(), volume_id)
    }

    /// Detaches a volume; returns it updated. A detached volume (or one whose
    /// recorded device no longer backs it) is returned as it is.
    pub fn detach(&self, volume_id: &str) -> Result<Volume> {
        self.settle(volume_id)?;
        let v = self.refresh_device(volume_id)?;
        if v.device.is_none() && v.status == VolumeStatus::Available {
            return Ok(v);
        }
        self.volume_flow(
            attach_volume::detach_flow(&self.svc),
            volume_id,
            Operation::Detach,
        )?;
        volumes::require(&self.svc.store.db().lock(), volume_id)
    }

    /// Re-establishes every attachment that should exist (volumes `in-use`
    /// whose device is gone, as after a reboot); returns (volume, device,
    /// whether it was attached anew), or the error per volume.
    pub fn attach_all(&self, project: Option<&str>) -> Result<Vec<(Volume, Result<bool>)>> {
        let vols = volumes::list(&self.svc.store.db().lock(), project)?;
        Ok(vols
            .into_iter()
            .filter(|v| v.status == VolumeStatus::InUse)
            .map(|v| {
                let r = (|| {
                    let stale = self.observed(&v).device.is_none();
                    // The mode it had, read before a stale device is forgotten.
                    let v = self.attach(&v.id, v.attach_mode.unwrap_or_default())?;
                    Ok((v, stale))
                })();
                match r {
                    Ok((v, stale)) => (v, Ok(stale)),
                    Err(e) => (v, Err(e)),
                }
            })
            .collect())
    }

    /// The volume as it really is: a recorded device that no longer backs
    /// it (a reboot, `losetup -d`, a reused number) is treated as detached.
    /// Reads only; see [`Ops::refresh_device`] to correct the record.
    pub fn observed(&self, v: &Volume) -> Volume {
        let mut v = v.clone();
        if !self.device_is_real(&v) {
            v.device = None;
            v.attach_mode = None;
            if v.status == VolumeStatus::InUse {
                v.status = VolumeStatus::Available;
            }
        }
        v
    }

    /// False only on proof that the recorded device backs something else
    /// (or nothing): a backend missing from the configuration, or a device
    /// that cannot be asked, keeps the record.
    fn device_is_real(&self, v: &Volume) -> bool {
        match (v.device.as_deref(), v.backend.as_deref()) {
            (Some(device), Some(backend)) => match self.svc.backends.get(backend) {
                Ok(d) => d
                    .exposes(crate::backends::Obj::volume(&v.id), device)
                    .unwrap_or(true),
                Err(_) => true,
            },
            _ => true,
        }
    }

    /// Corrects a stale device record in the store (and says so in an
    /// event); returns the volume as it now is.
    pub fn refresh_device(&self, volume_id: &str) -> Result<Volume> {
        let v = volumes::require(&self.svc.store.db().lock(), volume_id)?;
        if self.device_is_real(&v) {
            return Ok(v);
        }
        let stale = v.device.clone();
        self.svc.store.db().transact(|conn| {
            // Re-read under the write lock: another process may have fixed it.
            let cur = volumes::require(conn, volume_id)?;
            if cur.device == stale {
                volumes::clear_stale_device(conn, volume_id)?;
                events::emit(
                    conn,
                    Some(volume_id),
                    &events::Event::VolumeDeviceStale { device: stale },
                )?;
            }
            Ok::<_, Error>(((), true))
        })?;
        volumes::require(&self.svc.store.db().lock(), volume_id)
    }
}
