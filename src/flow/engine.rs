//! Runs, resumes and rolls back flows, recording every transition first.
//!
//! Failure semantics are taskflow's: when a task fails, its own revert runs
//! with its failure, then every other started atom reverts in reverse order of
//! completion, each with its own result and the flow's failures. A revert that
//! fails stops the revert there and leaves the flow `revert_failed`, with both
//! failures kept; resuming it tries that revert again.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;

use super::cancel::CancelToken;
use super::compile::{BuildError, Plan, PlanNode, compile};
use super::failure::Failure;
use super::listener::{AtomEvent, FlowEvent, Listener, ProgressEvent};
use super::pattern::Flow;
use super::state::{AtomKind, AtomRecord, AtomState, FlowRecord, FlowState, now_us};
use super::store::{FlowStore, StoreError};
use super::task::{ExecContext, Outcome, RevertContext, Task, Values};

mod retry;

/// Why the engine could not run a flow to a recorded end.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The definition does not fit its inputs.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The store failed: the engine stopped where the store stopped recording,
    /// and the flow can be resumed from there.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No flow with that id is recorded.
    #[error("no flow with id {0}")]
    NotFound(String),
    /// The recorded flow was made by another definition.
    #[error("flow {id} was recorded by definition `{recorded}`, not `{given}`")]
    WrongDefinition {
        /// The flow's id.
        id: String,
        /// The name recorded.
        recorded: String,
        /// The name of the definition given.
        given: String,
    },
    /// The recorded flow has an atom the definition lacks.
    #[error("flow {id} has a recorded atom `{atom}` that definition `{flow}` does not have")]
    UnknownAtom {
        /// The flow's id.
        id: String,
        /// The definition's name.
        flow: String,
        /// The atom.
        atom: String,
    },
}

/// How a flow ended (or stopped).
#[derive(Clone, Debug, PartialEq)]
pub struct FlowOutcome {
    /// The flow's id.
    pub id: String,
    /// Its final state: `success`, `reverted` or `revert_failed`.
    pub state: FlowState,
    /// The store of named values at the end.
    pub values: Values,
    /// The failures that made it revert.
    pub failures: Vec<Failure>,
    /// The revert failure, for `revert_failed`.
    pub revert_failure: Option<Failure>,
}

impl FlowOutcome {
    /// Whether every task succeeded.
    pub fn is_success(&self) -> bool {
        self.state == FlowState::Success
    }

    /// A value from the final store, deserialised.
    pub fn get<T: serde::de::DeserializeOwned>(&self, sym: super::Sym<T>) -> Option<T> {
        self.values
            .get(sym.name())
            .and_then(|v| T::deserialize(v).ok())
    }
}

/// Runs flows against a [`FlowStore`], telling listeners what happens.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn FlowStore>,
    listeners: Vec<Arc<dyn Listener>>,
    cancel: CancelToken,
    parallel: bool,
    owner: Option<String>,
}

impl Engine {
    /// An engine recording into `store`, running unordered members in
    /// parallel threads.
    pub fn new(store: Arc<dyn FlowStore>) -> Self {
        Engine {
            store,
            listeners: Vec::new(),
            cancel: CancelToken::new(),
            parallel: true,
            owner: None,
        }
    }

    /// Records `owner` as the owner of the flows it creates.
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Adds a listener.
    pub fn with_listener(mut self, listener: Arc<dyn Listener>) -> Self {
        self.listeners.push(listener);
        self
    }

    /// Uses `token` for cooperative cancellation.
    pub fn with_cancel(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }

    /// Runs unordered members one after another (deterministic order).
    pub fn sequential(mut self) -> Self {
        self.parallel = false;
        self
    }

