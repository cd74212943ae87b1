//! Crash at every transition, then resume (or roll back) in a fresh engine.
//!
//! The store is cut off at write number k — nothing after it is recorded, as
//! if the process had died there — the engine is dropped, the database
//! reopened by a new connection and the flow resumed from the file. With
//! idempotent tasks the end state must equal an uninterrupted run's; a
//! rollback must leave nothing behind.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use volctl::db::Db;
use volctl::flow::*;

/// Cuts off all writes from the k-th on.
struct KillStore {
    inner: SqliteFlowStore,
    left: AtomicI64,
}

impl KillStore {
    fn tick(&self) -> Result<(), StoreError> {
        if self.left.fetch_sub(1, Ordering::SeqCst) <= 0 {
            Err(StoreError("killed".into()))
        } else {
            Ok(())
        }
    }
}

impl FlowStore for KillStore {
    fn create_flow(&self, f: &FlowRecord) -> Result<(), StoreError> {
        self.tick()?;
        self.inner.create_flow(f)
    }
    fn set_flow_state(
        &self,
        id: &str,
        s: FlowState,
        f: &[Failure],
        r: Option<&Failure>,
    ) -> Result<(), StoreError> {
        self.tick()?;
        self.inner.set_flow_state(id, s, f, r)
    }
    fn save_atom(&self, id: &str, a: &AtomRecord) -> Result<(), StoreError> {
        self.tick()?;
        self.inner.save_atom(id, a)
    }
    fn load(&self, id: &str) -> Result<Option<FlowSnapshot>, StoreError> {
        self.inner.load(id)
    }
    fn list(&self, all: bool) -> Result<Vec<FlowRecord>, StoreError> {
        self.inner.list(all)
    }
    fn claim(&self, id: &str, expected: Option<&str>, owner: &str) -> Result<bool, StoreError> {
        self.tick()?;
        self.inner.claim(id, expected, owner)
    }
    fn delete_flow(&self, id: &str) -> Result<(), StoreError> {
        self.tick()?;
        self.inner.delete_flow(id)
    }
    fn transaction(
        &self,
        body: &mut dyn FnMut() -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        self.inner.transaction(body)
    }
}

fn io(e: std::io::Error) -> Failure {
    Failure::new("io", e.to_string())
}

/// Creates the world directory (idempotent).
struct MkDir(PathBuf);
impl Task for MkDir {
    fn name(&self) -> &str {
        "mkdir"
    }
    fn provides(&self) -> Vec<&str> {
        vec!["dir"]
    }
    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        fs::create_dir_all(&self.0).map_err(io)?;
        Ok(outputs().with_value("dir", &self.0))
    }
    fn revert(&self, _: &RevertContext<'_>) -> Result<(), Failure> {
        match fs::remove_dir(&self.0) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        }
    }
}

/// Writes a file in the world directory (idempotent overwrite).
struct WriteFile(&'static str);
impl Task for WriteFile {
    fn name(&self) -> &str {
        self.0
    }
    fn requires(&self) -> Vec<&str> {
        vec!["dir"]
    }
    fn provides(&self) -> Vec<&str> {
        vec![self.0]
    }
    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let dir: PathBuf = ctx.get(Sym::new("dir"))?;
        fs::write(dir.join(self.0), self.0).map_err(io)?;
        Ok(outputs().with_value(self.0, self.0.len()))
    }
    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let dir: PathBuf = ctx.get(Sym::new("dir"))?;
        match fs::remove_file(dir.join(self.0)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        }
    }
}

/// Fails until it has failed once (remembered in a marker file outside the
/// world), so a retry controller is exercised across processes.
struct FlakyOnce(PathBuf);
impl Task for FlakyOnce {
    fn name(&self) -> &str {
        "flaky"
    }
    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        if self.0.exists() {
            Ok(outputs())
        } else {
            fs::write(&self.0, "").map_err(io)?;
            Err(Failure::new("transient", "first attempt fails"))
        }
    }
}

/// A row in the shared database, written atomically with its result.
struct Row(Db, &'static str);
impl Task for Row {
    fn name(&self) -> &str {
        self.1
    }
    fn atomic(&self) -> bool {
        true
    }
    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        self.0
            .lock()
            .execute("INSERT INTO side (k) VALUES (?1)", [self.1])
            .map_err(|e| Failure::new("db", e.to_string()))?;
        Ok(outputs())
    }
    fn revert(&self, _: &RevertContext<'_>) -> Result<(), Failure> {
        self.0
            .lock()
            .execute("DELETE FROM side WHERE k = ?1", [self.1])
            .map_err(|e| Failure::new("db", e.to_string()))?;
        Ok(())
    }
}

struct Fail;
impl Task for Fail {
    fn name(&self) -> &str {
        "fail"
    }
    fn execute(&self, _: &ExecContext<'_>) -> Result<Values, Failure> {
        Err(Failure::new("boom", "the last step fails"))
    }
}

