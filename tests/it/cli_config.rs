//! The configuration a person can see and trust: `config show` says where
//! every value came from, `config check` validates a file without the
//! store, and each load-time check refuses a bad file with a clear message
//! (exit 2) before anything is made.

use crate::cli_support::*;

fn write_config(v: &Volctl, text: &str) -> std::path::PathBuf {
    let path = v.path("candidate.toml");
    std::fs::write(
        &path,
        text.replace('@', &v.dir.path().display().to_string()),
    )
    .unwrap();
    path
}

#[test]
fn config_show_names_the_line_of_every_value_set_and_default_for_the_rest() {
    let v = Volctl::with_config(
        "[scheduler]\nmax_attempts = 2\n[[backend]]\nname = \"fast\"\ndriver = \"loopback\"\npath = \"@/fast\"\n",
    );
    let out = v.ok(&["config", "show"]);
    let file = v.config.clone().unwrap();
    let line = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in\n{out}"))
            .to_string()
    };
    assert!(
        line("scheduler.max_attempts").ends_with(&format!("# {}:2", file.display())),
        "{out}"
    );
    assert!(
        line("backend[0].path").ends_with(&format!("# {}:6", file.display())),
        "{out}"
    );
    assert!(line("backend[0].thin").ends_with("# default"), "{out}");
    assert!(line("quota.volumes").ends_with("# default"), "{out}");
    assert!(out.starts_with("# state directory: "), "{out}");
    assert!(
        !v.state.join("volctl.db").exists(),
        "config show does not open the store"
    );
}

#[test]
fn config_check_validates_a_file_without_touching_the_store() {
    let v = Volctl::new();
    std::fs::create_dir_all(v.path("b")).unwrap();
    let good = write_config(
        &v,
        "[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"@/b\"\n",
    );
    let r = v.run(&["config", "check", good.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("valid (1 backend, 0 volume types)"),
        "{}",
        r.stdout
    );
    let bad = write_config(&v, "[scheduler]\nmax_attempts = -3\n");
    let r = v.run(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 2: `max_attempts`") && !r.stderr.contains("u32"),
        "in volctl's words: {}",
        r.stderr
    );
    assert!(!v.state.exists(), "the state directory is not even made");
}

#[test]
fn a_backend_path_outside_the_state_dir_is_never_made_and_never_a_file() {
    let v = Volctl::new();
    let missing = write_config(
        &v,
        "[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"@/nonexistent/dir/x\"\n",
    );
    let r = v.run(&[
        "--config",
        missing.to_str().unwrap(),
        "config",
        "check",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("does not exist") && r.stderr.contains("make it, or correct `path`"),
        "{}",
        r.stderr
    );
    // Loaded, the backend is there but unusable, and says why.
    let r = v.run(&[
        "--config",
        missing.to_str().unwrap(),
        "create",
        "--size",
        "1M",
    ]);
    assert_eq!(r.code, 4, "no valid backend: {}", r.stderr);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    let r = v.run(&["--config", missing.to_str().unwrap(), "backend", "list"]);
    assert!(
        r.stdout.contains("cannot report: backend `b`: directory"),
        "{}",
        r.stdout
    );
    assert!(
        !v.path("nonexistent").exists(),
        "volctl made no directory outside its state directory"
    );
    std::fs::write(v.path("afile"), b"x").unwrap();
    let file = write_config(
        &v,
        "[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"@/afile\"\n",
    );
    let r = v.run(&["--config", file.to_str().unwrap(), "list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is not a directory"), "{}", r.stderr);
    let relative = write_config(
        &v,
        "[[backend]]\nname = \"b\"\ndriver = \"loopback\"\npath = \"rel/dir\"\n",
    );
    let r = v.run(&["--config", relative.to_str().unwrap(), "list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("path must be absolute"), "{}", r.stderr);
}

#[test]
fn a_misspelt_extra_spec_is_refused_with_a_suggestion_in_the_file_and_on_the_command_line() {
    let v = Volctl::new();
    let cfg = write_config(
        &v,
        "[[volume_type]]\nname = \"fast\"\nextra_specs = { \"capabilites:tier\" = \"ssd\" }\n",
    );
    let r = v.run(&["--config", cfg.to_str().unwrap(), "type", "list"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `capabilities`?"),
        "{}",
        r.stderr
    );
    let r = v.run(&["type", "create", "fast", "--spec", "capabilites:tier=ssd"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("unknown scope `capabilites` (did you mean `capabilities`?)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        v.json(&["type", "list"]),
        serde_json::json!([]),
        "no type made"
    );
}

#[test]
fn an_unknown_quota_resource_is_refused_and_no_row_is_made() {
    let v = Volctl::new();
    let r = v.run(&["quota", "set", "--resource", "volums=5"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("unknown quota resource `volums` (did you mean `volumes`?)"),
        "{}",
        r.stderr
    );
    let r = v.run(&["quota", "set", "--resource", "bogus=5"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let q = v.json(&["quota", "show"]);
    assert!(q.get("bogus").is_none() && q.get("volums").is_none(), "{q}");
    v.ok(&["type", "create", "gold"]);
    v.ok(&[
        "quota",
        "set",
        "--resource",
        "gigabytes_gold=5",
        "--volumes",
        "3",
    ]);
    assert_eq!(v.json(&["quota", "show"])["gigabytes_gold"]["limit"], 5);
    v.ok(&["quota", "unset", "volumes"]);
    assert_eq!(
        v.json(&["quota", "show"])["volumes"]["limit"],
        10,
        "the default again"
    );
}
