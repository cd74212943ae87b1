//! Recovery: telling live flows from orphaned ones, and resuming or rolling
//! back what a crash or Ctrl-C stopped.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::flow::{Flow, FlowOutcome, FlowRecord, FlowStore};
use crate::ops::{Ops, definition};
use crate::store::flows::{self, FlowMeta};
use crate::store::volumes;

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
    /// Its revert failed past `[recovery] revert_retries`: reconciliation
    /// leaves it for a person.
    pub needs_person: bool,
}

impl Ops {
    /// Whether `owner` is a live process other than this one.
    pub(crate) fn live_other(&self, owner: Option<&str>) -> bool {
        owner.is_some_and(|o| self.svc.owner_id().is_ok_and(|me| me != o))
            && self.svc.owner_alive(owner)
    }

    pub(crate) fn flow_store(&self) -> &Arc<dyn FlowStore> {
        self.engine.store()
    }

    pub(crate) fn record(&self, flow_id: &str) -> Result<FlowRecord> {
        Ok(self
            .flow_store()
            .load(flow_id)?
            .ok_or_else(|| Error::not_found(format!("no flow {flow_id}")))?
            .flow)
    }

    /// Recorded flows (unfinished ones unless `all`), newest first, with
    /// whether each one's owner is alive.
    pub fn flows(&self, all: bool) -> Result<Vec<FlowInfo>> {
        let marked = flows::needing_person(&self.svc.store.db().lock())?;
        Ok(self
            .flow_store()
            .list(all)?
            .into_iter()
            .map(|record| {
                let alive = self.svc.owner_alive(record.owner.as_deref());
                let orphaned = !record.state.is_finished() && !alive;
                let needs_person = orphaned && marked.contains(&record.id);
                FlowInfo {
                    record,
                    alive,
                    orphaned,
                    needs_person,
                }
            })
            .collect())
    }

    /// The ids of a volume's flows, oldest first.
    pub fn flows_of_volume(&self, volume_id: &str) -> Result<Vec<String>> {
        flows::of_volume(&self.svc.store.db().lock(), volume_id)
    }

    /// The orphaned flow of a volume, if one stopped half-way.
    pub fn orphaned_flow_of(&self, volume_id: &str) -> Result<Option<FlowRecord>> {
        let ids = flows::of_volume(&self.svc.store.db().lock(), volume_id)?;
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

    /// Makes this process the owner of an unfinished flow whose owner died.
    pub(crate) fn claim(&self, rec: &FlowRecord) -> Result<()> {
        let me = self.svc.owner_id()?;
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

    pub(crate) fn definition_of(&self, rec: &FlowRecord) -> Result<Flow> {
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
        let out = self
            .runner()?
            .resume(&flow, flow_id)
            .map_err(|e| crate::ops::engine_error(e, flow_id))?;
        let meta = FlowMeta::of(&rec.meta);
        if let Some(volume) = meta.volume_id.as_deref()
            && meta.is_create()
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
            self.drain(cast.volume_id())?;
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
                FlowMeta::of(&snap.flow.meta).volume_id,
            ),
            None => {
                let conn = self.svc.store.db().lock();
                // A volume by id or name, or one known only to its flows
                // (stopped before its row was written). Flows are the
                // operator's: any project's volume.
                let id = match volumes::find(&conn, None, key) {
                    Ok(v) => v.id,
                    Err(_) => key.to_string(),
                };
                let mut ids = flows::of_volume(&conn, &id)?;
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
            outs.push(
                self.runner()?
                    .rollback(&self.definition_of(&rec)?, &id)
                    .map_err(|e| crate::ops::engine_error(e, &id))?,
            );
        }
        if let Some(v) = volume {
            self.abandon_casts(&v)?;
        }
        Ok(outs)
    }

    /// Rolls back one stopped flow from where it stopped; a create's volume
    /// loses its queued requests too (it ends in `error`, its quota
    /// returned).
    pub(crate) fn rollback_flow(&self, rec: &FlowRecord) -> Result<FlowOutcome> {
        self.claim(rec)?;
        let out = self
            .runner()?
            .rollback(&self.definition_of(rec)?, &rec.id)
            .map_err(|e| crate::ops::engine_error(e, &rec.id))?;
        let meta = FlowMeta::of(&rec.meta);
        if let Some(v) = meta.volume_id.as_deref()
            && meta.is_create()
            && out.state == crate::flow::FlowState::Reverted
        {
            self.abandon_casts(v)?;
        }
        Ok(out)
    }

    /// Rolls back every orphaned flow (newest first) and drops every
    /// orphaned queued request.
    pub fn rollback_all(&self) -> Result<Vec<FlowOutcome>> {
        let mut outs = Vec::new();
        let mut outs_volumes = Vec::new();
        for f in self.flows(false)?.into_iter().filter(|f| f.orphaned) {
            let meta = FlowMeta::of(&f.record.meta);
            if let Some(v) = meta.volume_id.clone()
                && meta.is_create()
            {
                outs_volumes.push(v);
            }
            self.claim(&f.record)?;
            outs.push(
                self.runner()?
                    .rollback(&self.definition_of(&f.record)?, &f.record.id)?,
            );
        }
        let mut volumes: Vec<String> = outs_volumes;
        for cast in self.orphaned_casts()? {
            volumes.push(cast.volume_id().to_string());
        }
        volumes.sort();
        volumes.dedup();
        for v in volumes {
            self.abandon_casts(&v)?;
        }
        Ok(outs)
    }
}
