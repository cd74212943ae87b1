//! Reconciliation: flows stopped half-way are settled by policy, not by hand.
//!
//! A flow is orphaned when it is unfinished and its owner's flock is free,
//! so its owner is certainly dead ([`crate::owner`]): a process that is
//! merely slow holds its lock and is never overtaken, whatever the
//! settings. `[recovery] grace` only delays settling a certain orphan, from
//! its last recorded change (a queued request: from when it was queued): it
//! leaves a person who just stopped a command time to look, and keeps a
//! timer from racing the crashed job's own retry.
//!
//! Each orphan gets one [`Verdict`], from the first rule that matches it —
//! the operator's (`[recovery.policy]`) before the built-in ones
//! ([`BUILTIN`]), and within each the most specific: `operation/task`, then
//! `operation/flow`, then `operation`, then `default`:
//!
//! - a flow going forward is resumed, rolled back or left, as its rule says;
//! - a flow that was reverting goes on reverting (unless its rule leaves it);
//! - a flow whose revert failed is tried again after `revert_backoff`
//!   (doubling), `revert_retries` times; then it is marked as needing a
//!   person — `check` and `flow list` show it, a `flow.needs_person` event
//!   says why — and left alone;
//! - a queued request (a cast) is delivered (resume) or withdrawn (rollback).
//!
//! Every decision acted on is recorded as a `flow.reconcile` event naming
//! its rule (`flow show` lists them). `volctl reconcile` applies this to
//! every orphan; any command that meets an orphan on its volume does the
//! same to that one first, a bounded number of times ([`SETTLE_ON_USE`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::flow::{AtomRecord, FlowRecord, FlowState, Micros, now_us};
use crate::ops::{Note, Ops, definition, flows_of};
use crate::store::events::{self, Event};
use crate::store::flows::{self, FlowMeta, Operation};

crate::string_enum! {
    /// What a rule says to do with an orphaned flow.
    Action {
        /// Finish it from where it stopped.
        Resume = "resume",
        /// Undo what it did, from where it stopped.
        Rollback = "rollback",
        /// Nothing: a person decides (`volctl resume` or `volctl rollback`).
        Leave = "leave",
    }
}

crate::string_enum! {
    /// What reconciliation decided for one orphan.
    Verdict {
        /// Finish it.
        Resume = "resume",
        /// Undo it (or go on undoing it).
        Rollback = "rollback",
        /// Its revert failed: try the revert again.
        RetryRevert = "retry_revert",
        /// Its rule leaves it for a person.
        Leave = "leave",
        /// Not yet: within its grace period, or its retry's back-off.
        Wait = "wait",
        /// Its revert failed past the retries: a person must look.
        NeedsPerson = "needs_person",
    }
}

impl Verdict {
    /// Whether carrying it out runs the flow.
    pub fn acts(self) -> bool {
        matches!(
            self,
            Verdict::Resume | Verdict::Rollback | Verdict::RetryRevert
        )
    }
}

/// The built-in rules, under the operator's: finish what takes things away
/// or only changes records (a half-done delete is worse than a done one),
/// undo what adds things (nobody is waiting for a half-made attach); a
/// create is finished once it got past scheduling.
pub const BUILTIN: &[(&str, Action)] = &[
    ("default", Action::Rollback),
    ("create", Action::Resume),
    ("create/volume_create_api", Action::Rollback),
    ("create/volume_create_scheduler", Action::Rollback),
    ("delete", Action::Resume),
    ("detach", Action::Resume),
    ("extend", Action::Resume),
    ("rename", Action::Resume),
    ("label", Action::Resume),
    ("apply", Action::Resume),
    ("unmanage", Action::Resume),
    ("snapshot_delete", Action::Resume),
    ("snapshot_revert", Action::Resume),
    ("image_delete", Action::Resume),
    ("attach", Action::Rollback),
];

/// How many orphans of its volume a command settles before it gives up
/// and refuses (each is a whole flow's work).
pub const SETTLE_ON_USE: usize = 4;

