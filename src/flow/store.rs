//! Where flow state is recorded: the [`FlowStore`] trait and an in-memory
//! implementation.

use std::collections::HashMap;
use std::thread::{self, ThreadId};

use parking_lot::Mutex;

use super::failure::Failure;
use super::state::{AtomRecord, FlowRecord, FlowState, now_us};

/// The store could not record something; the engine stops at once, leaving
/// the flow as far as it was recorded (resumable), exactly as if the process
/// had died.
#[derive(Debug, thiserror::Error)]
#[error("flow store: {0}")]
pub struct StoreError(pub String);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(e.to_string())
    }
}

/// A flow and all its recorded atoms.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowSnapshot {
    /// The flow.
    pub flow: FlowRecord,
    /// Atoms that were ever touched (untouched ones are pending).
    pub atoms: Vec<AtomRecord>,
}

/// Persistence of flow state. Every method is durable when it returns (to the
/// store's own standard: process death for SQLite with `synchronous=NORMAL`),
/// except inside a [`FlowStore::hold`], which defers that to its release.
pub trait FlowStore: Send + Sync {
    /// Records a new flow.
    fn create_flow(&self, flow: &FlowRecord) -> Result<(), StoreError>;

    /// Records a flow's new state and its failures.
    fn set_flow_state(
        &self,
        flow_id: &str,
        state: FlowState,
        failures: &[Failure],
        revert_failure: Option<&Failure>,
    ) -> Result<(), StoreError>;

    /// Records (inserts or replaces) one atom's state.
    fn save_atom(&self, flow_id: &str, atom: &AtomRecord) -> Result<(), StoreError>;

    /// Loads a flow and its atoms.
    fn load(&self, flow_id: &str) -> Result<Option<FlowSnapshot>, StoreError>;

    /// Lists flows, newest first; unfinished ones only unless `all`.
    fn list(&self, all: bool) -> Result<Vec<FlowRecord>, StoreError>;

    /// Makes `owner` the flow's owner if its owner is still `expected`
    /// (compare-and-set, for taking over a flow whose owner died); whether
    /// it did.
    fn claim(&self, flow_id: &str, expected: Option<&str>, owner: &str)
    -> Result<bool, StoreError>;

    /// Forgets a flow and its atoms.
    fn delete_flow(&self, flow_id: &str) -> Result<(), StoreError>;

    /// Runs `body` so that every write made inside it — through this store
    /// and, for a store that shares its database with the application, the
    /// application's own writes — is committed together (`body` returns
    /// `Ok(true)`) or not at all (`Ok(false)` or an error).
    fn transaction(
        &self,
        body: &mut dyn FnMut() -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;

    /// Until the matching [`FlowStore::release`] on this thread, lets the
    /// writes made on it commit together. The engine holds the store while
    /// a flow does nothing but write to it, and releases it before a task's
    /// work outside the store: what a task does outside is still preceded
    /// by a durable record of its start. A store whose writes cost nothing
    /// to make durable needs neither (the default).
    fn hold(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Ends this thread's innermost [`FlowStore::hold`], making its writes
    /// durable; whether there was one.
    fn release(&self) -> Result<bool, StoreError> {
        Ok(false)
    }
}

/// A [`FlowStore`] in memory: fast, and gone with the process.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryState>,
}

#[derive(Default)]
struct MemoryState {
    flows: HashMap<String, FlowSnapshot>,
    /// Per thread with an open transaction: how to undo its writes.
    undo: HashMap<ThreadId, Vec<Undo>>,
}

enum Undo {
    Flow(String, Option<FlowSnapshot>),
    Atom(String, String, Option<AtomRecord>),
}

impl MemoryState {
    fn log(&mut self, make: impl FnOnce(&Self) -> Undo) {
        if self.undo.contains_key(&thread::current().id()) {
            let entry = make(self);
            if let Some(log) = self.undo.get_mut(&thread::current().id()) {
                log.push(entry);
            }
        }
    }

    fn flow_mut(&mut self, flow_id: &str) -> Result<&mut FlowSnapshot, StoreError> {
        self.flows
            .get_mut(flow_id)
            .ok_or_else(|| StoreError(format!("no flow {flow_id}")))
    }

