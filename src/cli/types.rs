//! `volctl type create|list|delete`.

use std::collections::BTreeMap;

use clap::Subcommand;

use super::Ctx;
use super::output;
use crate::error::{Error, Result};
use crate::store::types::{self, VolumeType};

#[derive(Subcommand, Debug)]
pub enum TypeCommand {
    /// Create a volume type: a named set of extra specs, the requirements
    /// a backend must meet to hold the type's volumes
    Create {
        /// Name
        name: String,
        /// An extra spec (repeatable): a requirement KEY=VALUE that a
        /// backend's capability must meet, e.g. `capabilities:tier=ssd` or
        /// `volume_backend_name=fast` (a value may compare: `<= 100`,
        /// `<in> a b`); or one of volctl's own settings, `volctl:wipe=zero`
        #[arg(long = "spec", value_name = "KEY=VALUE")]
        specs: Vec<String>,
    },
    /// List volume types
    #[command(visible_alias = "ls")]
    List,
    /// Delete a volume type no volume uses
    #[command(visible_alias = "rm")]
    Delete {
        /// Name or id
        name: String,
    },
}

fn parse_specs(specs: &[String]) -> Result<BTreeMap<String, String>> {
    specs
        .iter()
        .map(|s| {
            let (k, v) = s
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| Error::invalid(format!("--spec `{s}` must be KEY=VALUE")))?;
            Ok((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

fn specs_text(t: &VolumeType) -> String {
    t.extra_specs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(ctx: &Ctx, cmd: &TypeCommand) -> Result<()> {
    let db = ctx.svc.store.db();
    match cmd {
        TypeCommand::Create { name, specs } => {
            let specs = parse_specs(specs)?;
            let t = db.immediate(|c| types::create(c, name, &specs))?;
            ctx.render(&t, || {
                output::line(&t.name);
            });
        }
        TypeCommand::List => {
            let all = types::list(&db.lock())?;
            ctx.render(&all, || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|t| {
                        vec![
                            t.name.clone(),
                            t.id.clone(),
                            if t.from_config { "config" } else { "cli" }.to_string(),
                            specs_text(t),
                        ]
                    })
                    .collect();
                output::table(&["NAME", "ID", "FROM", "EXTRA SPECS"], &rows);
            });
        }
        TypeCommand::Delete { name } => {
            let t = db.immediate(|c| types::delete(c, name))?;
            ctx.render(&t, || {
                output::line(&t.name);
            });
        }
    }
    Ok(())
}
