//! `volctl create --size 1` through the real binary, process start to exit:
//! one at a time (criterion group `create`, function `raw_1g`), then 8
//! processes in parallel (volumes per second, failures), then bursts of
//! 100 processes started at once (latency p50/p99, failures).
//!
//! `cargo bench --bench create`

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};

const BIN: &str = env!("CARGO_BIN_EXE_volctl");

fn volctl(state: &Path, args: &[&str]) -> bool {
    Command::new(BIN)
        .args(args)
        .env("VOLCTL_STATE_DIR", state)
        .env_remove("VOLCTL_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn fresh_state() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(volctl(
        dir.path(),
        &["quota", "set", "--volumes", "-1", "--gigabytes", "-1", "-q"]
    ));
    dir
}

fn single(c: &mut Criterion) {
    let dir = fresh_state();
    let mut g = c.benchmark_group("create");
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("raw_1g", |b| {
        b.iter(|| assert!(volctl(dir.path(), &["create", "--size", "1", "-q"])))
    });
    g.finish();
}

/// 8 processes at a time, each creating volumes one after another.
fn parallel() {
    const PROCS: usize = 8;
    const PER_PROC: usize = 60;
    let mut rates = Vec::new();
    let mut failures = 0;
    for _ in 0..5 {
        let dir = fresh_state();
        let t0 = Instant::now();
        let failed: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..PROCS)
                .map(|_| {
                    s.spawn(|| {
                        (0..PER_PROC)
                            .filter(|_| !volctl(dir.path(), &["create", "--size", "1", "-q"]))
                            .count()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        let secs = t0.elapsed().as_secs_f64();
        failures += failed;
        rates.push((PROCS * PER_PROC - failed) as f64 / secs);
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    let median = rates[rates.len() / 2];
    println!(
        "create/parallel8: median {median:.0} volumes/s over {} runs of {} creates (min {:.0}, max {:.0}), {failures} failed",
        rates.len(),
        PROCS * PER_PROC,
        rates[0],
        rates[rates.len() - 1]
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion/create");
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(
        out.join("parallel8.json"),
        format!(
            "{{\"median_volumes_per_s\": {median:.1}, \"runs\": {rates:?}, \"failures\": {failures}}}\n"
        ),
    );
    assert_eq!(failures, 0, "parallel creates failed");
}

/// 100 processes started at once, each creating one volume (what a
/// cluster provisioner does): failures, "database is locked" errors, and
/// the latency of each create from the common start.
fn burst() {
    const PROCS: usize = 100;
    const RUNS: usize = 3;
    let mut latencies = Vec::new();
    let (mut failures, mut locked) = (0, 0);
    for _ in 0..RUNS {
        let dir = fresh_state();
        let start = std::sync::Barrier::new(PROCS);
        let results: Vec<(Duration, bool, String)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..PROCS)
                .map(|_| {
                    s.spawn(|| {
                        let mut c = Command::new(BIN);
                        c.args(["create", "--size", "1", "-q"])
                            .env("VOLCTL_STATE_DIR", dir.path())
                            .env_remove("VOLCTL_CONFIG")
                            .stdout(Stdio::null())
                            .stderr(Stdio::piped());
                        start.wait();
                        let t0 = Instant::now();
                        let out = c.output().unwrap();
                        let err = String::from_utf8_lossy(&out.stderr).into_owned();
                        (t0.elapsed(), out.status.success(), err)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (t, ok, err) in results {
            latencies.push(t);
            failures += usize::from(!ok);
            locked += usize::from(err.contains("locked"));
            if !ok {
                eprintln!("create/burst100: a create failed: {}", err.trim());
            }
        }
    }
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "create/burst100: {RUNS} runs of {PROCS} creates started at once: p50 {:.1} ms, p99 {:.1} ms, \
         max {:.1} ms, {failures} failed, {locked} \"database is locked\"",
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
    );
    assert_eq!(failures, 0, "burst creates failed");
}

criterion_group!(benches, single);

fn main() {
    benches();
    parallel();
    burst();
    Criterion::default().configure_from_args().final_summary();
}
