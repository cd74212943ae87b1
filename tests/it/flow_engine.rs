//! The flow engine's rules, one test each.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::*;
use parking_lot::Mutex;
use serde_json::json;
use volctl::db::Db;
use volctl::flow::*;

fn linear3(log: &Log) -> Flow {
    Flow::linear("f")
        .add(Probe::new("a", log).requires(&["x"]).provides(&["a_out"]))
        .add(
            Probe::new("b", log)
                .requires(&["a_out"])
                .provides(&["b_out"]),
        )
        .add(
            Probe::new("c", log)
                .requires(&["b_out", "x"])
                .provides(&["c_out"]),
        )
}

#[test]
fn linear_flow_runs_in_order_and_passes_values() {
    let log = Log::default();
    let out = memory_engine()
        .run(&linear3(&log), outputs().with_value("x", "1"))
        .unwrap();
    assert_eq!(out.state, FlowState::Success);
    assert_eq!(log.execs(), ["a", "b", "c"]);
    assert!(log.reverts().is_empty());
    assert_eq!(
        out.get(Sym::<String>::new("c_out")).unwrap(),
        "c(b(a(1)),1)"
    );
}

#[test]
fn missing_symbol_is_a_build_error_naming_symbol_and_task() {
    let log = Log::default();
    let err = memory_engine()
        .run(&linear3(&log), outputs().with_value("y", "1"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, EngineError::Build(_)), "{msg}");
    assert!(msg.contains("task `a` requires `x`"), "{msg}");
    assert!(msg.contains("task `c` requires `x`"), "{msg}");
    assert!(
        log.execs().is_empty(),
        "nothing runs when the flow is invalid"
    );
}

#[test]
fn a_task_cannot_read_what_a_later_task_provides() {
    let log = Log::default();
    let flow = Flow::linear("f")
        .add(Probe::new("a", &log).requires(&["b_out"]))
        .add(Probe::new("b", &log).provides(&["b_out"]));
    let msg = memory_engine()
        .run(&flow, outputs())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("task `a` requires `b_out`"), "{msg}");
}

#[test]
fn rebinding_reads_an_input_from_another_symbol() {
    let log = Log::default();
    let flow = Flow::linear("f")
        .add(Probe::new("raw", &log).provides(&["raw_size"]))
        .add(
            TaskNode::new(Probe::new("use", &log).requires(&["size"]).provides(&["o"]))
                .rebind("size", "raw_size"),
        );
    let out = memory_engine().run(&flow, outputs()).unwrap();
    assert_eq!(out.get(Sym::<String>::new("o")).unwrap(), "use(raw())");

    let bad =
        Flow::linear("g").add(TaskNode::new(Probe::new("t", &log)).rebind("size", "raw_size"));
    let msg = memory_engine()
        .run(&bad, outputs())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("rebinds `size`, which it does not require"),
        "{msg}"
    );

    let missing = Flow::linear("h")
        .add(TaskNode::new(Probe::new("t", &log).requires(&["size"])).rebind("size", "raw_size"));
    let msg = memory_engine()
        .run(&missing, outputs())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("requires `raw_size` (as `size`)"), "{msg}");
}

#[test]
fn duplicate_names_and_providers_are_build_errors() {
    let log = Log::default();
    let flow = Flow::linear("f")
        .add(Probe::new("a", &log).provides(&["v"]))
        .add(Probe::new("a", &log))
        .add(Probe::new("b", &log).provides(&["v", "x"]));
    let msg = memory_engine()
        .run(&flow, outputs().with_value("x", 1))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("two atoms are named `a`"), "{msg}");
    assert!(
        msg.contains("`v` is provided by both task `a` and task `b`"),
        "{msg}"
    );
    assert!(
        msg.contains("`x` is provided by both the initial store and task `b`"),
        "{msg}"
    );
}

#[test]
fn unordered_members_cannot_depend_on_each_other() {
    let log = Log::default();
    let flow = Flow::unordered("u")
        .add(Probe::new("a", &log).provides(&["a_out"]))
        .add(Probe::new("b", &log).requires(&["a_out"]));
    let msg = memory_engine()
        .run(&flow, outputs())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("task `b` requires `a_out`"), "{msg}");
}

/// Two tasks that can only both finish if they run at the same time.
struct Rendezvous {
    name: &'static str,
    tx: Mutex<mpsc::Sender<()>>,
    rx: Mutex<mpsc::Receiver<()>>,
}

