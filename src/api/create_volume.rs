//! The api flow (`volume_create_api`): ExtractVolumeRequest → QuotaReserve →
//! EntryCreate → QuotaCommit → VolumeCast.
//!
//! Initial store: `volume_id` (chosen by the caller, so every task is keyed
//! by it) and `request` ([`CreateRequest`]). Every task only writes to the
//! database, so each commits its writes together with its recorded result.

use std::sync::Arc;

use serde_json::json;

use super::{CreateRequest, MAX_SIZE_GB, VolumeRequest, check_name, check_project};
use crate::error::{Error, Result};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::quota::{Reservation, volume_deltas};
use crate::scheduler::{Retry, SchedulerRequest};
use crate::service::Service;
use crate::store::casts;
use crate::store::now;
use crate::store::types;
use crate::store::volumes::{self, SourceKind, Volume, VolumeStatus};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_create_api";

/// The api flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(ExtractVolumeRequest(svc.clone()))
        .add(QuotaReserve(svc.clone()))
        .add(EntryCreate(svc.clone()))
        .add(QuotaCommit(svc.clone()))
        .add(VolumeCast(svc.clone()))
}

/// Validates everything and produces the normalised [`VolumeRequest`].
pub struct ExtractVolumeRequest(pub Arc<Service>);

impl ExtractVolumeRequest {
    /// The validation itself.
    pub fn extract(&self, req: &CreateRequest) -> Result<VolumeRequest> {
        let svc = &self.0;
        check_project(&req.project)?;
        let name = check_name(req.name.as_deref())?;
        let conn = svc.store.db().lock();
        if req.source.is_some() {
            return Err(Error::invalid(
                "volumes from snapshots, volumes and images are not supported yet",
            ));
        }
        let size = match req.size {
            Some(0) => return Err(Error::invalid("size must be at least 1 GiB")),
            Some(s) if s > MAX_SIZE_GB => {
                return Err(Error::invalid(format!(
                    "size {s} GiB is larger than the largest volume ({MAX_SIZE_GB} GiB)"
                )));
            }
            Some(s) => s,
            None => return Err(Error::invalid("a size (--size, GiB) is required")),
        };
        let vtype = req
            .volume_type
            .as_deref()
            .map(|t| types::find(&conn, t))
            .transpose()?;
        let zone = match &req.zone {
            Some(z) => {
                let known = svc.config.zones();
                if !known.contains(&z.as_str()) {
                    return Err(Error::invalid(format!(
                        "unknown availability zone `{z}` (known: {})",
                        known.join(", ")
                    )));
                }
                Some(z.clone())
            }
            None => svc.config.scheduler.default_availability_zone.clone(),
        };
        Ok(VolumeRequest {
            size,
            name,
            project: req.project.clone(),
            type_id: vtype.as_ref().map(|t| t.id.clone()),
            type_name: vtype.as_ref().map(|t| t.name.clone()),
            extra_specs: vtype.map(|t| t.extra_specs).unwrap_or_default(),
            zone,
            source_kind: SourceKind::Raw,
            source_id: None,
            pinned_backend: None,
        })
    }
}

impl Task for ExtractVolumeRequest {
    task_signature!("ExtractVolumeRequest", requires: ["request"], provides: ["volume_request"], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req: CreateRequest = ctx.get("request")?;
        Ok(outputs().with("volume_request", self.extract(&req)?))
    }

    fn summary(&self, out: &Values) -> Option<String> {
        let r: VolumeRequest = serde_json::from_value(out.get("volume_request")?.clone()).ok()?;
        Some(format!(
            "{} GiB, type {}, zone {}",
            r.size,
            r.type_name.as_deref().unwrap_or("-"),
            r.zone.as_deref().unwrap_or("any")
        ))
    }
}

/// Checks the per-volume limit and reserves the volume's quota. Revert:
/// rolls the reservation back.
pub struct QuotaReserve(pub Arc<Service>);