/// How long a command waits for another process (a reconcile timer) that
/// won the claim on a flow it meant to settle, before it gives up (exit 6).
pub const SETTLE_WAIT: Duration = Duration::from_secs(60);

/// What a rule applies to: `default`, an operation, or an operation and
/// one of its steps (a flow or task name): `create/volume_create_manager`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleKey {
    /// The operation; `None` for `default`.
    pub operation: Option<Operation>,
    /// The flow or task of it.
    pub step: Option<String>,
}

impl FromStr for RuleKey {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "default" {
            return Ok(RuleKey {
                operation: None,
                step: None,
            });
        }
        let (op, step) = match s.split_once('/') {
            Some((op, step)) => (op, Some(step)),
            None => (s, None),
        };
        let operation = op.parse::<Operation>().map_err(|_| {
            format!(
                "`{s}`: no operation `{op}` (`default`, or one of {})",
                Operation::ALL
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        if let Some(step) = step
            && (step.is_empty() || step.contains('/'))
        {
            return Err(format!(
                "`{s}`: a rule names an operation and at most one step of it (`create/volume_create_manager`)"
            ));
        }
        Ok(RuleKey {
            operation: Some(operation),
            step: step.map(str::to_string),
        })
    }
}

impl fmt::Display for RuleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.operation, &self.step) {
            (None, _) => f.write_str("default"),
            (Some(op), None) => write!(f, "{op}"),
            (Some(op), Some(step)) => write!(f, "{op}/{step}"),
        }
    }
}

impl Serialize for RuleKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RuleKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The rule that decided, and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// What it applies to.
    pub key: RuleKey,
    /// What it says.
    pub action: Action,
    /// One of [`BUILTIN`] (else the operator's).
    pub builtin: bool,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.builtin {
            write!(f, "built-in {} = {}", self.key, self.action)
        } else {
            write!(f, "recovery.policy \"{}\" = {}", self.key, self.action)
        }
    }
}

/// The rules in force: the operator's, checked against the flows they
/// name, over the built-in ones.
pub struct Policy {
    user: BTreeMap<RuleKey, Action>,
    builtin: BTreeMap<RuleKey, Action>,
}

impl Policy {
    /// The policy of `svc`'s configuration. Fails, naming the rule, when a
    /// rule names a step its operation does not have.
    pub fn of(svc: &std::sync::Arc<crate::service::Service>) -> Result<Policy> {
        let user = svc.config.recovery.policy.clone();
        for key in user.keys() {
            let (Some(op), Some(step)) = (key.operation, key.step.as_deref()) else {
                continue;
            };
            let names = flows_of(op);
            let mut steps: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            for n in names {
                if let Some(def) = definition(n, svc) {
                    steps.extend(def.atom_names());
                }
            }
            if !steps.iter().any(|s| s == step) {
                let at = svc
                    .config
                    .source
                    .as_ref()
                    .map(|p| format!("config {}: ", p.display()))
                    .unwrap_or_default();
                return Err(Error::invalid(format!(
                    "{at}recovery.policy: `{key}`: a {op} has no step `{step}`{}; its steps: {}",
                    crate::suggest::did_you_mean(step, steps.iter().map(String::as_str)),
                    steps.join(", ")
                )));
            }
        }
        let builtin = BUILTIN
            .iter()
            .map(|(k, a)| (k.parse().expect("a built-in rule's key parses"), *a))
            .collect();
        Ok(Policy { user, builtin })
    }

    /// The rule for a flow of `operation` named `flow` that stopped at
    /// `task`, run as a part of `parent` (if any): such a flow follows the
    /// rule of the operation it is a part of (an apply's), so that an
    /// apply resumed finds its volumes made and one rolled back finds them
    /// undone.
    pub fn rule_for(
        &self,
        operation: Option<Operation>,
        parent: Option<&str>,
        flow: &str,
        task: Option<&str>,
    ) -> Rule {
        match parent {
            // Only an apply runs flows of its own today.
            Some(_) => self.rule(Some(Operation::Apply), crate::apply::FLOW, None),
            None => self.rule(operation, flow, task),
        }
    }

