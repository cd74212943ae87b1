//! `volctl label`, `gc`, `wait` and `apply`: what scripts and CI jobs need
//! to converge and to clean up after themselves.

use clap::Args;

use super::Ctx;
use super::output;
use crate::error::Result;
use crate::wait::Until;

/// `volctl label`.
#[derive(Args, Debug)]
pub struct LabelArgs {
    /// Volume id, id prefix or name
    volume: String,
    /// KEY=VALUE to set, KEY- to remove
    #[arg(required = true, value_name = "KEY=VALUE|KEY-")]
    changes: Vec<String>,
}

/// `volctl gc`.
#[derive(Args, Debug)]
pub struct GcArgs {
    /// Only list what would be deleted
    #[arg(long)]
    dry_run: bool,
    /// The expired volumes of every project (what a timer wants)
    #[arg(long)]
    all_projects: bool,
}

/// `volctl wait`.
#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Volume id, id prefix or name
    volume: String,
    /// The state to wait for: available, in-use or deleted
    #[arg(long = "for", value_name = "STATE")]
    until: Until,
    /// Give up after this long (exit 8): 90s, 15m, 2h
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    timeout: String,
}

/// `volctl apply`.
#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// The file of `[[volume]]` tables (name, size, type, image|snapshot|
    /// volume, labels, ttl)
    #[arg(long, short = 'f', value_name = "FILE")]
    file: std::path::PathBuf,
    /// Only print the plan
    #[arg(long)]
    dry_run: bool,
    /// Also delete the volumes that carry the labels every volume of the
    /// file carries but that the file no longer lists
    #[arg(long)]
    prune: bool,
    /// Make the changes apply can make (grow a volume, change its labels)
    /// instead of reporting them
    #[arg(long)]
    force: bool,
}

pub fn apply(ctx: &Ctx, a: &ApplyArgs) -> Result<()> {
    use crate::apply::Action;
    let file = crate::apply::read_file(&a.file)?;
    let ops = ctx.ops();
    let plan = ops.plan_apply(&file, &ctx.global.project, a.prune, a.force)?;
    let plan = if a.dry_run { plan } else { ops.apply(&plan)? };
    let rows: Vec<serde_json::Value> = plan
        .steps
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name, "id": s.id, "action": s.action, "differences": s.differences,
            })
        })
        .collect();
    let doc = serde_json::json!({ "volumes": rows, "dry_run": a.dry_run });
    let differing = plan.differing();
    if !ctx.global.json || differing.is_empty() {
        ctx.render(&doc, || {
            for s in &plan.steps {
                let what = match (s.action, a.dry_run) {
                    (Action::Create, true) => "would create",
                    (Action::Create, false) => "created",
                    (Action::Unchanged, _) => "unchanged",
                    (Action::Change, true) => "would change",
                    (Action::Change, false) => "changed",
                    (Action::Differs, _) => "differs",
                    (Action::Prune, true) => "would delete",
                    (Action::Prune, false) => "deleted",
                };
                let why = if s.differences.is_empty() {
                    String::new()
                } else {
                    format!(": {}", s.differences.join("; "))
                };
                output::line(&format!(
                    "{what} {} {}{why}",
                    s.name,
                    s.id.as_deref().unwrap_or("-")
                ));
            }
        });
    }
    if differing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = differing.iter().map(|s| s.name.as_str()).collect();
    Err(crate::error::Error::conflict(format!(
        "{} differ from the file ({}); --force makes the changes apply can make (grow, relabel)",
        names.len(),
        names.join(", ")
    ))
    .with_details(doc))
}

pub fn label(ctx: &Ctx, a: &LabelArgs) -> Result<()> {
    let change = crate::labels::Change::parse(&a.changes)?;
    let v = super::volume::find(ctx, &a.volume)?;
    let v = ctx.ops().label(&v.id, &change)?;
    ctx.render(&v, || {
        let labels: Vec<String> = v.labels.iter().map(|(k, x)| format!("{k}={x}")).collect();
        output::line(&format!("{} {}", v.id, labels.join(" ")));
    });
    Ok(())
}

pub fn gc(ctx: &Ctx, a: &GcArgs) -> Result<()> {
    let project = (!a.all_projects).then_some(ctx.global.project.as_str());
    let report = ctx.ops().gc(project, a.dry_run)?;
    ctx.render(&report, || {
        let verb = if a.dry_run { "would delete" } else { "deleted" };
        for id in &report.deleted {
            output::line(&format!("{verb} {id}"));
        }
        for k in &report.kept {
            output::line(&format!("kept {}: {}", k.id, k.reason));
        }
    });
    Ok(())
}

pub fn wait(ctx: &Ctx, a: &WaitArgs) -> Result<()> {
    let timeout = crate::wait::parse_duration(&a.timeout)?;
    let ops = ctx.reader();
    // Resolved once: a name or prefix could name another volume later.
    let id = match (super::volume::find(ctx, &a.volume), a.until) {
        (Ok(v), _) => v.id,
        // Waiting for a deletion of what is gone: done.
        (Err(e), Until::Deleted) if e.kind == crate::error::ErrorKind::NotFound => {
            ctx.render(
                &serde_json::json!({ "volume": a.volume, "deleted": true }),
                || output::line(&format!("{} deleted", a.volume)),
            );
            return Ok(());
        }
        (Err(e), _) => return Err(e),
    };
    match ops.wait(&id, a.until, timeout)? {
        Some(v) => ctx.render(&v, || output::line(&format!("{} {}", v.id, v.status))),
        None => ctx.render(
            &serde_json::json!({ "volume": id, "deleted": true }),
            || output::line(&format!("{id} deleted")),
        ),
    }
    Ok(())
}
