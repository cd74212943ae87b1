//! The manager flow (`volume_create_manager`): ExtractVolumeRef →
//! OnFailureReschedule → ExtractVolumeSpec → NotifyVolumeAction →
//! CreateVolumeFromSpec → CreateVolumeOnFinish.
//!
//! Initial store: `request_spec` ([`ManagerRequest`], the cast's payload).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ManagerRequest;
use crate::backends::{Io, Obj, Phase};
use std::time::Duration;

use crate::config::PolicyConfig;
use crate::dispatch::{self, Message};
use crate::error::Error;
use crate::flow::{
    Backoff, ExecContext, Failure, Flow, RetryPolicy, RevertContext, Task, Values, ValuesExt,
    outputs,
};
use crate::lifecycle::{fail_create, fail_create_words};
use crate::scheduler::{Retry, SchedulerRequest};
use crate::service::Service;
use crate::store::volumes::{self, SourceKind, Volume, VolumeStatus};
use crate::store::{events, images, snapshots};
use crate::symbols::{MANAGER_REQUEST, PATH, VOLUME, VOLUME_SPEC};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_create_manager";

/// The manager flow. CreateVolumeFromSpec runs under a retry controller
/// (`RetryInPlace`) that retries the failure kinds of `[policy]
/// retry_in_place` on the same backend, with backoff, before the flow fails
/// and OnFailureReschedule decides.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(ExtractVolumeRef(svc.clone()))
        .add(OnFailureReschedule(svc.clone()))
        .add(ExtractVolumeSpec(svc.clone()))
        .add(NotifyVolumeAction(svc.clone()))
        .subflow(
            Flow::linear("RetryInPlace")
                .add(CreateVolumeFromSpec(svc.clone()))
                .with_retry(retry_in_place(&svc.config.policy)),
        )
        .add(CreateVolumeOnFinish(svc.clone()))
}

/// The retry controller's policy: failure kind k gets `retry_in_place[k]`
/// more attempts.
pub fn retry_in_place(policy: &PolicyConfig) -> RetryPolicy {
    let counts = policy.retry_in_place.clone();
    let most = counts.values().copied().max().unwrap_or(0);
    RetryPolicy::times(
        1 + most,
        Backoff::exponential(
            Duration::from_millis(policy.backoff_ms),
            Duration::from_millis(policy.max_backoff_ms),
        ),
    )
    .when(move |f, attempts| {
        let kind = Error::from_failure(f).kind;
        attempts <= counts.get(&kind).copied().unwrap_or(0)
    })
}

/// Reloads the volume; fails if it was deleted meanwhile.
pub struct ExtractVolumeRef(pub Arc<Service>);

impl Task for ExtractVolumeRef {
    task_signature!("ExtractVolumeRef", requires: [MANAGER_REQUEST], provides: [VOLUME], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let spec: ManagerRequest = ctx.get(MANAGER_REQUEST)?;
        let v = volumes::get(&self.0.store.db().lock(), &spec.volume_id)?.ok_or_else(|| {
            Error::not_found(format!(
                "volume {} was deleted before it was created",
                spec.volume_id
            ))
        })?;
        if !matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading) {
            return Err(Error::conflict(format!(
                "volume {} is {}, not being created",
                v.id,
                v.status.phrase()
            ))
            .into());
        }
        Ok(outputs().with(VOLUME, v))
    }
}

/// Does nothing; when the flow fails, decides: reschedule (backend fault,
/// attempts left: the volume stays `creating`, its backend cleared, and the
/// request goes back to the scheduler with the tried backends) or give up
/// (the volume goes to `error`, its quota returned).
pub struct OnFailureReschedule(pub Arc<Service>);

