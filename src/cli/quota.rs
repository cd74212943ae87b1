//! `volctl quota show|set|unset`.

use clap::{Args, Subcommand};

use super::Ctx;
use super::output;
use crate::error::{Error, Result};

#[derive(Subcommand, Debug)]
pub enum QuotaCommand {
    /// Show limits and usage of a project
    Show,
    /// Set limits of a project (-1: unlimited)
    Set(SetArgs),
    /// Remove limits set for a project, so the defaults apply again (any
    /// resource name: one an older volctl accepted can be removed)
    Unset {
        /// The resources (`volumes`, `gigabytes_fast`, ...)
        #[arg(required = true, value_name = "RESOURCE")]
        resources: Vec<String>,
    },
}

#[derive(Args, Debug)]
pub struct SetArgs {
    /// Number of volumes
    #[arg(long, allow_negative_numbers = true)]
    volumes: Option<i64>,
    /// GiB of volumes and snapshots
    #[arg(long, allow_negative_numbers = true)]
    gigabytes: Option<i64>,
    /// Number of snapshots
    #[arg(long, allow_negative_numbers = true)]
    snapshots: Option<i64>,
    /// Largest single volume, GiB
    #[arg(long, allow_negative_numbers = true)]
    per_volume_gigabytes: Option<i64>,
    /// Any resource, e.g. `gigabytes_fast=100` for volumes of type `fast`
    #[arg(long = "resource", value_name = "NAME=LIMIT")]
    resources: Vec<String>,
}

fn show(ctx: &Ctx) -> Result<()> {
    let usage = ctx
        .svc
        .quota()
        .usage(&ctx.svc.store.db().lock(), &ctx.global.project)?;
    if ctx.global.json {
        output::json(&usage);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = usage
        .iter()
        .map(|(r, u)| {
            vec![
                r.clone(),
                match (u.limit, r.as_str()) {
                    (l, _) if l < 0 => "unlimited".into(),
                    (l, "per_volume_gigabytes") => crate::units::Bytes::gib(l as u64).human(),
                    (l, _) if u.sizes => crate::units::Bytes::gib(l as u64).human(),
                    (l, _) => l.to_string(),
                },
                // A per-volume limit has no usage of its own.
                match r.as_str() {
                    "per_volume_gigabytes" => "-".into(),
                    _ => u.show(u.in_use),
                },
                match r.as_str() {
                    "per_volume_gigabytes" => "-".into(),
                    _ => u.show(u.reserved),
                },
            ]
        })
        .collect();
    output::table(&["RESOURCE", "LIMIT", "IN USE", "RESERVED"], &rows);
    Ok(())
}

pub fn run(ctx: &Ctx, cmd: &QuotaCommand) -> Result<()> {
    match cmd {
        QuotaCommand::Show => show(ctx),
        QuotaCommand::Unset { resources } => {
            crate::api::check_project(&ctx.global.project)?;
            let quota = ctx.svc.quota();
            ctx.svc.store.db().immediate(|c| {
                resources
                    .iter()
                    .try_for_each(|r| quota.unset_limit(c, &ctx.global.project, r))
            })?;
            show(ctx)
        }
        QuotaCommand::Set(a) => {
            let mut limits: Vec<(String, i64)> = [
                ("volumes", a.volumes),
                ("gigabytes", a.gigabytes),
                ("snapshots", a.snapshots),
                ("per_volume_gigabytes", a.per_volume_gigabytes),
            ]
            .into_iter()
            .filter_map(|(r, l)| l.map(|l| (r.to_string(), l)))
            .collect();
            for s in &a.resources {
                let (r, l) = s
                    .split_once('=')
                    .and_then(|(r, l)| Some((r.trim(), l.trim().parse::<i64>().ok()?)))
                    .filter(|(r, _)| crate::config::valid_name(r))
                    .ok_or_else(|| {
                        Error::invalid(format!("--resource `{s}` must be NAME=LIMIT"))
                    })?;
                limits.push((r.to_string(), l));
            }
            if limits.is_empty() {
                return Err(Error::invalid(
                    "nothing to set: give --volumes, --gigabytes, --snapshots, --per-volume-gigabytes or --resource",
                ));
            }
            crate::api::check_project(&ctx.global.project)?;
            let quota = ctx.svc.quota();
            ctx.svc.store.db().immediate(|c| {
                limits
                    .iter()
                    .try_for_each(|(r, l)| quota.set_limit(c, &ctx.global.project, r, *l))
            })?;
            show(ctx)
        }
    }
}