    /// The rule for a flow of `operation` named `flow` that stopped at
    /// `task`.
    pub fn rule(&self, operation: Option<Operation>, flow: &str, task: Option<&str>) -> Rule {
        let key = |step: Option<&str>| RuleKey {
            operation,
            step: step.map(str::to_string),
        };
        let mut keys = Vec::new();
        if operation.is_some() {
            if task.is_some() {
                keys.push(key(task));
            }
            keys.push(key(Some(flow)));
            keys.push(key(None));
        }
        keys.push(RuleKey {
            operation: None,
            step: None,
        });
        for (map, builtin) in [(&self.user, false), (&self.builtin, true)] {
            for k in &keys {
                if let Some(action) = map.get(k) {
                    return Rule {
                        key: k.clone(),
                        action: *action,
                        builtin,
                    };
                }
            }
        }
        unreachable!("the built-in rules have a default")
    }
}

/// One orphan, what was decided for it and why, and what came of it.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    /// The flow (`None` for a queued request).
    pub flow_id: Option<String>,
    /// The flow's definition (for a request: the flow that consumes it).
    pub flow: String,
    /// What the flow does.
    pub operation: Option<Operation>,
    /// The volume it is about.
    pub volume_id: Option<String>,
    /// Its state when decided (`None` for a queued request).
    pub state: Option<FlowState>,
    /// The task it stopped at (or after).
    pub stopped_at: Option<String>,
    /// The decision.
    pub decision: Verdict,
    /// The rule that made it.
    pub rule: String,
    /// Why, in words.
    pub reason: String,
    /// The flow's state after the decision was carried out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<FlowState>,
    /// Why carrying it out failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a flow whose revert failed: its tries so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revert_tries: Option<u32>,
    #[serde(skip)]
    mark: bool,
    #[serde(skip)]
    error_kind: Option<ErrorKind>,
}

impl Decision {
    /// Carried out and it did not do what it set out to (a revert failed
    /// again, a resume failed). Losing a race to another process that took
    /// the flow is not a failure.
    pub fn failed(&self) -> bool {
        let fell_short = match self.decision {
            // A resume that ended reverted did not finish the flow.
            Verdict::Resume if self.flow_id.is_some() => {
                self.result.is_some_and(|s| s != FlowState::Success)
            }
            _ => self.result == Some(FlowState::RevertFailed),
        };
        fell_short || self.error_kind.is_some_and(|k| k != ErrorKind::Conflict)
    }
}

/// A wait as a person reads it, to the second: `45s`, `2m 5s`, `3h 0m`.
fn human(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, s % 3600 / 60),
    }
}

fn elapsed_since(t: Micros) -> Duration {
    Duration::from_micros((now_us().get() - t.get()).max(0) as u64)
}

/// The atom recorded last: where the flow stopped (or after which).
fn stopped_at(atoms: &[AtomRecord]) -> Option<String> {
    atoms
        .iter()
        .filter(|a| a.seq > 0)
        .max_by_key(|a| a.seq)
        .map(|a| a.name.clone())
}

