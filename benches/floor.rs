//! How close a create is to the floor of starting the binary: `volctl
//! --version` and `volctl create --size 1` run alternately on one store,
//! their medians side by side, then where a create's milliseconds go
//! (median of each step, from `VOLCTL_TIMINGS=1`; see `src/timings.rs`).
//!
//! `cargo bench --bench floor` (`FLOOR_RUNS=N` to change the 200 runs;
//! `VOLCTL_BIN=PATH` measures another build, without the steps if it
//! predates `VOLCTL_TIMINGS`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The binary measured: this build's, or `VOLCTL_BIN` (to compare builds
/// in one session).
fn bin() -> String {
    std::env::var("VOLCTL_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_volctl").to_string())
}

fn volctl(state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .env("VOLCTL_STATE_DIR", state)
        .env_remove("VOLCTL_CONFIG")
        .env_remove("VOLCTL_TIMINGS")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Wall time of one run, in microseconds; panics if it failed.
fn timed(mut c: Command) -> u128 {
    let t0 = Instant::now();
    let ok = c.status().map(|s| s.success()).unwrap_or(false);
    let us = t0.elapsed().as_micros();
    assert!(ok, "{c:?} failed");
    us
}

fn median(mut v: Vec<u128>) -> u128 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(us: u128) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = std::env::var("FLOOR_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    timed(volctl(
        state,
        &["quota", "set", "--volumes", "-1", "--gigabytes", "-1", "-q"],
    ));
    timed(volctl(state, &["create", "--size", "1", "--name", "floor"]));
    for _ in 0..20 {
        timed(volctl(state, &["create", "--size", "1", "-q"]));
    }
    let (mut version, mut create, mut show) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        version.push(timed(volctl(state, &["--version"])));
        create.push(timed(volctl(state, &["create", "--size", "1", "-q"])));
        show.push(timed(volctl(state, &["show", "floor"])));
    }
    let (v, c) = (median(version), median(create));
    println!(
        "floor: --version {} · create --size 1 {} ({:.2}× --version) · show {} — medians of {runs}, {} volumes",
        ms(v),
        ms(c),
        c as f64 / v as f64,
        ms(median(show)),
        21 + runs
    );
    // Where a create's time goes, step by step.
    let mut steps: BTreeMap<String, (usize, Vec<u128>)> = BTreeMap::new();
    for _ in 0..runs.min(100) {
        let out = volctl(state, &["create", "--size", "1", "-q"])
            .env("VOLCTL_TIMINGS", "1")
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        for (n, line) in String::from_utf8_lossy(&out.stderr).lines().enumerate() {
            let mut f = line.split('\t');
            if let (Some("timing"), Some(step), Some(us)) = (f.next(), f.next(), f.next()) {
                let e = steps.entry(step.to_string()).or_insert((n, Vec::new()));
                e.1.push(us.parse().unwrap_or(0));
            }
        }
    }
    let mut rows: Vec<_> = steps.into_iter().collect();
    rows.sort_by_key(|(_, (n, _))| *n);
    for (step, (_, v)) in rows {
        println!("  {step:<28} {:>6} µs", median(v));
    }
}
