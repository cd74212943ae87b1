//! volctl: local block volumes (sparse files on loop devices, LVM logical
//! volumes) created through resumable task flows, the way a cloud
//! block-storage service creates them.
//!
//! The [`flow`] module is a general task-flow engine; everything else builds
//! volctl on it. The modules, by layer:
//!
//! - **Engine** (imports nothing of volctl; could be its own crate):
//!   [`flow`], with its shared SQLite connection [`flow::db`] (re-exported
//!   as [`db`]) and `string_enum!`.
//! - **Contracts between parts**: [`symbols`] (every value a flow passes
//!   between tasks, typed), [`dispatch`] (the cast queue between the api,
//!   scheduler and manager flows: typed messages, who consumes them),
//!   [`store::events`] (the event catalogue), [`units`] (bytes and GiB),
//!   [`error`] (kinds and exit codes), [`labels`] (label syntax and
//!   selectors), [`wait`] (what `wait` waits for, and durations).
//! - **Flows** — one task per file section: [`api`] (validate, reserve
//!   quota, make the row, cast), [`scheduler`] (filters and weigher),
//!   [`manager`] (create, delete, attach/detach, snapshots), [`images`]
//!   (catalog and cache).
//! - **Operations** that run flows and the policy around them: [`ops`]
//!   (create, delete, attach…; the half-way-flow guard), [`recovery`]
//!   (orphans, resume, rollback), [`reconcile`] (settling them by policy), [`check`] (invariants, repair),
//!   [`scripts`] (filters, labels, gc, waits, create --if-not-exists),
//!   [`apply`] (a declared set of volumes made so),
//!   [`lifecycle`] (shared state changes).
//! - **Store**: [`store`] (SQLite tables and queries; SQL lives there and in
//!   [`quota`]), [`events`] (sinks).
//! - **Backends**: [`backends`] (loopback files and loop devices, LVM,
//!   qemu-img, copies).
//! - **Process and trust**: [`service`] (what a command opens), [`owner`]
//!   and [`locks`] (flock ownership), [`trust`] (what the filesystem may be
//!   believed), [`child`] (bounded external commands), [`config`].
//! - **Command line**: [`cli`].

pub mod api;
pub mod apply;
pub mod backends;
pub mod check;
pub mod child;
pub mod cli;
pub mod config;
pub mod csi;
pub mod dispatch;
pub mod error;
pub mod events;
pub mod flow;
pub mod images;
pub mod labels;
pub mod lifecycle;
pub mod locks;
pub mod manager;
pub mod ops;
pub mod owner;
pub mod quota;
pub mod reconcile;
pub mod recovery;
pub mod retention;
pub mod scheduler;
pub mod scripts;
pub mod service;
pub mod store;
pub mod suggest;
pub mod symbols;
#[cfg(feature = "test-hooks")]
pub mod testhooks;
pub mod timings;
pub mod trust;
pub mod units;
pub mod wait;

/// The shared database connection (the engine's: see [`flow::db`]).
pub use flow::db;
