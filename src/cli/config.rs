//! `volctl config show|check`: the configuration a command runs with, each
//! value with where it came from; a file checked without the store.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde::Serialize;
use serde_json::Value;

use super::{Global, output, style};
use crate::config::Config;
use crate::error::Result;
use crate::service::default_state_dir;

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the effective configuration: every setting, with where its
    /// value came from (a line of the file, the environment, a flag, or the
    /// built-in default)
    Show,
    /// Check a configuration file without opening the store (exit 0 if it
    /// is valid, 2 with the reason if not)
    Check {
        /// The file to check
        file: PathBuf,
    },
}

/// Where a value came from.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
enum Origin {
    /// volctl's built-in default.
    Default,
    /// A line of the configuration file.
    File { file: PathBuf, line: usize },
    /// An environment variable.
    Environment { variable: &'static str },
    /// A command-line flag.
    Flag { flag: &'static str },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::File { file, line } => write!(f, "{}:{line}", file.display()),
            Origin::Environment { variable } => write!(f, "environment {variable}"),
            Origin::Flag { flag } => write!(f, "{flag}"),
        }
    }
}

/// One setting of `config show`.
#[derive(Serialize)]
struct Setting {
    key: String,
    value: Value,
    #[serde(flatten)]
    origin: Origin,
}

/// What `config show --json` prints.
#[derive(Serialize)]
struct Shown {
    state_dir: Setting,
    config_file: Setting,
    project: Setting,
    settings: Vec<Setting>,
}

/// Where a global option's value came from: its flag, its variable, or the
/// default.
fn global_origin(flag: &'static str, variable: &'static str) -> Origin {
    let given = std::env::args().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
    if given {
        Origin::Flag { flag }
    } else if std::env::var_os(variable).is_some() {
        Origin::Environment { variable }
    } else {
        Origin::Default
    }
}

pub fn run(global: &Global, cmd: &ConfigCommand) -> Result<()> {
    let state_dir = global.state_dir.clone().unwrap_or_else(default_state_dir);
    match cmd {
        ConfigCommand::Show => show(global, &state_dir),
        ConfigCommand::Check { file } => check(global, &state_dir, file),
    }
}

fn check(global: &Global, state_dir: &Path, file: &Path) -> Result<()> {
    let cfg = Config::load(Some(file), state_dir)?;
    // Loading accepts a missing backend directory (the backend is unusable
    // until it exists); a file being checked should not have one.
    if let Some(missing) = cfg.missing_paths().first() {
        return Err(crate::error::Error::invalid(format!(
            "config {}: {missing}",
            file.display()
        )));
    }
    #[derive(Serialize)]
    struct Checked<'a> {
        file: &'a Path,
        valid: bool,
        backends: usize,
        volume_types: usize,
    }
    let checked = Checked {
        file,
        valid: true,
        backends: cfg.backends.len(),
        volume_types: cfg.volume_types.len(),
    };
    if global.json {
        output::json(&checked);
    } else {
        output::line(&format!(
            "{}: {} ({}, {})",
            file.display(),
            style::paint_out(style::Tone::Good, "valid"),
            crate::units::count(checked.backends as u64, "backend", "backends"),
            crate::units::count(checked.volume_types as u64, "volume type", "volume types"),
        ));
    }
    Ok(())
}

