//! Every symbol the application's flows pass between their tasks, with its
//! type: the one place a value's name is spelt.
//!
//! A flow's store is persisted as JSON keyed by these names, so renaming a
//! symbol is a store migration (an interrupted flow recorded under the old
//! name could not be resumed).
//!
//! A misspelt symbol does not compile:
//!
//! ```compile_fail
//! use volctl::symbols::VOLUME_SPC;
//! ```
//!
//! nor does a value of the wrong type:
//!
//! ```compile_fail
//! use volctl::flow::{ValuesExt, outputs};
//! use volctl::symbols::VOLUME_ID;
//! let _ = outputs().with(VOLUME_ID, 42_u64);
//! ```
//!
//! while the right one does:
//!
//! ```
//! use volctl::flow::{ValuesExt, outputs};
//! use volctl::symbols::VOLUME_ID;
//! let v = outputs().with(VOLUME_ID, "vol-1".to_string());
//! assert_eq!(v.read(VOLUME_ID).as_deref(), Some("vol-1"));
//! ```

use std::path::PathBuf;

use crate::api::{CreateRequest, VolumeRequest};
use crate::backends::AttachMode;
use crate::backends::qemu_img::{Format, Info};
use crate::flow::Sym;
use crate::manager::ManagerRequest;
use crate::manager::create_volume::VolumeSpec;
use crate::manager::export_volume::{ExportRequest, Exported, Exporting, Staged};
use crate::manager::manage_volume::ManageRequest;
use crate::quota::Reservation;
use crate::scheduler::SchedulerRequest;
use crate::store::images::{CacheEntry, Image};
use crate::store::snapshots::Snapshot;
use crate::store::volumes::Volume;
use crate::units::RecordedSize;

// ---- volumes --------------------------------------------------------------

/// The id of the volume a flow acts on (every volume flow's input).
pub const VOLUME_ID: Sym<String> = Sym::new("volume_id");
/// The volume's row as the flow's first task read (and locked) it.
pub const VOLUME: Sym<Volume> = Sym::new("volume");
/// Where a backend put a volume or a snapshot (file or device path).
pub const PATH: Sym<String> = Sym::new("path");
/// The device a volume was attached as.
pub const DEVICE: Sym<String> = Sym::new("device");
/// How a volume is to be attached (`attach --read-only`, `--partscan`);
/// optional: attach flows recorded before it existed attach read-write.
pub const ATTACH_MODE: Sym<AttachMode> = Sym::new("attach_mode");
/// The size a volume is to grow to (`extend --size`).
pub const NEW_SIZE: Sym<RecordedSize> = Sym::new("new_size");
/// The name a volume is to be given (`rename`).
pub const NEW_NAME: Sym<String> = Sym::new("new_name");
/// What `apply` is to do.
pub const APPLY_PLAN: Sym<crate::apply::Plan> = Sym::new("apply_plan");
/// The plan as carried out (the ids of what it made).
pub const APPLIED: Sym<crate::apply::Plan> = Sym::new("applied");
/// A change to a volume's labels (`volctl label`).
pub const LABEL_CHANGE: Sym<crate::labels::Change> = Sym::new("label_change");
/// The backend a volume is to move to (`migrate`).
pub const TARGET_BACKEND: Sym<String> = Sym::new("target_backend");
/// The volume type a volume is to get (`retype`).
pub const NEW_TYPE: Sym<String> = Sym::new("new_type");
/// The volume type a migration's target must satisfy (`retype --migrate`);
/// `None`: the volume's own.
pub const TARGET_TYPE: Sym<Option<String>> = Sym::new("target_type");
/// Delete even a volume in an unsettled state (`delete --force`).
pub const FORCE: Sym<bool> = Sym::new("force");

// ---- create: api flow -----------------------------------------------------

