//! Operations for scripts and CI jobs: selecting volumes (filters, labels),
//! labelling, expiry and `gc`, waiting for a state, and the idempotent
//! create (`create --if-not-exists`).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::api::CreateRequest;
use crate::api::create_volume::ExtractVolumeRequest;
use crate::error::{Error, ErrorKind, Result};
use crate::labels;
use crate::manager::label_volume;
use crate::ops::Ops;
use crate::store::flows::{FlowMeta, Operation};
use crate::store::volumes::{self, Labels, Volume, VolumeStatus};
use crate::wait::Until;

/// Which volumes a command is about (`list`, `delete --label`): every
/// field given must match.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Of this project (`None`: every project).
    pub project: Option<String>,
    /// In this status.
    pub status: Option<VolumeStatus>,
    /// Named so: a glob (`*` any run, `?` one character).
    pub name: Option<String>,
    /// On this backend.
    pub backend: Option<String>,
    /// Of this volume type (by name).
    pub type_name: Option<String>,
    /// Carrying every one of these labels.
    pub labels: Labels,
}

impl Filter {
    /// Whether `v` is selected.
    pub fn matches(&self, v: &Volume) -> bool {
        self.status.is_none_or(|s| v.status == s)
            && self
                .name
                .as_deref()
                .is_none_or(|g| v.name.as_deref().is_some_and(|n| glob(g, n)))
            && self
                .backend
                .as_deref()
                .is_none_or(|b| v.backend.as_deref() == Some(b))
            && self
                .type_name
                .as_deref()
                .is_none_or(|t| v.type_name.as_deref() == Some(t))
            && labels::matches(&v.labels, &self.labels)
    }
}

/// Whether `name` matches `pattern` (`*`: any run, `?`: one character).
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative matching with one backtrack point: linear in practice.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// What a poll of a volume found: the answer, or the status it is still in.
enum Poll<T> {
    Done(Result<T>),
    Still(VolumeStatus),
}

/// What `gc` did (or, dry, would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GcReport {
    /// Deleted (dry run: would be deleted).
    pub deleted: Vec<String>,
    /// Expired but kept, with why (in use, has snapshots, busy).
    pub kept: Vec<Kept>,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// An expired volume `gc` did not delete.
#[derive(Clone, Debug, Serialize)]
pub struct Kept {
    /// The volume.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Why it is kept.
    pub reason: String,
}

/// What `create --if-not-exists` found or made.
#[derive(Clone, Debug, Serialize)]
pub struct Ensured {
    /// The volume.
    #[serde(flatten)]
    pub volume: Volume,
    /// Whether it existed already (nothing was made).
    pub existing: bool,
}

/// How long `create --if-not-exists` waits for a volume another process
/// is still making.
pub const ENSURE_WAIT: Duration = Duration::from_secs(600);

impl Ops {
    /// The volumes `filter` selects, as observed, in creation order.
    pub fn select(&self, filter: &Filter) -> Result<Vec<Volume>> {
        Ok(self
            .volumes(filter.project.as_deref())?
            .into_iter()
            .filter(|v| filter.matches(v))
            .collect())
    }

    /// Changes a volume's labels; returns it updated.
    pub fn label(&self, volume_id: &str, change: &labels::Change) -> Result<Volume> {
        self.settle(volume_id)?;
        self.complete(
            &label_volume::flow(&self.svc),
            label_volume::inputs(volume_id, change),
            FlowMeta::volume(Operation::Label, volume_id),
        )?;
        Ok(self.observed(&volumes::require(&self.svc.store.db().lock(), volume_id)?))
    }

    /// Deletes the expired volumes of `project` (every project: `None`),
    /// detaching attached ones whose device nothing uses; the others are
    /// reported and kept. `dry_run`: only says what it would delete.
    pub fn gc(&self, project: Option<&str>, dry_run: bool) -> Result<GcReport> {
        let now = crate::wait::format(std::time::SystemTime::now());
        let expired = volumes::expired(&self.svc.store.db().lock(), project, &now)?;
        let mut report = GcReport {
            dry_run,
            ..GcReport::default()
        };
        for v in expired {
            let v = self.observed(&v);
            let kept = |reason: String| Kept {
                id: v.id.clone(),
                name: v.name.clone(),
                reason,
            };
            // A flow of it that stopped half-way is settled by the policy
            // first, as any command does (not in a dry run: it acts).
            if !dry_run && let Err(e) = self.settle(&v.id) {
                report.kept.push(kept(e.message));
                continue;
            }
            let Some(now) = volumes::get(&self.svc.store.db().lock(), &v.id)? else {
                // Settling finished a delete of it.
                report.deleted.push(v.id.clone());
                continue;
            };
            let v = self.observed(&now);
            if let Some(why) = self.gc_blocker(&v)? {
                report.kept.push(kept(why));
                continue;
            }
            if dry_run {
                report.deleted.push(v.id.clone());
                continue;
            }
            match self.delete_with(&v.id, true, false) {
                Ok(()) => report.deleted.push(v.id.clone()),
                // Gone meanwhile (another gc, a delete): nothing to do.
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => report.kept.push(kept(e.message)),
            }
        }
        Ok(report)
    }