impl Task for Rendezvous {
    fn name(&self) -> &str {
        self.name
    }
    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        self.tx.lock().send(()).unwrap();
        self.rx
            .lock()
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| Failure::new("timeout", "the other task never ran"))?;
        Ok(outputs())
    }
}

#[test]
fn unordered_members_run_in_parallel_threads() {
    let (tx1, rx1) = mpsc::channel();
    let (tx2, rx2) = mpsc::channel();
    let flow = Flow::unordered("u")
        .add(Rendezvous {
            name: "a",
            tx: Mutex::new(tx1),
            rx: Mutex::new(rx2),
        })
        .add(Rendezvous {
            name: "b",
            tx: Mutex::new(tx2),
            rx: Mutex::new(rx1),
        });
    let engine = Engine::new(Arc::new(MemoryStore::new()));
    let out = engine.run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Success, "{:?}", out.failures);
}

#[test]
fn failure_reverts_failed_task_then_completed_ones_in_reverse() {
    let log = Log::default();
    let flow = Flow::linear("f")
        .add(Probe::new("a", &log).provides(&["a_out"]))
        .add(Probe::new("b", &log).provides(&["b_out"]))
        .add(Probe::new("c", &log).failing())
        .add(Probe::new("d", &log));
    let engine = memory_engine();
    let out = engine.run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].message, "c failed");
    assert_eq!(out.failures[0].atom.as_deref(), Some("c"));
    assert_eq!(log.execs(), ["a", "b", "c"], "d never starts");
    assert_eq!(log.reverts(), ["c", "b", "a"]);

    // The failed task gets its own failure; completed ones their own result;
    // all of them the flow's failures.
    let Some(Ev::Revert {
        outcome,
        flow_failures,
        ..
    }) = log.revert_of("c")
    else {
        panic!()
    };
    assert!(matches!(&outcome, Outcome::Failure(f) if f.message == "c failed"));
    assert_eq!(flow_failures, ["c failed"]);
    let Some(Ev::Revert {
        outcome,
        flow_failures,
        ..
    }) = log.revert_of("b")
    else {
        panic!()
    };
    assert_eq!(
        outcome,
        Outcome::Success(outputs().with_value("b_out", "b()"))
    );
    assert_eq!(flow_failures, ["c failed"]);

    let atoms = atoms(&engine, &out.id);
    for n in ["a", "b", "c"] {
        assert_eq!(atoms[n].state, AtomState::Reverted, "{n}");
    }
    assert!(!atoms.contains_key("d"), "d was never touched");
    assert_eq!(atoms["c"].failure.as_ref().unwrap().message, "c failed");
}

#[test]
fn failing_revert_leaves_revert_failed_with_both_failures() {
    let log = Log::default();
    let healed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = healed.clone();
    let flow = Flow::linear("f")
        .add(Probe::new("a", &log))
        .add(
            Probe::new("b", &log)
                .fail_revert_when(move |_| !h.load(std::sync::atomic::Ordering::SeqCst)),
        )
        .add(Probe::new("c", &log).failing());
    let engine = memory_engine();
    let out = engine.run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::RevertFailed);
    assert_eq!(out.failures[0].message, "c failed");
    assert_eq!(
        out.revert_failure.as_ref().unwrap().message,
        "b revert failed"
    );
    assert_eq!(
        log.reverts(),
        ["c", "b"],
        "the revert stops at the failing one"
    );

    let snap = engine.store().load(&out.id).unwrap().unwrap();
    assert_eq!(snap.flow.state, FlowState::RevertFailed);
    assert_eq!(snap.flow.failures[0].message, "c failed");
    assert_eq!(
        snap.flow.revert_failure.as_ref().unwrap().message,
        "b revert failed"
    );
    let atoms = atoms(&engine, &out.id);
    assert_eq!(atoms["b"].state, AtomState::RevertFailed);
    assert_eq!(
        atoms["b"].revert_failure.as_ref().unwrap().message,
        "b revert failed"
    );
    assert_eq!(atoms["a"].state, AtomState::Success, "not reverted yet");

    // Once the cause is fixed, resuming finishes the revert.
    healed.store(true, std::sync::atomic::Ordering::SeqCst);
    let out = engine.resume(&flow, &out.id).unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert_eq!(log.reverts(), ["c", "b", "b", "a"]);
    assert_eq!(out.failures[0].message, "c failed", "the cause is kept");
}

