//! Backends: where volumes live. A [`Driver`] per configured backend.

pub mod copy;
pub mod loopback;
pub mod loopdev;
pub mod lvm;
pub mod qemu_img;

use crate::units::Bytes;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::{BackendConfig, Capability, Config, DriverKind};
use crate::error::{Error, Result};
use crate::flow::CancelToken;
pub use qemu_img::Format;

/// What a backend reports about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Capacity.
    pub total: crate::units::Bytes,
    /// Free space.
    pub free: crate::units::Bytes,
    /// Whether volumes are thin (sparse).
    pub thin: bool,
    /// What sizes are rounded up to beyond volctl's MiB (an LVM volume
    /// group's extent size); 0 when nothing more (absent from stats cached
    /// before it was recorded).
    #[serde(default)]
    pub allocation_unit: crate::units::Bytes,
}

/// How a volume is exposed as a block device (`attach --read-only`,
/// `--partscan`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachMode {
    /// The kernel refuses writes through the device.
    pub read_only: bool,
    /// The kernel reads the device's partition table and makes a device
    /// per partition (`/dev/loopNpM`).
    pub partscan: bool,
}

impl std::fmt::Display for AttachMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.read_only {
            "read-only"
        } else {
            "read-write"
        })?;
        if self.partscan {
            f.write_str(", partitions scanned")?;
        }
        Ok(())
    }
}

/// What a backend object is. Objects are named `<kind>-<id>` from ids,
/// never from anything a user typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A volume.
    Volume,
    /// A snapshot of a volume.
    Snapshot,
    /// A cached raw copy of an image (keyed by the image's id).
    Cache,
}

impl ObjectKind {
    /// The name prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            ObjectKind::Volume => "volume",
            // Not "snapshot": LVM reserves LV names starting with it.
            ObjectKind::Snapshot => "snap",
            ObjectKind::Cache => "cache",
        }
    }
}

/// One object on a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Obj<'a> {
    /// What it is.
    pub kind: ObjectKind,
    /// The id of the volume, snapshot or image.
    pub id: &'a str,
}

impl<'a> Obj<'a> {
    /// A volume's object.
    pub fn volume(id: &'a str) -> Self {
        Obj {
            kind: ObjectKind::Volume,
            id,
        }
    }
    /// A snapshot's object.
    pub fn snapshot(id: &'a str) -> Self {
        Obj {
            kind: ObjectKind::Snapshot,
            id,
        }
    }
    /// An image's cache object.
    pub fn cache(image_id: &'a str) -> Self {
        Obj {
            kind: ObjectKind::Cache,
            id: image_id,
        }
    }
    /// `<kind>-<id>`.
    pub fn name(&self) -> String {
        format!("{}-{}", self.kind.prefix(), self.id)
    }
}

/// What a long operation is doing, for a person watching its progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// qemu-img converting an image into an object.
    Converting,
    /// Copying a volume into the image cache, for the next create.
    FillingCache,
    /// Copying one object into another.
    Copying,
    /// Copying an image's cached copy into a volume.
    CopyingFromCache,
}

impl Phase {
    /// The label a progress display shows.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Converting => "converting image",
            Phase::FillingCache => "filling the image cache",
            Phase::Copying => "copying",
            Phase::CopyingFromCache => "copying from the image cache",
        }
    }
}

/// The progress callback of an [`Io`]: (phase, done, total) bytes.
pub type ProgressFn<'a> = &'a (dyn Fn(Phase, u64, u64) + Sync);

/// What long operations report to and are stopped by.
#[derive(Clone, Copy)]
pub struct Io<'a> {
    /// Called with (phase, done, total) units (bytes).
    pub progress: ProgressFn<'a>,
    /// Checked between chunks; set means stop.
    pub cancel: &'a CancelToken,
    /// The phase to report instead of the operation's own (a copy into the
    /// image cache reports [`Phase::FillingCache`], not `Copying`).
    pub phase: Option<Phase>,
}

impl<'a> Io<'a> {
    /// Reports with the operation's own phase unless overridden.
    pub fn report(&self, own: Phase, done: u64, total: u64) {
        (self.progress)(self.phase.unwrap_or(own), done, total)
    }

    /// The same, reporting `phase` whatever the operation is.
    pub fn as_phase(&self, phase: Phase) -> Io<'a> {
        Io {
            phase: Some(phase),
            ..*self
        }
    }
}

/// An image to write into an object.
#[derive(Clone, Copy, Debug)]
pub struct ImageSource<'a> {
    /// The catalog's copy of the image.
    pub path: &'a Path,
    /// Its (checked) format.
    pub format: Format,
    /// The size of the disk it holds, bytes.
    pub virtual_size: u64,
    /// Another volume's object, not an image: a raw file may then be
    /// copied as a file is (a reflink, or its data extents) instead of
    /// converted (which also turns runs of zeros in an image into holes).
    pub is_volume: bool,
}

