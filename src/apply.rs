//! `volctl apply -f FILE`: a declared set of volumes made so. The plan says,
//! per volume, what is to be done: create what is missing, leave what
//! matches, change what `--force` may change (grow it, relabel it), report
//! what differs otherwise, and with `--prune` delete the volumes that carry
//! the file's labels but that it no longer lists.
//!
//! The plan is carried out by the `volume_apply` flow: ApplyCreates (the
//! missing volumes, made in parallel: each an idempotent create by name,
//! itself the usual api → scheduler → manager flows) → ApplyChanges →
//! ApplyPrune. Every step is idempotent, so a resumed apply converges;
//! a rolled back one deletes the volumes it made.
//!
//! Initial store: `apply_plan`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::units::Bytes;
use serde::{Deserialize, Serialize};

use crate::api::{CreateRequest, SourceRef};
use crate::error::{Error, ErrorKind, Result};
use crate::flow::{ExecContext, Failure, Flow, RevertContext, Task, Values, ValuesExt, outputs};
use crate::ops::Ops;
use crate::service::Service;
use crate::store::flows::{FlowMeta, Operation};
use crate::store::volumes::{self, Labels, Volume, VolumeStatus};
use crate::symbols::{APPLIED, APPLY_PLAN};
use crate::task_signature;

/// The flow's name.
pub const FLOW: &str = "volume_apply";

/// How many creates run at once.
const PARALLEL: usize = 8;

/// The file: `[[volume]]` tables.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyFile {
    /// The volumes declared.
    #[serde(default)]
    pub volume: Vec<Declared>,
}

/// One declared volume.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    /// Its name (unique in the file and the project).
    pub name: String,
    /// Its size: a number of GiB, or a string with a unit (`"8G"`, `"1T"`).
    pub size: Option<SizeField>,
    /// Its volume type.
    #[serde(rename = "type")]
    pub volume_type: Option<String>,
    /// Made from this image,
    pub image: Option<String>,
    /// or this snapshot,
    pub snapshot: Option<String>,
    /// or a clone of this volume.
    pub volume: Option<String>,
    /// Availability zone.
    pub zone: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Labels,
    /// Expiry from its creation (`2h`).
    pub ttl: Option<String>,
}

/// A size as written in the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum SizeField {
    /// GiB.
    Gib(u64),
    /// GiB, a fraction (`1.5`).
    Fraction(f64),
    /// With a unit.
    Text(String),
}

impl SizeField {
    fn bytes(&self) -> Result<Bytes> {
        match self {
            SizeField::Gib(n) => crate::units::parse_volume_size(&n.to_string()),
            SizeField::Fraction(f) => crate::units::parse_volume_size(&f.to_string()),
            SizeField::Text(s) => crate::units::parse_volume_size(s),
        }
    }
}

/// What `apply` does to one declared (or pruned) volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Missing: created.
    Create,
    /// As declared: left.
    Unchanged,
    /// Differs in what `--force` may change (grow, relabel): changed.
    Change,
    /// Differs in what apply will not change: reported (exit 6).
    Differs,
    /// Carries the file's labels, not listed: deleted (`--prune`).
    Prune,
}

/// One line of the plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    /// The volume's name.
    pub name: String,
    /// Its id (once it exists).
    pub id: Option<String>,
    /// What is done.
    pub action: Action,
    /// What differs, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
    /// For a create: the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<CreateRequest>,
    /// For a change: the size to grow to (a plan recorded before sizes
    /// were bytes has whole GiB here: [`RecordedSize`] reads it so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend_to: Option<crate::units::RecordedSize>,
    /// For a change: the labels to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relabel: Option<Labels>,
    /// For a create: its expiry from when it is made, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
}