impl Task for QuotaReserve {
    task_signature!("QuotaReserve", requires: ["volume_request"], provides: ["reservation"], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req: VolumeRequest = ctx.get("volume_request")?;
        let quota = self.0.quota();
        let conn = self.0.store.db().lock();
        quota.check_per_volume(&conn, &req.project, req.size)?;
        let r = quota.reserve(
            &conn,
            &req.project,
            &volume_deltas(req.size, req.type_name.as_deref()),
        )?;
        Ok(outputs().with("reservation", r))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(r) = ctx.result::<Reservation>("reservation") {
            self.0.quota().rollback(&self.0.store.db().lock(), &r.id)?;
        }
        Ok(())
    }

    fn summary(&self, out: &Values) -> Option<String> {
        let r: Reservation = serde_json::from_value(out.get("reservation")?.clone()).ok()?;
        Some(
            r.deltas
                .iter()
                .map(|(k, v)| format!("{k} {v:+}"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

/// Creates the volume's row, status `creating`. Revert: removes it.
pub struct EntryCreate(pub Arc<Service>);

impl Task for EntryCreate {
    task_signature!("EntryCreate", requires: ["volume_id", "volume_request", "reservation"], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get("volume_id")?;
        let req: VolumeRequest = ctx.get("volume_request")?;
        let r: Reservation = ctx.get("reservation")?;
        let t = now();
        volumes::insert(
            &self.0.store.db().lock(),
            &Volume {
                id,
                name: req.name,
                size: req.size,
                status: VolumeStatus::Creating,
                backend: None,
                path: None,
                device: None,
                created_at: t.clone(),
                updated_at: t,
                launched_at: None,
                project: req.project,
                type_name: req.type_name,
                type_id: req.type_id,
                zone: req.zone,
                source_kind: req.source_kind,
                source_id: req.source_id,
                error: None,
                attempts: 0,
                quota_held: false,
                reservation: Some(r.id),
            },
        )?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let id: String = ctx.get("volume_id")?;
        volumes::delete(&self.0.store.db().lock(), &id)?;
        Ok(())
    }
}

/// Commits the reservation: the volume now holds its quota. A failed commit
/// fails the flow (never swallowed). Revert: un-commits it (the usage goes
/// back to reserved, for QuotaReserve's revert to release).
pub struct QuotaCommit(pub Arc<Service>);

impl Task for QuotaCommit {
    task_signature!("QuotaCommit", requires: ["volume_id", "reservation"], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get("volume_id")?;
        let r: Reservation = ctx.get("reservation")?;
        let conn = self.0.store.db().lock();
        self.0.quota().commit(&conn, &r.id)?;
        volumes::set_quota_state(&conn, &id, true, None)?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if ctx.own_failure().is_some() {
            return Ok(());
        }
        let id: String = ctx.get("volume_id")?;
        let r: Reservation = ctx.get("reservation")?;
        let conn = self.0.store.db().lock();
        self.0.quota().uncommit(&conn, &r)?;
        volumes::set_quota_state(&conn, &id, false, Some(&r.id))?;
        Ok(())
    }
}

/// Queues the request for the scheduler. Revert: takes it off the queue
/// (unlike Cinder, a failed cast leaves no `creating` row behind: the whole
/// flow reverts).
pub struct VolumeCast(pub Arc<Service>);

impl Task for VolumeCast {
    task_signature!("VolumeCast", requires: ["volume_id", "volume_request"], provides: ["cast_id"], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let volume_id: String = ctx.get("volume_id")?;
        let request: VolumeRequest = ctx.get("volume_request")?;
        let msg = SchedulerRequest {
            volume_id: volume_id.clone(),
            request,
            retry: Retry::first(),
        };
        let id = casts::push(
            &self.0.store.db().lock(),
            casts::SCHEDULER,
            Some(&volume_id),
            &serde_json::to_value(&msg).map_err(Error::from)?,
            None,
        )?;
        Ok(outputs().with("cast_id", id))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(id) = ctx.result::<i64>("cast_id") {
            casts::remove(&self.0.store.db().lock(), id)?;
        }
        Ok(())
    }

    fn summary(&self, _: &Values) -> Option<String> {
        Some("→ scheduler".to_string())
    }
}

/// The flow's initial store.
pub fn inputs(volume_id: &str, request: &CreateRequest) -> Values {
    outputs()
        .with("volume_id", volume_id)
        .with("request", request)
}

/// The flow's metadata (what it is about).
pub fn meta(volume_id: &str) -> serde_json::Value {
    json!({ "volume_id": volume_id, "operation": "create" })
}