struct Place {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Place {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let p = Place { _tmp: tmp, root };
        let db = p.db();
        db.lock()
            .execute_batch("CREATE TABLE side (k TEXT PRIMARY KEY)")
            .unwrap();
        SqliteFlowStore::open(db).unwrap();
        p
    }
    fn db(&self) -> Db {
        Db::open(&self.root.join("state.db")).unwrap()
    }
    fn world(&self) -> PathBuf {
        self.root.join("world")
    }
    /// Files in the world with their contents, and the rows in `side`.
    fn snapshot(&self) -> (BTreeMap<String, String>, Vec<String>) {
        let mut files = BTreeMap::new();
        if let Ok(rd) = fs::read_dir(self.world()) {
            for e in rd {
                let e = e.unwrap();
                files.insert(
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read_to_string(e.path()).unwrap(),
                );
            }
        }
        if self.world().exists() {
            files.insert("<dir>".into(), String::new());
        }
        let db = self.db();
        let c = db.lock();
        let mut s = c.prepare("SELECT k FROM side ORDER BY k").unwrap();
        let rows = s
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        (files, rows)
    }
}

fn flow(place: &Place, db: &Db, failing: bool) -> Flow {
    let f = Flow::linear("crashy")
        .add(MkDir(place.world()))
        .subflow(
            Flow::unordered("files")
                .add(WriteFile("a"))
                .add(WriteFile("b")),
        )
        .add(Row(db.clone(), "k1"))
        .subflow(
            Flow::linear("retry")
                .add(WriteFile("c"))
                .add(FlakyOnce(place.root.join("flaky-marker")))
                .with_retry(RetryPolicy::times(2, Backoff::NONE)),
        )
        .add(Row(db.clone(), "k2"));
    if failing { f.add(Fail) } else { f }
}

const ID: &str = "flow-under-test";

/// Runs with the store cut at write `k`; returns the number of writes made
/// when `k` is large enough never to cut.
fn run_cut(place: &Place, failing: bool, k: i64) -> (Result<FlowOutcome, EngineError>, i64) {
    let db = place.db();
    let store = Arc::new(KillStore {
        inner: SqliteFlowStore::new(db.clone()),
        left: AtomicI64::new(k),
    });
    let engine = Engine::new(store.clone());
    let r = engine.run_with_id(
        &flow(place, &db, failing),
        ID,
        outputs(),
        serde_json::Value::Null,
    );
    (r, k - store.left.load(Ordering::SeqCst))
}

/// A fresh engine on a new connection, and the flow's tasks on the same one
/// (an atomic task must share the store's connection).
fn reopen(place: &Place, failing: bool) -> (Engine, Flow) {
    let db = place.db();
    let engine = Engine::new(Arc::new(SqliteFlowStore::new(db.clone())));
    (engine, flow(place, &db, failing))
}

fn check_every_cut(failing: bool) {
    let reference = Place::new();
    let (out, writes) = run_cut(&reference, failing, i64::MAX / 2);
    let out = out.unwrap();
    let expected_state = if failing {
        FlowState::Reverted
    } else {
        FlowState::Success
    };
    assert_eq!(out.state, expected_state);
    let expected_world = reference.snapshot();
    if !failing {
        assert_eq!(expected_world.1, ["k1", "k2"]);
        assert!(expected_world.0.contains_key("c"));
    } else {
        assert_eq!(expected_world, Default::default());
    }
    assert!(writes > 20, "{writes} writes");

    let empty = (BTreeMap::new(), Vec::<String>::new());
    for k in 0..writes {
        for rollback in [false, true] {
            let place = Place::new();
            let (r, _) = run_cut(&place, failing, k);
            assert!(matches!(r, Err(EngineError::Store(_))), "cut at {k}: {r:?}");
            let (engine, flow) = reopen(&place, failing);
            let resumed = if rollback {
                engine.rollback(&flow, ID)
            } else {
                engine.resume(&flow, ID)
            };
            if k == 0 {
                // Nothing was recorded: there is no flow, and nothing happened.
                assert!(matches!(resumed, Err(EngineError::NotFound(_))));
                assert_eq!(place.snapshot(), empty);
                continue;
            }
            let out = resumed.unwrap_or_else(|e| panic!("cut at {k}: {e}"));
            if rollback {
                assert!(
                    matches!(out.state, FlowState::Reverted | FlowState::Success),
                    "cut at {k}: {:?}",
                    out.state
                );
                if out.state == FlowState::Reverted {
                    assert_eq!(place.snapshot(), empty, "rollback after cut at {k}");
                } else {
                    // Cut after the final record: the flow had finished.
                    assert_eq!(place.snapshot(), expected_world);
                }
            } else {
                assert_eq!(out.state, expected_state, "resume after cut at {k}");
                assert_eq!(place.snapshot(), expected_world, "resume after cut at {k}");
            }
        }
    }
}

#[test]
fn crash_at_every_transition_of_a_successful_flow_then_resume_or_roll_back() {
    check_every_cut(false);
}

#[test]
fn crash_at_every_transition_of_a_failing_flow_then_resume_or_roll_back() {
    check_every_cut(true);
}

#[test]
fn a_resumed_flow_can_be_resumed_again_after_a_second_crash() {
    let place = Place::new();
    let (r, _) = run_cut(&place, false, 6);
    assert!(r.is_err());
    let db = place.db();
    let store = Arc::new(KillStore {
        inner: SqliteFlowStore::new(db.clone()),
        left: AtomicI64::new(5),
    });
    let r = Engine::new(store).resume(&flow(&place, &db, false), ID);
    assert!(matches!(r, Err(EngineError::Store(_))));
    let (engine, flow) = reopen(&place, false);
    let out = engine.resume(&flow, ID).unwrap();
    assert_eq!(out.state, FlowState::Success);
    assert_eq!(place.snapshot().1, ["k1", "k2"]);
}
