//! `volctl flow list|show`, `volctl resume`, `volctl rollback`,
//! `volctl check`.

use crate::store::flows::FlowMeta;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::Ctx;
use super::console::{flow_label, human_duration};
use super::output;
use crate::error::{Error, ErrorKind, Result};
use crate::flow::{AtomRecord, FlowState};
use crate::recovery::FlowInfo;

#[derive(Subcommand, Debug)]
pub enum FlowCommand {
    /// List unfinished flows (and whether their process is alive)
    #[command(visible_alias = "ls")]
    List {
        /// Finished flows too
        #[arg(long)]
        all: bool,
    },
    /// Show a flow's tasks — state, attempts, duration, result, failure —
    /// and a timeline; given a volume, every flow of it
    Show {
        /// Flow id, or a volume's id or name
        key: String,
    },
    /// Forget finished flows (and delivered events) older than an age
    /// (`[retention]`, 7 days by default; every command forgets a few)
    Prune {
        /// The age, e.g. 7d, 12h, 0s for every finished flow
        #[arg(long, value_name = "AGE")]
        older_than: Option<String>,
    },
}

/// `volctl resume`.
#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// The flow to resume
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    flow: Option<String>,
    /// Every orphaned flow and queued request (a cast: the message one
    /// flow leaves for the next, such as api's request to the scheduler)
    #[arg(long)]
    all: bool,
}

/// `volctl rollback`.
#[derive(Args, Debug)]
pub struct RollbackArgs {
    /// A flow id, or a volume (id or name): every stopped flow of it
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    key: Option<String>,
    /// Every orphaned flow and queued request (a cast: the message one
    /// flow leaves for the next, such as api's request to the scheduler)
    #[arg(long)]
    all: bool,
}

/// `volctl reconcile`.
#[derive(Args, Debug)]
pub struct ReconcileArgs {
    /// Say what would be decided, and do nothing
    #[arg(long)]
    dry_run: bool,
}

/// `volctl check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Fix what can be fixed safely, and say what was done (objects
    /// without a volume are moved aside, never deleted)
    #[arg(long)]
    repair: bool,
    /// Delete for good the objects an earlier repair moved aside
    #[arg(long)]
    purge_orphans: bool,
}

fn owner_text(f: &FlowInfo) -> String {
    match (&f.record.owner, f.alive, f.record.state.is_finished()) {
        (_, _, true) => "-".into(),
        (Some(o), true, _) => format!("{o} (running)"),
        (Some(o), false, _) => format!("{o} (gone: orphaned)"),
        (None, _, _) => "nobody (orphaned)".into(),
    }
}

/// The flow's tasks in definition order (atoms never touched are pending).
fn atoms_in_order(ctx: &Ctx, name: &str, recorded: Vec<AtomRecord>) -> Vec<AtomRecord> {
    let Some(def) = crate::ops::definition(name, &ctx.svc) else {
        return recorded;
    };
    def.atom_names()
        .into_iter()
        .map(|n| {
            recorded
                .iter()
                .find(|a| a.name == n)
                .cloned()
                .unwrap_or_else(|| AtomRecord::pending(&n, crate::flow::AtomKind::Task))
        })
        .collect()
}

fn short(v: &serde_json::Value, n: usize) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s
    }
}

#[derive(Serialize)]
struct Shown {
    #[serde(flatten)]
    info: FlowInfo,
    atoms: Vec<AtomRecord>,
    /// What reconciliation decided about it, oldest first.
    decisions: Vec<crate::store::events::EventRecord>,
}

