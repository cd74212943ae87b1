//! The api flow (`volume_create_api`): ExtractVolumeRequest → QuotaReserve →
//! EntryCreate → QuotaCommit → VolumeCast.
//!
//! Initial store: `volume_id` (chosen by the caller, so every task is keyed
//! by it) and `request` ([`CreateRequest`]). Every task only writes to the
//! database, so each commits its writes together with its recorded result.

use std::sync::Arc;

use super::{CreateRequest, MAX_SIZE, SourceRef, VolumeRequest, check_name, check_project};
use crate::dispatch::{self, Message};
use crate::error::{Error, Result};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::quota::{Reservation, volume_deltas};
use crate::scheduler::{Retry, SchedulerRequest};
use crate::service::Service;
use crate::store::now;
use crate::store::snapshots::{self, SnapshotStatus};
use crate::store::volumes::{self, SourceKind, Volume, VolumeStatus};
use crate::store::{images, types};
use crate::symbols::{CAST_ID, REQUEST, RESERVATION, VOLUME_ID, VOLUME_REQUEST};
use crate::task_signature;
use crate::units::{Bytes, MIB};

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
        // Checked again where the row is made (EntryCreate): this saves a
        // quota reservation and its undoing in the common case.
        if let Some(n) = &name {
            volumes::claim_name(&conn, &req.project, n, None)?;
        }
        let source = resolve_source(&conn, req.source.as_ref(), &req.project)?;
        // Volumes have MiB granularity: a size is rounded up to it.
        let size = match (req.size.map(|s| s.round_up(MIB)), source.min_size) {
            (Some(Bytes(0)), _) => return Err(Error::invalid("size must be at least 1M")),
            (Some(s), _) if s > MAX_SIZE => {
                return Err(Error::invalid(format!(
                    "size {} is larger than the largest volume ({})",
                    s.human(),
                    MAX_SIZE.human()
                )));
            }
            (Some(s), Some((min, what))) if s < min => {
                return Err(Error::invalid(format!(
                    "size {} is smaller than {what} ({})",
                    s.human(),
                    min.human()
                )));
            }
            (Some(s), _) => s,
            (None, Some((min, _))) => min.round_up(MIB),
            (None, None) => return Err(Error::invalid("a size (--size) is required")),
        };
        // Type: explicit, else the source's, else none.
        let vtype = match (&req.volume_type, &source.type_name) {
            (Some(t), _) | (None, Some(t)) => Some(types::find(&conn, t)?),
            (None, None) => None,
        };
        let known = svc.config.zones();
        let zone = match (&req.zone, &source.zone) {
            (Some(z), _) if !known.contains(&z.as_str()) => {
                return Err(Error::invalid(format!(
                    "unknown availability zone `{z}` (known: {})",
                    known.join(", ")
                )));
            }
            (Some(z), _) | (None, Some(z)) => Some(z.clone()),
            (None, None) => svc.config.scheduler.default_availability_zone.clone(),
        };
        Ok(VolumeRequest {
            size,
            name,
            project: req.project.clone(),
            type_id: vtype.as_ref().map(|t| t.id.clone()),
            type_name: vtype.as_ref().map(|t| t.name.clone()),
            extra_specs: vtype.map(|t| t.extra_specs).unwrap_or_default(),
            zone,
            source_kind: source.kind,
            source_id: source.id,
            pinned_backend: source.backend,
            labels: check_labels(&req.labels)?,
            expires_at: req
                .expires_at
                .as_deref()
                .map(crate::wait::check_timestamp)
                .transpose()?,
        })
    }
}

/// The request's labels, checked (a library caller may not have parsed
/// them).
fn check_labels(labels: &crate::store::volumes::Labels) -> Result<crate::store::volumes::Labels> {
    for (k, v) in labels {
        crate::labels::check_key(k)?;
        crate::labels::check_value(k, v)?;
    }
    Ok(labels.clone())
}