/// The plan: a step per volume, in the file's order, then the prunes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// The project.
    pub project: String,
    /// When it was made (RFC 3339): a rollback deletes only volumes of the
    /// plan's creates made since.
    pub made_at: String,
    /// The apply's own id: every flow it runs carries it as its parent, so
    /// a rollback deletes only what this apply made, never another's.
    pub id: String,
    /// The steps.
    pub steps: Vec<Step>,
}

impl Plan {
    /// The steps that leave a difference behind.
    pub fn differing(&self) -> Vec<&Step> {
        self.steps
            .iter()
            .filter(|s| s.action == Action::Differs)
            .collect()
    }
}

/// Reads an apply file (bounded: it is a list of volumes).
pub fn read_file(path: &std::path::Path) -> Result<ApplyFile> {
    let text = crate::trust::read_file(path, "apply file", 4 << 20)?;
    toml::from_str(&text).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
}

/// The labels every declared volume carries: what marks the volumes the
/// file owns, for `--prune`.
fn owned_labels(file: &ApplyFile) -> Labels {
    let mut it = file.volume.iter();
    let Some(first) = it.next() else {
        return Labels::new();
    };
    let mut common = first.labels.clone();
    for d in it {
        common.retain(|k, v| d.labels.get(k) == Some(v));
    }
    common
}

impl Declared {
    fn request(&self, project: &str) -> Result<CreateRequest> {
        let sources = [
            self.image.clone().map(SourceRef::Image),
            self.snapshot.clone().map(SourceRef::Snapshot),
            self.volume.clone().map(SourceRef::Volume),
        ];
        let mut given = sources.into_iter().flatten();
        let source = given.next();
        if given.next().is_some() {
            return Err(Error::invalid(format!(
                "volume `{}`: give at most one of image, snapshot and volume",
                self.name
            )));
        }
        for (k, v) in &self.labels {
            crate::labels::check_key(k)?;
            crate::labels::check_value(k, v)?;
        }
        Ok(CreateRequest {
            size: self.size.as_ref().map(SizeField::bytes).transpose()?,
            name: Some(self.name.clone()),
            volume_type: self.volume_type.clone(),
            zone: self.zone.clone(),
            project: project.to_string(),
            source,
            labels: self.labels.clone(),
            expires_at: None,
        })
    }
}

impl Ops {
    /// The plan for `file` in `project`: what `apply` would do.
    pub fn plan_apply(
        &self,
        file: &ApplyFile,
        project: &str,
        prune: bool,
        force: bool,
    ) -> Result<Plan> {
        let mut seen = std::collections::BTreeSet::new();
        let mut steps = Vec::new();
        for d in &file.volume {
            crate::api::check_name(Some(&d.name))?;
            if !seen.insert(d.name.clone()) {
                return Err(Error::invalid(format!(
                    "volume `{}` is declared twice",
                    d.name
                )));
            }
            let req = d.request(project)?;
            let ttl_secs = d
                .ttl
                .as_deref()
                .map(|t| {
                    let ttl = crate::wait::parse_duration(t)?;
                    crate::wait::expiry_in(ttl)?; // refused now, not midway
                    Ok::<_, Error>(ttl.as_secs())
                })
                .transpose()?;
            // A source declared in the same file may not exist yet: the
            // creates run at once, in no order.
            if let Some(src) = d.volume.as_deref()
                && file.volume.iter().any(|o| o.name == src)
                && volumes::named(&self.svc.store.db().lock(), project, src, None)?.is_none()
            {
                return Err(Error::invalid(format!(
                    "volume `{}` is a clone of `{src}`, which this file declares too and which does \
                     not exist yet: apply a file with `{src}` first (creates run in parallel, in no order)",
                    d.name
                )));
            }
            let existing = volumes::named(&self.svc.store.db().lock(), project, &d.name, None)?;
            let Some(id) = existing else {
                // Validated now (type, zone, source, size), so a bad entry
                // stops the plan before anything is made.
                crate::api::create_volume::ExtractVolumeRequest(self.svc.clone()).extract(&req)?;
                steps.push(Step {
                    name: d.name.clone(),
                    id: None,
                    action: Action::Create,
                    differences: Vec::new(),
                    request: Some(req),
                    extend_to: None,
                    relabel: None,
                    ttl_secs,
                });
                continue;
            };
            let v = volumes::require(&self.svc.store.db().lock(), &id)?;
            steps.push(self.compare(d, &req, v, force, ttl_secs)?);
        }
        // Nothing is pruned unless everything else converges.
        if steps.iter().any(|s| s.action == Action::Differs) {
            return Ok(Plan {
                project: project.to_string(),
                made_at: crate::store::now(),
                id: crate::store::new_id(),
                steps,
            });
        }
        if prune {
            let owned = owned_labels(file);
            if owned.is_empty() {
                return Err(Error::invalid(
                    "--prune deletes the volumes that carry the labels every volume of the file \
                     carries; this file's volumes share none, so it would own everything",
                ));
            }
            for v in volumes::list(&self.svc.store.db().lock(), Some(project))? {
                let listed = v.name.as_ref().is_some_and(|n| seen.contains(n));
                if !listed && crate::labels::matches(&v.labels, &owned) {
                    steps.push(Step {
                        name: v.name.clone().unwrap_or_default(),
                        id: Some(v.id),
                        action: Action::Prune,
                        differences: Vec::new(),
                        request: None,
                        extend_to: None,
                        relabel: None,
                        ttl_secs: None,
                    });
                }
            }
        }
        Ok(Plan {
            project: project.to_string(),
            made_at: crate::store::now(),
            id: crate::store::new_id(),
            steps,
        })
    }