fn show(global: &Global, state_dir: &Path) -> Result<()> {
    let cfg = Config::load(global.config.as_deref(), state_dir)?;
    let lines = match &cfg.source {
        Some(path) => {
            let text = crate::trust::read_file(path, "config", crate::trust::MAX_CONFIG_BYTES)?;
            key_lines(&text)
        }
        None => BTreeMap::new(),
    };
    let mut settings = Vec::new();
    leaves("", &serde_json::to_value(&cfg)?, &mut settings);
    let settings = settings
        .into_iter()
        .map(|(key, value)| {
            let origin = match (lines.get(&key), &cfg.source) {
                (Some(line), Some(file)) => Origin::File {
                    file: file.clone(),
                    line: *line,
                },
                _ => Origin::Default,
            };
            Setting { key, value, origin }
        })
        .collect::<Vec<_>>();
    let config_origin = global_origin("--config", "VOLCTL_CONFIG");
    let shown = Shown {
        state_dir: Setting {
            key: "state_dir".into(),
            value: Value::String(state_dir.display().to_string()),
            origin: global_origin("--state-dir", "VOLCTL_STATE_DIR"),
        },
        config_file: Setting {
            key: "config_file".into(),
            value: match &cfg.source {
                Some(p) => Value::String(p.display().to_string()),
                None => Value::Null,
            },
            origin: config_origin,
        },
        project: Setting {
            key: "project".into(),
            value: Value::String(global.project.clone()),
            origin: global_origin("--project", "VOLCTL_PROJECT"),
        },
        settings,
    };
    if global.json {
        output::json(&shown);
        return Ok(());
    }
    let file = match &cfg.source {
        Some(p) => p.display().to_string(),
        None => format!(
            "none (no {} — the built-in configuration)",
            state_dir.join("config.toml").display()
        ),
    };
    output::line(&format!(
        "# state directory: {} ({})",
        state_dir.display(),
        shown.state_dir.origin
    ));
    output::line(&format!(
        "# configuration file: {file} ({})",
        shown.config_file.origin
    ));
    output::line(&format!(
        "# project: {} ({})",
        global.project, shown.project.origin
    ));
    let rows: Vec<(String, String)> = shown
        .settings
        .iter()
        .map(|s| {
            let value = match &s.value {
                Value::Null => "(unset)".to_string(),
                v => v.to_string(),
            };
            (format!("{} = {value}", s.key), s.origin.to_string())
        })
        .collect();
    let w = rows.iter().map(|(l, _)| style::width(l)).max().unwrap_or(0);
    for (setting, origin) in rows {
        output::line(&format!(
            "{}  {}",
            style::pad(&setting, w),
            style::paint_out(style::Tone::Dim, &format!("# {origin}"))
        ));
    }
    Ok(())
}

/// `prefix.key`, the key quoted as TOML needs (`extra_specs."a:b"`).
fn dotted(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = match bare {
        true => key.to_string(),
        false => format!("{key:?}"),
    };
    match prefix {
        "" => key,
        p => format!("{p}.{key}"),
    }
}

/// Every leaf of `v` by its dotted key (`scheduler.max_attempts`,
/// `backend[0].path`); a list of scalars, an empty table and an unset
/// setting (null) are leaves.
fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                leaves(&dotted(prefix, k), v, out);
            }
        }
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object) => {
            for (i, v) in a.iter().enumerate() {
                leaves(&format!("{prefix}[{i}]"), v, out);
            }
        }
        v => out.push((prefix.to_string(), v.clone())),
    }
}

/// The line of every key the file sets, by the same dotted keys as
/// [`leaves`]. A table given inline (`capabilities = { … }`) counts for
/// every key inside it.
fn key_lines(text: &str) -> BTreeMap<String, usize> {
    use toml::de::{DeTable, DeValue};
    let mut out = BTreeMap::new();
    let Ok(doc) = DeTable::parse(text) else {
        return out;
    };
    let line = |at: usize| text[..at.min(text.len())].lines().count().max(1);
    fn walk(
        prefix: &str,
        table: &DeTable<'_>,
        line: &dyn Fn(usize) -> usize,
        out: &mut BTreeMap<String, usize>,
    ) {
        for (k, v) in table {
            let key = dotted(prefix, k.get_ref());
            let at = line(k.span().start + 1);
            match v.get_ref() {
                DeValue::Table(t) => {
                    out.insert(key.clone(), at);
                    walk(&key, t, line, out);
                }
                DeValue::Array(a) if a.iter().all(|e| matches!(e.get_ref(), DeValue::Table(_))) => {
                    for (i, e) in a.iter().enumerate() {
                        if let DeValue::Table(t) = e.get_ref() {
                            walk(&format!("{key}[{i}]"), t, line, out);
                        }
                    }
                }
                _ => {
                    out.insert(key, at);
                }
            }
        }
    }
    walk("", doc.get_ref(), &line, &mut out);
    out
}
