//! `volctl snapshot create|list|show|delete`.

use clap::Subcommand;

use super::Ctx;
use super::output::{self, or_dash};
use crate::error::Result;
use crate::store::snapshots::{self, Snapshot};
use crate::store::volumes;

#[derive(Subcommand, Debug)]
pub enum SnapshotCommand {
    /// Snapshot a volume
    Create {
        /// Volume id, id prefix or name
        volume: String,
        /// Name
        #[arg(long, short)]
        name: Option<String>,
        /// Snapshot even an attached volume (the copy is only
        /// crash-consistent: detach, or quiesce its filesystem, for better)
        #[arg(long)]
        force: bool,
    },
    /// List snapshots
    #[command(visible_alias = "ls")]
    List {
        /// Only those of this volume
        #[arg(long)]
        volume: Option<String>,
    },
    /// Show one snapshot
    Show {
        /// Snapshot id, id prefix or name
        snapshot: String,
    },
    /// Put a snapshot's data back into its volume, in place (the volume
    /// keeps its id, name and path; it must be detached)
    Revert {
        /// Snapshot id, id prefix or name
        snapshot: String,
        /// Revert an attached volume: its device is rebound (the same path
        /// when it is still free) with the snapshot's data. Only while
        /// nothing has the device mounted or open
        #[arg(long)]
        force: bool,
    },
    /// Delete snapshots
    #[command(visible_alias = "rm")]
    Delete {
        /// Snapshot ids, id prefixes or names
        #[arg(required = true)]
        snapshots: Vec<String>,
    },
}

fn fields(s: &Snapshot) {
    output::fields(&[
        ("id", s.id.clone()),
        ("name", or_dash(s.name.as_deref())),
        ("status", super::style::state(&s.status.to_string())),
        ("size", s.size.human()),
        ("volume", s.volume_id.clone()),
        ("backend", s.backend.clone()),
        ("path", or_dash(s.path.as_deref())),
        ("type", or_dash(s.type_name.as_deref())),
        ("project", s.project.clone()),
        ("created_at", s.created_at.clone()),
        ("error", or_dash(s.error.as_deref())),
    ]);
}

pub fn run(ctx: &Ctx, cmd: &SnapshotCommand) -> Result<()> {
    let db = ctx.svc.store.db();
    match cmd {
        SnapshotCommand::Create {
            volume,
            name,
            force,
        } => {
            let project = Some(ctx.global.project.as_str());
            let v = volumes::find(&db.lock(), project, volume)?;
            let ops = ctx.ops();
            let s = ops.snapshot_create(&v.id, name.as_deref(), *force)?;
            ctx.render(&s, || {
                ctx.note(&format!(
                    "snapshot {} of volume {}: {} at {}",
                    s.id,
                    v.id,
                    s.size.human(),
                    or_dash(s.path.as_deref())
                ));
                output::line(&s.id);
            });
        }
        SnapshotCommand::List { volume } => {
            let conn = db.lock();
            let vid = volume
                .as_deref()
                .map(|k| volumes::find(&conn, Some(&ctx.global.project), k))
                .transpose()?
                .map(|v| v.id);
            let all = snapshots::list(&conn, Some(&ctx.global.project), vid.as_deref())?;
            drop(conn);
            ctx.render(&all, || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|s| {
                        vec![
                            s.id.clone(),
                            or_dash(s.name.as_deref()),
                            s.size.human(),
                            super::style::state(&s.status.to_string()),
                            s.volume_id.clone(),
                            s.backend.clone(),
                        ]
                    })
                    .collect();
                output::table(
                    &["ID", "NAME", "SIZE", "STATUS", "VOLUME", "BACKEND"],
                    &rows,
                );
            });
        }
        SnapshotCommand::Revert { snapshot, force } => {
            let project = Some(ctx.global.project.as_str());
            let s = snapshots::find(&db.lock(), project, snapshot)?;
            let v = ctx.ops().snapshot_revert(&s.id, *force)?;
            ctx.render(&v, || {
                ctx.note(&format!(
                    "volume {} now holds snapshot {}'s data",
                    v.id, s.id
                ));
                output::line(&v.id);
            });
        }
        SnapshotCommand::Show { snapshot } => {
            let s = snapshots::find(&db.lock(), Some(&ctx.global.project), snapshot)?;
            ctx.render(&s, || {
                fields(&s);
            });
        }
        SnapshotCommand::Delete { snapshots: keys } => {
            let ops = ctx.ops();
            let mut deleted = Vec::new();
            for key in keys {
                let s = snapshots::find(&db.lock(), Some(&ctx.global.project), key)?;
                ops.snapshot_delete(&s.id)?;
                if !ctx.global.json {
                    output::line(&s.id);
                }
                deleted.push(s.id);
            }
            if ctx.global.json {
                output::json(&serde_json::json!({ "deleted": deleted }));
            }
        }
    }
    Ok(())
}
