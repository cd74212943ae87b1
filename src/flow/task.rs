//! The unit of work: a task consumes named inputs, acts, provides named
//! outputs, and knows how to undo what it did.

use std::borrow::Borrow;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::cancel::CancelToken;
use super::failure::Failure;
use super::symbol::Sym;

/// Named values: the flow's store, a task's inputs, a task's outputs.
pub type Values = Map<String, Value>;

/// A step of a flow.
///
/// Tasks are idempotent where they touch the outside world: a task recorded
/// as running when its process died is run again on resumption, so it must
/// check-then-act (keyed by ids produced earlier in the flow).
pub trait Task: Send + Sync {
    /// The task's default atom name (a flow may rename it).
    fn name(&self) -> &str;

    /// The symbols the task reads, by the names it uses for them.
    fn requires(&self) -> Vec<&str> {
        Vec::new()
    }

    /// The symbols the task reads when the flow has them, and does without
    /// otherwise: a new option of an operation is one of these, so a flow
    /// recorded before the option existed still resumes.
    fn optional(&self) -> Vec<&str> {
        Vec::new()
    }

    /// The symbols the task's `execute` returns.
    fn provides(&self) -> Vec<&str> {
        Vec::new()
    }

    /// Does the work. Returns exactly the symbols in [`Task::provides`].
    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure>;

    /// Undoes the work, given the task's own result or failure and the
    /// failures that caused the revert. Must tolerate being called again after
    /// a crash (idempotent) and after a partial execute. The default does
    /// nothing.
    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let _ = ctx;
        Ok(())
    }

    /// `true` when the task's only effects are writes to the database that
    /// the flow store shares: then the engine runs `execute` (and `revert`)
    /// inside one transaction together with the recording of its result, so
    /// a crash can never separate the two.
    fn atomic(&self) -> bool {
        false
    }

    /// A short description of a result, for progress displays.
    fn summary(&self, outputs: &Values) -> Option<String> {
        let _ = outputs;
        None
    }

    /// What a person is told when the task succeeds, when it is a step
    /// they care about (`scheduled on fast`, `available`). `None`, the
    /// default: an internal step, shown only in a detailed display.
    fn headline(&self, outputs: &Values) -> Option<String> {
        let _ = outputs;
        None
    }

    /// What the task's revert undid, in words (`returning quota: volumes
    /// -1`), given its inputs, its outputs if it had succeeded and the
    /// failures that made the flow revert. `None`, the default: the revert
    /// has nothing a person needs to hear about.
    fn undone(
        &self,
        inputs: &Values,
        outputs: Option<&Values>,
        failures: &[Failure],
    ) -> Option<String> {
        let _ = (inputs, outputs, failures);
        None
    }
}

/// Reads a typed value out of a set of named values.
fn typed<T: DeserializeOwned>(values: &Values, name: &str) -> Result<T, Failure> {
    let v = values.get(name).ok_or_else(|| {
        Failure::new(
            Failure::BAD_INPUT,
            format!("input `{name}` is not available"),
        )
    })?;
    T::deserialize(v).map_err(|e| {
        Failure::new(
            Failure::BAD_INPUT,
            format!("input `{name}` has an unexpected shape: {e}"),
        )
    })
}

/// What `execute` sees.
pub struct ExecContext<'a> {
    pub(crate) inputs: &'a Values,
    pub(crate) cancel: &'a CancelToken,
    pub(crate) progress: &'a (dyn Fn(&str, u64, u64) + Sync),
}

impl<'a> ExecContext<'a> {
    /// Builds a context directly, for running a task alone (unit tests,
    /// tools).
    pub fn new(
        inputs: &'a Values,
        cancel: &'a CancelToken,
        progress: &'a (dyn Fn(&str, u64, u64) + Sync),
    ) -> Self {
        ExecContext {
            inputs,
            cancel,
            progress,
        }
    }

    /// A required input, deserialised.
    pub fn get<T: DeserializeOwned>(&self, sym: Sym<T>) -> Result<T, Failure> {
        typed(self.inputs, sym.name())
    }

    /// An optional input ([`Task::optional`]), deserialised; `None` when
    /// the flow does not have it.
    pub fn get_opt<T: DeserializeOwned>(&self, sym: Sym<T>) -> Result<Option<T>, Failure> {
        match self.inputs.contains_key(sym.name()) {
            true => typed(self.inputs, sym.name()).map(Some),
            false => Ok(None),
        }
    }