    /// How an existing volume compares with its declaration.
    fn compare(
        &self,
        d: &Declared,
        req: &CreateRequest,
        v: Volume,
        force: bool,
        ttl_secs: Option<u64>,
    ) -> Result<Step> {
        let step = |action, differences: Vec<String>| Step {
            name: d.name.clone(),
            id: Some(v.id.clone()),
            action,
            differences,
            request: Some(req.clone()),
            extend_to: None,
            relabel: None,
            ttl_secs,
        };
        // Still being made (by another apply, or one that crashed): the
        // create waits for it and judges it then.
        if matches!(v.status, VolumeStatus::Creating | VolumeStatus::Downloading) {
            return Ok(step(Action::Create, Vec::new()));
        }
        if let Err(e) = self.guard(&v.id) {
            return Ok(step(Action::Differs, vec![e.message]));
        }
        if !matches!(v.status, VolumeStatus::Available | VolumeStatus::InUse) {
            return Ok(step(
                Action::Differs,
                vec![format!("it is {}", v.status.phrase())],
            ));
        }
        let resolved = crate::api::create_volume::ExtractVolumeRequest(self.svc.clone()).extract(
            &CreateRequest {
                name: None,
                size: req.size.or(Some(v.size)),
                ..req.clone()
            },
        );
        // A source gone (or busy) since the volume was made from it: the
        // volume is still what was declared; its size and type are judged.
        let (want_size, want_type, want_source) = match resolved {
            Ok(w) => (w.size, w.type_name, Some((w.source_kind, w.source_id))),
            Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Conflict) => (
                req.size.unwrap_or(v.size),
                req.volume_type.clone().or(v.type_name.clone()),
                None,
            ),
            Err(e) => return Err(e),
        };
        // What its backend makes of the declared size (LVM rounds to
        // extents), so a rounded volume is as declared.
        let want_size = match v.backend.as_deref() {
            Some(b) if want_size != v.size => crate::scheduler::allocated_size(
                &self.svc,
                &self.svc.store.db().lock(),
                b,
                want_size,
                &format!("volume `{}`", v.name.as_deref().unwrap_or(&v.id)),
            )?,
            _ => want_size,
        };
        let (want_kind, want_source_id) =
            want_source.unwrap_or((v.source_kind, v.source_id.clone()));
        let mut fixed = Vec::new();
        let mut other = Vec::new();
        let mut extend_to = None;
        let mut relabel = None;
        if want_size > v.size {
            fixed.push(format!(
                "size {}, declared {}",
                v.size.human(),
                want_size.human()
            ));
            extend_to = Some(crate::units::RecordedSize(want_size));
        } else if want_size < v.size {
            other.push(format!(
                "size {}, declared {} (volumes do not shrink)",
                v.size.human(),
                want_size.human()
            ));
        }
        if want_type != v.type_name {
            other.push(format!(
                "type {}, declared {}",
                v.type_name.as_deref().unwrap_or("none"),
                want_type.as_deref().unwrap_or("none")
            ));
        }
        if (want_kind, &want_source_id) != (v.source_kind, &v.source_id) {
            other.push(format!(
                "made from {} {}, declared {want_kind} {}",
                v.source_kind,
                v.source_id.as_deref().unwrap_or("-"),
                want_source_id.as_deref().unwrap_or("-")
            ));
        }
        if d.labels != v.labels {
            fixed.push(format!("labels {:?}, declared {:?}", v.labels, d.labels));
            relabel = Some(d.labels.clone());
        }
        let action = match (fixed.is_empty(), other.is_empty(), force) {
            (true, true, _) => Action::Unchanged,
            (false, true, true) => Action::Change,
            _ => Action::Differs,
        };
        fixed.extend(other);
        Ok(Step {
            request: None,
            extend_to: extend_to.filter(|_| action == Action::Change),
            relabel: relabel.filter(|_| action == Action::Change),
            ..step(action, fixed)
        })
    }

    /// Carries out `plan`; returns it with the ids of what it made. Steps
    /// that differ are reported by the caller.
    pub fn apply(&self, plan: &Plan) -> Result<Plan> {
        // Nothing to do: no flow either (a converged apply costs a read).
        if plan
            .steps
            .iter()
            .all(|s| matches!(s.action, Action::Unchanged | Action::Differs))
        {
            return Ok(plan.clone());
        }
        let out = self.complete(
            &flow(&self.svc),
            outputs().with(APPLY_PLAN, plan.clone()),
            FlowMeta {
                operation: Some(Operation::Apply),
                ..FlowMeta::default()
            },
        )?;
        out.get(APPLIED)
            .ok_or_else(|| Error::internal("the apply produced no result"))
    }
}

