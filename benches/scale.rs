//! What a command costs as the store grows, through the release binary on
//! the loopback backend (in the temp directory): one store, volumes
//! created and kept; at 15, 2 015, 10 015 and 20 015 live volumes, the
//! median of 15 sequential `create --size 1`, of 5 `show`, of 3 `list
//! --json` and of 3 `check`, the largest peak RSS of any of them, and the
//! database's size (with its WAL). Then
//! 100 000 finished flows are added (copies of the store's own finished
//! flows, with their atoms, made in SQL: creating that many for real would
//! take an hour) and `create` is timed again. `volctl --version` is the
//! floor. The volumes are filled by 8 parallel `create` processes.
//!
//! `VOLCTL_SCALE_CAPACITY=1` gives the backend a `capacity_gb` (whose
//! allocated figure reads the backend's directory).
//!
//! `cargo bench --bench scale` → `target/criterion/scale/results.json`

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

mod support;
use support::{median, peak_rss_kib, run};

const BIN: &str = env!("CARGO_BIN_EXE_volctl");

/// Volumes named so far (names are unique per project).
static NAMED: AtomicUsize = AtomicUsize::new(0);

struct Store {
    state: PathBuf,
    config: PathBuf,
}

impl Store {
    fn volctl(&self, args: &[&str]) -> (f64, String) {
        run(BIN, args, Some((&self.state, &self.config)))
    }

    fn file_mb(&self, name: &str) -> f64 {
        std::fs::metadata(self.state.join(name)).map_or(0, |m| m.len()) as f64 / 1e6
    }
}

/// Creates `n` volumes (of 1 MiB: the backend's capacity is the
/// filesystem's, over-subscribed 20 times) with 8 processes at once.
fn fill(s: &Store, n: usize) {
    let left = AtomicUsize::new(n);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                // Named, so completing a name has names to find.
                while left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| l.checked_sub(1))
                    .is_ok()
                {
                    let name = format!("vol-{}", NAMED.fetch_add(1, Ordering::SeqCst));
                    s.volctl(&["create", "--size", "1M", "-q", "--name", &name]);
                }
            });
        }
    });
}

fn ms(x: f64) -> f64 {
    (x * 1e4).round() / 10.0
}

/// The stage's figures, as a JSON object.
fn measure(s: &Store, live: usize) -> String {
    let create = median(
        (0..15)
            .map(|_| s.volctl(&["create", "--size", "1", "-q"]).0)
            .collect(),
    );
    let (_, id) = s.volctl(&["create", "--size", "1", "-q"]);
    let show = median((0..5).map(|_| s.volctl(&["show", &id, "-q"]).0).collect());
    let list = median((0..3).map(|_| s.volctl(&["list", "--json"]).0).collect());
    let check = median((0..3).map(|_| s.volctl(&["check", "-q"]).0).collect());
    // What TAB after `volctl show vol-` costs (bash's script runs this).
    let complete = median(
        (0..9)
            .map(|_| s.volctl(&["__complete", "--", "show", "vol-"]).0)
            .collect(),
    );
    // The most memory any of them takes (`list --json` and `check` read
    // every volume).
    let env = Some((s.state.as_path(), s.config.as_path()));
    let rss_kib = [
        &["create", "--size", "1", "-q"][..],
        &["list", "--json"],
        &["check", "-q"],
        &["show", &id],
    ]
    .iter()
    .map(|args| peak_rss_kib(BIN, args, env))
    .max()
    .unwrap_or(0);
    format!(
        "{{\"live\": {live}, \"create_ms\": {}, \"show_ms\": {}, \"list_json_ms\": {}, \
         \"check_ms\": {}, \"complete_ms\": {}, \"peak_rss_mib\": {:.1}, \"db_mb\": {:.1}, \
         \"wal_mb\": {:.1}}}",
        ms(create),
        ms(show),
        ms(list),
        ms(check),
        ms(complete),
        rss_kib as f64 / 1024.0,
        s.file_mb("volctl.db"),
        s.file_mb("volctl.db-wal")
    )
}

/// Adds `n` finished flows (copies of existing finished ones, atoms
/// included), as if a long history had been kept.
fn add_finished_flows(state: &Path, n: usize) {
    let conn = rusqlite::Connection::open(state.join("volctl.db")).unwrap();
    let have: i64 = conn
        .query_row(
            "SELECT count(*) FROM flows WHERE state IN ('success', 'reverted')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let have = have as usize;
    assert!(have > 0);
    let mut made = 0;
    let mut round = 0;
    while made < n {
        round += 1;
        let batch = (n - made).min(have);
        conn.execute_batch(&format!(
            "BEGIN;
             CREATE TEMP TABLE pick AS SELECT id FROM flows
                 WHERE state IN ('success', 'reverted') AND id NOT LIKE 'copy-%' LIMIT {batch};
             INSERT INTO flows (id, name, state, inputs, failures, revert_failure, meta, owner,
                                created_at, updated_at)
                 SELECT 'copy-{round}-' || id, name, state, inputs, failures, revert_failure,
                        json_remove(meta, '$.volume_id'), owner, created_at, updated_at
                 FROM flows WHERE id IN (SELECT id FROM pick);
             INSERT INTO atoms SELECT 'copy-{round}-' || flow_id, name, kind, state, seq,
                        attempts, result, failure, revert_failure, started_at, finished_at
                 FROM atoms WHERE flow_id IN (SELECT id FROM pick);
             DROP TABLE pick;
             COMMIT;"
        ))
        .unwrap();
        made += batch;
    }
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = dir.join("volctl.toml");
    let capacity = if std::env::var_os("VOLCTL_SCALE_CAPACITY").is_some() {
        "capacity_gb = 10000000\n"
    } else {
        ""
    };
    std::fs::write(
        &config,
        format!(
            "[quota]\nvolumes = -1\ngigabytes = -1\nsnapshots = -1\n\
             [[backend]]\nname = \"default\"\ndriver = \"loopback\"\n{capacity}"
        ),
    )
    .unwrap();
    let s = Store {
        state: dir.join("state"),
        config,
    };
    let version = median((0..15).map(|_| run(BIN, &["--version"], None).0).collect());
    let mut stages = Vec::new();
    let mut live = 0;
    for target in [0, 2_000, 10_000, 20_000] {
        fill(&s, target - live);
        live = target;
        stages.push(measure(&s, live + 15));
        live += 17;
        eprintln!("scale: {}", stages.last().unwrap());
    }
    add_finished_flows(&s.state, 100_000);
    let with_history = median(
        (0..15)
            .map(|_| s.volctl(&["create", "--size", "1", "-q"]).0)
            .collect(),
    );
    let results = format!(
        "{{\"version_ms\": {}, \"stages\": [{}], \
         \"create_ms_with_100000_more_finished_flows\": {}, \"db_mb_then\": {:.1}}}",
        ms(version),
        stages.join(", "),
        ms(with_history),
        s.file_mb("volctl.db")
    );
    println!("scale: {results}");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion/scale");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("results.json"), results).unwrap();
}