#[test]
fn retry_controller_reverts_and_retries_its_subflow() {
    let log = Log::default();
    let body = Flow::linear("retry")
        .add(Probe::new("r1", &log).provides(&["r1_out"]))
        .add(
            Probe::new("r2", &log)
                .requires(&["r1_out"])
                .fail_when(|n| n < 2),
        )
        .with_retry(RetryPolicy::times(3, Backoff::NONE));
    let flow = Flow::linear("f")
        .add(Probe::new("before", &log))
        .subflow(body);
    let engine = memory_engine();
    let out = engine.run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Success);
    assert_eq!(log.execs(), ["before", "r1", "r2", "r1", "r2", "r1", "r2"]);
    assert_eq!(
        log.reverts(),
        ["r2", "r1", "r2", "r1"],
        "each failed attempt is undone"
    );
    let atoms = atoms(&engine, &out.id);
    assert_eq!(atoms["retry"].kind, AtomKind::Retry);
    assert_eq!(atoms["retry"].attempts, 3);
    assert_eq!(atoms["retry"].state, AtomState::Success);
    assert_eq!(atoms["r2"].attempts, 3);
}

#[test]
fn exhausted_retry_fails_the_flow_and_reverts_everything_once() {
    let log = Log::default();
    let body = Flow::linear("retry")
        .add(Probe::new("r1", &log))
        .add(Probe::new("r2", &log).failing())
        .with_retry(RetryPolicy::times(2, Backoff::NONE));
    let flow = Flow::linear("f")
        .add(Probe::new("before", &log))
        .subflow(body);
    let out = memory_engine().run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert_eq!(log.execs(), ["before", "r1", "r2", "r1", "r2"]);
    assert_eq!(log.reverts(), ["r2", "r1", "r2", "r1", "before"]);
}

#[test]
fn retry_filter_and_backoff() {
    let log = Log::default();
    let body = Flow::linear("retry")
        .add(Probe::new("r", &log).failing())
        .with_retry(RetryPolicy::times(5, Backoff::NONE).only(|f| f.kind == "transient"));
    let flow = Flow::linear("f").subflow(body);
    let out = memory_engine().run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert_eq!(
        log.execs(),
        ["r"],
        "a failure the filter rejects is not retried"
    );

    let b = Backoff::exponential(Duration::from_millis(10), Duration::from_millis(25));
    assert_eq!(b.delay(1), Duration::from_millis(10));
    assert_eq!(b.delay(2), Duration::from_millis(20));
    assert_eq!(b.delay(3), Duration::from_millis(25));

    let log = Log::default();
    let body = Flow::linear("retry")
        .add(Probe::new("r", &log).fail_when(|n| n < 2))
        .with_retry(RetryPolicy::times(
            3,
            Backoff::exponential(Duration::from_millis(30), Duration::from_secs(1)),
        ));
    let t0 = Instant::now();
    let out = memory_engine()
        .run(&Flow::linear("f").subflow(body), outputs())
        .unwrap();
    assert_eq!(out.state, FlowState::Success);
    assert!(
        t0.elapsed() >= Duration::from_millis(90),
        "waited 30 + 60 ms"
    );
}

#[test]
fn retry_decisions_can_depend_on_the_failure_kind_and_the_attempt() {
    let log = Log::default();
    // Kind `transient` gets two more attempts, anything else none.
    let policy = RetryPolicy::times(5, Backoff::NONE)
        .when(|f, attempts| f.kind == "transient" && attempts <= 2);
    struct Flaky(Log, Mutex<u32>);
    impl Task for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
            self.0.0.lock().push(Ev::Exec("flaky".into()));
            let mut n = self.1.lock();
            *n += 1;
            Err(Failure::new(
                if *n < 10 { "transient" } else { "other" },
                "down",
            ))
        }
    }
    let flow = Flow::linear("f").subflow(
        Flow::linear("retry")
            .add(Flaky(log.clone(), Mutex::new(0)))
            .with_retry(policy),
    );
    let out = memory_engine().run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert_eq!(
        log.execs().len(),
        3,
        "1 + 2 retries for a transient failure"
    );
}