/// What a request's source contributes.
struct Source {
    kind: SourceKind,
    id: Option<String>,
    /// The smallest size allowed and what it is, in words.
    min_size: Option<(Bytes, String)>,
    type_name: Option<String>,
    zone: Option<String>,
    /// Snapshots and clones are made on their source's backend.
    backend: Option<String>,
}

fn resolve_source(
    conn: &rusqlite::Connection,
    source: Option<&SourceRef>,
    project: &str,
) -> Result<Source> {
    Ok(match source {
        None => Source {
            kind: SourceKind::Raw,
            id: None,
            min_size: None,
            type_name: None,
            zone: None,
            backend: None,
        },
        Some(SourceRef::Snapshot(key)) => {
            // Another project's snapshot is not found: projects isolate.
            let s = snapshots::find(conn, Some(project), key)?;
            if s.status != SnapshotStatus::Available {
                return Err(Error::conflict(format!(
                    "snapshot {} is {}; a volume can be made only from an available snapshot",
                    s.id, s.status
                )));
            }
            let zone = volumes::get(conn, &s.volume_id)?.and_then(|v| v.zone);
            Source {
                kind: SourceKind::Snapshot,
                min_size: Some((s.size, format!("snapshot {}", s.id))),
                type_name: s.type_name,
                zone,
                backend: Some(s.backend),
                id: Some(s.id),
            }
        }
        Some(SourceRef::Volume(key)) => {
            let v = volumes::find(conn, Some(project), key)?;
            if !matches!(v.status, VolumeStatus::Available | VolumeStatus::InUse) {
                return Err(Error::conflict(format!(
                    "volume {} is {}; only an available or in-use volume can be cloned",
                    v.id,
                    v.status.phrase()
                )));
            }
            Source {
                kind: SourceKind::Volume,
                min_size: Some((v.size, format!("source volume {}", v.id))),
                type_name: v.type_name,
                zone: v.zone,
                backend: v.backend,
                id: Some(v.id),
            }
        }
        Some(SourceRef::Image(key)) => {
            let i = images::find(conn, key)?;
            if i.status != crate::store::images::ImageStatus::Active {
                return Err(Error::conflict(format!(
                    "image `{}` is {}",
                    i.name, i.status
                )));
            }
            Source {
                kind: SourceKind::Image,
                min_size: Some((
                    i.min_size(),
                    format!("the virtual size of image `{}`", i.name),
                )),
                type_name: None,
                zone: None,
                backend: None,
                id: Some(i.id),
            }
        }
    })
}

impl Task for ExtractVolumeRequest {
    task_signature!("ExtractVolumeRequest", requires: [REQUEST], provides: [VOLUME_REQUEST], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req: CreateRequest = ctx.get(REQUEST)?;
        Ok(outputs().with(VOLUME_REQUEST, self.extract(&req)?))
    }

    fn summary(&self, out: &Values) -> Option<String> {
        let r: VolumeRequest = out.read(VOLUME_REQUEST)?;
        Some(format!(
            "{}, type {}, zone {}",
            r.size.human(),
            r.type_name.as_deref().unwrap_or("-"),
            r.zone.as_deref().unwrap_or("any")
        ))
    }
}

/// Checks the per-volume limit and reserves the volume's quota. Revert:
/// rolls the reservation back.
pub struct QuotaReserve(pub Arc<Service>);

impl Task for QuotaReserve {
    task_signature!("QuotaReserve", requires: [VOLUME_REQUEST], provides: [RESERVATION], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let req: VolumeRequest = ctx.get(VOLUME_REQUEST)?;
        let quota = self.0.quota();
        let conn = self.0.store.db().lock();
        quota.check_per_volume(&conn, &req.project, req.size)?;
        let r = quota.reserve(
            &conn,
            &req.project,
            &volume_deltas(req.size, req.type_name.as_deref()),
        )?;
        Ok(outputs().with(RESERVATION, r))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(r) = ctx.result(RESERVATION) {
            self.0.quota().rollback(&self.0.store.db().lock(), &r.id)?;
        }
        Ok(())
    }

