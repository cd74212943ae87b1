//! Many volctl processes at once against one store: none fails with
//! "database is locked", quota usage equals a recount, and no backend is
//! ever over-committed.

use std::collections::HashMap;
use std::thread;

use crate::cli_support::*;
use volctl::store::{Store, events};

const WORKERS: usize = 16;
const ROUNDS: usize = 4;
const CAPACITY_GB: u64 = 12;

#[test]
fn sixteen_processes_creating_and_deleting_at_once() {
    let v = Volctl::with_config(&format!(
        r#"
[quota]
volumes = -1
gigabytes = -1
[[backend]]
name = "tight"
driver = "loopback"
path = "@/tight"
capacity_gb = {CAPACITY_GB}
max_over_subscription_ratio = 1.0
"#
    ));
    v.ok(&["list"]); // create the store before the stampede
    let outcomes: Vec<Vec<(i32, String)>> = thread::scope(|s| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let v = &v;
                s.spawn(move || {
                    let mut runs = Vec::new();
                    let mut mine = Vec::new();
                    for round in 0..ROUNDS {
                        let size = ((w + round) % 2 + 1).to_string();
                        let r = v.run(&["create", "--size", &size, "--json", "-q"]);
                        if r.code == 0 {
                            mine.push(r.json()["id"].as_str().unwrap().to_string());
                        }
                        runs.push((r.code, r.stderr));
                        if round % 2 == 1
                            && let Some(id) = mine.pop()
                        {
                            let r = v.run(&["delete", &id, "-q"]);
                            runs.push((r.code, r.stderr));
                        }
                    }
                    runs
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let all: Vec<&(i32, String)> = outcomes.iter().flatten().collect();
    let mut codes: HashMap<i32, usize> = HashMap::new();
    for (code, stderr) in &all {
        *codes.entry(*code).or_default() += 1;
        assert!(!stderr.contains("locked"), "{stderr}");
        assert!(
            *code == 0 || (*code == 4 && stderr.contains("no valid backend")),
            "unexpected exit {code}: {stderr}"
        );
    }
    assert!(codes[&0] > WORKERS, "most runs succeed: {codes:?}");
    assert!(
        codes.get(&4).copied().unwrap_or(0) > 0,
        "the backend filled up at some point: {codes:?}"
    );

    // Usage equals a recount of what exists.
    let list = v.json(&["list"]);
    let live: Vec<&serde_json::Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] != "error")
        .collect();
    assert!(live.iter().all(|x| x["status"] == "available"));
    let gb: i64 = live.iter().map(|x| x["size"].as_i64().unwrap()).sum();
    assert_eq!(v.usage("volumes"), (live.len() as i64, 0));
    assert_eq!(v.usage("gigabytes"), (gb, 0));
    let backend = &v.json(&["backend", "list"])[0];
    assert_eq!(backend["provisioned_bytes"], gb << 30);
    assert_eq!(Volctl::files(&v.path("tight")).len(), live.len());

    // Never over-committed: replay creations and deletions in commit order.
    let store = Store::open(&v.state).unwrap();
    let evs = events::list(&store.db().lock(), 0, None).unwrap();
    let (mut now, mut peak) = (0i64, 0i64);
    for e in &evs {
        let size = e.payload["size"].as_i64().unwrap_or(0);
        match e.kind.as_str() {
            "volume.create.end" => now += size,
            "volume.delete.end" => now -= size,
            _ => {}
        }
        peak = peak.max(now);
    }
    assert!(
        peak <= CAPACITY_GB as i64,
        "peak {peak} GiB > {CAPACITY_GB}"
    );
    assert!(
        peak >= CAPACITY_GB as i64 - 2,
        "the test did fill the backend (peak {peak})"
    );
}