#[test]
fn nested_flows_revert_across_levels() {
    let log = Log::default();
    let inner = Flow::unordered("inner")
        .add(Probe::new("u1", &log).provides(&["u1_out"]))
        .add(Probe::new("u2", &log).provides(&["u2_out"]));
    let flow = Flow::linear("outer")
        .add(Probe::new("first", &log).provides(&["x"]))
        .subflow(
            Flow::linear("mid")
                .add(Probe::new("m", &log).requires(&["x"]))
                .subflow(inner),
        )
        .add(
            Probe::new("last", &log)
                .requires(&["u1_out", "u2_out"])
                .failing(),
        );
    let out = memory_engine().run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert_eq!(log.execs(), ["first", "m", "u1", "u2", "last"]);
    assert_eq!(log.reverts(), ["last", "u2", "u1", "m", "first"]);
}

#[test]
fn parallel_failures_are_all_reported_and_all_started_tasks_reverted() {
    let log = Log::default();
    let flow = Flow::linear("f").add(Probe::new("a", &log)).subflow(
        Flow::unordered("u")
            .add(Probe::new("p1", &log).failing())
            .add(Probe::new("p2", &log))
            .add(Probe::new("p3", &log).failing()),
    );
    let engine = Engine::new(Arc::new(MemoryStore::new()));
    let out = engine.run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    let mut msgs: Vec<_> = out.failures.iter().map(|f| f.message.clone()).collect();
    msgs.sort();
    assert_eq!(msgs, ["p1 failed", "p3 failed"]);
    let mut reverted = log.reverts();
    assert_eq!(
        reverted.pop().as_deref(),
        Some("a"),
        "a completed first, reverts last"
    );
    reverted.sort();
    assert_eq!(reverted, ["p1", "p2", "p3"]);
}

/// A long task that polls the cancellation flag.
struct Long {
    started: Arc<std::sync::atomic::AtomicBool>,
}

impl Task for Long {
    fn name(&self) -> &str {
        "long"
    }
    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        self.started
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for i in 0..1000 {
            ctx.check_cancelled()?;
            ctx.progress(i, 1000);
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(outputs())
    }
}

#[test]
fn cancellation_between_tasks_and_inside_a_long_task_reverts_cleanly() {
    let log = Log::default();
    let token = CancelToken::new();
    struct CancelNow(CancelToken);
    impl Task for CancelNow {
        fn name(&self) -> &str {
            "cancel_now"
        }
        fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
            self.0.cancel();
            Ok(outputs())
        }
    }
    let flow = Flow::linear("f")
        .add(Probe::new("a", &log))
        .add(CancelNow(token.clone()))
        .add(Probe::new("b", &log));
    let out = memory_engine()
        .with_cancel(token)
        .run(&flow, outputs())
        .unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert!(out.failures[0].is(Failure::CANCELLED));
    assert_eq!(log.execs(), ["a"], "b never starts");
    assert_eq!(log.reverts(), ["a"]);

    // Inside a long task: the task notices and fails with `cancelled`.
    let log = Log::default();
    let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let token = CancelToken::new();
    let flow = Flow::linear("g").add(Probe::new("a", &log)).add(Long {
        started: started.clone(),
    });
    let engine = memory_engine().with_cancel(token.clone());
    let t = std::thread::spawn(move || engine.run(&flow, outputs()).unwrap());
    while !started.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
    token.cancel();
    let out = t.join().unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert_eq!(out.failures[0].atom.as_deref(), Some("long"));
    assert!(out.failures[0].is(Failure::CANCELLED));
    assert_eq!(log.reverts(), ["a"]);
}

#[test]
fn listeners_see_every_transition_and_progress() {
    let log = Log::default();
    let rec = Arc::new(Recorder::default());
    struct Prog;
    impl Task for Prog {
        fn name(&self) -> &str {
            "prog"
        }
        fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
            ctx.progress(1, 2);
            ctx.progress(2, 2);
            Ok(outputs())
        }
    }
    let flow = Flow::linear("f")
        .add(Prog)
        .add(Probe::new("bad", &log).failing());
    memory_engine()
        .with_listener(rec.clone())
        .run(&flow, outputs())
        .unwrap();
    assert_eq!(
        rec.lines(),
        [
            "flow running",
            "prog running",
            "prog 1/2",
            "prog 2/2",
            "prog success",
            "bad running",
            "bad failure",
            "flow reverting",
            "bad reverting",
            "bad reverted",
            "prog reverting",
            "prog reverted",
            "flow reverted",
        ]
    );
}

