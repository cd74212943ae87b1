//! A task-flow engine with taskflow's semantics, independent of volumes.
//!
//! A [`Task`] consumes named inputs, acts, provides named outputs and knows
//! how to revert what it did. Tasks are composed into [`Flow`]s — linear,
//! unordered (members may run in parallel threads), nested, and retried by a
//! retry controller — which are checked when built: every required symbol must
//! come from the initial store or an earlier task.
//!
//! The [`Engine`] records every transition in a [`FlowStore`] before it goes
//! on ([`MemoryStore`], or [`SqliteFlowStore`] sharing the application's
//! database), so a flow stopped by a crash is continued
//! ([`Engine::resume`]) or undone ([`Engine::rollback`]) by another process.
//! [`Listener`]s observe transitions and progress; the engine prints nothing.
//!
//! ```
//! use std::sync::Arc;
//! use volctl::flow::*;
//!
//! const X: Sym<i64> = Sym::new("x");
//! const Y: Sym<i64> = Sym::new("y");
//!
//! struct Double;
//! impl Task for Double {
//!     fn name(&self) -> &str { "double" }
//!     fn requires(&self) -> Vec<&str> { vec![X.name()] }
//!     fn provides(&self) -> Vec<&str> { vec![Y.name()] }
//!     fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
//!         let x = ctx.get(X)?;
//!         Ok(outputs().with(Y, x * 2))
//!     }
//! }
//!
//! let engine = Engine::new(Arc::new(MemoryStore::new()));
//! let flow = Flow::linear("demo").add(Double);
//! let out = engine.run(&flow, outputs().with(X, 21)).unwrap();
//! assert_eq!(out.get(Y), Some(42));
//! ```

mod cancel;
mod compile;
pub mod db;
mod engine;
mod failure;
mod listener;
mod pattern;
mod sqlite;
mod state;
mod store;
mod string_enum;
mod symbol;
mod task;
mod trace;

pub use cancel::CancelToken;
pub use compile::BuildError;
pub use engine::{Engine, EngineError, FlowOutcome, execute_task, revert_task};
pub use failure::Failure;
pub use listener::{AtomEvent, FlowEvent, Listener, ProgressEvent};
pub use pattern::{Backoff, Flow, FlowKind, RetryFilter, RetryPolicy, TaskNode};
pub use sqlite::{SCHEMA as SQLITE_SCHEMA, SqliteFlowStore};
pub use state::{AtomKind, AtomRecord, AtomState, FlowRecord, FlowState, Micros, now_us};
pub use store::{FlowSnapshot, FlowStore, MemoryStore, StoreError};
pub use string_enum::UnknownVariant;
pub use symbol::Sym;
pub use task::{ExecContext, Outcome, RevertContext, Task, Values, ValuesExt, outputs};
pub use trace::TracingListener;

/// Writes a task's `name`, `requires`, `optional` (if given), `provides`
/// and (if given) `atomic` methods:
///
/// ```
/// use volctl::flow::*;
/// use volctl::task_signature;
///
/// const SIZE: Sym<u64> = Sym::new("size");
/// const RESERVATION: Sym<String> = Sym::new("reservation");
///
/// struct Reserve;
/// impl Task for Reserve {
///     task_signature!("Reserve", requires: [SIZE], provides: [RESERVATION], atomic);
///     fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
///         let size = ctx.get(SIZE)?;
///         Ok(outputs().with(RESERVATION, format!("r-{size}")))
///     }
/// }
/// assert_eq!(Reserve.provides(), ["reservation"]);
/// assert!(Reserve.atomic());
/// ```
#[macro_export]
macro_rules! task_signature {
    ($name:literal, requires: [$($r:expr),* $(,)?], $(optional: [$($o:expr),* $(,)?],)? provides: [$($p:expr),* $(,)?] $(, $atomic:ident)?) => {
        fn name(&self) -> &str {
            $name
        }
        fn requires(&self) -> Vec<&str> {
            vec![$($r.name()),*]
        }
        $(
            fn optional(&self) -> Vec<&str> {
                vec![$($o.name()),*]
            }
        )?
        fn provides(&self) -> Vec<&str> {
            vec![$($p.name()),*]
        }
        $(
            fn $atomic(&self) -> bool {
                true
            }
        )?
    };
}