    /// An input by its stored name, untyped (for generic tasks whose
    /// symbols are only known at run time).
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.inputs.get(name)
    }

    /// All inputs, by the task's names for them.
    pub fn inputs(&self) -> &Values {
        self.inputs
    }

    /// Reports progress (`done` of `total` units, for example bytes).
    pub fn progress(&self, done: u64, total: u64) {
        (self.progress)("", done, total)
    }

    /// Reports progress of one phase of the task (`converting`, `copying`):
    /// a display shows one bar per phase, labelled with it.
    pub fn progress_in(&self, phase: &str, done: u64, total: u64) {
        (self.progress)(phase, done, total)
    }

    /// The flow's cancellation token: long tasks poll it and give up with
    /// [`Failure::cancelled`].
    pub fn cancel_token(&self) -> &CancelToken {
        self.cancel
    }

    /// Fails with [`Failure::cancelled`] if the flow was cancelled.
    pub fn check_cancelled(&self) -> Result<(), Failure> {
        if self.cancel.is_cancelled() {
            Err(Failure::cancelled())
        } else {
            Ok(())
        }
    }
}

/// How a task ended, as its revert sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// `execute` returned these outputs.
    Success(Values),
    /// `execute` failed (or was interrupted: kind [`Failure::INTERRUPTED`]).
    Failure(Failure),
}

/// What `revert` sees.
pub struct RevertContext<'a> {
    pub(crate) inputs: &'a Values,
    pub(crate) outcome: &'a Outcome,
    pub(crate) flow_failures: &'a [Failure],
    pub(crate) progress: &'a (dyn Fn(&str, u64, u64) + Sync),
}

impl<'a> RevertContext<'a> {
    /// Builds a context directly, for reverting a task alone (unit tests).
    pub fn new(
        inputs: &'a Values,
        outcome: &'a Outcome,
        flow_failures: &'a [Failure],
        progress: &'a (dyn Fn(&str, u64, u64) + Sync),
    ) -> Self {
        RevertContext {
            inputs,
            outcome,
            flow_failures,
            progress,
        }
    }

    /// A required input, deserialised.
    pub fn get<T: DeserializeOwned>(&self, sym: Sym<T>) -> Result<T, Failure> {
        typed(self.inputs, sym.name())
    }

    /// An optional input ([`Task::optional`]), deserialised; `None` when
    /// the flow does not have it.
    pub fn get_opt<T: DeserializeOwned>(&self, sym: Sym<T>) -> Result<Option<T>, Failure> {
        match self.inputs.contains_key(sym.name()) {
            true => typed(self.inputs, sym.name()).map(Some),
            false => Ok(None),
        }
    }

    /// All inputs.
    pub fn inputs(&self) -> &Values {
        self.inputs
    }

    /// The task's own result or failure.
    pub fn outcome(&self) -> &Outcome {
        self.outcome
    }

    /// One of the task's own outputs, if it succeeded and provided it.
    pub fn result<T: DeserializeOwned>(&self, sym: Sym<T>) -> Option<T> {
        match self.outcome {
            Outcome::Success(v) => typed(v, sym.name()).ok(),
            Outcome::Failure(_) => None,
        }
    }

    /// The task's own failure, if it failed.
    pub fn own_failure(&self) -> Option<&Failure> {
        match self.outcome {
            Outcome::Failure(f) => Some(f),
            Outcome::Success(_) => None,
        }
    }

    /// The failures that made the flow revert.
    pub fn flow_failures(&self) -> &[Failure] {
        self.flow_failures
    }

    /// Reports progress of a long revert.
    pub fn progress(&self, done: u64, total: u64) {
        (self.progress)("", done, total)
    }
}

/// Builds a [`Values`] map: `outputs().with(VOLUME_ID, &id)`.
pub fn outputs() -> Values {
    Values::new()
}

/// Typed access to a [`Values`] map.
pub trait ValuesExt {
    /// Adds `sym = value`.
    ///
    /// # Panics
    /// If `value` cannot be represented as JSON (a map with non-string keys):
    /// a programming error.
    fn with<T: Serialize>(self, sym: Sym<T>, value: impl Borrow<T>) -> Self;

    /// Adds `name = value` by a name known only at run time (generic tasks,
    /// tests of the engine itself). Prefer [`ValuesExt::with`].
    ///
    /// # Panics
    /// As [`ValuesExt::with`].
    fn with_value(self, name: &str, value: impl Serialize) -> Self;

    /// Reads `sym`, if present and of its type.
    fn read<T: DeserializeOwned>(&self, sym: Sym<T>) -> Option<T>;
}

impl ValuesExt for Values {
    fn with<T: Serialize>(self, sym: Sym<T>, value: impl Borrow<T>) -> Self {
        self.with_value(sym.name(), value.borrow())
    }

    fn with_value(mut self, name: &str, value: impl Serialize) -> Self {
        let v = serde_json::to_value(value).expect("value is representable as JSON");
        self.insert(name.to_string(), v);
        self
    }

    fn read<T: DeserializeOwned>(&self, sym: Sym<T>) -> Option<T> {
        self.get(sym.name()).and_then(|v| T::deserialize(v).ok())
    }
}