#[test]
fn panics_and_missing_outputs_become_task_failures() {
    struct Panics;
    impl Task for Panics {
        fn name(&self) -> &str {
            "panics"
        }
        fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
            panic!("bug here")
        }
    }
    let out = memory_engine()
        .run(&Flow::linear("f").add(Panics), outputs())
        .unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert!(out.failures[0].is(Failure::PANIC));
    assert!(out.failures[0].message.contains("bug here"));

    struct Forgets;
    impl Task for Forgets {
        fn name(&self) -> &str {
            "forgets"
        }
        fn provides(&self) -> Vec<&str> {
            vec!["promised"]
        }
        fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
            Ok(outputs().with_value("other", 1))
        }
    }
    let out = memory_engine()
        .run(&Flow::linear("g").add(Forgets), outputs())
        .unwrap();
    assert!(out.failures[0].is(Failure::MISSING_OUTPUT));
    assert!(out.failures[0].message.contains("`promised`"));
}

#[test]
fn typed_inputs_report_bad_shapes() {
    struct WantsNumber;
    impl Task for WantsNumber {
        fn name(&self) -> &str {
            "wants_number"
        }
        fn requires(&self) -> Vec<&str> {
            vec!["n"]
        }
        fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
            let _: u64 = ctx.get(Sym::new("n"))?;
            Ok(outputs())
        }
    }
    let out = memory_engine()
        .run(
            &Flow::linear("f").add(WantsNumber),
            outputs().with_value("n", "ten"),
        )
        .unwrap();
    assert!(out.failures[0].is(Failure::BAD_INPUT));
    assert!(out.failures[0].message.contains("input `n`"));
}

#[test]
fn an_optional_input_is_read_when_present_and_its_absence_is_no_error() {
    const MODE: Sym<String> = Sym::new("mode");
    const SEEN: Sym<String> = Sym::new("seen");
    struct Reads;
    impl Task for Reads {
        volctl::task_signature!("reads", requires: [], optional: [MODE], provides: [SEEN]);
        fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
            let mode = ctx.get_opt(MODE)?.unwrap_or_else(|| "default".into());
            Ok(outputs().with(SEEN, mode))
        }
    }
    let flow = Flow::linear("f").add(Reads);
    // A flow recorded before the option existed: it builds and runs.
    let out = memory_engine().run(&flow, outputs()).unwrap();
    assert_eq!(out.get(SEEN).unwrap(), "default");
    let out = memory_engine()
        .run(&flow, outputs().with(MODE, "ro".to_string()))
        .unwrap();
    assert_eq!(out.get(SEEN).unwrap(), "ro");
    // Present but of the wrong shape is still an error, not a silent default.
    let out = memory_engine()
        .run(&flow, outputs().with_value("mode", 7))
        .unwrap();
    assert!(out.failures[0].is(Failure::BAD_INPUT));
    // It may be rebound like a required one.
    let flow = Flow::linear("g").add(TaskNode::new(Reads).rebind("mode", "other"));
    let out = memory_engine()
        .run(&flow, outputs().with_value("other", "rw"))
        .unwrap();
    assert_eq!(out.get(SEEN).unwrap(), "rw");
}

/// A task that writes a row in the shared database, then maybe fails.
struct Insert {
    db: Db,
    key: &'static str,
    fail_after_write: bool,
}

impl Task for Insert {
    fn name(&self) -> &str {
        self.key
    }
    fn provides(&self) -> Vec<&str> {
        vec![self.key]
    }
    fn atomic(&self) -> bool {
        true
    }
    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        self.db
            .lock()
            .execute("INSERT INTO side (k) VALUES (?1)", [self.key])
            .map_err(|e| Failure::new("db", e.to_string()))?;
        if self.fail_after_write {
            return Err(Failure::new("late", "failed after writing"));
        }
        Ok(outputs().with_value(self.key, true))
    }
    fn revert(&self, _: &RevertContext<'_>) -> Result<(), Failure> {
        self.db
            .lock()
            .execute("DELETE FROM side WHERE k = ?1", [self.key])
            .map_err(|e| Failure::new("db", e.to_string()))?;
        Ok(())
    }
}

