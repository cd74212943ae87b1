//! The scheduler flow (`volume_create_scheduler`): ExtractSchedulerSpec →
//! ChangeStatusNotifyOnFailure → ScheduleCreateVolume.
//!
//! Initial store: `request_spec` ([`SchedulerRequest`], the cast's payload).

use std::sync::Arc;

use crate::store::events;

use super::{Decision, SchedulerRequest, candidates, schedule};
use crate::dispatch::{self, Message};
use crate::error::{Error, ErrorKind};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::lifecycle::fail_create;
use crate::manager::ManagerRequest;
use crate::quota::{Deltas, volume_deltas};
use crate::service::Service;
use crate::store::volumes::{self, VolumeStatus};
use crate::symbols::{BACKEND, MANAGER_CAST_ID, SCHEDULER_REQUEST, SCHEDULER_SPEC};
use crate::task_signature;
use crate::units::Bytes;
use rusqlite::Connection;

/// The flow's name.
pub const FLOW: &str = "volume_create_scheduler";

/// The scheduler flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(ExtractSchedulerSpec(svc.clone()))
        .add(ChangeStatusNotifyOnFailure(svc.clone()))
        .add(ScheduleCreateVolume(svc.clone()))
}

/// Checks the request against the volume as it is now and passes it on.
pub struct ExtractSchedulerSpec(pub Arc<Service>);

impl Task for ExtractSchedulerSpec {
    task_signature!("ExtractSchedulerSpec", requires: [SCHEDULER_REQUEST], provides: [SCHEDULER_SPEC], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let spec: SchedulerRequest = ctx.get(SCHEDULER_REQUEST)?;
        let v = volumes::get(&self.0.store.db().lock(), &spec.volume_id)?.ok_or_else(|| {
            Error::not_found(format!(
                "volume {} was deleted before it was scheduled",
                spec.volume_id
            ))
        })?;
        if v.status != VolumeStatus::Creating {
            return Err(Error::conflict(format!(
                "volume {} is {}, not being created",
                v.id,
                v.status.phrase()
            ))
            .into());
        }
        Ok(outputs().with(SCHEDULER_SPEC, spec))
    }

    fn summary(&self, out: &Values) -> Option<String> {
        let s: SchedulerRequest = out.read(SCHEDULER_SPEC)?;
        Some(format!("attempt {}", s.retry.attempt))
    }
}

/// Does nothing; when the flow fails, puts the volume in `error` (its quota
/// returned) and records a `scheduler.create_volume` event with the reason.
pub struct ChangeStatusNotifyOnFailure(pub Arc<Service>);

impl Task for ChangeStatusNotifyOnFailure {
    fn undone(&self, _: &Values, _: Option<&Values>, failures: &[Failure]) -> Option<String> {
        let first = failures.first()?;
        Some(crate::lifecycle::fail_create_words(first).to_string())
    }

    task_signature!("ChangeStatusNotifyOnFailure", requires: [SCHEDULER_SPEC], provides: [], atomic);

    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        Ok(outputs())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let spec: SchedulerRequest = ctx.get(SCHEDULER_SPEC)?;
        let reason = ctx
            .flow_failures()
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_else(|| "scheduling failed".into());
        let first = ctx
            .flow_failures()
            .first()
            .cloned()
            .unwrap_or_else(|| Failure::new("internal", "failed"));
        fail_create(
            &self.0.quota(),
            &self.0.store.db().lock(),
            &spec.volume_id,
            &first,
            &reason,
            &events::Event::SchedulerCreateVolume {
                attempt: spec.retry.attempt,
                report: first.details.clone(),
                reason: reason.clone(),
            },
        )?;
        Ok(())
    }
}

/// Filters and weighs the backends, records the choice on the volume and
/// casts the request to that backend's manager — in one transaction, so two
/// concurrent creates never both take the last free space.
pub struct ScheduleCreateVolume(pub Arc<Service>);

impl ScheduleCreateVolume {
    /// The decision for `spec` now (read-only; used by `--dry-run` too).
    pub fn decide(
        svc: &Service,
        conn: &rusqlite::Connection,
        spec: &SchedulerRequest,
    ) -> crate::error::Result<Decision> {
        Ok(schedule(&spec.want(), &candidates(svc, conn)?))
    }
}

