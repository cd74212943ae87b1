//! Dynamic completion: `volctl __complete WORDS…` prints, one per line, what
//! the last word can become — a subcommand, an option, or a volume,
//! snapshot, image, type, backend or flow name from the store — for the
//! bash, zsh and fish scripts in `completions/` (made by [`script`]). It
//! reads the store read-only, never makes it, and asks for at most
//! [`LIMIT`] names by an index, so it stays instant on a large store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Command;
use clap::builder::ValueHint;
use rusqlite::{Connection, OpenFlags};

use crate::config::Config;
use crate::service::default_state_dir;

/// The most names offered at once.
pub const LIMIT: usize = 200;

/// What a value is, for completing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Volume,
    Snapshot,
    Image,
    Type,
    Backend,
    Flow,
    /// A file name: the shell completes it (the output is [`FILES`]).
    File,
    /// One of a fixed set of words.
    Choice,
    /// Anything (a size, a name to be): nothing is offered.
    Free,
}

/// The line that asks the shell to complete file names itself.
pub const FILES: &str = ":files";

/// The kind of the `index`-th value of `arg`.
fn kind_of(arg: &clap::Arg, index: usize) -> Kind {
    if !arg.get_possible_values().is_empty() {
        return Kind::Choice;
    }
    if matches!(
        arg.get_value_hint(),
        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath
    ) {
        return Kind::File;
    }
    let names: Vec<String> = arg
        .get_value_names()
        .map(|n| n.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    let name = names
        .get(index.min(names.len().saturating_sub(1)))
        .cloned()
        .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
    match name.trim_end_matches('S') {
        "VOLUME" => Kind::Volume,
        "SNAPSHOT" => Kind::Snapshot,
        "IMAGE" => Kind::Image,
        "TYPE" => Kind::Type,
        "BACKEND" => Kind::Backend,
        "FLOW" => Kind::Flow,
        "FILE" | "DIR" => Kind::File,
        _ => Kind::Free,
    }
}

/// Where the command line is: the command reached, and what the last word
/// is a value of (`None`: an option or a subcommand name).
struct Position<'a> {
    cmd: &'a Command,
    value_of: Option<(&'a clap::Arg, usize)>,
    state_dir: Option<PathBuf>,
    config: Option<PathBuf>,
    project: Option<String>,
}

/// Every option `cmd` takes, its own and the global ones of its parents.
fn options<'a>(path: &[&'a Command]) -> Vec<&'a clap::Arg> {
    let mut out: Vec<&clap::Arg> = Vec::new();
    for (i, c) in path.iter().enumerate() {
        for a in c.get_arguments() {
            let last = i + 1 == path.len();
            if !a.is_positional()
                && (last || a.is_global_set())
                && !out.iter().any(|o| o.get_id() == a.get_id())
            {
                out.push(a);
            }
        }
    }
    out
}

fn find_option<'a>(opts: &[&'a clap::Arg], word: &str) -> Option<&'a clap::Arg> {
    opts.iter().copied().find(|a| {
        if let Some(long) = word.strip_prefix("--") {
            a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|al| al.contains(&long))
        } else if let Some(short) = word.strip_prefix('-') {
            short.chars().count() == 1 && a.get_short() == short.chars().next()
        } else {
            false
        }
    })
}

