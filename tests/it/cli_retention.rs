//! Retention through the real binary: finished flows and delivered events
//! are forgotten past their age (a batch after each command, or all by
//! `flow prune`); unfinished flows and events a sink has not received are
//! kept; a store that creates and deletes volumes all day stops growing.

use crate::cli_support::*;
use serde_json::Value;

fn flows(v: &Volctl) -> Vec<Value> {
    v.json(&["flow", "list", "--all"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn flow_prune_forgets_finished_flows_past_the_age_and_keeps_unfinished_ones() {
    let v = Volctl::new();
    let a = v.json(&["create", "--size", "1M"]);
    v.ok(&["create", "--size", "1M"]);
    v.ok(&["delete", &id_of(&a)]);
    crash_at(
        &v,
        &["create", "--size", "1M"],
        "volume_create_manager/CreateVolumeFromSpec/success",
    );
    let before = flows(&v);
    assert!(before.len() >= 8, "{before:?}");
    // Younger than a week: the default age keeps them all.
    let p = v.json(&["flow", "prune"]);
    assert_eq!(p, serde_json::json!({"flows": 0, "events": 0}));
    assert_eq!(flows(&v).len(), before.len());
    let p = v.json(&["flow", "prune", "--older-than", "0s"]);
    let unfinished: Vec<&Value> = before
        .iter()
        .filter(|f| !matches!(f["state"].as_str(), Some("success" | "reverted")))
        .collect();
    assert_eq!(
        p["flows"].as_u64().unwrap() as usize,
        before.len() - unfinished.len()
    );
    assert!(p["events"].as_u64().unwrap() >= 4, "{p}");
    let after = flows(&v);
    assert_eq!(
        after.len(),
        unfinished.len(),
        "only the crashed create's flows stay"
    );
    assert!(!after.is_empty());
    assert_eq!(v.json(&["events"]), serde_json::json!([]));
    // The crashed create still resumes.
    v.ok(&["resume", "--all"]);
    check_passes(&v, "after pruning");
}

#[test]
fn every_command_forgets_a_batch_and_the_store_stops_growing() {
    let v = Volctl::with_config("[retention]\nflows = \"0s\"\nevents = \"0s\"\n");
    let cycle = |n: usize| {
        for _ in 0..n {
            let x = v.json(&["create", "--size", "1M"]);
            v.ok(&["delete", &id_of(&x)]);
        }
    };
    let size = || {
        ["volctl.db", "volctl.db-wal"]
            .iter()
            .map(|f| std::fs::metadata(v.state.join(f)).map_or(0, |m| m.len()))
            .sum::<u64>()
    };
    cycle(60);
    assert!(
        flows(&v).is_empty(),
        "each command forgot the flows finished before it"
    );
    let first = size();
    cycle(120);
    let second = size();
    assert!(
        second <= first + first / 10,
        "the store grew from {first} to {second} bytes over twice as many volumes made and deleted"
    );
    check_passes(&v, "after cycles");
}

#[test]
fn events_a_sink_has_not_received_are_kept() {
    let v = Volctl::with_config(
        "[retention]\nflows = \"0s\"\nevents = \"0s\"\n[events]\nexec = \"false\"\n",
    );
    v.ok(&["create", "--size", "1M"]);
    v.ok(&["create", "--size", "1M"]);
    let kept = v.json(&["events"]).as_array().unwrap().len();
    assert!(
        kept >= 4,
        "a failing sink got none, so all are kept: {kept}"
    );
    // A working sink gets them; then they may go.
    let got = v.path("got.jsonl");
    std::fs::write(
        v.config.as_ref().unwrap(),
        format!(
            "[retention]\nflows = \"0s\"\nevents = \"0s\"\n[events]\njsonl = \"{}\"\n",
            got.display()
        ),
    )
    .unwrap();
    v.ok(&["list"]);
    let delivered = std::fs::read_to_string(&got).unwrap();
    assert_eq!(delivered.lines().count(), kept, "{delivered}");
    v.ok(&["list"]);
    assert_eq!(v.json(&["events"]), serde_json::json!([]));
}