    fn summary(&self, out: &Values) -> Option<String> {
        let r: Reservation = out.read(RESERVATION)?;
        Some(deltas_text(&r, '+'))
    }

    fn undone(&self, _: &Values, out: Option<&Values>, _: &[Failure]) -> Option<String> {
        let r: Reservation = out?.read(RESERVATION)?;
        Some(format!("returning quota: {}", deltas_text(&r, '-')))
    }
}

/// Creates the volume's row, status `creating`. Revert: removes it.
pub struct EntryCreate(pub Arc<Service>);

impl Task for EntryCreate {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing the volume's entry".to_string())
    }

    task_signature!("EntryCreate", requires: [VOLUME_ID, VOLUME_REQUEST, RESERVATION], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(VOLUME_ID)?;
        let req: VolumeRequest = ctx.get(VOLUME_REQUEST)?;
        let r: Reservation = ctx.get(RESERVATION)?;
        let t = now();
        let conn = self.0.store.db().lock();
        if let Some(name) = &req.name {
            volumes::claim_name(&conn, &req.project, name, None)?;
        }
        volumes::insert(
            &conn,
            &Volume {
                id,
                name: req.name,
                size: req.size,
                status: VolumeStatus::Creating,
                backend: None,
                path: None,
                device: None,
                attach_mode: None,
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
                labels: req.labels,
                expires_at: req.expires_at,
            },
        )?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let id: String = ctx.get(VOLUME_ID)?;
        volumes::delete(&self.0.store.db().lock(), &id)?;
        Ok(())
    }
}

/// Commits the reservation: the volume now holds its quota. A failed commit
/// fails the flow (never swallowed). Revert: un-commits it (the usage goes
/// back to reserved, for QuotaReserve's revert to release).
pub struct QuotaCommit(pub Arc<Service>);

impl Task for QuotaCommit {
    task_signature!("QuotaCommit", requires: [VOLUME_ID, RESERVATION], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let id: String = ctx.get(VOLUME_ID)?;
        let r: Reservation = ctx.get(RESERVATION)?;
        let conn = self.0.store.db().lock();
        self.0.quota().commit(&conn, &r.id)?;
        volumes::set_quota_state(&conn, &id, true, None)?;
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if ctx.own_failure().is_some() {
            return Ok(());
        }
        let id: String = ctx.get(VOLUME_ID)?;
        let r: Reservation = ctx.get(RESERVATION)?;
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
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("withdrawing the request to the scheduler".to_string())
    }

    task_signature!("VolumeCast", requires: [VOLUME_ID, VOLUME_REQUEST], provides: [CAST_ID], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let volume_id: String = ctx.get(VOLUME_ID)?;
        let request: VolumeRequest = ctx.get(VOLUME_REQUEST)?;
        let msg = SchedulerRequest {
            volume_id: volume_id.clone(),
            request,
            retry: Retry::first(),
        };
        let id = dispatch::send(
            &self.0.store.db().lock(),
            &Message::Schedule(msg),
            Some(self.0.owner_id()?),
        )?;
        Ok(outputs().with(CAST_ID, id))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(id) = ctx.result(CAST_ID) {
            dispatch::withdraw(&self.0.store.db().lock(), id)?;
        }
        Ok(())
    }

    fn summary(&self, _: &Values) -> Option<String> {
        Some("→ scheduler".to_string())
    }
}

/// `volumes +1, gigabytes +10 GiB` (or with `-`, what is given back).
fn deltas_text(r: &Reservation, sign: char) -> String {
    r.deltas
        .iter()
        .map(|(k, v)| match crate::quota::counts_bytes(k) {
            true => format!(
                "{k} {sign}{}",
                crate::units::Bytes(v.unsigned_abs()).human()
            ),
            false => format!("{k} {sign}{}", v.unsigned_abs()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The flow's initial store.
pub fn inputs(volume_id: &str, request: &CreateRequest) -> Values {
    outputs()
        .with(VOLUME_ID, volume_id.to_string())
        .with(REQUEST, request)
}
