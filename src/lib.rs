//! volctl: local block volumes (sparse files on loop devices, LVM logical
//! volumes) created through resumable task flows, the way a cloud
//! block-storage service creates them.
//!
//! The [`flow`] module is a general task-flow engine; everything else builds
//! volctl on it.

pub mod api;
pub mod backends;
pub mod check;
pub mod child;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod flow;
pub mod images;
pub mod lifecycle;
pub mod locks;
pub mod manager;
pub mod ops;
pub mod owner;
pub mod quota;
pub mod recovery;
pub mod scheduler;
pub mod service;
pub mod store;
#[cfg(feature = "test-hooks")]
pub mod testhooks;
pub mod trust;