fn locate<'a>(root: &'a Command, words: &[String]) -> (Vec<&'a Command>, Position<'a>) {
    let mut path = vec![root];
    let mut positional = 0usize;
    let mut pending: Option<&clap::Arg> = None;
    let (mut state_dir, mut config, mut project) = (None, None, None);
    let done = &words[..words.len().saturating_sub(1)];
    for w in done {
        let cmd = *path.last().unwrap_or(&root);
        // bash splits `--opt=value` at the `=` (COMP_WORDBREAKS).
        if w == "=" && pending.is_some() {
            continue;
        }
        if let Some(arg) = pending.take() {
            match arg.get_id().as_str() {
                "state_dir" => state_dir = Some(PathBuf::from(w)),
                "config" => config = Some(PathBuf::from(w)),
                "project" => project = Some(w.clone()),
                _ => {}
            }
            continue;
        }
        if w.starts_with('-') && w.len() > 1 {
            if let Some((opt, value)) = w.split_once('=') {
                match find_option(&options(&path), opt).map(|a| a.get_id().as_str()) {
                    Some("state_dir") => state_dir = Some(PathBuf::from(value)),
                    Some("config") => config = Some(PathBuf::from(value)),
                    Some("project") => project = Some(value.to_string()),
                    _ => {}
                }
                continue;
            }
            if let Some(a) = find_option(&options(&path), w)
                && a.get_action().takes_values()
            {
                pending = Some(a);
            }
            continue;
        }
        if let Some(sub) = cmd
            .get_subcommands()
            .find(|s| s.get_name() == w || s.get_all_aliases().any(|al| al == w))
        {
            path.push(sub);
            positional = 0;
            continue;
        }
        positional += 1;
    }
    let cmd = *path.last().unwrap_or(&root);
    let value_of = match pending {
        Some(a) => Some((a, 0)),
        None => {
            // The positional the last word fills: each takes as many values
            // as it has names, the last one may repeat.
            let mut left = positional;
            let mut found = None;
            let pos: Vec<&clap::Arg> = cmd.get_positionals().collect();
            for (i, a) in pos.iter().enumerate() {
                let n = a.get_value_names().map_or(1, |v| v.len()).max(1);
                let repeats = a.get_num_args().is_some_and(|r| r.max_values() > n)
                    || i + 1 == pos.len() && matches!(a.get_action(), clap::ArgAction::Append);
                if left < n || repeats {
                    found = Some((*a, left.min(n - 1)));
                    break;
                }
                left -= n;
            }
            found
        }
    };
    let position = Position {
        cmd,
        value_of,
        state_dir,
        config,
        project,
    };
    (path, position)
}

/// What the last of `words` (the words after `volctl`, the last one being
/// completed, maybe empty) can become.
pub fn candidates(root: &Command, words: &[String]) -> Vec<String> {
    let current = words.last().map(String::as_str).unwrap_or("");
    let (path, pos) = locate(root, words);
    let mut out: Vec<String> = Vec::new();
    if current.starts_with('-') {
        for a in options(&path) {
            if a.is_hide_set() {
                continue;
            }
            if let Some(l) = a.get_long() {
                out.push(format!("--{l}"));
            }
        }
    } else if let Some((arg, index)) = pos.value_of {
        match kind_of(arg, index) {
            Kind::Choice => out.extend(
                arg.get_possible_values()
                    .iter()
                    .filter(|v| !v.is_hide_set())
                    .map(|v| v.get_name().to_string()),
            ),
            Kind::File => return vec![FILES.to_string()],
            Kind::Free => {}
            kind => out.extend(names(&pos, kind, current)),
        }
    } else {
        out.extend(
            pos.cmd
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                .map(|s| s.get_name().to_string()),
        );
    }
    out.retain(|c| c.starts_with(current));
    out.sort();
    out.dedup();
    out
}