impl Ops {
    /// Decides what to do with an orphaned flow (does nothing yet).
    pub fn decide(&self, policy: &Policy, rec: &FlowRecord) -> Result<Decision> {
        let atoms = self
            .flow_store()
            .load(&rec.id)?
            .map(|s| s.atoms)
            .unwrap_or_default();
        let tries = flows::revert_tries(&self.svc.store.db().lock(), &rec.id)?;
        let meta = FlowMeta::of(&rec.meta);
        let stopped = stopped_at(&atoms);
        let rule = policy.rule_for(
            meta.operation,
            meta.parent.as_deref(),
            &rec.name,
            stopped.as_deref(),
        );
        let cfg = &self.svc.config.recovery;
        let id = &rec.id;
        let revert_failure = rec
            .revert_failure
            .as_ref()
            .map(|f| f.message.lines().next().unwrap_or("").to_string())
            .unwrap_or_default();
        let mut mark = false;
        // Grace runs from the flow's last recorded step, not only from its
        // last change of state (a long copy records its task's start).
        let last_step = atoms
            .iter()
            .filter_map(|a| a.finished_at.max(a.started_at))
            .max()
            .map_or(rec.updated_at, |t| t.max(rec.updated_at));
        let (verdict, reason) = if tries.needs_person && rec.state == FlowState::RevertFailed {
            (
                Verdict::NeedsPerson,
                format!(
                    "its revert failed again after {} retr{} ({revert_failure}): fix the cause, then `volctl rollback {id}`",
                    tries.tries,
                    if tries.tries == 1 { "y" } else { "ies" }
                ),
            )
        } else if rule.action == Action::Leave {
            (
                Verdict::Leave,
                format!(
                    "the policy leaves it for a person: `volctl resume {id}` or `volctl rollback {id}`"
                ),
            )
        } else if rec.state == FlowState::RevertFailed {
            let wait = cfg
                .revert_backoff
                .saturating_mul(1u32.checked_shl(tries.tries).unwrap_or(u32::MAX));
            let since = elapsed_since(rec.updated_at);
            if tries.tries >= cfg.revert_retries {
                mark = true;
                (
                    Verdict::NeedsPerson,
                    format!(
                        "its revert failed ({revert_failure}) and was tried again {} time(s), the limit: fix the cause, then `volctl rollback {id}`",
                        tries.tries
                    ),
                )
            } else if since < wait {
                (
                    Verdict::Wait,
                    format!(
                        "its revert failed ({revert_failure}); try {} of {} in {}",
                        tries.tries + 1,
                        cfg.revert_retries,
                        human(wait - since)
                    ),
                )
            } else {
                (
                    Verdict::RetryRevert,
                    format!(
                        "its revert failed ({revert_failure}); try {} of {}",
                        tries.tries + 1,
                        cfg.revert_retries
                    ),
                )
            }
        } else {
            let since = elapsed_since(last_step);
            if since < cfg.grace {
                (
                    Verdict::Wait,
                    format!(
                        "stopped {} ago: settled once it has stood still for {} (recovery.grace)",
                        human(since),
                        human(cfg.grace)
                    ),
                )
            } else if rec.state == FlowState::Reverting {
                (
                    Verdict::Rollback,
                    "it was reverting when its process died: the revert goes on".to_string(),
                )
            } else if rule.action == Action::Resume {
                (
                    Verdict::Resume,
                    "its process died; it is finished from where it stopped".to_string(),
                )
            } else {
                (
                    Verdict::Rollback,
                    "its process died; what it did is undone from where it stopped".to_string(),
                )
            }
        };
        Ok(Decision {
            flow_id: Some(rec.id.clone()),
            flow: rec.name.clone(),
            operation: meta.operation,
            volume_id: meta.volume_id.clone(),
            state: Some(rec.state),
            stopped_at: stopped,
            decision: verdict,
            rule: rule.to_string(),
            reason,
            result: None,
            error: None,
            revert_tries: (rec.state == FlowState::RevertFailed).then_some(tries.tries),
            mark,
            error_kind: None,
        })
    }