    /// The owner it records on the flows it runs, if it has one.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn FlowStore> {
        &self.store
    }

    /// The cancellation token.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }

    /// Records and runs a new flow under a fresh id.
    pub fn run(&self, flow: &Flow, inputs: Values) -> Result<FlowOutcome, EngineError> {
        self.run_with_id(flow, &uuid::Uuid::new_v4().to_string(), inputs, Value::Null)
    }

    /// Records and runs a new flow under `id`, with application `meta` data.
    pub fn run_with_id(
        &self,
        flow: &Flow,
        id: &str,
        inputs: Values,
        meta: Value,
    ) -> Result<FlowOutcome, EngineError> {
        let plan = compile(flow, inputs.keys().map(String::as_str))?;
        let mut record = new_record(flow, id, inputs, meta, FlowState::Running);
        record.owner = self.owner.clone();
        let runner = Runner::new(self, &plan, record.clone(), Vec::new());
        runner.held(|| {
            // Recorded before any task runs: once it has started, a flow is
            // one that `resume` finds.
            self.store.create_flow(&record)?;
            runner.unheld(|| ())?;
            runner.notify_flow();
            runner.drive(false)
        })?;
        Ok(runner.into_outcome())
    }

    /// Records a new flow without running it (run it with
    /// [`Engine::resume`]). Inside an application transaction this lets
    /// "take the request" and "own its flow" commit together.
    pub fn create(
        &self,
        flow: &Flow,
        id: &str,
        inputs: Values,
        meta: Value,
    ) -> Result<(), EngineError> {
        compile(flow, inputs.keys().map(String::as_str))?;
        let mut record = new_record(flow, id, inputs, meta, FlowState::Pending);
        record.owner = self.owner.clone();
        self.store.create_flow(&record)?;
        Ok(())
    }

    /// Continues a recorded flow where it stopped: finished atoms are not run
    /// again, a task recorded `running` is run again, a revert in progress is
    /// continued, a failed revert is tried again.
    pub fn resume(&self, flow: &Flow, id: &str) -> Result<FlowOutcome, EngineError> {
        self.reload(flow, id, false)
    }

    /// Reverts a recorded flow from where it stopped.
    pub fn rollback(&self, flow: &Flow, id: &str) -> Result<FlowOutcome, EngineError> {
        self.reload(flow, id, true)
    }

    fn reload(&self, flow: &Flow, id: &str, rollback: bool) -> Result<FlowOutcome, EngineError> {
        let snap = self
            .store
            .load(id)?
            .ok_or_else(|| EngineError::NotFound(id.to_string()))?;
        if snap.flow.name != flow.name {
            return Err(EngineError::WrongDefinition {
                id: id.to_string(),
                recorded: snap.flow.name,
                given: flow.name.clone(),
            });
        }
        let plan = compile(flow, snap.flow.inputs.keys().map(String::as_str))?;
        for a in &snap.atoms {
            if !plan.index.contains_key(&a.name) {
                return Err(EngineError::UnknownAtom {
                    id: id.to_string(),
                    flow: flow.name.clone(),
                    atom: a.name.clone(),
                });
            }
        }
        let runner = Runner::new(self, &plan, snap.flow, snap.atoms);
        if !runner.st.lock().flow.state.is_finished() {
            runner.held(|| {
                runner.notify_flow();
                runner.drive(rollback)
            })?;
        }
        Ok(runner.into_outcome())
    }
}

fn new_record(flow: &Flow, id: &str, inputs: Values, meta: Value, state: FlowState) -> FlowRecord {
    let now = now_us();
    FlowRecord {
        id: id.to_string(),
        name: flow.name.clone(),
        state,
        inputs,
        failures: Vec::new(),
        revert_failure: None,
        meta,
        owner: None,
        created_at: now,
        updated_at: now,
    }
}

/// Why forward execution stopped.
enum Halt {
    /// Tasks failed (or the flow was cancelled): revert.
    Failed(Vec<Failure>),
    /// A revert inside a retry controller failed: the flow is stuck there.
    RevertFailed(Vec<Failure>, Box<Failure>),
    /// Nothing more can be recorded: stop now.
    Store(StoreError),
}

