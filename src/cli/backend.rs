//! `volctl backend list`.

use std::collections::BTreeMap;

use clap::Subcommand;
use serde::Serialize;

use super::Ctx;
use super::output;
use super::style::{self, Tone};
use crate::backends::builtin_capabilities;
use crate::error::Result;
use crate::store::volumes;

#[derive(Subcommand, Debug)]
pub enum BackendCommand {
    /// List backends: capacity, allocated, free, capabilities (read fresh,
    /// refreshing the figures cached for the scheduler)
    #[command(visible_alias = "ls")]
    List,
}

/// One backend as `backend list --json` prints it.
#[derive(Serialize)]
struct BackendInfo {
    name: String,
    driver: String,
    availability_zone: String,
    thin: bool,
    /// Copies are reflinks or thin snapshots: the image cache is filled on
    /// every miss (see `images::fill_pays`).
    cheap_copies: bool,
    total_bytes: Option<crate::units::Bytes>,
    free_bytes: Option<crate::units::Bytes>,
    provisioned_bytes: crate::units::Bytes,
    volumes: u64,
    max_over_subscription_ratio: f64,
    reserved_percentage: u32,
    capabilities: BTreeMap<String, crate::config::Capability>,
    error: Option<String>,
}

pub fn run(ctx: &Ctx, cmd: &BackendCommand) -> Result<()> {
    match cmd {
        BackendCommand::List => {
            let conn = ctx.svc.store.db().lock();
            let infos = ctx
                .svc
                .backends
                .all()
                .iter()
                .map(|d| {
                    let cfg = d.config();
                    // Always fresh, and remembered: after changing a volume
                    // group by hand, `backend list` refreshes what the
                    // scheduler sees.
                    let stats = d.stats();
                    if let (Ok(st), Some(_)) = (&stats, d.stats_ttl()) {
                        crate::store::backends::save(
                            &conn,
                            cfg.name(),
                            &cfg.driver.to_string(),
                            st,
                        )?;
                    }
                    let provisioned = crate::store::provisioned(&conn, cfg.name())?;
                    Ok(BackendInfo {
                        name: cfg.name().to_string(),
                        driver: cfg.driver.to_string(),
                        availability_zone: cfg.availability_zone.clone(),
                        thin: cfg.thin,
                        total_bytes: stats.as_ref().ok().map(|s| s.total),
                        free_bytes: stats.as_ref().ok().map(|s| s.free),
                        provisioned_bytes: provisioned,
                        volumes: volumes::count_on_backend(&conn, cfg.name())?,
                        max_over_subscription_ratio: cfg.max_over_subscription_ratio,
                        cheap_copies: d.cheap_copies(),
                        reserved_percentage: cfg.reserved_percentage,
                        capabilities: builtin_capabilities(cfg),
                        error: stats.err().map(|e| e.message),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            drop(conn);
            if ctx.global.json {
                output::json(&infos);
                return Ok(());
            }
            let gb = |x: Option<crate::units::Bytes>| {
                x.map(crate::units::Bytes::human)
                    .unwrap_or_else(|| "?".into())
            };
            let rows: Vec<Vec<String>> = infos
                .iter()
                .map(|b| {
                    vec![
                        b.name.clone(),
                        b.driver.clone(),
                        b.availability_zone.clone(),
                        gb(b.total_bytes),
                        b.provisioned_bytes.human(),
                        gb(b.free_bytes),
                        // Thin backends promise more than they hold: up to
                        // capacity × ratio is handed out.
                        match b.thin {
                            true => format!("thin, up to {}×", b.max_over_subscription_ratio),
                            false => "thick".to_string(),
                        },
                        b.volumes.to_string(),
                        match &b.error {
                            None => style::paint_out(Tone::Good, "ok"),
                            Some(e) => style::paint_out(
                                Tone::Bad,
                                &format!("cannot report: {}", e.lines().next().unwrap_or(e)),
                            ),
                        },
                        b.capabilities
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(","),
                    ]
                })
                .collect();
            output::table(
                &[
                    "NAME",
                    "DRIVER",
                    "ZONE",
                    "CAPACITY",
                    "ALLOCATED",
                    "FREE",
                    "PROVISIONING",
                    "VOLUMES",
                    "STATUS",
                    "CAPABILITIES",
                ],
                &rows,
            );
        }
    }
    Ok(())
}