    /// Carries a decision out and records it.
    pub fn carry_out(&self, mut d: Decision) -> Result<Decision> {
        let Some(id) = d.flow_id.clone() else {
            return self.carry_out_casts(d);
        };
        if d.decision == Verdict::Leave {
            self.record_leave(&d)?;
            return Ok(d);
        }
        if !d.decision.acts() && !d.mark {
            return Ok(d);
        }
        // Another process may be settling it too: only the one whose claim
        // (a compare-and-set of the dead owner) wins acts.
        let rec = self.record(&id)?;
        if rec.state.is_finished() {
            d.taken_meanwhile();
            return Ok(d);
        }
        if let Err(e) = self.claim(&rec) {
            d.failed_with(e);
            return Ok(d);
        }
        // The claim won, but another process may have settled it since it
        // was decided (and died): act only on what was decided about.
        let tries = flows::revert_tries(&self.svc.store.db().lock(), &id)?;
        let now = self.record(&id)?;
        if Some(now.state) != d.state
            || d.revert_tries.is_some_and(|t| t != tries.tries)
            || (d.mark && tries.needs_person)
        {
            d.taken_meanwhile();
            return Ok(d);
        }
        let ran = match d.decision {
            Verdict::Resume => Some(self.resume(&id)),
            // `now` is the record as claimed: no second read.
            Verdict::Rollback | Verdict::RetryRevert => Some(self.rollback_flow(&now)),
            _ => None,
        };
        match ran {
            Some(Ok(out)) => d.result = Some(out.state),
            Some(Err(e)) => d.failed_with(e),
            None => {}
        }
        let conn_flow = id.clone();
        let retries = self.svc.config.recovery.revert_retries;
        let volume = d.volume_id.clone();
        let rec = self.record(&id)?;
        if d.error_kind == Some(ErrorKind::Conflict) {
            return Ok(d); // lost a race: the winner records its decision
        }
        self.svc.store.db().immediate(|conn| -> Result<()> {
            if d.decision == Verdict::RetryRevert && d.result == Some(FlowState::RevertFailed) {
                let tries = flows::count_revert_try(conn, &conn_flow)?;
                d.revert_tries = Some(tries);
                d.mark = tries >= retries;
            }
            if d.decision.acts() {
                events::emit(conn, volume.as_deref(), &d.event())?;
            }
            if d.mark {
                flows::mark_needs_person(conn, &conn_flow)?;
                events::emit(
                    conn,
                    volume.as_deref(),
                    &Event::FlowNeedsPerson {
                        flow_id: conn_flow.clone(),
                        flow: d.flow.clone(),
                        tries: d.revert_tries.unwrap_or(0),
                        failure: rec
                            .revert_failure
                            .as_ref()
                            .map(|f| f.message.clone())
                            .unwrap_or_default(),
                        failures: rec.failures.iter().map(|f| f.message.clone()).collect(),
                    },
                )?;
            }
            Ok(())
        })?;
        Ok(d)
    }

    fn carry_out_casts(&self, mut d: Decision) -> Result<Decision> {
        let volume = d.volume_id.clone().unwrap_or_default();
        let r = match d.decision {
            Verdict::Resume => self.drain(&volume).map(|_| 1),
            Verdict::Rollback => self.abandon_casts(&volume),
            _ => return Ok(d),
        };
        match r {
            // Another reconcile withdrew them first: its event tells.
            Ok(0) => {
                d.taken_meanwhile();
                return Ok(d);
            }
            Ok(_) => {}
            Err(e) => d.failed_with(e),
        }
        let event = d.event();
        self.svc
            .store
            .db()
            .immediate(|conn| events::emit(conn, Some(&volume), &event).map(|_| ()))?;
        Ok(d)
    }

    /// Records that the policy leaves a flow for a person, once per rule
    /// (a timer's every run would otherwise repeat it).
    fn record_leave(&self, d: &Decision) -> Result<()> {
        let Some(id) = d.flow_id.as_deref() else {
            return Ok(());
        };
        self.svc.store.db().immediate(|conn| -> Result<()> {
            let last = events::of_flow(conn, id)?
                .into_iter()
                .rev()
                .find(|e| e.kind == events::EventType::FlowReconcile.as_str());
            let same = last.is_some_and(|e| {
                e.payload["decision"] == Verdict::Leave.as_str() && e.payload["rule"] == d.rule
            });
            if !same {
                events::emit(conn, d.volume_id.as_deref(), &d.event())?;
            }
            Ok(())
        })
    }

