//! `man/` and `completions/` are generated from the clap definitions and
//! checked in; this test fails when they are stale. Regenerate with
//! `VOLCTL_UPDATE_GENERATED=1 cargo test --test it generated_docs`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use clap_complete::Shell;

fn generated() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let tmp = tempfile::tempdir().unwrap();
    clap_mangen::generate_to(volctl::cli::command(), tmp.path()).unwrap();
    for e in fs::read_dir(tmp.path()).unwrap() {
        let e = e.unwrap();
        files.insert(
            format!("man/{}", e.file_name().to_string_lossy()),
            fs::read(e.path()).unwrap(),
        );
    }
    for (shell, name) in [
        (Shell::Bash, "volctl.bash"),
        (Shell::Zsh, "_volctl"),
        (Shell::Fish, "volctl.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut volctl::cli::command(), "volctl", &mut buf);
        files.insert(format!("completions/{name}"), buf);
    }
    files
}

fn checked_in(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for dir in ["man", "completions"] {
        if let Ok(rd) = fs::read_dir(root.join(dir)) {
            for e in rd {
                let e = e.unwrap();
                files.insert(
                    format!("{dir}/{}", e.file_name().to_string_lossy()),
                    fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    files
}

#[test]
fn man_pages_and_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let want = generated();
    if std::env::var_os("VOLCTL_UPDATE_GENERATED").is_some() {
        for dir in ["man", "completions"] {
            let _ = fs::remove_dir_all(root.join(dir));
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        for (path, bytes) in &want {
            fs::write(root.join(path), bytes).unwrap();
        }
    }
    let have = checked_in(root);
    let stale: Vec<&String> = want
        .keys()
        .chain(have.keys())
        .filter(|k| want.get(*k) != have.get(*k))
        .collect();
    assert!(
        stale.is_empty(),
        "stale generated files: {stale:?}\nregenerate with: VOLCTL_UPDATE_GENERATED=1 cargo test --test it generated_docs"
    );
}
