//! Dynamic completion, through the generated bash script and a real store:
//! names come from the store, values nothing can complete offer nothing
//! (not file names), and file arguments are left to the shell.

use std::process::Command;

use crate::cli_support::*;

/// What bash's completion offers for `words` (the last one being typed),
/// by sourcing `completions/volctl.bash` and calling its function as bash
/// does on TAB.
fn complete(v: &Volctl, words: &[&str]) -> Vec<String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/completions/volctl.bash");
    let out = Command::new("bash")
        .arg("-c")
        .arg(
            r#"source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _volctl; printf '%s\n' "${COMPREPLY[@]}""#,
        )
        .arg("bash")
        .arg(script)
        .arg(bin())
        .args(words)
        .env("VOLCTL_STATE_DIR", &v.state)
        .env_remove("VOLCTL_CONFIG")
        .current_dir(v.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_names_from_the_store_and_nothing_where_nothing_fits() {
    let v = Volctl::new();
    for name in ["alpha", "alps", "beta"] {
        v.ok(&["create", "--size", "1M", "--name", name]);
    }
    v.ok(&["snapshot", "create", "alpha", "--name", "snap1"]);
    v.ok(&["type", "create", "gold"]);
    std::fs::write(v.path("disk.qcow2"), b"").unwrap();

    assert_eq!(complete(&v, &["show", "al"]), ["alpha", "alps"]);
    assert_eq!(
        complete(&v, &["delete", "alpha", "b"]),
        ["beta"],
        "every positional of a list"
    );
    assert_eq!(complete(&v, &["snapshot", "revert", ""]), ["snap1"]);
    assert_eq!(complete(&v, &["create", "--from-snapshot", "s"]), ["snap1"]);
    assert_eq!(complete(&v, &["create", "--type", ""]), ["gold"]);
    assert_eq!(
        complete(&v, &["migrate", "alpha", "--backend", ""]),
        ["default"]
    );
    assert_eq!(complete(&v, &["--color", ""]), ["always", "auto", "never"]);
    assert_eq!(
        complete(&v, &["create", "--size", ""]),
        Vec::<String>::new(),
        "a size is typed, not a file name"
    );
    assert_eq!(
        complete(&v, &["image", "import", "dis"]),
        ["disk.qcow2"],
        "files by the shell"
    );
    let top = complete(&v, &[""]);
    assert!(
        top.contains(&"create".to_string()) && top.contains(&"snapshot".to_string()),
        "{top:?}"
    );
    assert!(
        !top.iter().any(|c| c.starts_with("__")),
        "hidden commands stay hidden: {top:?}"
    );
    let opts = complete(&v, &["create", "--if"]);
    assert_eq!(opts, ["--if-not-exists"]);
    assert!(
        complete(&v, &["list", "--"]).contains(&"--json".to_string()),
        "global options too"
    );
}

#[test]
fn hostile_names_are_offered_as_they_are_never_run_or_expanded() {
    let v = Volctl::new();
    let canary = v.path("canary");
    let evil = format!("a$(touch${{IFS}}{})", canary.display());
    v.ok(&["create", "--size", "1M", "--name", &evil]);
    v.ok(&["create", "--size", "1M", "--name", "b*"]);
    v.ok(&["create", "--size", "1M", "--name", "éa"]);
    std::fs::write(v.path("bfile"), b"").unwrap();
    assert_eq!(complete(&v, &["show", "a"]), [evil]);
    assert!(!canary.exists(), "a volume's name ran a command");
    assert_eq!(
        complete(&v, &["show", "b"]),
        ["b*"],
        "not a glob over the directory"
    );
    assert_eq!(complete(&v, &["show", "é"]), ["éa"], "names beyond ASCII");
    assert_eq!(complete(&v, &["--project=default", "show", "é"]), ["éa"]);
}

#[test]
fn completion_never_makes_a_store() {
    let v = Volctl::new();
    assert_eq!(complete(&v, &["show", ""]), Vec::<String>::new());
    assert!(
        !v.state.exists(),
        "the state directory was made by completing"
    );
    // Nor any file in an existing one (a -wal or -shm made as root could
    // lock the owner out).
    v.ok(&["create", "--size", "1M", "--name", "x"]);
    let files = || Volctl::files(&v.state);
    let before = files();
    assert_eq!(complete(&v, &["show", ""]), ["x"]);
    assert_eq!(files(), before, "completion made or removed files");
    // As SQLite leaves it when the last connection closes cleanly: no log.
    let conn = rusqlite::Connection::open(v.state.join("volctl.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    assert!(!v.state.join("volctl.db-wal").exists());
    let before = files();
    assert_eq!(
        complete(&v, &["show", ""]),
        ["x"],
        "read without a log, as immutable"
    );
    assert_eq!(files(), before, "completion made a -wal or -shm");
    // A database that is not a regular file is not read (a FIFO would hang).
    let fifo = v.dir.path().join("fifo-state");
    std::fs::create_dir(&fifo).unwrap();
    nix::unistd::mkfifo(&fifo.join("volctl.db"), nix::sys::stat::Mode::S_IRUSR).unwrap();
    let out = std::process::Command::new(bin())
        .args([
            "__complete",
            "--",
            "--state-dir",
            fifo.to_str().unwrap(),
            "show",
            "",
        ])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.is_empty());
}