    fn rollback(&mut self, log: Vec<Undo>) {
        for entry in log.into_iter().rev() {
            match entry {
                Undo::Flow(id, None) => {
                    self.flows.remove(&id);
                }
                Undo::Flow(id, Some(snap)) => {
                    self.flows.insert(id, snap);
                }
                Undo::Atom(id, name, prev) => {
                    if let Some(snap) = self.flows.get_mut(&id) {
                        snap.atoms.retain(|a| a.name != name);
                        snap.atoms.extend(prev);
                    }
                }
            }
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl FlowStore for MemoryStore {
    fn create_flow(&self, flow: &FlowRecord) -> Result<(), StoreError> {
        let mut st = self.inner.lock();
        if st.flows.contains_key(&flow.id) {
            return Err(StoreError(format!("flow {} already exists", flow.id)));
        }
        st.log(|_| Undo::Flow(flow.id.clone(), None));
        st.flows.insert(
            flow.id.clone(),
            FlowSnapshot {
                flow: flow.clone(),
                atoms: Vec::new(),
            },
        );
        Ok(())
    }

    fn set_flow_state(
        &self,
        flow_id: &str,
        state: FlowState,
        failures: &[Failure],
        revert_failure: Option<&Failure>,
    ) -> Result<(), StoreError> {
        let mut st = self.inner.lock();
        st.log(|s| Undo::Flow(flow_id.to_string(), s.flows.get(flow_id).cloned()));
        let snap = st.flow_mut(flow_id)?;
        snap.flow.state = state;
        snap.flow.failures = failures.to_vec();
        snap.flow.revert_failure = revert_failure.cloned();
        snap.flow.updated_at = now_us();
        Ok(())
    }

    fn save_atom(&self, flow_id: &str, atom: &AtomRecord) -> Result<(), StoreError> {
        let mut st = self.inner.lock();
        st.log(|s| {
            let prev = s
                .flows
                .get(flow_id)
                .and_then(|f| f.atoms.iter().find(|a| a.name == atom.name).cloned());
            Undo::Atom(flow_id.to_string(), atom.name.clone(), prev)
        });
        let snap = st.flow_mut(flow_id)?;
        match snap.atoms.iter_mut().find(|a| a.name == atom.name) {
            Some(slot) => *slot = atom.clone(),
            None => snap.atoms.push(atom.clone()),
        }
        Ok(())
    }

    fn load(&self, flow_id: &str) -> Result<Option<FlowSnapshot>, StoreError> {
        Ok(self.inner.lock().flows.get(flow_id).cloned())
    }

    fn list(&self, all: bool) -> Result<Vec<FlowRecord>, StoreError> {
        let st = self.inner.lock();
        let mut v: Vec<FlowRecord> = st
            .flows
            .values()
            .filter(|s| all || !s.flow.state.is_finished())
            .map(|s| s.flow.clone())
            .collect();
        v.sort_by_key(|f| std::cmp::Reverse(f.created_at));
        Ok(v)
    }

    fn claim(
        &self,
        flow_id: &str,
        expected: Option<&str>,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let mut st = self.inner.lock();
        st.log(|s| Undo::Flow(flow_id.to_string(), s.flows.get(flow_id).cloned()));
        let snap = st.flow_mut(flow_id)?;
        if snap.flow.owner.as_deref() != expected {
            return Ok(false);
        }
        snap.flow.owner = Some(owner.to_string());
        Ok(true)
    }

    fn delete_flow(&self, flow_id: &str) -> Result<(), StoreError> {
        let mut st = self.inner.lock();
        st.log(|s| Undo::Flow(flow_id.to_string(), s.flows.get(flow_id).cloned()));
        st.flows.remove(flow_id);
        Ok(())
    }

    fn transaction(
        &self,
        body: &mut dyn FnMut() -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let me = thread::current().id();
        // Where this (possibly nested) transaction's undo entries begin.
        let (outer, mark) = {
            let mut st = self.inner.lock();
            match st.undo.get(&me) {
                Some(log) => (false, log.len()),
                None => {
                    st.undo.insert(me, Vec::new());
                    (true, 0)
                }
            }
        };
        let r = body();
        let mut st = self.inner.lock();
        let mine = match st.undo.get_mut(&me) {
            Some(log) => log.split_off(mark),
            None => Vec::new(),
        };
        if matches!(r, Ok(true)) {
            if let (false, Some(log)) = (outer, st.undo.get_mut(&me)) {
                log.extend(mine); // the enclosing transaction may still undo them
            }
        } else {
            st.rollback(mine);
        }
        if outer {
            st.undo.remove(&me);
        }
        r.map(drop)
    }
}