impl From<StoreError> for Halt {
    fn from(e: StoreError) -> Self {
        Halt::Store(e)
    }
}

struct RunState {
    flow: FlowRecord,
    values: Values,
    atoms: Vec<AtomRecord>,
    seq: u64,
}

/// One run of one flow.
struct Runner<'e> {
    engine: &'e Engine,
    plan: &'e Plan,
    id: String,
    st: Mutex<RunState>,
    /// Whether this run holds the store now (see [`Runner::held`]): a run
    /// releases only its own hold, never one of its caller's.
    holding: std::sync::atomic::AtomicBool,
}

impl<'e> Runner<'e> {
    fn new(
        engine: &'e Engine,
        plan: &'e Plan,
        flow: FlowRecord,
        recorded: Vec<AtomRecord>,
    ) -> Self {
        let mut atoms: Vec<AtomRecord> = plan
            .atoms
            .iter()
            .map(|a| AtomRecord::pending(&a.name, a.kind))
            .collect();
        let mut values = flow.inputs.clone();
        let mut seq = 0;
        for rec in recorded {
            seq = seq.max(rec.seq);
            if rec.kind == AtomKind::Task
                && let Some(Value::Object(out)) = &rec.result
            {
                values.extend(out.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            let i = plan.index[&rec.name];
            atoms[i] = rec;
        }
        Runner {
            engine,
            plan,
            id: flow.id.clone(),
            st: Mutex::new(RunState {
                flow,
                values,
                atoms,
                seq,
            }),
            holding: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn store(&self) -> &dyn FlowStore {
        &*self.engine.store
    }

    fn into_outcome(self) -> FlowOutcome {
        let st = self.st.into_inner();
        FlowOutcome {
            id: self.id,
            state: st.flow.state,
            values: st.values,
            failures: st.flow.failures,
            revert_failure: st.flow.revert_failure,
        }
    }

    /// Runs `f` holding the store (see [`FlowStore::hold`]): the flow's
    /// steps that only write to the store commit together, up to the next
    /// step that works outside it (see [`Runner::unheld`]).
    fn held(&self, f: impl FnOnce() -> Result<(), StoreError>) -> Result<(), StoreError> {
        /// Releases a hold left by a panic, so the store is not kept
        /// from this process's other threads for good.
        struct OnUnwind<'a, 'e>(&'a Runner<'e>);
        impl Drop for OnUnwind<'_, '_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    let _ = self.0.let_go();
                }
            }
        }
        self.store().hold()?;
        self.holding.store(true, Ordering::SeqCst);
        let _unwind = OnUnwind(self);
        let result = f();
        let released = self.let_go();
        result.and(released)
    }

    /// Ends this run's hold, if it has one, making what it held durable.
    fn let_go(&self) -> Result<(), StoreError> {
        if self.holding.swap(false, Ordering::SeqCst) {
            self.store().release()?;
        }
        Ok(())
    }

    /// Runs `f` — work outside the store, or waiting — with what is held
    /// made durable and the store free for others, then holds it again.
    /// (On a thread of a parallel member, which holds nothing, just `f`.)
    fn unheld<T>(&self, f: impl FnOnce() -> T) -> Result<T, StoreError> {
        if !self.holding.swap(false, Ordering::SeqCst) {
            return Ok(f());
        }
        self.store().release()?;
        let out = f();
        self.store().hold()?;
        self.holding.store(true, Ordering::SeqCst);
        Ok(out)
    }

    /// Forward (or straight to revert), then record the end state.
    fn drive(&self, rollback: bool) -> Result<(), StoreError> {
        let state = self.st.lock().flow.state;
        let failures = if !rollback && matches!(state, FlowState::Pending | FlowState::Running) {
            if state == FlowState::Pending {
                self.set_flow(FlowState::Running, Vec::new(), None)?;
            }
            match self.run_node(&self.plan.root) {
                Ok(()) => return self.set_flow(FlowState::Success, Vec::new(), None),
                Err(Halt::Store(e)) => return Err(e),
                Err(Halt::RevertFailed(fs, rf)) => {
                    return self.set_flow(FlowState::RevertFailed, fs, Some(*rf));
                }
                Err(Halt::Failed(fs)) => fs,
            }
        } else {
            let recorded = self.st.lock().flow.failures.clone();
            if recorded.is_empty() {
                vec![Failure::new(Failure::ROLLED_BACK, "rolled back on request")]
            } else {
                recorded
            }
        };
        self.set_flow(FlowState::Reverting, failures.clone(), None)?;
        let all: Vec<usize> = (0..self.plan.atoms.len()).collect();
        match self.revert_scope(&all, &failures) {
            Ok(()) => self.set_flow(FlowState::Reverted, failures, None),
            Err(Halt::RevertFailed(_, rf)) => {
                self.set_flow(FlowState::RevertFailed, failures, Some(*rf))
            }
            Err(Halt::Store(e)) => Err(e),
            Err(Halt::Failed(_)) => unreachable!("reverts do not fail forward"),
        }
    }

    fn run_node(&self, node: &PlanNode) -> Result<(), Halt> {
        match node {
            PlanNode::Task(i) => self.run_task(*i),
            PlanNode::Linear(members) => members.iter().try_for_each(|m| self.run_node(m)),
            PlanNode::Unordered(members) => self.run_unordered(members),
            PlanNode::Retry(r, body) => self.run_retry(*r, body),
        }
    }

    fn run_unordered(&self, members: &[PlanNode]) -> Result<(), Halt> {
        let results: Vec<Result<(), Halt>> =
            if self.engine.parallel && members.len() > 1 {
                // The members' threads need the store.
                self.unheld(|| {
                    std::thread::scope(|s| {
                        let handles: Vec<_> = members[1..]
                            .iter()
                            .map(|m| s.spawn(move || self.run_node(m)))
                            .collect();
                        let mut results = vec![self.run_node(&members[0])];
                        for h in handles {
                            results.push(h.join().unwrap_or_else(|p| {
                                Err(Halt::Failed(vec![Failure::from_panic(p)]))
                            }));
                        }
                        results
                    })
                })?
            } else {
                // One after another; stop starting members after a failure.
                let mut results = Vec::new();
                for m in members {
                    let r = self.run_node(m);
                    let failed = r.is_err();
                    results.push(r);
                    if failed {
                        break;
                    }
                }
                results
            };
        let mut failures = Vec::new();
        let mut revert_failed = None;
        for r in results {
            match r {
                Ok(()) => {}
                Err(Halt::Store(e)) => return Err(Halt::Store(e)),
                Err(Halt::RevertFailed(fs, rf)) => revert_failed = Some((fs, rf)),
                Err(Halt::Failed(fs)) => failures.extend(fs),
            }
        }
        match revert_failed {
            Some((fs, rf)) => Err(Halt::RevertFailed(fs, rf)),
            None if failures.is_empty() => Ok(()),
            None => Err(Halt::Failed(failures)),
        }
    }

    fn next_seq(&self) -> u64 {
        let mut st = self.st.lock();
        st.seq += 1;
        st.seq
    }

    fn inputs_for(&self, i: usize) -> Values {
        let st = self.st.lock();
        self.plan.atoms[i]
            .inputs
            .iter()
            .filter_map(|(local, sym)| st.values.get(sym).map(|v| (local.clone(), v.clone())))
            .collect()
    }

    fn save(&self, rec: &AtomRecord) -> Result<(), StoreError> {
        self.store().save_atom(&self.id, rec)
    }

    /// Makes `rec` the atom's current state (already recorded) and tells the
    /// listeners.
    fn commit_atom(&self, i: usize, rec: AtomRecord, elapsed: Option<Duration>) {
        let mut st = self.st.lock();
        debug_assert!(
            st.atoms[i].state.can_become(rec.state),
            "atom {} went from {} to {}",
            rec.name,
            st.atoms[i].state,
            rec.state
        );
        if rec.state == AtomState::Success
            && let Some(Value::Object(out)) = &rec.result
        {
            st.values
                .extend(out.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if self.engine.listeners.is_empty() {
            st.atoms[i] = rec;
        } else {
            st.atoms[i] = rec.clone();
            drop(st);
            self.notify_atom(i, &rec, elapsed);
        }
    }

    /// The recording shared by execute and revert: records `started`, runs
    /// `work` and records the state it returns. For an atomic task the two
    /// records and the task's own writes are one transaction, committed
    /// only when the work ends in `succeeded`; a failure is recorded after
    /// the rollback (so its writes are undone and the failure is kept).
    fn record_around(
        &self,
        i: usize,
        atomic: bool,
        started: &AtomRecord,
        succeeded: AtomState,
        work: impl FnOnce() -> AtomRecord,
    ) -> Result<AtomRecord, StoreError> {
        if !atomic {
            // The start is durable before the work outside the store begins.
            self.save(started)?;
            let rec = self.unheld(|| {
                self.notify_atom(i, started, None);
                work()
            })?;
            self.save(&rec)?;
            return Ok(rec);
        }
        let mut work = Some(work);
        let mut done = None;
        self.store().transaction(&mut || {
            self.save(started)?;
            self.notify_atom(i, started, None);
            let rec = (work.take().expect("a transaction body runs once"))();
            let commit = rec.state == succeeded;
            if commit {
                self.save(&rec)?;
            }
            done = Some(rec);
            Ok(commit)
        })?;
        let rec = done.expect("transaction body ran");
        if rec.state != succeeded {
            self.save(&rec)?;
        }
        Ok(rec)
    }

    fn run_task(&self, i: usize) -> Result<(), Halt> {
        let atom = &self.plan.atoms[i];
        let task = atom.task.as_ref().expect("task atom has a task");
        let current = self.st.lock().atoms[i].clone();
        match current.state {
            AtomState::Success => return Ok(()),
            AtomState::Failure => {
                let f = current
                    .failure
                    .unwrap_or_else(|| Failure::new("unknown", "failed"));
                return Err(Halt::Failed(vec![f]));
            }
            AtomState::Pending | AtomState::Running => {}
            // Only inside a retry controller's body, which handles these
            // before running it again.
            AtomState::Reverting | AtomState::Reverted | AtomState::RevertFailed => {
                return Err(Halt::Failed(vec![
                    Failure::new(Failure::INTERRUPTED, "interrupted during a revert")
                        .at(&atom.name),
                ]));
            }
        }
        if self.engine.cancel.is_cancelled() {
            return Err(Halt::Failed(vec![Failure::cancelled()]));
        }
        let inputs = self.inputs_for(i);
        let mut running = current;
        running.state = AtomState::Running;
        running.attempts += 1;
        running.seq = self.next_seq();
        running.started_at = Some(now_us());
        running.finished_at = None;
        running.result = None;
        running.failure = None;
        running.revert_failure = None;

        let progress =
            |phase: &str, done: u64, total: u64| self.notify_progress(i, phase, done, total, false);
        let ctx = ExecContext::new(&inputs, &self.engine.cancel, &progress);
        let t0 = Instant::now();
        let execute = || -> Result<Values, Failure> {
            let out = catch_unwind(AssertUnwindSafe(|| task.execute(&ctx)))
                .unwrap_or_else(|p| Err(Failure::from_panic(p)))?;
            checked_outputs(atom.name.as_str(), &atom.provides, out)
        };
        let finished = |mut rec: AtomRecord, result: Result<Values, Failure>| {
            rec.seq = self.next_seq();
            rec.finished_at = Some(now_us());
            match result {
                Ok(out) => {
                    rec.state = AtomState::Success;
                    rec.result = Some(Value::Object(out));
                }
                Err(f) => {
                    rec.state = AtomState::Failure;
                    rec.failure = Some(f.at(&atom.name));
                }
            }
            rec
        };

        let done = self.record_around(i, task.atomic(), &running, AtomState::Success, || {
            finished(running.clone(), execute())
        })?;
        let failure = done.failure.clone();
        self.commit_atom(i, done, Some(t0.elapsed()));
        match failure {
            None => Ok(()),
            Some(f) => Err(Halt::Failed(vec![f])),
        }
    }

    /// Reverts every started atom among `scope`, latest first.
    fn revert_scope(&self, scope: &[usize], failures: &[Failure]) -> Result<(), Halt> {
        let mut order: Vec<(u64, usize)> = {
            let st = self.st.lock();
            scope
                .iter()
                .filter(|&&i| st.atoms[i].state.needs_revert())
                .map(|&i| (st.atoms[i].seq, i))
                .collect()
        };
        order.sort_unstable_by(|a, b| b.cmp(a));
        for (_, i) in order {
            self.revert_atom(i, failures)?;
        }
        Ok(())
    }

    fn revert_atom(&self, i: usize, failures: &[Failure]) -> Result<(), Halt> {
        let atom = &self.plan.atoms[i];
        let mut rec = self.st.lock().atoms[i].clone();
        let Some(task) = atom.task.as_ref() else {
            // A retry controller has nothing of its own to undo.
            rec.state = AtomState::Reverted;
            self.save(&rec)?;
            self.commit_atom(i, rec, None);
            return Ok(());
        };
        let outcome = match (&rec.result, &rec.failure) {
            (Some(Value::Object(out)), _) => Outcome::Success(out.clone()),
            (_, Some(f)) => Outcome::Failure(f.clone()),
            _ => Outcome::Failure(
                Failure::new(
                    Failure::INTERRUPTED,
                    "the task was running when its process stopped",
                )
                .at(&atom.name),
            ),
        };
        rec.state = AtomState::Reverting;
        rec.revert_failure = None;
        let inputs = self.inputs_for(i);
        let progress =
            |phase: &str, done: u64, total: u64| self.notify_progress(i, phase, done, total, true);
        let ctx = RevertContext::new(&inputs, &outcome, failures, &progress);
        let t0 = Instant::now();
        let revert = || {
            catch_unwind(AssertUnwindSafe(|| task.revert(&ctx)))
                .unwrap_or_else(|p| Err(Failure::from_panic(p)))
        };
        let done = |result: Result<(), Failure>| {
            let mut d = rec.clone();
            d.finished_at = Some(now_us());
            match result {
                Ok(()) => d.state = AtomState::Reverted,
                Err(f) => {
                    d.state = AtomState::RevertFailed;
                    d.revert_failure = Some(f.at(&atom.name));
                }
            }
            d
        };
        let finished = self.record_around(i, task.atomic(), &rec, AtomState::Reverted, || {
            done(revert())
        })?;
        let revert_failure = finished.revert_failure.clone();
        self.commit_atom(i, finished, Some(t0.elapsed()));
        match revert_failure {
            None => Ok(()),
            Some(rf) => Err(Halt::RevertFailed(failures.to_vec(), Box::new(rf))),
        }
    }

    fn set_flow(
        &self,
        state: FlowState,
        failures: Vec<Failure>,
        revert_failure: Option<Failure>,
    ) -> Result<(), StoreError> {
        self.store()
            .set_flow_state(&self.id, state, &failures, revert_failure.as_ref())?;
        if state.is_finished() {
            // How a flow ended is durable before anyone is told.
            self.let_go()?;
        }
        {
            let mut st = self.st.lock();
            st.flow.state = state;
            st.flow.failures = failures;
            st.flow.revert_failure = revert_failure;
        }
        self.notify_flow();
        Ok(())
    }

    fn notify_flow(&self) {
        if self.engine.listeners.is_empty() {
            return;
        }
        let flow = self.st.lock().flow.clone();
        let ev = FlowEvent {
            flow_id: &flow.id,
            flow_name: &flow.name,
            state: flow.state,
            failures: &flow.failures,
            revert_failure: flow.revert_failure.as_ref(),
        };
        for l in &self.engine.listeners {
            l.flow_changed(&ev);
        }
    }

    fn notify_atom(&self, i: usize, rec: &AtomRecord, elapsed: Option<Duration>) {
        if self.engine.listeners.is_empty() {
            return;
        }
        let atom = &self.plan.atoms[i];
        let outputs = match (&rec.state, &rec.result) {
            (AtomState::Success, Some(Value::Object(out))) => Some(out),
            _ => None,
        };
        let summary = match (&atom.task, outputs) {
            (Some(t), Some(out)) => t.summary(out),
            _ => None,
        };
        let headline = match (&atom.task, rec.state, &rec.result) {
            (Some(t), AtomState::Success, Some(Value::Object(out))) => t.headline(out),
            (Some(t), AtomState::Reverted, result) => {
                let failures = self.st.lock().flow.failures.clone();
                let out = match result {
                    Some(Value::Object(out)) => Some(out),
                    _ => None,
                };
                t.undone(&self.inputs_for(i), out, &failures)
            }
            _ => None,
        };
        let failure = match rec.state {
            AtomState::RevertFailed => rec.revert_failure.as_ref(),
            _ => rec.failure.as_ref(),
        };
        let ev = AtomEvent {
            flow_id: &self.id,
            flow_name: &self.plan.name,
            atom: &atom.name,
            kind: atom.kind,
            state: rec.state,
            attempt: rec.attempts,
            elapsed,
            outputs,
            failure,
            summary: summary.as_deref(),
            headline: headline.as_deref(),
        };
        for l in &self.engine.listeners {
            l.atom_changed(&ev);
        }
    }

    fn notify_progress(&self, i: usize, phase: &str, done: u64, total: u64, reverting: bool) {
        let ev = ProgressEvent {
            flow_id: &self.id,
            flow_name: &self.plan.name,
            atom: &self.plan.atoms[i].name,
            phase,
            done,
            total,
            reverting,
        };
        for l in &self.engine.listeners {
            l.progress(&ev);
        }
    }
}

/// Keeps exactly the declared outputs; a missing one is the task's failure.
fn checked_outputs(name: &str, provides: &[String], mut out: Values) -> Result<Values, Failure> {
    if out.len() == provides.len() && provides.iter().all(|p| out.contains_key(p)) {
        return Ok(out);
    }
    let missing: Vec<&str> = provides
        .iter()
        .filter(|p| !out.contains_key(*p))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Failure::new(
            Failure::MISSING_OUTPUT,
            format!(
                "task `{name}` did not provide {}",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    out.retain(|k, _| provides.iter().any(|p| p == k));
    Ok(out)
}

/// Runs one task alone, outside any flow: for unit tests of tasks.
pub fn execute_task(task: &dyn Task, inputs: &Values) -> Result<Values, Failure> {
    let cancel = CancelToken::new();
    let progress = |_: &str, _: u64, _: u64| {};
    task.execute(&ExecContext::new(inputs, &cancel, &progress))
}

/// Reverts one task alone, outside any flow: for unit tests of tasks.
pub fn revert_task(
    task: &dyn Task,
    inputs: &Values,
    outcome: &Outcome,
    flow_failures: &[Failure],
) -> Result<(), Failure> {
    let progress = |_: &str, _: u64, _: u64| {};
    task.revert(&RevertContext::new(
        inputs,
        outcome,
        flow_failures,
        &progress,
    ))
}