fn show_one(
    info: FlowInfo,
    atoms: Vec<AtomRecord>,
    decisions: &[crate::store::events::EventRecord],
) {
    let r = &info.record;
    output::fields(&[
        ("flow", r.id.clone()),
        ("name", r.name.clone()),
        ("state", r.state.to_string()),
        ("owner", owner_text(&info)),
        ("about", short(&r.meta, 100)),
        (
            "failures",
            if r.failures.is_empty() {
                "-".into()
            } else {
                r.failures
                    .iter()
                    .map(|f| f.message.lines().next().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        ),
        (
            "revert failure",
            r.revert_failure
                .as_ref()
                .map(|f| f.message.clone())
                .unwrap_or_else(|| "-".into()),
        ),
    ]);
    let rows: Vec<Vec<String>> = atoms
        .iter()
        .map(|a| {
            let took = match (a.started_at, a.finished_at) {
                (Some(s), Some(f)) if f >= s => {
                    human_duration(std::time::Duration::from_micros((f.get() - s.get()) as u64))
                }
                _ => "-".into(),
            };
            let detail = match (&a.revert_failure, &a.failure, &a.result) {
                (Some(rf), _, _) => format!("revert failed: {}", rf.message),
                (_, Some(f), _) => format!("failed: {}", f.message.lines().next().unwrap_or("")),
                (_, _, Some(v)) => short(v, 60),
                _ => String::new(),
            };
            vec![
                a.name.clone(),
                a.state.to_string(),
                a.attempts.to_string(),
                took,
                detail,
            ]
        })
        .collect();
    output::table(
        &["TASK", "STATE", "TRIES", "TIME", "RESULT / FAILURE"],
        &rows,
    );
    for e in decisions {
        let p = &e.payload;
        let text = |k: &str| p[k].as_str().unwrap_or("").to_string();
        use crate::store::events::EventType;
        output::line(&match e.kind.parse::<EventType>() {
            Ok(EventType::FlowNeedsPerson) => format!(
                "{} needs a person: revert tried again {} time(s); {}",
                e.at,
                p["tries"],
                text("failure")
            ),
            _ => format!(
                "{} reconcile: {} by {}: {}{}",
                e.at,
                text("decision"),
                text("rule"),
                text("reason"),
                match (p["result"].as_str(), p["error"].as_str()) {
                    (_, Some(err)) => format!(" → failed: {err}"),
                    (Some(r), None) => format!(" → {r}"),
                    _ => String::new(),
                }
            ),
        });
    }
    // A timeline to scale: one bar per task from its start to its end.
    let spans: Vec<(&str, i64, i64)> = atoms
        .iter()
        .filter_map(|a| {
            Some((
                a.name.as_str(),
                a.started_at?.get(),
                a.finished_at.or(a.started_at)?.get(),
            ))
        })
        .collect();
    if let (Some(t0), Some(t1)) = (
        spans.iter().map(|s| s.1).min(),
        spans.iter().map(|s| s.2).max(),
    ) {
        const WIDTH: i64 = 50;
        let total = (t1 - t0).max(1);
        output::line(&format!(
            "timeline ({}):",
            human_duration(std::time::Duration::from_micros(total as u64))
        ));
        let w = spans.iter().map(|s| s.0.len()).max().unwrap_or(0);
        for (name, s, f) in spans {
            let a = (s - t0) * WIDTH / total;
            let b = ((f - t0) * WIDTH / total).max(a + 1).min(WIDTH);
            let bar: String = (0..WIDTH)
                .map(|i| if i >= a && i < b { '█' } else { ' ' })
                .collect();
            output::line(&format!("  {name:<w$} |{bar}|"));
        }
    }
}

pub fn flow(ctx: &Ctx, cmd: &FlowCommand) -> Result<()> {
    let ops = ctx.reader();
    match cmd {
        FlowCommand::List { all } => {
            let flows = ops.flows(*all)?;
            if ctx.global.json {
                output::json(&flows);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = flows
                .iter()
                .map(|f| {
                    vec![
                        f.record.id.clone(),
                        flow_label(&f.record.name).to_string(),
                        if f.needs_person {
                            format!("{} (needs a person)", f.record.state)
                        } else {
                            f.record.state.to_string()
                        },
                        owner_text(f),
                        FlowMeta::of(&f.record.meta)
                            .volume_id
                            .unwrap_or_else(|| "-".to_string()),
                    ]
                })
                .collect();
            output::table(&["FLOW", "NAME", "STATE", "OWNER", "VOLUME"], &rows);
        }
        FlowCommand::Prune { older_than } => {
            let age = older_than
                .as_deref()
                .map(crate::wait::parse_duration)
                .transpose()?;
            let p = crate::retention::prune_all(&ctx.svc, age)?;
            ctx.render(&p, || {
                output::line(&format!(
                    "pruned {} finished flow{} and {} event{}",
                    p.flows,
                    if p.flows == 1 { "" } else { "s" },
                    p.events,
                    if p.events == 1 { "" } else { "s" }
                ));
            });
        }
        FlowCommand::Show { key } => {
            let store = ctx.svc.reading_engine().store().clone();
            // One JSON document: the flow, or a volume's flows as an array.
            let (ids, one) = match store.load(key)? {
                Some(_) => (vec![key.clone()], true),
                None => {
                    let id = ops
                        .history_id(Some(&ctx.global.project), key)
                        .map_err(|_| Error::not_found(format!("no flow or volume `{key}`")))?;
                    let ids = ops.flows_of_volume(&id)?;
                    if ids.is_empty() {
                        return Err(Error::not_found(format!("no flow of volume {id}")));
                    }
                    (ids, false)
                }
            };
            let infos = ops.flows(true)?;
            let mut shown = Vec::new();
            for id in ids {
                let snap = store
                    .load(&id)?
                    .ok_or_else(|| Error::not_found(format!("no flow {id}")))?;
                let info = infos
                    .iter()
                    .find(|f| f.record.id == id)
                    .cloned()
                    .unwrap_or(FlowInfo {
                        record: snap.flow.clone(),
                        alive: false,
                        orphaned: false,
                        needs_person: false,
                    });
                let atoms = atoms_in_order(ctx, &snap.flow.name, snap.atoms);
                let decisions = crate::reconcile::history(&ctx.svc.store.db().lock(), &id)?;
                shown.push(Shown {
                    info,
                    atoms,
                    decisions,
                });
            }
            match (ctx.global.json, one) {
                (true, true) => output::json(&shown.first()),
                (true, false) => output::json(&shown),
                (false, _) => {
                    for s in shown {
                        show_one(s.info, s.atoms, &s.decisions);
                    }
                }
            }
        }
    }
    Ok(())
}

fn outcome_line(name: &str, id: &str, state: FlowState) -> String {
    format!("{id} {} {state}", flow_label(name))
}

pub fn resume(ctx: &Ctx, a: &ResumeArgs) -> Result<()> {
    let ops = ctx.ops();
    let results = match &a.flow {
        Some(id) => {
            let rec = ops
                .flows(true)?
                .into_iter()
                .find(|f| f.record.id == *id)
                .map(|f| f.record);
            let name = rec.as_ref().map(|r| r.name.clone()).unwrap_or_default();
            let out = ops.resume(id)?;
            vec![(id.clone(), name, Ok(out))]
        }
        None => ops
            .resume_all()?
            .into_iter()
            .map(|(rec, r)| (rec.id, rec.name, r))
            .collect(),
    };
    let mut failed = 0;
    let mut report = Vec::new();
    for (id, name, r) in results {
        match r {
            Ok(out) => {
                if out.state == FlowState::RevertFailed {
                    failed += 1;
                }
                report.push(serde_json::json!({ "flow": id, "name": name, "state": out.state }));
                if !ctx.global.json {
                    output::line(&outcome_line(&name, &id, out.state));
                }
            }
            Err(e) => {
                failed += 1;
                output::note(&format!("error: flow {id}: {}", e.message));
                report.push(serde_json::json!({ "flow": id, "name": name, "error": e.message }));
            }
        }
    }
    if ctx.global.json {
        output::json(&report);
    } else if report.is_empty() {
        ctx.note("nothing to resume");
    }
    if failed > 0 {
        return Err(Error::new(
            ErrorKind::Interrupted,
            format!("{failed} flow(s) could not be finished"),
        ));
    }
    Ok(())
}

pub fn rollback(ctx: &Ctx, a: &RollbackArgs) -> Result<()> {
    let ops = ctx.ops();
    let outs = match &a.key {
        Some(key) => ops.rollback(key)?,
        None => ops.rollback_all()?,
    };
    if ctx.global.json {
        output::json(
            &outs
                .iter()
                .map(|o| serde_json::json!({ "flow": o.id, "state": o.state }))
                .collect::<Vec<_>>(),
        );
    } else if outs.is_empty() {
        ctx.note("no stopped flow to roll back");
    } else {
        for o in &outs {
            output::line(&format!("{} {}", o.id, o.state));
        }
    }
    if outs.iter().any(|o| o.state == FlowState::RevertFailed) {
        return Err(Error::new(
            ErrorKind::Interrupted,
            "a revert failed; fix its cause and run rollback again",
        ));
    }
    Ok(())
}

pub fn reconcile(ctx: &Ctx, a: &ReconcileArgs) -> Result<()> {
    let ops = ctx.ops();
    let decisions = ops.reconcile(a.dry_run)?;
    if ctx.global.json {
        output::json(&decisions);
    } else if decisions.is_empty() {
        ctx.note("nothing to reconcile: no flow or request stopped half-way");
    } else {
        for d in &decisions {
            let what = match &d.flow_id {
                Some(id) => format!("flow {id} {}", flow_label(&d.flow)),
                None => format!(
                    "request for {} ({})",
                    flow_label(&d.flow),
                    d.volume_id.as_deref().unwrap_or("?")
                ),
            };
            let at = d
                .stopped_at
                .as_deref()
                .map(|t| format!(", at {t}"))
                .unwrap_or_default();
            let outcome = match (&d.error, d.result) {
                (Some(e), _) => format!(" → failed: {e}"),
                (None, Some(s)) => format!(" → {s}"),
                (None, None) if a.dry_run && d.decision.acts() => " (dry run)".to_string(),
                _ => String::new(),
            };
            output::line(&format!(
                "{what}{at}: {} by {}{outcome}",
                d.decision, d.rule
            ));
            output::line(&format!("  {}", d.reason));
        }
    }
    let failed = decisions.iter().filter(|d| d.failed()).count();
    if failed > 0 {
        return Err(Error::new(
            ErrorKind::Interrupted,
            format!("{failed} decision(s) could not be carried out"),
        )
        .reported());
    }
    Ok(())
}

pub fn check(ctx: &Ctx, a: &CheckArgs) -> Result<()> {
    let ops = ctx.ops();
    let mut report = crate::check::check(&ctx.svc, &ops)?;
    let mut done = Vec::new();
    if a.repair && !report.ok() {
        done = crate::check::repair(&ctx.svc, &report)?;
    }
    if a.purge_orphans {
        done.extend(crate::check::purge_orphans(&ctx.svc)?);
    }
    if !done.is_empty() {
        report = crate::check::check(&ctx.svc, &ops)?;
        report.repaired = done;
    }
    if ctx.global.json {
        output::json(&serde_json::json!({
            "ok": report.ok(),
            "violations": report.violations,
            "repaired": report.repaired,
        }));
    } else {
        for r in &report.repaired {
            output::line(&format!("repaired: {r}"));
        }
        for v in &report.violations {
            let hint = if v.repairable && !a.repair {
                " (--repair fixes it)"
            } else {
                ""
            };
            output::line(&format!("violation: {}: {}{hint}", v.invariant, v.message));
        }
        if report.ok() {
            output::line("ok: every invariant holds");
        }
    }
    if report.ok() {
        Ok(())
    } else {
        Err(Error::internal(format!(
            "{} invariant violation(s)",
            report.violations.len()
        ))
        .reported())
    }
}