    /// Why `gc` must keep an expired volume, if it must: its device in use,
    /// snapshots of it, or a state a delete would refuse.
    fn gc_blocker(&self, v: &Volume) -> Result<Option<String>> {
        if let Err(e) = self.guard(&v.id) {
            return Ok(Some(e.message));
        }
        if v.device.is_some()
            && let Err(e) = crate::manager::attach_volume::refuse_busy(&self.svc, v)
        {
            return Ok(Some(e.message));
        }
        let snaps = crate::store::snapshots::list(&self.svc.store.db().lock(), None, Some(&v.id))?;
        if !snaps.is_empty() {
            return Ok(Some(format!(
                "it has {} snapshot(s): delete them, or the volume with --cascade",
                snaps.len()
            )));
        }
        if !matches!(
            v.status,
            VolumeStatus::Available | VolumeStatus::InUse | VolumeStatus::Error
        ) {
            return Ok(Some(format!("it is {}", v.status.phrase())));
        }
        Ok(None)
    }

    /// Waits until volume `volume_id` is as `until` says, polling the
    /// store; returns it (`None` once deleted). A volume in `error` ends a
    /// wait for `available` or `in-use` at once (conflict): it will not
    /// get there by itself. Past `timeout`: a `timed_out` error (exit 8).
    pub fn wait(&self, volume_id: &str, until: Until, timeout: Duration) -> Result<Option<Volume>> {
        let goal = format!("become {until}");
        self.poll(volume_id, timeout, &goal, |v| match (v, until) {
            (None, Until::Deleted) => Poll::Done(Ok(None)),
            (None, _) => Poll::Done(Err(Error::not_found(format!(
                "volume {volume_id} does not exist (deleted?)"
            )))),
            (Some(v), Until::Available) if v.status == VolumeStatus::Available => {
                Poll::Done(Ok(Some(v)))
            }
            (Some(v), Until::InUse) if v.status == VolumeStatus::InUse => Poll::Done(Ok(Some(v))),
            (Some(v), Until::Available | Until::InUse)
                if matches!(v.status, VolumeStatus::Error | VolumeStatus::ErrorDeleting) =>
            {
                Poll::Done(Err(Error::conflict(format!(
                    "volume {volume_id} is {}{}: it will not become {until} by itself",
                    v.status.phrase(),
                    v.error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ))))
            }
            (Some(v), _) => Poll::Still(v.status),
        })
    }