/// Names (and, for flows, ids) of `kind` starting with `prefix`, from the
/// store and the configuration.
fn names(pos: &Position<'_>, kind: Kind, prefix: &str) -> Vec<String> {
    // As clap reads them: an empty variable is no value.
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let state_dir = pos
        .state_dir
        .clone()
        .or_else(|| env("VOLCTL_STATE_DIR").map(PathBuf::from))
        .unwrap_or_else(default_state_dir);
    let project = pos
        .project
        .clone()
        .or_else(|| env("VOLCTL_PROJECT").map(|p| p.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "default".to_string());
    let config_path = pos
        .config
        .clone()
        .or_else(|| env("VOLCTL_CONFIG").map(PathBuf::from));
    let mut out = Vec::new();
    if matches!(kind, Kind::Backend | Kind::Type)
        && let Ok(cfg) = Config::load(config_path.as_deref(), &state_dir)
    {
        match kind {
            Kind::Backend => out.extend(cfg.backends.iter().map(|b| b.name().to_string())),
            _ => out.extend(cfg.volume_types.iter().map(|t| t.name.get_ref().clone())),
        }
    }
    if kind != Kind::Backend {
        out.extend(from_store(&state_dir, kind, &project, prefix).unwrap_or_default());
    }
    out
}

/// One bounded, indexed query, read-only; a missing or busy store gives
/// nothing rather than waiting.
fn from_store(
    state_dir: &Path,
    kind: Kind,
    project: &str,
    prefix: &str,
) -> rusqlite::Result<Vec<String>> {
    let db = state_dir.join("volctl.db");
    // Trusted as every command trusts it (a directory and a database only
    // this user or root can write; a regular file, not a symlink or a FIFO),
    // or not read at all: completion runs as whoever presses TAB.
    let trusted = crate::trust::check_dir_if_exists(state_dir, "state directory").is_ok()
        && std::fs::symlink_metadata(&db).is_ok_and(|m| m.is_file())
        && crate::trust::check_file_if_exists(&db, "database").is_ok();
    if !trusted {
        return Ok(Vec::new());
    }
    // Nothing is made: with no write-ahead log (no volctl running), the
    // file is read as immutable (no -wal or -shm files created); with one,
    // read-only through it (its -shm exists, or the open fails).
    let wal = state_dir.join("volctl.db-wal").exists();
    let uri = format!(
        "file:{}{}",
        db.display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23"),
        if wal { "" } else { "?immutable=1" }
    );
    let conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(Duration::from_millis(200))?;
    let limit = LIMIT as i64;
    let sql = match kind {
        Kind::Volume => {
            "SELECT name FROM volumes WHERE project = ?1 AND name >= ?2 AND name < ?2 || char(1114111) \
             AND name IS NOT NULL ORDER BY name LIMIT ?3"
        }
        Kind::Snapshot => {
            "SELECT name FROM snapshots WHERE project = ?1 AND name >= ?2 AND name < ?2 || char(1114111) \
             AND name IS NOT NULL ORDER BY name LIMIT ?3"
        }
        Kind::Image => {
            "SELECT name FROM images WHERE ?1 = ?1 AND name >= ?2 AND name < ?2 || char(1114111) \
             ORDER BY name LIMIT ?3"
        }
        Kind::Type => {
            "SELECT name FROM volume_types WHERE ?1 = ?1 AND name >= ?2 AND name < ?2 || char(1114111) \
             ORDER BY name LIMIT ?3"
        }
        Kind::Flow => {
            "SELECT id FROM flows WHERE ?1 = ?1 AND id >= ?2 AND id < ?2 || char(1114111) \
             ORDER BY id LIMIT ?3"
        }
        _ => return Ok(Vec::new()),
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(rusqlite::params![project, prefix, limit], |r| {
        r.get::<_, String>(0)
    })?;
    rows.collect()
}

/// A completion script for `shell` (`bash`, `zsh` or `fish`) that asks
/// `volctl __complete` for every word.
pub fn script(shell: &str) -> Option<&'static str> {
    Some(match shell {
        "bash" => BASH,
        "zsh" => ZSH,
        "fish" => FISH,
        _ => return None,
    })
}

const BASH: &str = r#"# bash completion for volctl: every word is asked of `volctl __complete`
# (subcommands, options, and volume, snapshot, image, type, backend and
# flow names from the store). Source it, or put it in
# /usr/share/bash-completion/completions/volctl.
_volctl() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    # volctl filters by the prefix itself: its lines are taken as they are,
    # never expanded (a volume may be named `$(...)` or `*`).
    mapfile -t COMPREPLY < <("${COMP_WORDS[0]}" __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
    if [[ ${COMPREPLY[0]-} == ":files" ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}
complete -F _volctl volctl
"#;

const ZSH: &str = r#"#compdef volctl
# zsh completion for volctl: every word is asked of `volctl __complete`
# (subcommands, options, and volume, snapshot, image, type, backend and
# flow names from the store). Put it in a directory of $fpath as _volctl.
_volctl() {
    local -a out
    out=("${(@f)$(${words[1]} __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if [[ ${out[1]} == ":files" ]]; then
        _files
    else
        compadd -a out
    fi
}
_volctl "$@"
"#;

const FISH: &str = r#"# fish completion for volctl: every word is asked of `volctl __complete`
# (subcommands, options, and volume, snapshot, image, type, backend and
# flow names from the store). Put it in ~/.config/fish/completions/.
function __volctl_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out (command $words[1] __complete -- $words[2..-1] 2>/dev/null)
    if test "$out[1]" = ":files"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\n' $out
    end
end
complete -c volctl -f -a '(__volctl_complete)'
"#;