/// The apply flow.
pub fn flow(svc: &Arc<Service>) -> Flow {
    Flow::linear(FLOW)
        .add(ApplyCreates(svc.clone()))
        .add(ApplyChanges(svc.clone()))
        .add(ApplyPrune(svc.clone()))
}

/// Operations for a task's own flows (each create is a flow of its own):
/// cancelled with the apply, and marked as the apply's (`plan.id`).
fn nested(svc: &Arc<Service>, cancel: &crate::flow::CancelToken, plan: &Plan) -> Ops {
    let engine = svc.engine().with_cancel(cancel.clone());
    // The crash tests step into an apply's own flows too.
    #[cfg(feature = "test-hooks")]
    let engine = engine.with_listener(Arc::new(crate::testhooks::Hooks));
    Ops::new(svc.clone(), engine).with_parent(&plan.id)
}

/// Makes the missing volumes, several at once; provides the plan with
/// their ids. Each is an idempotent create by name (`create
/// --if-not-exists`), so a re-run finds what an interrupted one made.
/// Revert: deletes the plan's volumes that this apply made (never another
/// apply's, running at the same time).
pub struct ApplyCreates(pub Arc<Service>);

impl Task for ApplyCreates {
    fn undone(&self, _: &Values, _: Option<&Values>, _: &[Failure]) -> Option<String> {
        Some("deleting the volumes this apply made".to_string())
    }