    /// Decides (and unless `dry_run`, carries out) what to do with every
    /// orphaned flow, oldest first, then every orphaned queued request.
    /// Cheap when there is none: two reads through indexes.
    pub fn reconcile(&self, dry_run: bool) -> Result<Vec<Decision>> {
        let mut orphans: Vec<_> = self
            .flows(false)?
            .into_iter()
            .filter(|f| f.orphaned)
            .collect();
        let casts = self.orphaned_casts()?;
        if orphans.is_empty() && casts.is_empty() {
            return Ok(Vec::new());
        }
        let policy = self.svc.policy()?;
        orphans.reverse(); // oldest first
        let mut out = Vec::new();
        for f in &orphans {
            out.push(self.decide(policy, &f.record)?);
        }
        // Undo newest first (an operation's later flows before the earlier
        // ones they build on), then finish oldest first, as `rollback
        // --all` and `resume --all` do — but first an apply's own flows,
        // then the requests left queued, before the flows that wait on
        // them (an apply resumed first would wait for its volumes in vain,
        // one undone first could not delete a volume still being made).
        let undo = |d: &Decision| matches!(d.decision, Verdict::Rollback | Verdict::RetryRevert);
        let child: Vec<bool> = orphans
            .iter()
            .map(|f| FlowMeta::of(&f.record.meta).parent.is_some())
            .collect();
        let phase = |children: bool| -> Vec<usize> {
            let of = |i: &usize| child[*i] == children;
            (0..out.len())
                .rev()
                .filter(of)
                .filter(|&i| undo(&out[i]))
                .chain((0..out.len()).filter(of).filter(|&i| !undo(&out[i])))
                .collect()
        };
        let (first, last) = (phase(true), phase(false));
        if !dry_run {
            self.carry_out_each(&mut out, &first)?;
        }
        let casts = if dry_run {
            casts
        } else {
            self.orphaned_casts()?
        };
        let queued = self.settle_casts(policy, casts, dry_run)?;
        if !dry_run {
            self.carry_out_each(&mut out, &last)?;
        }
        out.extend(queued);
        Ok(out)
    }

    /// The operation the flows of `volume_id` are a part of, if any (from
    /// its first flow, which made it).
    fn parent_of_volume(&self, volume_id: &str) -> Result<Option<String>> {
        let first = flows::of_volume(&self.svc.store.db().lock(), volume_id)?
            .into_iter()
            .next();
        Ok(match first {
            Some(id) => FlowMeta::of(&self.record(&id)?.meta).parent,
            None => None,
        })
    }

    /// Carries out the decisions at `order`, skipping a flow settled
    /// meanwhile.
    fn carry_out_each(&self, out: &mut [Decision], order: &[usize]) -> Result<()> {
        for &i in order {
            // Settled meanwhile, by an earlier decision (a rolled-back
            // parent, a resume that drained it) or another process?
            let rec = self.record(out[i].flow_id.as_deref().unwrap_or_default())?;
            if rec.state.is_finished() || self.live_other(rec.owner.as_deref()) {
                out[i].taken_meanwhile();
                continue;
            }
            out[i] = self.carry_out(out[i].clone())?;
        }
        Ok(())
    }

    /// Decides (and unless `dry_run`, carries out) what to do with the
    /// requests queued by processes now gone, by volume; a volume with an
    /// orphaned flow is left to that flow's decision.
    fn settle_casts(
        &self,
        policy: &Policy,
        casts: Vec<crate::dispatch::Cast>,
        dry_run: bool,
    ) -> Result<Vec<Decision>> {
        let mut out = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for cast in casts {
            let volume = cast.volume_id().to_string();
            if !seen.insert(volume.clone()) || self.orphaned_flow_of(&volume)?.is_some() {
                continue; // its flow's decision stands for it
            }
            let consumer = cast.message.consumer(&self.svc).name.clone();
            let parent = self.parent_of_volume(&volume)?;
            let rule = policy.rule_for(Some(Operation::Create), parent.as_deref(), &consumer, None);
            let since =
                Duration::from_secs((crate::store::unix_now() - cast.created_at).max(0) as u64);
            let grace = self.svc.config.recovery.grace;
            let (decision, reason) = if since < grace {
                (
                    Verdict::Wait,
                    format!(
                        "queued {} ago by a process now gone: settled after {} (recovery.grace)",
                        human(since),
                        human(grace)
                    ),
                )
            } else {
                match rule.action {
                    Action::Resume => (
                        Verdict::Resume,
                        "queued by a process now gone: delivered".to_string(),
                    ),
                    Action::Rollback => (
                        Verdict::Rollback,
                        "queued by a process now gone: withdrawn, the volume put in `error`"
                            .to_string(),
                    ),
                    Action::Leave => (
                        Verdict::Leave,
                        format!(
                            "the policy leaves it for a person: `volctl resume --all` or `volctl rollback {volume}`"
                        ),
                    ),
                }
            };
            let d = Decision {
                flow_id: None,
                flow: consumer,
                operation: Some(Operation::Create),
                volume_id: Some(volume),
                state: None,
                stopped_at: None,
                decision,
                rule: rule.to_string(),
                reason,
                result: None,
                error: None,
                revert_tries: None,
                mark: false,
                error_kind: None,
            };
            out.push(if dry_run { d } else { self.carry_out(d)? });
        }
        Ok(out)
    }