/// The error of a decision that chose nothing. On a retry, the cause is the
/// earlier attempts' failures (a backend fault), so they lead the message.
pub fn no_valid_backend(spec: &SchedulerRequest, d: &Decision) -> Error {
    let why = d.explain(true);
    let details = serde_json::to_value(d).unwrap_or_default();
    if spec.retry.failures.is_empty() {
        return Error::new(
            ErrorKind::NoValidBackend,
            format!(
                "no valid backend for volume {} ({}):\n{}",
                spec.volume_id,
                spec.request.size.human(),
                why.trim_end()
            ),
        )
        .with_details(details);
    }
    let attempts: Vec<String> = spec
        .retry
        .failures
        .iter()
        .enumerate()
        .map(|(i, f)| format!("  attempt {}: {f}", i + 1))
        .collect();
    Error::new(
        ErrorKind::Backend,
        format!(
            "volume {} ({}) could not be created:\n{}\nand no other backend is valid:\n{}",
            spec.volume_id,
            spec.request.size.human(),
            attempts.join("\n"),
            why.trim_end()
        ),
    )
    .with_details(details)
}

impl Task for ScheduleCreateVolume {
    task_signature!("ScheduleCreateVolume", requires: [SCHEDULER_SPEC], provides: [BACKEND, MANAGER_CAST_ID], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let spec: SchedulerRequest = ctx.get(SCHEDULER_SPEC)?;
        let conn = self.0.store.db().lock();
        let decision = Self::decide(&self.0, &conn, &spec)?;
        let Some(backend) = decision.chosen.clone() else {
            return Err(no_valid_backend(&spec, &decision).into());
        };
        let zone = self
            .0
            .backends
            .get(&backend)?
            .config()
            .availability_zone
            .clone();
        volumes::set_backend(
            &conn,
            &spec.volume_id,
            Some(&backend),
            Some(&zone),
            spec.retry.attempt,
        )?;
        let size = super::allocated_size(
            &self.0,
            &conn,
            &backend,
            spec.request.size,
            &format!("volume {}", spec.volume_id),
        )?;
        record_size(&self.0, &conn, &spec.volume_id, size)?;
        let msg = ManagerRequest {
            volume_id: spec.volume_id.clone(),
            backend: backend.clone(),
            request: spec.request,
            retry: spec.retry,
        };
        let cast = dispatch::send(&conn, &Message::Manage(msg), Some(self.0.owner_id()?))?;
        Ok(outputs().with(BACKEND, backend).with(MANAGER_CAST_ID, cast))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        if let Some(cast) = ctx.result(MANAGER_CAST_ID) {
            let spec: SchedulerRequest = ctx.get(SCHEDULER_SPEC)?;
            let conn = self.0.store.db().lock();
            dispatch::withdraw(&conn, cast)?;
            volumes::set_backend(&conn, &spec.volume_id, None, None, spec.retry.attempt)?;
            record_size(&self.0, &conn, &spec.volume_id, spec.request.size)?;
        }
        Ok(())
    }

    fn summary(&self, out: &Values) -> Option<String> {
        Some(format!("→ {}", out.read(BACKEND)?))
    }

    fn headline(&self, out: &Values) -> Option<String> {
        Some(format!("scheduled on {}", out.read(BACKEND)?))
    }

    fn undone(&self, _: &Values, out: Option<&Values>, _: &[Failure]) -> Option<String> {
        let backend: String = out?.read(BACKEND)?;
        Some(format!("giving up the place on {backend}"))
    }
}

/// Records the size a volume is made with on the backend chosen (the
/// request's, rounded up to the backend's allocation unit), its quota
/// changed by the difference: usage always counts what exists. Idempotent
/// (a reschedule to another backend records that one's size).
fn record_size(
    svc: &Service,
    conn: &Connection,
    volume_id: &str,
    size: Bytes,
) -> crate::error::Result<()> {
    let Some(v) = volumes::get(conn, volume_id)? else {
        return Ok(());
    };
    if v.size == size {
        return Ok(());
    }
    if !v.quota_held {
        return Err(Error::internal(format!(
            "volume {volume_id} is being scheduled but holds no quota"
        )));
    }
    let to = volume_deltas(size, v.type_name.as_deref());
    let from = volume_deltas(v.size, v.type_name.as_deref());
    let deltas: Deltas = to
        .into_iter()
        .zip(from)
        .filter(|((r, _), _)| crate::quota::counts_bytes(r))
        .map(|((r, a), (_, b))| (r, a - b))
        .collect();
    svc.quota().adjust(conn, &v.project, &deltas)?;
    volumes::set_size(conn, volume_id, size)
}
