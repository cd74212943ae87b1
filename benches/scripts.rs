//! What scripts do, through the release binary, on the loopback backend
//! (in the temp directory):
//!
//! - `apply` of 50 volumes against 50 sequential `create --name` calls (a
//!   fresh store each round, 3 rounds; 64 MiB volumes, sparse);
//! - `gc` on a store of 10 000 volumes of which 100 are expired: a dry run
//!   (5 runs), the real one (once: it deletes the 100), then a gc with
//!   nothing to do (5 runs) — what a timer costs.
//!
//! `cargo bench --bench scripts` → `target/criterion/scripts/results.json`

use std::path::{Path, PathBuf};

mod support;
use support::{median, run};

const BIN: &str = env!("CARGO_BIN_EXE_volctl");

/// A store with one loopback backend (thin, room for 20 million GiB) and
/// no quota limits under `dir`.
struct Store {
    state: PathBuf,
    config: PathBuf,
}

impl Store {
    fn new(dir: &Path) -> Store {
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("volctl.toml");
        std::fs::write(
            &config,
            "[quota]\nvolumes = -1\ngigabytes = -1\nsnapshots = -1\n\
             [[backend]]\nname = \"default\"\ndriver = \"loopback\"\ncapacity_gb = 1000000\n",
        )
        .unwrap();
        Store {
            state: dir.join("state"),
            config,
        }
    }

    fn volctl(&self, args: &[&str]) -> (f64, String) {
        run(BIN, args, Some((&self.state, &self.config)))
    }
}

/// An apply file of `n` volumes of `size` named `{prefix}{i}`.
fn declare(path: &Path, prefix: &str, n: usize, size: &str) {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "[[volume]]\nname = \"{prefix}{i}\"\nsize = \"{size}\"\nlabels = {{ set = \"{prefix}\" }}\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();

    // apply of 50 against 50 sequential creates.
    let (mut applies, mut creates) = (Vec::new(), Vec::new());
    for round in 0..3 {
        let s = Store::new(&tmp.path().join(format!("apply{round}")));
        let file = tmp.path().join(format!("apply{round}.toml"));
        declare(&file, "v", 50, "64M");
        applies.push(s.volctl(&["apply", "-f", file.to_str().unwrap(), "-q"]).0);
        let s = Store::new(&tmp.path().join(format!("create{round}")));
        let t = std::time::Instant::now();
        for i in 0..50 {
            s.volctl(&["create", "--size", "64M", "--name", &format!("v{i}"), "-q"]);
        }
        creates.push(t.elapsed().as_secs_f64());
    }
    let (apply_s, create_s) = (median(applies), median(creates));

    // gc on 10 000 volumes, 100 of them expired.
    let s = Store::new(&tmp.path().join("gc"));
    let file = tmp.path().join("gc.toml");
    declare(&file, "keep", 9_900, "1G");
    let (fill_s, _) = s.volctl(&["apply", "-f", file.to_str().unwrap(), "-q"]);
    for i in 0..100 {
        s.volctl(&[
            "create",
            "--size",
            "1",
            "--name",
            &format!("old{i}"),
            "--expires-at",
            "2020-01-01T00:00:00Z",
            "-q",
        ]);
    }
    let dry = median(
        (0..5)
            .map(|_| s.volctl(&["gc", "--dry-run", "-q"]).0)
            .collect(),
    );
    let (real, out) = s.volctl(&["gc", "--json", "-q"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["deleted"].as_array().unwrap().len(), 100, "{report}");
    let idle = median((0..5).map(|_| s.volctl(&["gc", "-q"]).0).collect());

    let results = format!(
        "{{\"apply_50_s\": {apply_s:.3}, \"create_50_sequential_s\": {create_s:.3}, \
         \"apply_vs_sequential\": {:.2}, \"fill_9900_by_apply_s\": {fill_s:.1}, \
         \"gc_10000_100_expired_dry_run_ms\": {:.1}, \"gc_10000_delete_100_s\": {real:.3}, \
         \"gc_10000_nothing_expired_ms\": {:.1}}}",
        create_s / apply_s,
        dry * 1e3,
        idle * 1e3
    );
    println!("scripts: {results}");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion/scripts");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("results.json"), results).unwrap();
}