    /// Settles, by the policy, flows of `volume_id` that stopped half-way
    /// (at most [`SETTLE_ON_USE`]); fails like [`Ops::guard`], with the
    /// policy's reason, when one is left. Returns the decisions it carried
    /// out.
    pub fn settle(&self, volume_id: &str) -> Result<Vec<Decision>> {
        // Inside another operation's flow (an apply's creates and deletes),
        // settling would run flows from within a task: refuse as before.
        if self.is_nested() {
            return self.guard(volume_id).map(|_| Vec::new());
        }
        let mut done = Vec::new();
        for _ in 0..SETTLE_ON_USE {
            let Some(rec) = self.orphaned_flow_of(volume_id)? else {
                return Ok(done);
            };
            let policy = self.svc.policy()?;
            let d = self.decide(policy, &rec)?;
            if !d.decision.acts() {
                if d.decision == Verdict::Leave {
                    self.record_leave(&d)?;
                }
                let blocked = self.guard(volume_id).err();
                return Err(Error::conflict(format!(
                    "{} (reconcile: {}: {})",
                    blocked.map(|e| e.message).unwrap_or_default(),
                    d.decision,
                    d.reason
                )));
            }
            self.note(Note::Step(&format!(
                "flow {} ({}) stopped half-way: {} ({})",
                rec.id, rec.name, d.decision, d.rule
            )));
            let d = self.carry_out(d)?;
            if d.error_kind == Some(ErrorKind::Conflict) {
                // Another process (a reconcile timer) won the claim: let it
                // finish, then look again.
                self.wait_for_settler(&rec.id)?;
                continue;
            }
            if d.failed() || d.error.is_some() {
                return Err(Error::new(
                    ErrorKind::Interrupted,
                    format!(
                        "volume {volume_id} has a flow that stopped half-way ({} {}); settling it by {} failed: {}",
                        rec.name,
                        rec.id,
                        d.rule,
                        d.error.unwrap_or_else(|| format!(
                            "it ended {}",
                            d.result.unwrap_or(rec.state)
                        ))
                    ),
                ));
            }
            done.push(d);
        }
        self.guard(volume_id).map(|_| done)
    }

