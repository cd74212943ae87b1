//! What volctl's commands do, as flows: create (api → scheduler → manager
//! through the cast queue), delete, attach, detach.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::api::{CreateRequest, create_volume as api_create};
use crate::backends::Format;
use crate::error::{Error, ErrorKind, Result};
use crate::flow::{
    Engine, Failure, Flow, FlowOutcome, FlowRecord, FlowState, FlowStore, Values, ValuesExt,
    outputs,
};
use crate::images::flows as image_flows;
use crate::manager::{attach_volume, create_volume as manager_create, delete_volume, snapshot};
use crate::scheduler::create_volume as scheduler_create;
use crate::service::Service;
use crate::store::casts::{self, Cast};
use crate::store::images::Image;
use crate::store::new_id;
use crate::store::snapshots::{self, Snapshot};
use crate::store::volumes::{self, Volume, VolumeStatus};

/// Every flow definition by name, so a stored flow can be rebuilt and
/// resumed by any process.
pub fn definition(name: &str, svc: &Arc<Service>) -> Option<Flow> {
    Some(match name {
        api_create::FLOW => api_create::flow(svc),
        scheduler_create::FLOW => scheduler_create::flow(svc),
        manager_create::FLOW => manager_create::flow(svc),
        delete_volume::FLOW => delete_volume::flow(svc),
        attach_volume::ATTACH_FLOW => attach_volume::attach_flow(svc),
        attach_volume::DETACH_FLOW => attach_volume::detach_flow(svc),
        snapshot::CREATE_FLOW => snapshot::create_flow(svc),
        snapshot::DELETE_FLOW => snapshot::delete_flow(svc),
        image_flows::IMPORT_FLOW => image_flows::import_flow(svc),
        image_flows::DELETE_FLOW => image_flows::delete_flow(svc),
        _ => return None,
    })
}

/// The flow that consumes casts of `topic`.
fn consumer(topic: &str, svc: &Arc<Service>) -> Result<Flow> {
    if topic == casts::SCHEDULER {
        Ok(scheduler_create::flow(svc))
    } else if topic.starts_with("manager:") {
        Ok(manager_create::flow(svc))
    } else {
        Err(Error::internal(format!(
            "no flow consumes casts of topic `{topic}`"
        )))
    }
}

/// Receives notes for a person (reschedules).
pub type Notes = Arc<dyn Fn(&str) + Send + Sync>;

/// Runs volctl's operations with one engine (and its listeners).
pub struct Ops {
    svc: Arc<Service>,
    engine: Engine,
    notes: Option<Notes>,
}

/// A recorded flow and whether its owner lives.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FlowInfo {
    /// The flow.
    #[serde(flatten)]
    pub record: FlowRecord,
    /// Whether its owner is a live process.
    pub alive: bool,
    /// Unfinished, and its owner is dead: resume or roll it back.
    pub orphaned: bool,
}

/// What `create --dry-run` decided.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DryRun {
    /// The normalised request.
    pub request: crate::api::VolumeRequest,
    /// What every backend's filters said, and the choice.
    pub decision: crate::scheduler::Decision,
}

