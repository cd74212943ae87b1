//! Test tasks for the flow engine: they log what they do and fail on cue.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use volctl::flow::*;

/// What the probe tasks did, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Ev {
    Exec(String),
    Revert {
        name: String,
        outcome: Outcome,
        flow_failures: Vec<String>,
    },
}

impl Ev {
    pub fn name(&self) -> &str {
        match self {
            Ev::Exec(n) => n,
            Ev::Revert { name, .. } => name,
        }
    }
}

/// A shared log of [`Ev`].
#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<Ev>>>);

impl Log {
    pub fn events(&self) -> Vec<Ev> {
        self.0.lock().clone()
    }
    pub fn execs(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Ev::Exec(n) => Some(n),
                _ => None,
            })
            .collect()
    }
    pub fn reverts(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Ev::Revert { name, .. } => Some(name),
                _ => None,
            })
            .collect()
    }
    pub fn revert_of(&self, name: &str) -> Option<Ev> {
        self.events()
            .into_iter()
            .find(|e| matches!(e, Ev::Revert { name: n, .. } if n == name))
    }
}

/// A configurable task. Its outputs are `"<name>(<inputs>)"` strings so data
/// flow is visible in results.
pub struct Probe {
    pub name: String,
    pub requires: Vec<String>,
    pub provides: Vec<String>,
    /// Execution number n (0-based) fails when `fail_exec(n)`.
    pub fail_exec: Box<dyn Fn(u32) -> bool + Send + Sync>,
    pub fail_revert: Box<dyn Fn(u32) -> bool + Send + Sync>,
    pub calls: Mutex<(u32, u32)>,
    pub log: Log,
}

impl Probe {
    pub fn new(name: &str, log: &Log) -> Self {
        Probe {
            name: name.to_string(),
            requires: Vec::new(),
            provides: Vec::new(),
            fail_exec: Box::new(|_| false),
            fail_revert: Box::new(|_| false),
            calls: Mutex::new((0, 0)),
            log: log.clone(),
        }
    }
    pub fn requires(mut self, r: &[&str]) -> Self {
        self.requires = r.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn provides(mut self, p: &[&str]) -> Self {
        self.provides = p.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn failing(mut self) -> Self {
        self.fail_exec = Box::new(|_| true);
        self
    }
    pub fn fail_when(mut self, f: impl Fn(u32) -> bool + Send + Sync + 'static) -> Self {
        self.fail_exec = Box::new(f);
        self
    }
    pub fn failing_revert(mut self) -> Self {
        self.fail_revert = Box::new(|_| true);
        self
    }
    pub fn fail_revert_when(mut self, f: impl Fn(u32) -> bool + Send + Sync + 'static) -> Self {
        self.fail_revert = Box::new(f);
        self
    }
}

impl Task for Probe {
    fn name(&self) -> &str {
        &self.name
    }
    fn requires(&self) -> Vec<&str> {
        self.requires.iter().map(String::as_str).collect()
    }
    fn provides(&self) -> Vec<&str> {
        self.provides.iter().map(String::as_str).collect()
    }
    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let n = {
            let mut c = self.calls.lock();
            c.0 += 1;
            c.0 - 1
        };
        self.log.0.lock().push(Ev::Exec(self.name.clone()));
        if (self.fail_exec)(n) {
            return Err(Failure::new("probe", format!("{} failed", self.name)));
        }
        let ins: Vec<String> = self
            .requires
            .iter()
            .map(|r| {
                ctx.value(r)
                    .and_then(|v| v.as_str())
                    .unwrap_or("?")
                    .to_string()
            })
            .collect();
        let mut out = outputs();
        for p in &self.provides {
            // Names known only at run time: the untyped map.
            out.insert(
                p.clone(),
                format!("{}({})", self.name, ins.join(",")).into(),
            );
        }
        Ok(out)
    }
    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let n = {
            let mut c = self.calls.lock();
            c.1 += 1;
            c.1 - 1
        };
        self.log.0.lock().push(Ev::Revert {
            name: self.name.clone(),
            outcome: ctx.outcome().clone(),
            flow_failures: ctx
                .flow_failures()
                .iter()
                .map(|f| f.message.clone())
                .collect(),
        });
        if (self.fail_revert)(n) {
            return Err(Failure::new(
                "probe",
                format!("{} revert failed", self.name),
            ));
        }
        Ok(())
    }
}

/// Records every listener callback as a line.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<String>>);

impl Listener for Recorder {
    fn flow_changed(&self, e: &FlowEvent<'_>) {
        self.0.lock().push(format!("flow {}", e.state));
    }
    fn atom_changed(&self, e: &AtomEvent<'_>) {
        self.0.lock().push(format!("{} {}", e.atom, e.state));
    }
    fn progress(&self, e: &ProgressEvent<'_>) {
        self.0
            .lock()
            .push(format!("{} {}/{}", e.atom, e.done, e.total));
    }
}

impl Recorder {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().clone()
    }
}

/// An engine over a fresh memory store, unordered members sequential.
pub fn memory_engine() -> Engine {
    Engine::new(Arc::new(MemoryStore::new())).sequential()
}

/// The recorded atoms of a flow, by name.
pub fn atoms(engine: &Engine, id: &str) -> HashMap<String, AtomRecord> {
    engine
        .store()
        .load(id)
        .unwrap()
        .unwrap()
        .atoms
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect()
}