impl Task for OnFailureReschedule {
    task_signature!("OnFailureReschedule", requires: [MANAGER_REQUEST], provides: [], atomic);

    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        Ok(outputs())
    }

    fn undone(&self, inputs: &Values, _: Option<&Values>, failures: &[Failure]) -> Option<String> {
        let spec: ManagerRequest = inputs.read(MANAGER_REQUEST)?;
        let failure = failures.first()?;
        let kind = Error::from_failure(failure).kind;
        let rescheduled = self.0.config.policy.reschedule.contains(&kind)
            && spec.retry.attempt < self.0.config.scheduler.max_attempts;
        // A reschedule is told as a step of its own.
        (!rescheduled).then(|| fail_create_words(failure).to_string())
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let spec: ManagerRequest = ctx.get(MANAGER_REQUEST)?;
        let failure = ctx
            .flow_failures()
            .first()
            .cloned()
            .unwrap_or_else(|| Failure::new("internal", "failed"));
        let kind = Error::from_failure(&failure).kind;
        let reason = format!("{} failed: {}", spec.backend, failure.message);
        let max = self.0.config.scheduler.max_attempts;
        let conn = self.0.store.db().lock();
        let Some(v) = volumes::get(&conn, &spec.volume_id)? else {
            return Ok(());
        };
        if self.0.config.policy.reschedule.contains(&kind) && spec.retry.attempt < max {
            volumes::set_backend(&conn, &v.id, None, None, spec.retry.attempt)?;
            volumes::set_status(&conn, &v.id, VolumeStatus::Creating, Some(&reason))?;
            let mut tried = spec.retry.tried.clone();
            tried.push(spec.backend.clone());
            let mut failures = spec.retry.failures.clone();
            failures.push(reason.clone());
            let next = SchedulerRequest {
                volume_id: v.id.clone(),
                request: spec.request.clone(),
                retry: Retry {
                    attempt: spec.retry.attempt + 1,
                    tried,
                    failures,
                },
            };
            dispatch::send(&conn, &Message::Schedule(next), Some(self.0.owner_id()?))?;
            events::emit(
                &conn,
                Some(&v.id),
                &events::Event::VolumeReschedule {
                    from: spec.backend,
                    attempt: spec.retry.attempt + 1,
                    max_attempts: max,
                    reason: failure.message,
                    kind,
                },
            )?;
        } else {
            fail_create(
                &self.0.quota(),
                &conn,
                &v.id,
                &failure,
                &reason,
                &events::Event::VolumeCreateError {
                    kind,
                    reason: reason.clone(),
                    backend: Some(spec.backend.clone()),
                    attempt: Some(spec.retry.attempt),
                },
            )?;
        }
        Ok(())
    }
}

/// What CreateVolumeFromSpec makes, by kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeSpec {
    /// The volume.
    pub volume_id: String,
    /// Size.
    #[serde(flatten, with = "crate::units::size_fields")]
    pub size: crate::units::Bytes,
    /// Backend.
    pub backend: String,
    /// Which of the four kinds.
    pub kind: SourceKind,
    /// The source's id (snapshot, volume or image).
    pub source_id: Option<String>,
}

/// Works out which kind of volume to make and checks its source is still
/// there (a source that is gone is the request's fault: never rescheduled).
pub struct ExtractVolumeSpec(pub Arc<Service>);

impl Task for ExtractVolumeSpec {
    task_signature!("ExtractVolumeSpec", requires: [VOLUME, MANAGER_REQUEST], provides: [VOLUME_SPEC], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let v: Volume = ctx.get(VOLUME)?;
        let spec: ManagerRequest = ctx.get(MANAGER_REQUEST)?;
        let conn = self.0.store.db().lock();
        let gone = |what: &str| {
            Error::not_found(format!(
                "the source {what} {} is gone",
                v.source_id.as_deref().unwrap_or("?")
            ))
        };
        let source_id = v.source_id.clone();
        match (v.source_kind, source_id.as_deref()) {
            (SourceKind::Raw, _) => {}
            (SourceKind::Snapshot, Some(id)) => {
                snapshots::get(&conn, id)?.ok_or_else(|| gone("snapshot"))?;
            }
            (SourceKind::Volume, Some(id)) => {
                volumes::get(&conn, id)?.ok_or_else(|| gone("volume"))?;
            }
            (SourceKind::Image, Some(id)) => {
                let i = images::get(&conn, id)?.ok_or_else(|| gone("image"))?;
                if i.status != crate::store::images::ImageStatus::Active {
                    return Err(
                        Error::conflict(format!("image `{}` is {}", i.name, i.status)).into(),
                    );
                }
            }
            (kind, None) => {
                return Err(Error::internal(format!(
                    "a {} volume without a source id",
                    kind.as_str()
                ))
                .into());
            }
        }
        Ok(outputs().with(
            VOLUME_SPEC,
            VolumeSpec {
                volume_id: v.id,
                size: v.size,
                backend: spec.backend,
                kind: v.source_kind,
                source_id: v.source_id,
            },
        ))
    }