fn side_rows(db: &Db) -> Vec<String> {
    let c = db.lock();
    let mut s = c.prepare("SELECT k FROM side ORDER BY k").unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn atomic_task_commits_its_writes_with_its_result_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("f.db")).unwrap();
    db.lock()
        .execute_batch("CREATE TABLE side (k TEXT PRIMARY KEY)")
        .unwrap();
    let store = Arc::new(SqliteFlowStore::open(db.clone()).unwrap());
    let engine = Engine::new(store);
    let flow = Flow::linear("f")
        .add(Insert {
            db: db.clone(),
            key: "one",
            fail_after_write: false,
        })
        .add(Insert {
            db: db.clone(),
            key: "two",
            fail_after_write: true,
        });
    let out = engine.run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert!(
        side_rows(&db).is_empty(),
        "two's write rolled back with its failure; one reverted"
    );
    let atoms = atoms(&engine, &out.id);
    assert_eq!(
        atoms["two"].failure.as_ref().unwrap().message,
        "failed after writing"
    );
    assert_eq!(atoms["one"].state, AtomState::Reverted);

    let flow = Flow::linear("g").add(Insert {
        db: db.clone(),
        key: "three",
        fail_after_write: false,
    });
    let out = engine.run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Success);
    assert_eq!(side_rows(&db), ["three"]);
}

/// What another process saw of the store: the side table's keys, each
/// atom's name and state, and whether it could take the write lock.
type Seen = (Vec<String>, Vec<(String, String)>, bool);

/// A task that works outside the store: what another process sees of the
/// store while it works.
struct Outside {
    file: std::path::PathBuf,
    seen: Arc<Mutex<Option<Seen>>>,
}

impl Task for Outside {
    fn name(&self) -> &str {
        "outside"
    }
    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        let other = rusqlite::Connection::open(&self.file).unwrap();
        let side: Vec<String> = other
            .prepare("SELECT k FROM side ORDER BY k")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let atoms: Vec<(String, String)> = other
            .prepare("SELECT name, state FROM atoms ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // Free to write: nobody holds the write lock during this work.
        let writable = other.execute_batch("BEGIN IMMEDIATE; ROLLBACK").is_ok();
        *self.seen.lock() = Some((side, atoms, writable));
        Ok(outputs())
    }
}

#[test]
fn steps_that_only_write_the_store_commit_together_before_work_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.db");
    let db = Db::open(&file).unwrap();
    db.lock()
        .execute_batch("CREATE TABLE side (k TEXT PRIMARY KEY)")
        .unwrap();
    let store = Arc::new(SqliteFlowStore::open(db.clone()).unwrap());
    let engine = Engine::new(store);
    let seen = Arc::new(Mutex::new(None));
    let insert = |key| Insert {
        db: db.clone(),
        key,
        fail_after_write: false,
    };
    let flow = Flow::linear("f")
        .add(insert("one"))
        .add(insert("two"))
        .add(Outside {
            file: file.clone(),
            seen: seen.clone(),
        })
        .add(insert("three"));
    // An empty WAL, so its commits can be counted.
    db.lock()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let commits_before = wal_commits(&file);
    let out = engine.run(&flow, outputs()).unwrap();
    assert_eq!(out.state, FlowState::Success);
    let (side, atoms, writable) = seen.lock().take().expect("outside ran");
    assert_eq!(side, ["one", "two"], "the steps before are durable");
    assert_eq!(
        atoms,
        [
            ("one".to_string(), "success".to_string()),
            ("two".to_string(), "success".to_string()),
            ("outside".to_string(), "running".to_string())
        ],
        "so is the start of the work outside"
    );
    assert!(writable, "the store is not held during the work outside");
    assert_eq!(side_rows(&db), ["one", "three", "two"]);
    // The flow's start, the steps up to the work outside, and the rest with
    // the flow's end: three commits for six records of atoms and two of the
    // flow.
    assert_eq!(wal_commits(&file) - commits_before, 3);
}

/// Commits in the WAL since it was last emptied.
fn wal_commits(file: &std::path::Path) -> usize {
    let wal = std::fs::read(file.with_extension("db-wal")).unwrap_or_default();
    if wal.len() < 32 {
        return 0;
    }
    let page = u32::from_be_bytes(wal[8..12].try_into().unwrap()) as usize;
    let salt = &wal[16..24];
    let (mut at, mut commits) = (32, 0);
    while at + 24 + page <= wal.len() && &wal[at + 8..at + 16] == salt {
        if wal[at + 4..at + 8] != [0, 0, 0, 0] {
            commits += 1;
        }
        at += 24 + page;
    }
    commits
}