    task_signature!("ApplyCreates", requires: [APPLY_PLAN], provides: [APPLIED]);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let mut plan: Plan = ctx.get(APPLY_PLAN)?;
        let jobs: Vec<usize> = (0..plan.steps.len())
            .filter(|&i| plan.steps[i].action == Action::Create)
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results = parking_lot::Mutex::new(BTreeMap::<usize, Result<String>>::new());
        std::thread::scope(|scope| {
            for _ in 0..PARALLEL.min(jobs.len()) {
                scope.spawn(|| {
                    let ops = nested(&self.0, ctx.cancel_token(), &plan);
                    loop {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(&i) = jobs.get(n) else { break };
                        let Some(req) = plan.steps[i].request.clone() else {
                            continue;
                        };
                        let r = (|| {
                            let mut req = req;
                            req.expires_at = plan.steps[i]
                                .ttl_secs
                                .map(|s| crate::wait::expiry_in(std::time::Duration::from_secs(s)))
                                .transpose()?;
                            ops.ensure(&req).map(|e| e.volume.id)
                        })();
                        results.lock().insert(i, r);
                    }
                });
            }
        });
        let mut first_error = None;
        for (i, r) in results.into_inner() {
            match r {
                Ok(id) => plan.steps[i].id = Some(id),
                Err(e) => {
                    first_error
                        .get_or_insert(e.context(format!("volume `{}`", plan.steps[i].name)));
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e.into());
        }
        Ok(outputs().with(APPLIED, plan))
    }

    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let plan: Plan = ctx.get(APPLY_PLAN)?;
        let ops = nested(&self.0, &crate::flow::CancelToken::new(), &plan);
        for s in plan.steps.iter().filter(|s| s.action == Action::Create) {
            let found = volumes::named(&self.0.store.db().lock(), &plan.project, &s.name, None)?;
            let Some(id) = found else { continue };
            // Only what this apply made: a volume whose first flow (its
            // create) ran as a part of this apply.
            let first = ops.flows_of_volume(&id)?.into_iter().next();
            let ours = match first {
                Some(f) => {
                    FlowMeta::of(&ops.record(&f)?.meta).parent.as_deref() == Some(plan.id.as_str())
                }
                None => false,
            };
            if ours {
                match ops.delete_with(&id, false, false) {
                    Ok(()) => {}
                    Err(e) if e.kind == ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }
}

/// Grows and relabels what the plan says to (`--force`). Idempotent.
pub struct ApplyChanges(pub Arc<Service>);

impl Task for ApplyChanges {
    task_signature!("ApplyChanges", requires: [APPLIED], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let plan: Plan = ctx.get(APPLIED)?;
        let ops = nested(&self.0, ctx.cancel_token(), &plan);
        for s in plan.steps.iter().filter(|s| s.action == Action::Change) {
            let Some(id) = &s.id else { continue };
            if let Some(size) = s.extend_to {
                ops.extend(id, size.0)?;
            }
            if let Some(labels) = &s.relabel {
                let now = volumes::require(&self.0.store.db().lock(), id)?.labels;
                let change = crate::labels::Change {
                    set: labels.clone(),
                    remove: now
                        .keys()
                        .filter(|k| !labels.contains_key(*k))
                        .cloned()
                        .collect(),
                };
                ops.label(id, &change)?;
            }
        }
        Ok(outputs())
    }
}

/// Deletes what the plan prunes (gone already: fine).
pub struct ApplyPrune(pub Arc<Service>);

impl Task for ApplyPrune {
    task_signature!("ApplyPrune", requires: [APPLIED], provides: []);

    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let plan: Plan = ctx.get(APPLIED)?;
        let ops = nested(&self.0, ctx.cancel_token(), &plan);
        for s in plan.steps.iter().filter(|s| s.action == Action::Prune) {
            let Some(id) = &s.id else { continue };
            match ops.delete_with(id, false, false) {
                Ok(()) => {}
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e.context(format!("pruning `{}`", s.name)).into()),
            }
        }
        Ok(outputs())
    }
}