    fn summary(&self, out: &Values) -> Option<String> {
        let s: VolumeSpec = out.read(VOLUME_SPEC)?;
        Some(format!("{} volume, {}", s.kind.as_str(), s.size.human()))
    }
}

/// Records `volume.create.start`.
pub struct NotifyVolumeAction(pub Arc<Service>);

impl Task for NotifyVolumeAction {
    task_signature!("NotifyVolumeAction", requires: [VOLUME_SPEC], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let s: VolumeSpec = ctx.get(VOLUME_SPEC)?;
        events::emit(
            &self.0.store.db().lock(),
            Some(&s.volume_id),
            &events::Event::VolumeCreateStart {
                size: s.size,
                backend: s.backend,
                kind: s.kind,
                source_id: s.source_id,
            },
        )?;
        Ok(outputs())
    }
}

/// The driver call for the volume's kind: an empty volume; a copy of a
/// snapshot or of another volume (a reflink where the filesystem can); or
/// an image written in, through the image cache — status `downloading`
/// meanwhile, with byte progress. Revert: removes whatever it made of the
/// volume (a filled cache entry is kept: it is valid and accounted for).
pub struct CreateVolumeFromSpec(pub Arc<Service>);

impl Task for CreateVolumeFromSpec {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("removing what was made of the volume on its backend".to_string())
    }

    task_signature!("CreateVolumeFromSpec", requires: [VOLUME_SPEC], provides: [PATH]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let s: VolumeSpec = ctx.get(VOLUME_SPEC)?;
        let driver = self.0.backends.get(&s.backend)?;
        let progress = |p: Phase, d, t| ctx.progress_in(p.label(), d, t);
        let io = Io {
            progress: &progress,
            cancel: ctx.cancel_token(),
            phase: None,
        };
        let volume = Obj::volume(&s.volume_id);
        let bytes = s.size;
        let source = s.source_id.as_deref().unwrap_or_default();
        let path = match s.kind {
            SourceKind::Raw => driver.create(volume, bytes)?,
            SourceKind::Snapshot => driver.copy(Obj::snapshot(source), volume, Some(bytes), &io)?,
            SourceKind::Volume => driver.copy(Obj::volume(source), volume, Some(bytes), &io)?,
            SourceKind::Image => {
                let image = {
                    let conn = self.0.store.db().lock();
                    volumes::set_status(&conn, &s.volume_id, VolumeStatus::Downloading, None)?;
                    images::get(&conn, source)?
                        .ok_or_else(|| Error::not_found(format!("image {source} is gone")))?
                };
                crate::images::write_image(
                    &self.0,
                    driver.as_ref(),
                    &image,
                    &s.volume_id,
                    s.size,
                    &io,
                )?
            }
        };
        Ok(outputs().with(PATH, path))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let s: VolumeSpec = ctx.get(VOLUME_SPEC)?;
        self.0
            .backends
            .get(&s.backend)?
            .delete(Obj::volume(&s.volume_id))?;
        crate::store::backends::invalidate(&self.0.store.db().lock(), &s.backend)?;
        Ok(())
    }

    fn summary(&self, out: &Values) -> Option<String> {
        out.read(PATH)
    }
}

/// Marks the volume `available` and records `volume.create.end`.
pub struct CreateVolumeOnFinish(pub Arc<Service>);

impl Task for CreateVolumeOnFinish {
    task_signature!("CreateVolumeOnFinish", requires: [VOLUME_SPEC, PATH], provides: [], atomic);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let s: VolumeSpec = ctx.get(VOLUME_SPEC)?;
        let path: String = ctx.get(PATH)?;
        let conn = self.0.store.db().lock();
        volumes::set_created(&conn, &s.volume_id, &path)?;
        crate::store::backends::invalidate(&conn, &s.backend)?;
        events::emit(
            &conn,
            Some(&s.volume_id),
            &events::Event::VolumeCreateEnd {
                labels: volumes::require(&conn, &s.volume_id)?.labels,
                size: s.size,
                backend: s.backend,
                path,
            },
        )?;
        Ok(outputs())
    }

    fn summary(&self, _: &Values) -> Option<String> {
        Some("available".to_string())
    }
}