#[test]
fn resume_continues_where_the_flow_stopped() {
    // Simulate a process that recorded `a` success and `b` running, then died.
    let log = Log::default();
    let store: Arc<dyn FlowStore> = Arc::new(MemoryStore::new());
    let flow = linear3(&log);
    let engine = Engine::new(store.clone());
    engine
        .create(
            &flow,
            "id1",
            outputs().with_value("x", "1"),
            json!({"about": "test"}),
        )
        .unwrap();
    let mut a = AtomRecord::pending("a", AtomKind::Task);
    a.state = AtomState::Success;
    a.seq = 2;
    a.attempts = 1;
    a.result = Some(json!({"a_out": "recorded"}));
    store.save_atom("id1", &a).unwrap();
    let mut b = AtomRecord::pending("b", AtomKind::Task);
    b.state = AtomState::Running;
    b.seq = 3;
    b.attempts = 1;
    store.save_atom("id1", &b).unwrap();

    let out = Engine::new(store.clone()).resume(&flow, "id1").unwrap();
    assert_eq!(out.state, FlowState::Success);
    assert_eq!(log.execs(), ["b", "c"], "a is not run again; b is");
    assert_eq!(
        out.get(Sym::<String>::new("c_out")).unwrap(),
        "c(b(recorded),1)"
    );
    let atoms = atoms(&engine, "id1");
    assert_eq!(atoms["b"].attempts, 2);

    // A finished flow resumes to its outcome without running anything.
    let again = Engine::new(store).resume(&flow, "id1").unwrap();
    assert_eq!(again.state, FlowState::Success);
    assert_eq!(log.execs(), ["b", "c"]);
}

#[test]
fn rollback_reverts_from_where_the_flow_stopped() {
    let log = Log::default();
    let store: Arc<dyn FlowStore> = Arc::new(MemoryStore::new());
    let flow = linear3(&log);
    let engine = Engine::new(store.clone());
    engine
        .create(
            &flow,
            "id1",
            outputs().with_value("x", "1"),
            serde_json::Value::Null,
        )
        .unwrap();
    let mut a = AtomRecord::pending("a", AtomKind::Task);
    a.state = AtomState::Success;
    a.seq = 2;
    a.result = Some(json!({"a_out": "recorded"}));
    store.save_atom("id1", &a).unwrap();
    let mut b = AtomRecord::pending("b", AtomKind::Task);
    b.state = AtomState::Running;
    b.seq = 3;
    store.save_atom("id1", &b).unwrap();

    let out = engine.rollback(&flow, "id1").unwrap();
    assert_eq!(out.state, FlowState::Reverted);
    assert!(out.failures[0].is(Failure::ROLLED_BACK));
    assert!(log.execs().is_empty());
    assert_eq!(log.reverts(), ["b", "a"]);
    let Some(Ev::Revert { outcome, .. }) = log.revert_of("b") else {
        panic!()
    };
    assert!(
        matches!(outcome, Outcome::Failure(f) if f.is(Failure::INTERRUPTED)),
        "b was interrupted"
    );
    let Some(Ev::Revert { outcome, .. }) = log.revert_of("a") else {
        panic!()
    };
    assert_eq!(
        outcome,
        Outcome::Success(outputs().with_value("a_out", "recorded"))
    );
}

#[test]
fn reload_checks_the_definition() {
    let log = Log::default();
    let engine = memory_engine();
    let out = engine
        .run(&linear3(&log), outputs().with_value("x", "1"))
        .unwrap();
    let other = Flow::linear("other").add(Probe::new("a", &log));
    assert!(matches!(
        engine.resume(&other, &out.id),
        Err(EngineError::WrongDefinition { .. })
    ));
    let fewer = Flow::linear("f").add(Probe::new("a", &log).requires(&["x"]).provides(&["a_out"]));
    assert!(matches!(
        engine.resume(&fewer, &out.id),
        Err(EngineError::UnknownAtom { .. })
    ));
    assert!(matches!(
        engine.resume(&fewer, "nope"),
        Err(EngineError::NotFound(_))
    ));
}