    /// Waits, up to [`SETTLE_WAIT`], while a live process other than this
    /// one holds the flow.
    fn wait_for_settler(&self, flow_id: &str) -> Result<()> {
        let until = std::time::Instant::now() + SETTLE_WAIT;
        loop {
            let rec = self.record(flow_id)?;
            if rec.state.is_finished() || !self.live_other(rec.owner.as_deref()) {
                return Ok(());
            }
            if std::time::Instant::now() >= until {
                return Err(Error::conflict(format!(
                    "flow {flow_id} ({}) is being settled by another volctl process (owner {}), still after {}: try again later",
                    rec.name,
                    rec.owner.as_deref().unwrap_or("?"),
                    human(SETTLE_WAIT)
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Decision {
    /// Not carried out: an earlier decision of this run, or another
    /// process, settled (or holds) the flow since it was decided.
    /// Carrying it out failed with `e`.
    fn failed_with(&mut self, e: Error) {
        self.error_kind = Some(e.kind);
        self.error = Some(e.message);
    }

    fn taken_meanwhile(&mut self) {
        self.result = None;
        self.error_kind = Some(ErrorKind::Conflict);
        self.error = Some("settled meanwhile by an earlier decision or another process".into());
    }

    fn event(&self) -> Event {
        Event::FlowReconcile {
            flow_id: self.flow_id.clone(),
            flow: self.flow.clone(),
            decision: self.decision,
            rule: self.rule.clone(),
            reason: self.reason.clone(),
            result: self.result,
            error: self.error.clone(),
        }
    }
}

/// The decisions recorded about a flow (its `flow.reconcile` and
/// `flow.needs_person` events), oldest first.
pub fn history(
    conn: &rusqlite::Connection,
    flow_id: &str,
) -> Result<Vec<crate::store::events::EventRecord>> {
    events::of_flow(conn, flow_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(user: &[(&str, Action)]) -> Policy {
        Policy {
            user: user.iter().map(|(k, a)| (k.parse().unwrap(), *a)).collect(),
            builtin: BUILTIN
                .iter()
                .map(|(k, a)| (k.parse().unwrap(), *a))
                .collect(),
        }
    }

    #[test]
    fn the_built_in_rules_settle_a_create_by_how_far_it_got() {
        let p = policy(&[]);
        let create = Some(Operation::Create);
        for (flow, want) in [
            ("volume_create_api", Action::Rollback),
            ("volume_create_scheduler", Action::Rollback),
            ("volume_create_manager", Action::Resume),
        ] {
            let r = p.rule(create, flow, Some("SomeTask"));
            assert_eq!(r.action, want, "{flow}: {r}");
            assert!(r.builtin);
        }
        assert_eq!(
            p.rule(Some(Operation::Delete), "volume_delete", None)
                .action,
            Action::Resume
        );
        assert_eq!(
            p.rule(Some(Operation::Attach), "volume_attach", None)
                .action,
            Action::Rollback
        );
        // A flow recorded without an operation falls to the default.
        assert_eq!(
            p.rule(None, "x", None).to_string(),
            "built-in default = rollback"
        );
    }

    #[test]
    fn the_operators_rules_come_first_most_specific_first() {
        let p = policy(&[
            ("create", Action::Rollback),
            ("migrate/CopyData", Action::Leave),
            ("default", Action::Leave),
        ]);
        // The operator's `create` beats the built-in `create/…manager`.
        let r = p.rule(Some(Operation::Create), "volume_create_manager", None);
        assert_eq!((r.action, r.builtin), (Action::Rollback, false));
        assert_eq!(r.to_string(), "recovery.policy \"create\" = rollback");
        let m = Some(Operation::Migrate);
        assert_eq!(
            p.rule(m, "volume_migrate", Some("CopyData")).action,
            Action::Leave
        );
        // The operator's default beats every built-in rule.
        let r = p.rule(Some(Operation::Delete), "volume_delete", None);
        assert_eq!((r.action, r.builtin), (Action::Leave, false));
    }

    #[test]
    fn rule_keys_parse_and_explain_what_is_wrong() {
        let k: RuleKey = "create/volume_create_manager".parse().unwrap();
        assert_eq!(k.operation, Some(Operation::Create));
        assert_eq!(k.to_string(), "create/volume_create_manager");
        assert_eq!("default".parse::<RuleKey>().unwrap().operation, None);
        let e = "crate".parse::<RuleKey>().unwrap_err();
        assert!(
            e.contains("no operation `crate`") && e.contains("create"),
            "{e}"
        );
        assert!("create/a/b".parse::<RuleKey>().is_err());
        assert!("create/".parse::<RuleKey>().is_err());
        for (k, _) in BUILTIN {
            assert!(k.parse::<RuleKey>().is_ok(), "{k}");
        }
    }
}