    /// Polls volume `id` (as observed; `None` once gone), with a growing
    /// pause, until `judge` says it is done; past `timeout`, a `timed_out`
    /// error saying it was still in the last status seen and did not `goal`.
    fn poll<T>(
        &self,
        id: &str,
        timeout: Duration,
        goal: &str,
        judge: impl Fn(Option<Volume>) -> Poll<T>,
    ) -> Result<T> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let v = volumes::get(&self.svc.store.db().lock(), id)?.map(|v| self.observed(&v));
            let last = match judge(v) {
                Poll::Done(r) => return r,
                Poll::Still(status) => status,
            };
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "volume {id} is still {last} after {}; it was to {goal}",
                        humantime::format_duration(Duration::from_secs(timeout.as_secs()))
                    ),
                ));
            }
            if !self.cancel_token().sleep(pause.min(left)) {
                return Err(Error::new(ErrorKind::Cancelled, "cancelled while waiting"));
            }
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// `create --if-not-exists`: the volume of the request's project with
    /// its name, if one exists with the same size, type and source
    /// (`existing: true`; one still being made is waited for); a volume of
    /// that name with another spec is a conflict naming the difference;
    /// else a new volume. Two processes racing for the name end with one
    /// volume: the loser finds the winner's.
    pub fn ensure(&self, req: &CreateRequest) -> Result<Ensured> {
        let name = req.name.as_deref().ok_or_else(|| {
            Error::invalid("--if-not-exists needs --name: it finds a volume by name")
        })?;
        // What the request resolves to, but for the name (taken, perhaps).
        let want = ExtractVolumeRequest(self.svc.clone()).extract(&CreateRequest {
            name: None,
            ..req.clone()
        })?;
        // One ensure at a time per name: the second finds the first's
        // volume rather than racing it for the quota the name would cost.
        let _held = self.name_lock(&req.project, name)?;
        // Looked up in a statement of its own: the connection's guard must
        // not live on through a wait (other threads of this process, making
        // the volume, need the connection).
        let found = volumes::named(&self.svc.store.db().lock(), &req.project, name, None)?;
        if let Some(id) = found {
            return self.existing(req, &want, &id);
        }
        match self.create(req) {
            Ok(v) => Ok(Ensured {
                volume: v,
                existing: false,
            }),
            // A plain `create` (which takes no name lock) of another
            // process made it meanwhile: that volume is the answer. This
            // create's own failure never is.
            Err(e) if e.details.get("name_taken").is_some() => {
                let found = volumes::named(&self.svc.store.db().lock(), &req.project, name, None)?;
                match found {
                    Some(id) => self.existing(req, &want, &id),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The existing volume `id` as the answer to `req`: the same spec, and
    /// settled (one being made is waited for) and usable, or a conflict.
    fn existing(
        &self,
        req: &CreateRequest,
        want: &crate::api::VolumeRequest,
        id: &str,
    ) -> Result<Ensured> {
        // A create of it that stopped half-way (its process killed) is
        // settled by the policy first: waiting for it would be in vain.
        self.settle(id)?;
        let mut v = volumes::require(&self.svc.store.db().lock(), id)?;
        // Without a size asked for, any size it has now is the one asked;
        // one asked is what its backend made of it (LVM rounds to extents).
        let size = match (req.size.is_some(), v.backend.as_deref()) {
            (false, _) => v.size,
            (true, Some(b)) if v.size != want.size => crate::scheduler::allocated_size(
                &self.svc,
                &self.svc.store.db().lock(),
                b,
                want.size,
                &format!("volume {id}"),
            )?,
            (true, _) => want.size,
        };
        let want = crate::api::VolumeRequest {
            size,
            ..want.clone()
        };
        let name = v.name.clone().unwrap_or_default();
        let differences = differences(&v, &want);
        if !differences.is_empty() {
            return Err(Error::conflict(format!(
                "volume `{name}` ({id}) exists with another spec: {}",
                differences.join(", ")
            ))
            .with_details(serde_json::json!({ "differences": differences })));
        }
        if matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading) {
            v = self.wait_settled(id, ENSURE_WAIT)?;
        }
        match v.status {
            VolumeStatus::Available | VolumeStatus::InUse => Ok(Ensured {
                volume: self.observed(&v),
                existing: true,
            }),
            other => Err(Error::conflict(format!(
                "volume `{name}` ({id}) exists but is {}{}: delete or rename it first",
                other.phrase(),
                v.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ))),
        }
    }

    /// Waits until volume `id` is no longer being made; returns it.
    fn wait_settled(&self, id: &str, timeout: Duration) -> Result<Volume> {
        self.poll(id, timeout, "be made", |v| match v {
            None => Poll::Done(Err(Error::not_found(format!(
                "volume {id} was deleted meanwhile"
            )))),
            Some(v) if matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading) => {
                Poll::Still(v.status)
            }
            Some(v) => Poll::Done(Ok(v)),
        })
    }
}

impl Ops {
    /// Holds the lock of volume name `name` in `project` (a file under
    /// `locks/`, one of 256 picked by a hash of both), waiting up to
    /// [`ENSURE_WAIT`].
    fn name_lock(&self, project: &str, name: &str) -> Result<crate::locks::FileLock> {
        let dir = self.svc.store.dir().join("locks");
        crate::trust::ensure_dir(&dir, "lock directory")?;
        // 256 files at most: names share a bucket's lock now and then,
        // which only makes them wait for each other a moment.
        let path = dir.join(format!("name-{:02x}.lock", fnv1a(&[project, name]) % 256));
        crate::locks::FileLock::lock_for(&path, self.cancel_token(), Some(ENSURE_WAIT)).map_err(
            |e| {
                let kind = match e.kind() {
                    std::io::ErrorKind::TimedOut => ErrorKind::TimedOut,
                    std::io::ErrorKind::Interrupted => ErrorKind::Cancelled,
                    _ => ErrorKind::Internal,
                };
                Error::new(kind, format!("waiting for the name `{name}`: {e}"))
            },
        )
    }
}

/// FNV-1a over `parts` (each followed by a 0 byte): stable across builds,
/// so every volctl process names a lock file alike.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// How an existing volume differs from what a request resolves to, in
/// words (empty: the same).
fn differences(v: &Volume, want: &crate::api::VolumeRequest) -> Vec<String> {
    let mut d = Vec::new();
    if v.size != want.size {
        d.push(format!(
            "size {}, asked {}",
            v.size.human(),
            want.size.human()
        ));
    }
    if v.type_name != want.type_name {
        d.push(format!(
            "type {}, asked {}",
            v.type_name.as_deref().unwrap_or("none"),
            want.type_name.as_deref().unwrap_or("none")
        ));
    }
    if (v.source_kind, &v.source_id) != (want.source_kind, &want.source_id) {
        d.push(format!(
            "made from {} {}, asked {} {}",
            v.source_kind,
            v.source_id.as_deref().unwrap_or("-"),
            want.source_kind,
            want.source_id.as_deref().unwrap_or("-")
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("ci-*", "ci-root"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*-scratch-*", "job-scratch-7"));
        assert!(!glob("ci-*", "cd-root"));
        assert!(glob("a*b*c", "aXbYbZc"));
    }
}