/// The create request as the user gave it.
pub const REQUEST: Sym<CreateRequest> = Sym::new("request");
/// The request validated and resolved (type, source, size).
pub const VOLUME_REQUEST: Sym<VolumeRequest> = Sym::new("volume_request");
/// The quota held for the volume until it is committed.
pub const RESERVATION: Sym<Reservation> = Sym::new("reservation");
/// The scheduler cast the api flow queued.
pub const CAST_ID: Sym<i64> = Sym::new("cast_id");

// ---- create: scheduler flow -----------------------------------------------

/// The scheduler cast's message, the scheduler flow's input. Stored as
/// `request_spec` (as in Cinder); the manager flow's input of the same
/// stored name is [`MANAGER_REQUEST`], a different type in a different flow.
pub const SCHEDULER_REQUEST: Sym<SchedulerRequest> = Sym::new("request_spec");
/// The scheduler's working copy of its request.
pub const SCHEDULER_SPEC: Sym<SchedulerRequest> = Sym::new("scheduler_spec");
/// The backend the scheduler chose.
pub const BACKEND: Sym<String> = Sym::new("backend");
/// The manager cast the scheduler queued.
pub const MANAGER_CAST_ID: Sym<i64> = Sym::new("manager_cast_id");

// ---- create: manager flow -------------------------------------------------

/// The manager cast's message, the manager flow's input (stored as
/// `request_spec`; see [`SCHEDULER_REQUEST`]).
pub const MANAGER_REQUEST: Sym<ManagerRequest> = Sym::new("request_spec");
/// What the manager is to make on its backend.
pub const VOLUME_SPEC: Sym<VolumeSpec> = Sym::new("volume_spec");

// ---- export ----------------------------------------------------------------

/// What to export, where and how.
pub const EXPORT: Sym<ExportRequest> = Sym::new("export");
/// The source as the export found and marked it.
pub const EXPORT_SOURCE: Sym<Exporting> = Sym::new("export_source");
/// The file the export wrote.
pub const EXPORTED: Sym<Exported> = Sym::new("exported");
/// The converted file in the export's work directory, before it is placed.
pub const EXPORT_STAGED: Sym<Staged> = Sym::new("export_staged");

// ---- manage ----------------------------------------------------------------

/// What `manage` was asked.
pub const MANAGE: Sym<ManageRequest> = Sym::new("manage");
/// The adopted object's own name within its backend (file or LV name).
pub const FOREIGN_NAME: Sym<String> = Sym::new("foreign_name");

// ---- snapshots --------------------------------------------------------------

/// The id of the snapshot a flow acts on.
pub const SNAPSHOT_ID: Sym<String> = Sym::new("snapshot_id");
/// The snapshot's row.
pub const SNAPSHOT: Sym<Snapshot> = Sym::new("snapshot");
/// A name the user gave (snapshot or image), if any.
pub const NAME: Sym<Option<String>> = Sym::new("name");

// ---- images -----------------------------------------------------------------

/// The id of the image a flow acts on.
pub const IMAGE_ID: Sym<String> = Sym::new("image_id");
/// The file an image is imported from.
pub const SOURCE: Sym<PathBuf> = Sym::new("source");
/// The format the user declared, if any.
pub const FORMAT: Sym<Option<Format>> = Sym::new("format");
/// The format the image was found to have.
pub const IMAGE_FORMAT: Sym<Format> = Sym::new("image_format");
/// The image's name in the catalog.
pub const IMAGE_NAME: Sym<String> = Sym::new("image_name");
/// The image's file in the catalog.
pub const IMAGE_PATH: Sym<PathBuf> = Sym::new("image_path");
/// The size of the image's file, in bytes.
pub const IMAGE_BYTES: Sym<u64> = Sym::new("image_bytes");
/// What `qemu-img info` said of the image.
pub const IMAGE_INFO: Sym<Info> = Sym::new("image_info");
/// The image's catalog row.
pub const IMAGE: Sym<Image> = Sym::new("image");
/// The cache entries made from an image being deleted.
pub const CACHE_ENTRIES: Sym<Vec<CacheEntry>> = Sym::new("cache_entries");