#[test]
fn sqlite_and_memory_stores_record_the_same_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("f.db")).unwrap();
    let sqlite: Arc<dyn FlowStore> = Arc::new(SqliteFlowStore::open(db).unwrap());
    let memory: Arc<dyn FlowStore> = Arc::new(MemoryStore::new());
    let mut snaps = Vec::new();
    for store in [sqlite, memory] {
        let log = Log::default();
        let flow = Flow::linear("f")
            .add(Probe::new("a", &log).provides(&["a_out"]))
            .subflow(
                Flow::linear("retry")
                    .add(Probe::new("r", &log).fail_when(|n| n == 0))
                    .with_retry(RetryPolicy::times(2, Backoff::NONE)),
            )
            .add(Probe::new("b", &log).failing().fail_revert_when(|_| false));
        let engine = Engine::new(store.clone());
        engine
            .run_with_id(
                &flow,
                "same",
                outputs().with_value("x", 1),
                json!({"k": "v"}),
            )
            .unwrap();
        let mut snap = store.load("same").unwrap().unwrap();
        snap.atoms.sort_by(|a, b| a.name.cmp(&b.name));
        for a in &mut snap.atoms {
            a.started_at = None;
            a.finished_at = None;
        }
        snap.flow.created_at = Default::default();
        snap.flow.updated_at = Default::default();
        snaps.push(snap);
        assert_eq!(store.list(true).unwrap().len(), 1);
        assert!(
            store.list(false).unwrap().is_empty(),
            "finished flows are not listed"
        );
    }
    assert_eq!(snaps[0], snaps[1]);
    assert_eq!(snaps[0].flow.meta, json!({"k": "v"}));
}

#[test]
fn memory_store_transaction_rolls_back_only_its_writes() {
    let store = MemoryStore::new();
    let rec = FlowRecord {
        id: "f".into(),
        name: "f".into(),
        state: FlowState::Running,
        inputs: outputs(),
        failures: vec![],
        revert_failure: None,
        meta: serde_json::Value::Null,
        owner: None,
        created_at: Default::default(),
        updated_at: Default::default(),
    };
    store.create_flow(&rec).unwrap();
    store
        .transaction(&mut || {
            store.save_atom("f", &AtomRecord::pending("kept", AtomKind::Task))?;
            store.transaction(&mut || {
                store.save_atom("f", &AtomRecord::pending("inner", AtomKind::Task))?;
                Ok(false)
            })?;
            Ok(true)
        })
        .unwrap();
    store
        .transaction(&mut || {
            store.save_atom("f", &AtomRecord::pending("gone", AtomKind::Task))?;
            store.set_flow_state("f", FlowState::Success, &[], None)?;
            Ok(false)
        })
        .unwrap();
    let snap = store.load("f").unwrap().unwrap();
    let names: Vec<_> = snap.atoms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["kept"]);
    assert_eq!(snap.flow.state, FlowState::Running);
}

#[test]
fn flows_record_their_owner_and_can_be_claimed_only_from_the_expected_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("f.db")).unwrap();
    let sqlite: Arc<dyn FlowStore> = Arc::new(SqliteFlowStore::open(db).unwrap());
    for store in [sqlite, Arc::new(MemoryStore::new()) as Arc<dyn FlowStore>] {
        let log = Log::default();
        let engine = Engine::new(store.clone()).with_owner("p1");
        let out = engine
            .run(&Flow::linear("f").add(Probe::new("a", &log)), outputs())
            .unwrap();
        assert_eq!(
            store.load(&out.id).unwrap().unwrap().flow.owner.as_deref(),
            Some("p1")
        );
        assert!(!store.claim(&out.id, Some("someone else"), "p2").unwrap());
        assert!(store.claim(&out.id, Some("p1"), "p2").unwrap());
        assert_eq!(
            store.load(&out.id).unwrap().unwrap().flow.owner.as_deref(),
            Some("p2")
        );
    }
}

#[test]
fn tasks_can_be_run_and_reverted_alone() {
    let log = Log::default();
    let t = Probe::new("t", &log).requires(&["x"]).provides(&["y"]);
    let out = execute_task(&t, &outputs().with_value("x", "7")).unwrap();
    assert_eq!(out, outputs().with_value("y", "t(7)"));
    revert_task(
        &t,
        &outputs(),
        &Outcome::Success(out),
        &[Failure::new("k", "m")],
    )
    .unwrap();
    assert_eq!(log.reverts(), ["t"]);
}