/// The id of the copy a snapshot revert makes beside volume `id` before it
/// swaps it in (listed as an object of no volume if a crash leaves it).
pub fn revert_copy_id(id: &str) -> String {
    format!("{id}.revert")
}

/// A backend's operations. Every one is idempotent — a flow that died while
/// running one runs it again.
pub trait Driver: Send + Sync {
    /// The backend's configuration.
    fn config(&self) -> &BackendConfig;

    /// The backend's name.
    fn name(&self) -> &str {
        self.config().name()
    }

    /// Capacity and free space.
    fn stats(&self) -> Result<Stats>;

    /// How long [`Driver::stats`] may be served from the store's cache
    /// (`None`: always ask; it is cheap).
    fn stats_ttl(&self) -> Option<std::time::Duration> {
        None
    }

    /// Where an object is (file path or LV path).
    fn path(&self, obj: Obj<'_>) -> String;

    /// Creates an empty object of `size`; returns its path.
    fn create(&self, obj: Obj<'_>, size: Bytes) -> Result<String>;

    /// Makes `to` a copy of `from` — shared extents or a thin snapshot where
    /// the backend can — grown to `grow_to` if given; returns its path.
    fn copy(
        &self,
        from: Obj<'_>,
        to: Obj<'_>,
        grow_to: Option<Bytes>,
        io: &Io<'_>,
    ) -> Result<String>;

    /// Writes an image's disk into `to`, made `size` long; returns its path.
    fn import_image(
        &self,
        image: &ImageSource<'_>,
        to: Obj<'_>,
        size: Bytes,
        io: &Io<'_>,
    ) -> Result<String>;

    /// Grows an object to `size` (nothing to do if it is that size or
    /// more: a resumed extend finds its work done) and makes a device that
    /// exposes it (`device`, re-checked) see the new size.
    fn extend(&self, obj: Obj<'_>, size: Bytes, device: Option<&str>) -> Result<()>;

    /// Undoes [`Driver::extend`] back to `size` where that is safe: nothing
    /// can have used the new space (no device exposes the object, none has
    /// it open). Returns whether it did; `false` leaves the object grown
    /// (shrinking could cut off what a running system already put there).
    fn unextend(&self, obj: Obj<'_>, size: Bytes) -> Result<bool>;

    /// Puts `snapshot`'s data back into `volume` (of the same size), in
    /// place: the volume keeps its id, name and path. The data is swapped in
    /// whole (a copy made beside the volume, then renamed over it), so a
    /// crash leaves the old data or the snapshot's, never a mix; a backend
    /// that cannot do that refuses. Refuses a volume something has open.
    fn revert_to(&self, volume: Obj<'_>, snapshot: Obj<'_>, io: &Io<'_>) -> Result<()>;

    /// Removes what an interrupted [`Driver::revert_to`] left beside the
    /// volume (its copy not yet swapped in).
    fn revert_cleanup(&self, volume: Obj<'_>) -> Result<()>;

    /// Checks that `object` — loopback: a file path in the backend's
    /// directory; LVM: an LV name in its VG — is a plain raw object nobody
    /// holds, that volctl could take as a volume (`manage`). Returns its
    /// name within the backend and its size. Changes nothing.
    fn inspect_foreign(&self, object: &str) -> Result<(String, Bytes)>;

    /// Renames the object `name` (within the backend) to `obj`'s name and
    /// marks it this store's; returns its path. Nothing to do if done.
    fn adopt(&self, name: &str, obj: Obj<'_>) -> Result<String>;

    /// The reverse of [`Driver::adopt`]: unmarks `obj` and renames it to
    /// `name`, a name volctl does not treat as its own; returns its path.
    fn release(&self, obj: Obj<'_>, name: &str) -> Result<String>;

    /// Removes an object, its data wiped first as the backend's policy
    /// says ([`crate::config::BackendConfig::default_wipe`]); nothing to do
    /// if it is gone.
    fn delete(&self, obj: Obj<'_>) -> Result<()> {
        self.delete_wiped(obj, self.config().default_wipe())
    }

    /// Removes an object, a volume's or a cache entry's data wiped first as
    /// `wipe` says (a snapshot's never: on thick LVM it is copy-on-write
    /// space of its origin); nothing to do if it is gone.
    fn delete_wiped(&self, obj: Obj<'_>, wipe: crate::config::Wipe) -> Result<()>;

    /// Moves an object volctl cannot prove is a volume's (no row) out of
    /// the way without destroying it: it stops being listed as an object,
    /// and [`Driver::quarantined`] lists it. Returns where it went.
    fn quarantine(&self, obj: Obj<'_>) -> Result<String>;

    /// What [`Driver::quarantine`] moved aside, by name.
    fn quarantined(&self) -> Result<Vec<String>>;

    /// Deletes one quarantined object for good (`check --purge-orphans`).
    fn purge(&self, name: &str) -> Result<()>;

    /// What an object is now, cheaply (loopback: device, inode, size and
    /// modification time): recorded when a cache entry is filled, compared
    /// on every hit, so a replaced or rewritten object is never served.
    /// `None` where the backend cannot tell.
    fn fingerprint(&self, _obj: Obj<'_>) -> Option<String> {
        None
    }

    /// An object's size, if it exists.
    fn size(&self, obj: Obj<'_>) -> Result<Option<Bytes>>;

    /// The ids of every object of `kind`.
    fn list(&self, kind: ObjectKind) -> Result<Vec<String>>;

    /// Refuses (an error naming both stores) a backend another volctl store
    /// has claimed. Reads only: a backend is claimed when an object is
    /// first made on it.
    fn claimed(&self) -> Result<()> {
        Ok(())
    }

    /// Why the backend is another store's, if it is (reads only; cheap).
    fn foreign_claim(&self) -> Option<String> {
        None
    }

    /// Whether [`Driver::copy`] is cheap (no data copied).
    fn cheap_copies(&self) -> bool;

    /// Whether volumes must be attached to become block devices (loop
    /// devices) — LVs are block devices already.
    fn attachable(&self) -> bool {
        true
    }

    /// Exposes a volume as a block device, as `mode` asks; returns its
    /// path. A device that already exposes this very volume in that mode
    /// is returned; one in another mode is a conflict.
    fn attach(&self, obj: Obj<'_>, mode: AttachMode) -> Result<String>;

    /// Exposes a volume again after it was unbound for a change under its
    /// attachment (a forced revert): as [`Driver::attach`], but the device
    /// it had is tried first, so its users keep their path.
    fn reattach(&self, obj: Obj<'_>, mode: AttachMode, device: &str) -> Result<String> {
        let _ = device;
        self.attach(obj, mode)
    }

    /// Removes the block device `device` of a volume, attached in `mode` —
    /// only if it really exposes this volume (else nothing to do), and never
    /// while it is mounted or held (a `conflict` error saying what holds it).
    /// What the attachment changed is undone (LVM: a read-only permission).
    fn detach(&self, obj: Obj<'_>, device: &str, mode: AttachMode) -> Result<()>;

    /// Whether `device` exposes this volume now (a recorded device goes
    /// stale: a reboot, `losetup -d`, reuse of the number). `Ok(false)` only
    /// on proof; an error when it cannot be told. Cheap.
    fn exposes(&self, obj: Obj<'_>, device: &str) -> Result<bool>;

    /// The device exposing this volume now, if any.
    fn device_of(&self, obj: Obj<'_>) -> Option<String>;

    /// Whether `device` is in use (mounted, held by another device, open
    /// exclusively), and by what.
    fn device_busy(&self, device: &str) -> Option<String> {
        loopdev::busy(Path::new(device))
    }

    /// Every block device exposing one of this backend's volumes now, as
    /// (device, volume id).
    fn attachments(&self) -> Result<Vec<(String, String)>>;
}

/// Capabilities every backend has, besides configured ones, for matching
/// volume type extra specs.
pub fn builtin_capabilities(cfg: &BackendConfig) -> BTreeMap<String, Capability> {
    let mut c = cfg.capabilities.clone();
    c.entry("volume_backend_name".into())
        .or_insert_with(|| Capability::Text(cfg.name().to_string()));
    c.entry("driver".into())
        .or_insert_with(|| Capability::Text(cfg.driver.to_string()));
    c.entry("thin_provisioning_support".into())
        .or_insert(Capability::Bool(cfg.thin));
    c.entry("thick_provisioning_support".into())
        .or_insert(Capability::Bool(!cfg.thin));
    c
}

/// The configured backends.
#[derive(Clone)]
pub struct Backends {
    drivers: Vec<Arc<dyn Driver>>,
}

impl Backends {
    /// A driver for every configured backend, each claimed (on first use)
    /// for the store `store_id`.
    pub fn from_config(cfg: &Config, store_id: &str) -> Result<Backends> {
        let drivers = cfg
            .backends
            .iter()
            .map(|b| -> Result<Arc<dyn Driver>> {
                match b.driver {
                    DriverKind::Loopback => {
                        Ok(Arc::new(loopback::Loopback::new(b.clone(), store_id)))
                    }
                    DriverKind::Lvm => Ok(Arc::new(lvm::Lvm::new(b.clone(), store_id))),
                }
            })
            .collect::<Result<_>>()?;
        Ok(Backends { drivers })
    }

    /// From ready-made drivers (tests).
    pub fn from_drivers(drivers: Vec<Arc<dyn Driver>>) -> Self {
        Backends { drivers }
    }

    /// All drivers, in configuration order.
    pub fn all(&self) -> &[Arc<dyn Driver>] {
        &self.drivers
    }

    /// The driver of backend `name`.
    pub fn get(&self, name: &str) -> Result<&Arc<dyn Driver>> {
        self.drivers
            .iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "backend `{name}` is not in the configuration (known: {})",
                    self.drivers
                        .iter()
                        .map(|d| d.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}