/// The first failure of a flow that did not succeed, as an error.
fn outcome_error(out: &FlowOutcome) -> Error {
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

    /// The service.
    pub fn service(&self) -> &Arc<Service> {
        &self.svc
    }

    fn run(&self, flow: &Flow, inputs: Values, meta: Value) -> Result<FlowOutcome> {
        Ok(self.engine.run_with_id(flow, &new_id(), inputs, meta)?)
    }

    /// Creates a volume: the api flow, then every cast it leads to, until
    /// the volume is available or in error.
    pub fn create(&self, req: &CreateRequest) -> Result<Volume> {
        let volume_id = new_id();
        let api = api_create::flow(&self.svc);
        let out = self.run(
            &api,
            api_create::inputs(&volume_id, req),
            api_create::meta(&volume_id),
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

    /// Runs every cast queued for a volume, in order; returns the failure of
    /// the last flow that failed.
    pub fn drain(&self, volume_id: &str) -> Result<Option<Failure>> {
        let mut last = None;
        loop {
            let next = casts::next_for_volume(&self.svc.store.db().lock(), volume_id)?;
            let Some(cast) = next else {
                self.close_chain(volume_id, last.as_ref())?;
                return Ok(last);
            };
            if self.live_other(cast.owner.as_deref()) {
                // Another live process is carrying this volume on.
                return Ok(last);
            }
            if let (Some(notes), Ok(msg)) = (
                &self.notes,
                serde_json::from_value::<crate::scheduler::SchedulerRequest>(cast.payload.clone()),
            ) && cast.topic == casts::SCHEDULER
                && msg.retry.attempt > 1
            {
                notes(&format!(
                    "rescheduling (attempt {} of {}): {}",
                    msg.retry.attempt,
                    self.svc.config.scheduler.max_attempts,
                    msg.retry.failures.last().map(String::as_str).unwrap_or("?")
                ));
            }
            if let Some(out) = self.consume(&cast)?
                && !out.is_success()
            {
                if out.state == FlowState::RevertFailed {
                    return Err(outcome_error(&out));
                }
                last = out.failures.first().cloned();
            }
        }
    }

    /// A create chain that ended with the volume still being created — its
    /// last flow stopped before any task that would have settled it — is
    /// closed: a cancelled create leaves nothing, any other ends in `error`.
    fn close_chain(&self, volume_id: &str, last: Option<&Failure>) -> Result<()> {
        let Some(failure) = last else {
            return Ok(());
        };
        self.svc.store.db().immediate(|conn| {
            let open = volumes::get(conn, volume_id)?.is_some_and(|v| {
                matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading)
            });
            if open && casts::next_for_volume(conn, volume_id)?.is_none() {
                crate::lifecycle::fail_create(
                    &self.svc.quota(),
                    conn,
                    volume_id,
                    failure,
                    &failure.message,
                    "volume.create.error",
                    json!({ "kind": Error::from_failure(failure).kind }),
                )?;
            }
            Ok(())
        })
    }

    /// Takes a cast off the queue and runs the flow that consumes it; `None`
    /// if another process took it first. Taking the cast and recording the
    /// flow happen in one transaction.
    pub fn consume(&self, cast: &Cast) -> Result<Option<FlowOutcome>> {
        let flow = consumer(&cast.topic, &self.svc)?;
        let flow_id = new_id();
        let taken = self.svc.store.db().transact(|conn| {
            match casts::take(conn, cast.id)? {
                // Taken meanwhile.
                None => return Ok::<_, Error>((false, false)),
                // Queued by a live process that will take it itself: put it
                // back (roll back).
                Some(c) if self.live_other(c.owner.as_deref()) => return Ok((false, false)),
                Some(_) => {}
            }
            self.engine.create(
                &flow,
                &flow_id,
                outputs().with("request_spec", &cast.payload),
                json!({ "volume_id": cast.volume_id, "operation": "create", "cast": cast.topic }),
            )?;
            Ok((true, true))
        })?;
        if !taken {
            return Ok(None);
        }
        Ok(Some(self.engine.resume(&flow, &flow_id)?))
    }

    /// Whether `owner` is a live process other than this one.
    fn live_other(&self, owner: Option<&str>) -> bool {
        owner.is_some_and(|o| o != self.svc.owner_id()) && self.svc.owner_alive(owner)
    }

    fn flow_store(&self) -> &Arc<dyn FlowStore> {
        self.engine.store()
    }

    fn record(&self, flow_id: &str) -> Result<FlowRecord> {
        Ok(self
            .flow_store()
            .load(flow_id)?
            .ok_or_else(|| Error::not_found(format!("no flow {flow_id}")))?
            .flow)
    }

    /// Recorded flows (unfinished ones unless `all`), newest first, with
    /// whether each one's owner is alive.
    pub fn flows(&self, all: bool) -> Result<Vec<FlowInfo>> {
        Ok(self
            .flow_store()
            .list(all)?
            .into_iter()
            .map(|record| {
                let alive = self.svc.owner_alive(record.owner.as_deref());
                let orphaned = !record.state.is_finished() && !alive;
                FlowInfo {
                    record,
                    alive,
                    orphaned,
                }
            })
            .collect())
    }

    /// The orphaned flow of a volume, if one stopped half-way.
    pub fn orphaned_flow_of(&self, volume_id: &str) -> Result<Option<FlowRecord>> {
        let ids = crate::store::flows_of_volume(&self.svc.store.db().lock(), volume_id)?;
        for id in ids.iter().rev() {
            let rec = self.record(id)?;
            if !rec.state.is_finished() && !self.svc.owner_alive(rec.owner.as_deref()) {
                return Ok(Some(rec));
            }
        }
        Ok(None)
    }

    /// Fails, pointing to `resume` and `rollback`, if a flow of the volume
    /// stopped half-way.
    pub fn guard(&self, volume_id: &str) -> Result<()> {
        match self.orphaned_flow_of(volume_id)? {
            None => Ok(()),
            Some(rec) => Err(Error::conflict(format!(
                "volume {volume_id} has a flow that stopped half-way ({} {}, {}): \
                 `volctl resume {}` finishes it, `volctl rollback {}` undoes it",
                rec.name, rec.id, rec.state, rec.id, rec.id
            ))),
        }
    }

    /// Queued casts whose owner is dead.
    pub fn orphaned_casts(&self) -> Result<Vec<Cast>> {
        Ok(casts::list(&self.svc.store.db().lock())?
            .into_iter()
            .filter(|c| !self.svc.owner_alive(c.owner.as_deref()))
            .collect())
    }

    /// Makes this process the owner of an unfinished flow whose owner died.
    fn claim(&self, rec: &FlowRecord) -> Result<()> {
        let me = self.svc.owner_id();
        if rec.owner.as_deref() == Some(me) {
            return Ok(());
        }
        if self.svc.owner_alive(rec.owner.as_deref()) {
            return Err(Error::conflict(format!(
                "flow {} is being run by a live volctl process (owner {})",
                rec.id,
                rec.owner.as_deref().unwrap_or("?")
            )));
        }
        if !self.flow_store().claim(&rec.id, rec.owner.as_deref(), me)? {
            return Err(Error::conflict(format!(
                "flow {} was taken over by another process",
                rec.id
            )));
        }
        Ok(())
    }

    fn definition_of(&self, rec: &FlowRecord) -> Result<Flow> {
        definition(&rec.name, &self.svc).ok_or_else(|| {
            Error::internal(format!(
                "flow {} has unknown definition `{}`",
                rec.id, rec.name
            ))
        })
    }

    /// Continues a stopped flow where it stopped; for a create, then runs
    /// whatever the volume still has queued.
    pub fn resume(&self, flow_id: &str) -> Result<FlowOutcome> {
        let rec = self.record(flow_id)?;
        let flow = self.definition_of(&rec)?;
        if !rec.state.is_finished() {
            self.claim(&rec)?;
        }
        let out = self.engine.resume(&flow, flow_id)?;
        if let Some(volume) = rec.meta["volume_id"].as_str()
            && rec.meta["operation"] == "create"
        {
            self.drain(volume)?;
        }
        Ok(out)
    }

    /// Resumes every orphaned flow, then every orphaned queued cast.
    /// Returns each flow resumed and how it ended.
    pub fn resume_all(&self) -> Result<Vec<(FlowRecord, Result<FlowOutcome>)>> {
        let mut done = Vec::new();
        let mut orphans: Vec<FlowInfo> = self
            .flows(false)?
            .into_iter()
            .filter(|f| f.orphaned)
            .collect();
        orphans.reverse(); // oldest first
        for f in orphans {
            let r = self.resume(&f.record.id);
            done.push((f.record, r));
        }
        for cast in self.orphaned_casts()? {
            match &cast.volume_id {
                Some(v) => {
                    self.drain(v)?;
                }
                None => {
                    self.consume(&cast)?;
                }
            }
        }
        Ok(done)
    }

    /// Reverts a stopped flow — or, given a volume, every stopped flow of
    /// it — from where it stopped. A create left with requests still queued
    /// ends with the volume in `error`, its quota returned.
    pub fn rollback(&self, key: &str) -> Result<Vec<FlowOutcome>> {
        let (flow_ids, volume) = match self.flow_store().load(key)? {
            Some(snap) => (
                vec![snap.flow.id.clone()],
                snap.flow.meta["volume_id"].as_str().map(str::to_string),
            ),
            None => {
                let conn = self.svc.store.db().lock();
                // A volume by id or name, or one known only to its flows
                // (stopped before its row was written).
                let id = match volumes::find(&conn, key) {
                    Ok(v) => v.id,
                    Err(_) => key.to_string(),
                };
                let mut ids = crate::store::flows_of_volume(&conn, &id)?;
                if ids.is_empty() && volumes::get(&conn, &id)?.is_none() {
                    return Err(Error::not_found(format!("no flow or volume `{key}`")));
                }
                ids.reverse(); // newest first
                (ids, Some(id))
            }
        };
        let mut outs = Vec::new();
        for id in flow_ids {
            let rec = self.record(&id)?;
            if rec.state.is_finished() {
                continue;
            }
            self.claim(&rec)?;
            outs.push(self.engine.rollback(&self.definition_of(&rec)?, &id)?);
        }
        if let Some(v) = volume {
            self.abandon_casts(&v)?;
        }
        Ok(outs)
    }

    /// Rolls back every orphaned flow (newest first) and drops every
    /// orphaned queued request.
    pub fn rollback_all(&self) -> Result<Vec<FlowOutcome>> {
        let mut outs = Vec::new();
        let mut outs_volumes = Vec::new();
        for f in self.flows(false)?.into_iter().filter(|f| f.orphaned) {
            if let Some(v) = f.record.meta["volume_id"].as_str()
                && f.record.meta["operation"] == "create"
            {
                outs_volumes.push(v.to_string());
            }
            self.claim(&f.record)?;
            outs.push(
                self.engine
                    .rollback(&self.definition_of(&f.record)?, &f.record.id)?,
            );
        }
        let mut volumes: Vec<String> = outs_volumes;
        for cast in self.orphaned_casts()? {
            match &cast.volume_id {
                Some(v) => volumes.push(v.clone()),
                None => casts::remove(&self.svc.store.db().lock(), cast.id)?,
            }
        }
        volumes.sort();
        volumes.dedup();
        for v in volumes {
            self.abandon_casts(&v)?;
        }
        Ok(outs)
    }

    /// Drops a volume's queued casts (none may be owned by a live process)
    /// and puts a volume still being created — now that nothing will finish
    /// it — in `error`, its quota returned.
    fn abandon_casts(&self, volume_id: &str) -> Result<()> {
        self.svc.store.db().immediate(|conn| {
            while let Some(c) = casts::next_for_volume(conn, volume_id)? {
                if self.live_other(c.owner.as_deref()) {
                    return Err(Error::conflict(format!(
                        "volume {volume_id} is being created by a live volctl process"
                    )));
                }
                casts::remove(conn, c.id)?;
            }
            let stuck = volumes::get(conn, volume_id)?.is_some_and(|v| {
                matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading)
            });
            if stuck {
                crate::lifecycle::mark_error(
                    &self.svc.quota(),
                    conn,
                    volume_id,
                    "rolled back on request",
                    "volume.create.error",
                    json!({ "kind": "interrupted" }),
                )?;
            }
            Ok(())
        })
    }

    /// Runs a flow to its end; its failure as an error.
    fn complete(&self, flow: &Flow, inputs: Values, meta: Value) -> Result<FlowOutcome> {
        let out = self.run(flow, inputs, meta)?;
        if out.is_success() {
            Ok(out)
        } else {
            Err(outcome_error(&out))
        }
    }

    fn volume_flow(&self, flow: Flow, volume_id: &str, operation: &str) -> Result<()> {
        self.complete(
            &flow,
            outputs().with("volume_id", volume_id),
            json!({ "volume_id": volume_id, "operation": operation }),
        )
        .map(drop)
    }

    /// Snapshots a volume.
    pub fn snapshot_create(&self, volume_id: &str, name: Option<&str>) -> Result<Snapshot> {
        let id = new_id();
        self.complete(
            &snapshot::create_flow(&self.svc),
            snapshot::create_inputs(&id, volume_id, name),
            json!({ "volume_id": volume_id, "snapshot_id": id, "operation": "snapshot" }),
        )?;
        snapshots::get(&self.svc.store.db().lock(), &id)?
            .ok_or_else(|| Error::internal("the snapshot vanished"))
    }

    /// Deletes a snapshot.
    pub fn snapshot_delete(&self, snapshot_id: &str) -> Result<()> {
        self.complete(
            &snapshot::delete_flow(&self.svc),
            outputs().with("snapshot_id", snapshot_id),
            json!({ "snapshot_id": snapshot_id, "operation": "snapshot_delete" }),
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
            json!({ "image_id": id, "operation": "image_import" }),
        )?;
        out.get("image")
            .ok_or_else(|| Error::internal("the import produced no image"))
    }

    /// Deletes an image and its cache entries.
    pub fn image_delete(&self, image_id: &str) -> Result<()> {
        self.complete(
            &image_flows::delete_flow(&self.svc),
            outputs().with("image_id", image_id),
            json!({ "image_id": image_id, "operation": "image_delete" }),
        )
        .map(drop)
    }

    /// Deletes a volume (detaching it first).
    pub fn delete(&self, volume_id: &str) -> Result<()> {
        self.volume_flow(delete_volume::flow(&self.svc), volume_id, "delete")
    }

    /// Attaches a volume to a loop device; returns it updated.
    pub fn attach(&self, volume_id: &str) -> Result<Volume> {
        self.volume_flow(attach_volume::attach_flow(&self.svc), volume_id, "attach")?;
        volumes::require(&self.svc.store.db().lock(), volume_id)
    }

    /// Detaches a volume; returns it updated.
    pub fn detach(&self, volume_id: &str) -> Result<Volume> {
        self.volume_flow(attach_volume::detach_flow(&self.svc), volume_id, "detach")?;
        volumes::require(&self.svc.store.db().lock(), volume_id)
    }
}
