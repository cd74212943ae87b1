//! The LVM driver: a logical volume per object in a volume group, thick or
//! in a thin pool, driven through the lvm2 tools with arguments (never a
//! shell) and JSON reports. Names come from ids (`volume-<id>`), never from
//! user input.
//!
//! - Thin: copies (snapshots, clones, volumes from the image cache) are thin
//!   snapshots, activated; free space is the pool's.
//! - Thick: copies are block copies into a new LV; snapshots are classic
//!   copy-on-write snapshots (`lvcreate -s`) sized like their origin, so they
//!   cannot overflow; volume LVs are zeroed when deleted, so a new volume
//!   never shows an old one's data (thin LVs read zeros by themselves).
//! - Images are written with `qemu-img convert -n` onto the LV.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::{AttachMode, Driver, ImageSource, Io, Obj, ObjectKind, Phase, Stats, qemu_img};
use crate::config::BackendConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::units::Bytes;

const CHUNK: usize = 4 << 20;
/// `BLKZEROOUT` = `_IO(0x12, 127)`.
const BLKZEROOUT: libc::c_ulong = 0x127f;
/// `BLKDISCARD` = `_IO(0x12, 119)`.
const BLKDISCARD: libc::c_ulong = 0x1277;
/// `BLKGETSIZE64` = `_IOR(0x12, 114, size_t)`.
const BLKGETSIZE64: libc::c_ulong = 0x8008_1272;

/// An LVM backend.
pub struct Lvm {
    cfg: BackendConfig,
    vg: String,
    pool: Option<String>,
    /// `volctl_store_<store id>`: the tag with which the store claims the
    /// VG and marks every LV it makes.
    tag: String,
    claimed: std::sync::OnceLock<()>,
}

const TAG_PREFIX: &str = "volctl_store_";

/// What an lvm2 failure means, from lvm's own message.
///
/// NOTE: lvm2 has no machine-readable error codes, so this matches its
/// English messages (it runs with `LC_ALL=C`); a reworded message falls
/// through to `backend`, which reschedules — the safe default.
pub fn classify(stderr: &str) -> ErrorKind {
    let s = stderr.to_ascii_lowercase();
    if s.contains("insufficient free space")
        || s.contains("insufficient suitable")
        || s.contains("free space in thin pool")
        || s.contains("thin pool") && (s.contains("full") || s.contains("out of data space"))
        || s.contains("no space left")
    {
        ErrorKind::NoSpace
    } else if s.contains("lock") && s.contains("timeout") {
        ErrorKind::Transient
    } else {
        ErrorKind::Backend
    }
}

/// The rows of one kind (`lv`, `vg`) of an lvm2 JSON report.
pub fn report_rows(json: &str, kind: &str) -> Result<Vec<Value>> {
    let v: Value = serde_json::from_str(json)
        .map_err(|e| Error::new(ErrorKind::Backend, format!("lvm report is not JSON: {e}")))?;
    Ok(v["report"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r[kind].as_array().cloned().unwrap_or_default())
        .collect())
}

fn num(v: &Value, field: &str) -> f64 {
    match &v[field] {
        Value::String(s) => s.trim().trim_end_matches('B').parse().unwrap_or(0.0),
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        _ => 0.0,
    }
}

impl Lvm {
    /// The driver for `cfg` (whose `volume_group` is set).
    pub fn new(cfg: BackendConfig, store_id: &str) -> Self {
        let vg = cfg.volume_group.clone().unwrap_or_default();
        let pool = cfg.thin_pool.clone();
        Lvm {
            cfg,
            vg,
            pool,
            tag: format!("{TAG_PREFIX}{store_id}"),
            claimed: std::sync::OnceLock::new(),
        }
    }

    /// The VG's volctl claim tags.
    fn vg_claims(&self) -> Result<Vec<String>> {
        let out = self.run(&["vgs", "--reportformat", "json", "-o", "vg_tags", &self.vg])?;
        Ok(report_rows(&out, "vg")?
            .first()
            .and_then(|r| r["vg_tags"].as_str().map(str::to_string))
            .unwrap_or_default()
            .split(',')
            .filter(|t| t.starts_with(TAG_PREFIX))
            .map(str::to_string)
            .collect())
    }

    fn foreign(&self, claims: &[String]) -> Result<()> {
        match claims.iter().find(|t| **t != self.tag) {
            Some(other) => Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "backend `{}`: volume group {} belongs to another volctl store (tag {other}; this one is {}): \
                     two state directories must not share a VG",
                    self.cfg.name(),
                    self.vg,
                    self.tag
                ),
            )),
            None => Ok(()),
        }
    }

    /// Claims the VG with the store's tag (once per process), or refuses a
    /// VG another store claimed.
    fn claim(&self) -> Result<()> {
        if self.claimed.get().is_some() {
            return Ok(());
        }
        let claims = self.vg_claims()?;
        self.foreign(&claims)?;
        if claims.is_empty() {
            self.run(&["vgchange", "--addtag", &self.tag, &self.vg])?;
        }
        let _ = self.claimed.set(());
        Ok(())
    }

    /// Whether an existing LV bears this store's tag.
    fn lv_is_ours(&self, obj: Obj<'_>) -> Result<bool> {
        let out = self.run(&[
            "lvs",
            "--reportformat",
            "json",
            "-o",
            "lv_tags",
            &self.lv(obj),
        ])?;
        Ok(report_rows(&out, "lv")?
            .first()
            .and_then(|r| {
                r["lv_tags"]
                    .as_str()
                    .map(|t| t.split(',').any(|t| t == self.tag))
            })
            .unwrap_or(false))
    }

    /// Before making `obj`: an LV already there is reused only if this store
    /// made it (an interrupted run of the same task); anything else is moved
    /// aside, never adopted. Returns whether a usable one exists.
    fn prepare_new(&self, obj: Obj<'_>) -> Result<bool> {
        self.claim()?;
        if self.lv_size(obj)?.is_none() {
            return Ok(false);
        }
        if self.lv_is_ours(obj)? {
            return Ok(true);
        }
        let to = self.quarantine(obj)?;
        tracing::warn!(
            "LV {} existed and is not this store's: renamed to {to}",
            self.lv(obj)
        );
        Ok(false)
    }

    fn lv(&self, obj: Obj<'_>) -> String {
        format!("{}/{}", self.vg, obj.name())
    }

    fn device(&self, obj: Obj<'_>) -> String {
        format!("/dev/{}/{}", self.vg, obj.name())
    }

    /// Runs an lvm2 command; its stdout, or a typed error with lvm's message.
    fn run(&self, args: &[&str]) -> Result<String> {
        let mut cmd = Command::new("lvm");
        cmd.args(args)
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .env("LC_ALL", "C");
        // NOTE: lvm2 is found on PATH. Its output is bounded and it gets a
        // generous wall-clock limit (a hung device can stall it forever).
        let bounds = crate::child::Bounds {
            stdout_head: 16 << 20,
            wall: std::time::Duration::from_secs(600),
            ..Default::default()
        };
        let out = crate::child::run(cmd, bounds, None).map_err(|e| {
            Error::new(
                ErrorKind::Backend,
                format!(
                    "backend `{}`: running lvm: {e} (is lvm2 installed?)",
                    self.cfg.name()
                ),
            )
        })?;
        let status = match out.ended {
            crate::child::Ended::Exited(st) => st,
            _ => {
                return Err(Error::new(
                    ErrorKind::Backend,
                    format!(
                        "backend `{}`: lvm {} did not finish within 600 s and was killed",
                        self.cfg.name(),
                        args[0]
                    ),
                ));
            }
        };
        if status.success() {
            let Some(stdout) = out.stdout.complete() else {
                return Err(Error::new(
                    ErrorKind::Backend,
                    format!(
                        "backend `{}`: lvm {} printed more than 16 MiB",
                        self.cfg.name(),
                        args[0]
                    ),
                ));
            };
            return Ok(String::from_utf8_lossy(&stdout).into_owned());
        }
        let msg = out.stderr.text();
        let msg: Vec<&str> = msg
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let msg = msg.join("; ");
        Err(Error::new(
            classify(&msg),
            format!("backend `{}`: lvm {}: {msg}", self.cfg.name(), args[0]),
        ))
    }

    fn lv_size(&self, obj: Obj<'_>) -> Result<Option<u64>> {
        let lv = self.lv(obj);
        match self.run(&[
            "lvs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "--nosuffix",
            "-o",
            "lv_size",
            &lv,
        ]) {
            Ok(out) => Ok(report_rows(&out, "lv")?
                .first()
                .map(|r| num(r, "lv_size") as u64)),
            Err(e) if e.message.contains("Failed to find") || e.message.contains("not found") => {
                // A missing VG is a backend fault, not a missing object.
                if e.message.contains("Volume group") && !e.message.contains("logical volume") {
                    return Err(e);
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Sets the LV's permission to read-only or read-write, unless it is
    /// so already (`lvchange` refuses a change to what is).
    fn set_read_only(&self, obj: Obj<'_>, read_only: bool) -> Result<()> {
        let out = self.run(&[
            "lvs",
            "--reportformat",
            "json",
            "-o",
            "lv_attr",
            &self.lv(obj),
        ])?;
        let attr = report_rows(&out, "lv")?
            .first()
            .and_then(|r| r["lv_attr"].as_str().map(String::from))
            .unwrap_or_default();
        // The second attribute is the permission: (w)ritable, (r)ead-only
        // (or `R`, a writable LV activated read-only, which is not volctl's
        // doing and is left alone).
        let is_read_only = attr.chars().nth(1) == Some('r');
        if is_read_only != read_only {
            let perm = if read_only { "r" } else { "rw" };
            self.run(&["lvchange", "-y", "--permission", perm, &self.lv(obj)])?;
        }
        Ok(())
    }

    /// Creates an LV of `bytes` (thin in the pool, or thick) unless it exists.
    fn lvcreate(&self, obj: Obj<'_>, bytes: u64) -> Result<()> {
        if self.prepare_new(obj)? {
            return Ok(());
        }
        self.lvcreate_new(obj, bytes)
    }

    /// Creates an LV of `bytes` that [`Lvm::prepare_new`] found absent.
    fn lvcreate_new(&self, obj: Obj<'_>, bytes: u64) -> Result<()> {
        let size = format!("{bytes}b");
        let name = obj.name();
        match &self.pool {
            Some(pool) => {
                let pool = format!("{}/{pool}", self.vg);
                self.run(&[
                    "lvcreate",
                    "-y",
                    "-Wn",
                    "--addtag",
                    &self.tag,
                    "-V",
                    &size,
                    "--thinpool",
                    &pool,
                    "-n",
                    &name,
                ])?
            }
            None => self.run(&[
                "lvcreate", "-y", "-Wn", "--addtag", &self.tag, "-L", &size, "-n", &name, &self.vg,
            ])?,
        };
        Ok(())
    }

    fn open_device(&self, obj: Obj<'_>, write: bool) -> Result<File> {
        let dev = self.device(obj);
        OpenOptions::new()
            .read(true)
            .write(write)
            .open(&dev)
            .map_err(|e| {
                Error::backend_io(format!("backend `{}`: opening {dev}", self.cfg.name()), &e)
            })
    }

    /// Copies `len` bytes from one device to another, zeros included (the
    /// target is a thick LV that may hold old data).
    fn copy_blocks(&self, from: Obj<'_>, to: Obj<'_>, len: u64, io: &Io<'_>) -> Result<()> {
        let src = self.open_device(from, false)?;
        let dst = self.open_device(to, true)?;
        let mut buf = vec![0u8; CHUNK];
        let mut pos = 0u64;
        let err = |what: &str, e: io::Error| {
            Error::backend_io(format!("backend `{}`: {what}", self.cfg.name()), &e)
        };
        while pos < len {
            if io.cancel.is_cancelled() {
                return Err(Error::new(ErrorKind::Cancelled, "cancelled while copying"));
            }
            let n = ((len - pos) as usize).min(CHUNK);
            src.read_exact_at(&mut buf[..n], pos)
                .map_err(|e| err("reading", e))?;
            dst.write_all_at(&buf[..n], pos)
                .map_err(|e| err("writing", e))?;
            pos += n as u64;
            io.report(Phase::Copying, pos, len);
        }
        dst.sync_all().map_err(|e| err("syncing", e))
    }

    /// Zeroes a whole device (write-zeroes offload where the disk has it).
    /// Runs a whole-device range ioctl (BLKZEROOUT, BLKDISCARD) on an LV.
    fn block_range(&self, obj: Obj<'_>, req: libc::c_ulong, what: &str) -> Result<()> {
        let dev = self.open_device(obj, true)?;
        let mut size: u64 = 0;
        // SAFETY: BLKGETSIZE64 writes a u64; the range ioctls read two u64s.
        let r = unsafe { libc::ioctl(dev.as_raw_fd(), BLKGETSIZE64 as _, &mut size) };
        if r < 0 {
            return Err(Error::backend_io(
                "BLKGETSIZE64",
                &io::Error::last_os_error(),
            ));
        }
        let range: [u64; 2] = [0, size];
        let r = unsafe { libc::ioctl(dev.as_raw_fd(), req as _, &range) };
        if r < 0 {
            return Err(Error::backend_io(
                format!("backend `{}`: {what} {}", self.cfg.name(), self.device(obj)),
                &io::Error::last_os_error(),
            ));
        }
        Ok(())
    }
}

impl Driver for Lvm {
    fn config(&self) -> &BackendConfig {
        &self.cfg
    }

    fn stats(&self) -> Result<Stats> {
        match &self.pool {
            Some(pool) => {
                let lv = format!("{}/{pool}", self.vg);
                let out = self.run(&[
                    "lvs",
                    "--reportformat",
                    "json",
                    "--units",
                    "b",
                    "--nosuffix",
                    "-o",
                    "lv_size,data_percent,vg_extent_size",
                    &lv,
                ])?;
                let row = report_rows(&out, "lv")?.into_iter().next().ok_or_else(|| {
                    Error::new(
                        ErrorKind::Backend,
                        format!("backend `{}`: no thin pool {lv}", self.cfg.name()),
                    )
                })?;
                let total = num(&row, "lv_size");
                let used = num(&row, "data_percent") / 100.0;
                Ok(Stats {
                    total: Bytes(total as u64),
                    free: Bytes((total * (1.0 - used)).max(0.0) as u64),
                    thin: true,
                    allocation_unit: Bytes(num(&row, "vg_extent_size") as u64),
                })
            }
            None => {
                let out = self.run(&[
                    "vgs",
                    "--reportformat",
                    "json",
                    "--units",
                    "b",
                    "--nosuffix",
                    "-o",
                    "vg_size,vg_free,vg_extent_size",
                    &self.vg,
                ])?;
                let row = report_rows(&out, "vg")?.into_iter().next().ok_or_else(|| {
                    Error::new(
                        ErrorKind::Backend,
                        format!("backend `{}`: no volume group {}", self.cfg.name(), self.vg),
                    )
                })?;
                Ok(Stats {
                    total: Bytes(num(&row, "vg_size") as u64),
                    free: Bytes(num(&row, "vg_free") as u64),
                    thin: false,
                    allocation_unit: Bytes(num(&row, "vg_extent_size") as u64),
                })
            }
        }
    }

    fn stats_ttl(&self) -> Option<Duration> {
        Some(Duration::from_secs(self.cfg.stats_cache_seconds))
    }

    fn path(&self, obj: Obj<'_>) -> String {
        self.device(obj)
    }

    fn create(&self, obj: Obj<'_>, size: Bytes) -> Result<String> {
        self.lvcreate(obj, size.get())?;
        Ok(self.device(obj))
    }

    fn copy(
        &self,
        from: Obj<'_>,
        to: Obj<'_>,
        grow_to: Option<Bytes>,
        io: &Io<'_>,
    ) -> Result<String> {
        let size_bytes = grow_to.map(Bytes::get);
        let src_len = self.lv_size(from)?.ok_or_else(|| {
            Error::not_found(format!(
                "backend `{}`: no LV {}",
                self.cfg.name(),
                self.lv(from)
            ))
        })?;
        // A snapshot is made at once, so one that exists is complete; a
        // block copy that exists may have been cut short by a crash, so it
        // is always done (again).
        let exists = self.prepare_new(to)?;
        match (&self.pool, to.kind) {
            // Thin: a thin snapshot, activated (-kn: no activation skip).
            (Some(_), _) => {
                if !exists {
                    let origin = self.lv(from);
                    self.run(&[
                        "lvcreate",
                        "-y",
                        "-s",
                        "-kn",
                        "--addtag",
                        &self.tag,
                        "-n",
                        &to.name(),
                        &origin,
                    ])?;
                }
            }
            // Thick snapshot: copy-on-write, as big as its origin.
            (None, ObjectKind::Snapshot) => {
                if !exists {
                    let origin = self.lv(from);
                    let size = format!("{src_len}b");
                    self.run(&[
                        "lvcreate",
                        "-y",
                        "-s",
                        "--addtag",
                        &self.tag,
                        "-L",
                        &size,
                        "-n",
                        &to.name(),
                        &origin,
                    ])?;
                }
                return Ok(self.device(to));
            }
            // Thick copy: a new LV and every block.
            (None, _) => {
                // `exists` already came from prepare_new: no second look.
                if !exists {
                    self.lvcreate_new(to, size_bytes.unwrap_or(src_len))?;
                }
                let len = src_len.min(size_bytes.unwrap_or(src_len));
                self.copy_blocks(from, to, len, io)?;
            }
        }
        if let Some(want) = size_bytes
            && self.pool.is_some()
            && self.lv_size(to)?.is_some_and(|have| have < want)
        {
            let size = format!("{want}b");
            self.run(&["lvextend", "-y", "-L", &size, &self.lv(to)])?;
        }
        io.report(Phase::Copying, src_len, src_len);
        Ok(self.device(to))
    }

    fn import_image(
        &self,
        image: &ImageSource<'_>,
        to: Obj<'_>,
        size: Bytes,
        io: &Io<'_>,
    ) -> Result<String> {
        self.lvcreate(to, size.get())?;
        qemu_img::convert(
            image.path,
            image.format,
            std::path::Path::new(&self.device(to)),
            image.virtual_size,
            io,
        )
        .map_err(|e| e.context(format!("backend `{}`", self.cfg.name())))?;
        Ok(self.device(to))
    }

    fn delete_wiped(&self, obj: Obj<'_>, wipe: crate::config::Wipe) -> Result<()> {
        if self.lv_size(obj)?.is_none() {
            return Ok(());
        }
        if obj.kind != ObjectKind::Snapshot {
            match wipe {
                crate::config::Wipe::None => {}
                crate::config::Wipe::Discard => self.block_range(obj, BLKDISCARD, "discarding")?,
                crate::config::Wipe::Zero => self.block_range(obj, BLKZEROOUT, "zeroing")?,
            }
        }
        self.run(&["lvremove", "-y", &self.lv(obj)])?;
        Ok(())
    }

    fn claimed(&self) -> Result<()> {
        if self.claimed.get().is_some() {
            return Ok(());
        }
        self.foreign(&self.vg_claims()?)
    }

    fn quarantine(&self, obj: Obj<'_>) -> Result<String> {
        // Renamed, not removed: `orphan-<name>` is no name volctl lists.
        let to = format!("orphan-{}", obj.name());
        self.run(&["lvrename", &self.vg, &obj.name(), &to])?;
        Ok(format!("{}/{to}", self.vg))
    }

    fn quarantined(&self) -> Result<Vec<String>> {
        let out = self.run(&["lvs", "--reportformat", "json", "-o", "lv_name", &self.vg])?;
        Ok(report_rows(&out, "lv")?
            .iter()
            .filter_map(|r| r["lv_name"].as_str())
            .filter(|n| n.starts_with("orphan-"))
            .map(str::to_string)
            .collect())
    }

    fn purge(&self, name: &str) -> Result<()> {
        if !name.starts_with("orphan-") || name.contains('/') {
            return Err(Error::invalid(format!("`{name}` is not a quarantined LV")));
        }
        self.run(&["lvremove", "-y", &format!("{}/{name}", self.vg)])?;
        Ok(())
    }

    fn size(&self, obj: Obj<'_>) -> Result<Option<Bytes>> {
        Ok(self.lv_size(obj)?.map(Bytes))
    }

    fn list(&self, kind: ObjectKind) -> Result<Vec<String>> {
        let out = self.run(&["lvs", "--reportformat", "json", "-o", "lv_name", &self.vg])?;
        let prefix = format!("{}-", kind.prefix());
        let mut ids: Vec<String> = report_rows(&out, "lv")?
            .iter()
            .filter_map(|r| {
                r["lv_name"]
                    .as_str()?
                    .strip_prefix(&prefix)
                    .map(str::to_string)
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    fn cheap_copies(&self) -> bool {
        self.pool.is_some()
    }

    fn attachable(&self) -> bool {
        false
    }

    fn extend(&self, obj: Obj<'_>, size: Bytes, _device: Option<&str>) -> Result<()> {
        let have = self.lv_size(obj)?.ok_or_else(|| {
            Error::not_found(format!(
                "backend `{}`: no LV {}",
                self.cfg.name(),
                self.lv(obj)
            ))
        })?;
        if have < size.get() {
            // Thin or thick alike; the LV stays active, and device-mapper
            // shows every opener the new size at once.
            let want = format!("{}b", size.get());
            self.run(&["lvextend", "-y", "-L", &want, &self.lv(obj)])?;
        }
        Ok(())
    }

    fn inspect_foreign(&self, object: &str) -> Result<(String, Bytes)> {
        self.claim()?;
        let bad = |why: &str| Error::invalid(format!("LV `{object}`: {why}"));
        let name = object
            .strip_prefix(&format!("{}/", self.vg))
            .or_else(|| object.strip_prefix(&format!("/dev/{}/", self.vg)))
            .unwrap_or(object);
        if name.is_empty()
            || name.contains('/')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+_.-".contains(c))
        {
            return Err(bad(&format!("not an LV name in VG {}", self.vg)));
        }
        if [ObjectKind::Volume, ObjectKind::Snapshot, ObjectKind::Cache]
            .iter()
            .any(|k| name.starts_with(&format!("{}-", k.prefix())))
        {
            return Err(bad("volctl's own name: it is an object already"));
        }
        let lv = format!("{}/{name}", self.vg);
        let out = self
            .run(&[
                "lvs",
                "--reportformat",
                "json",
                "--units",
                "b",
                "--nosuffix",
                "-o",
                "lv_size,lv_attr,pool_lv,lv_tags",
                &lv,
            ])
            .map_err(|e| Error::not_found(format!("LV {lv}: {}", e.message)))?;
        let row = report_rows(&out, "lv")?
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found(format!("no LV {lv}")))?;
        let attr = row["lv_attr"].as_str().unwrap_or_default();
        let kind = attr.chars().next().unwrap_or('?');
        let pool = row["pool_lv"].as_str().unwrap_or_default();
        match &self.pool {
            Some(p) if kind == 'V' && pool == p => {}
            None if kind == '-' => {}
            Some(p) => return Err(bad(&format!("not a thin volume of pool {p}"))),
            None => return Err(bad("not a plain (thick) LV with no snapshots")),
        }
        if attr.chars().nth(5) == Some('o') {
            return Err(Error::conflict(format!(
                "LV {lv} is open: stop what holds it first"
            )));
        }
        let tags = row["lv_tags"].as_str().unwrap_or_default();
        if tags
            .split(',')
            .any(|t| t.starts_with(TAG_PREFIX) && t != self.tag)
        {
            return Err(bad("it belongs to another volctl store"));
        }
        Ok((name.to_string(), Bytes(num(&row, "lv_size") as u64)))
    }

    fn adopt(&self, name: &str, obj: Obj<'_>) -> Result<String> {
        self.claim()?;
        let src_exists = self.run(&["lvs", &format!("{}/{name}", self.vg)]).is_ok();
        if src_exists || self.lv_size(obj)?.is_none() {
            self.run(&["lvrename", &self.vg, name, &obj.name()])?;
        }
        self.run(&["lvchange", "--addtag", &self.tag, &self.lv(obj)])?;
        Ok(self.device(obj))
    }

    fn release(&self, obj: Obj<'_>, name: &str) -> Result<String> {
        self.claim()?;
        if self.lv_size(obj)?.is_some() {
            self.run(&["lvchange", "--deltag", &self.tag, &self.lv(obj)])?;
            self.run(&["lvrename", &self.vg, &obj.name(), name])?;
        }
        Ok(format!("/dev/{}/{name}", self.vg))
    }

    fn revert_to(&self, volume: Obj<'_>, snapshot: Obj<'_>, _io: &Io<'_>) -> Result<()> {
        if self.pool.is_none() {
            return Err(Error::invalid(format!(
                "backend `{}`: reverting to a snapshot is not supported on thick LVM (an \
                 in-place copy could not be undone and `lvconvert --merge` consumes the \
                 snapshot); make a new volume from it instead: `volctl create --from-snapshot`",
                self.cfg.name()
            )));
        }
        if let Some(why) = self.device_busy(&self.device(volume)) {
            return Err(Error::conflict(format!(
                "volume {}: {why}; stop what holds it first",
                volume.id
            )));
        }
        let copy_id = super::revert_copy_id(volume.id);
        let copy = Obj::volume(&copy_id);
        let old_id = format!("{}.old", volume.id);
        let old = Obj::volume(&old_id);
        // Idempotent steps (a resumed revert finds some of them done): the
        // copy, a thin snapshot of the snapshot; the volume renamed away;
        // the copy renamed to the volume; the old one removed.
        if self.lv_size(old)?.is_none() {
            if self.lv_size(copy)?.is_some() {
                self.revert_cleanup(volume)?;
            }
            self.prepare_new(copy)?;
            self.run(&[
                "lvcreate",
                "-y",
                "-s",
                "-kn",
                "--addtag",
                &self.tag,
                "-n",
                &copy.name(),
                &self.lv(snapshot),
            ])?;
            self.run(&["lvrename", &self.vg, &volume.name(), &old.name()])?;
        }
        if self.lv_size(copy)?.is_some() {
            self.run(&["lvrename", &self.vg, &copy.name(), &volume.name()])?;
        }
        if self.lv_size(old)?.is_some() && self.lv_is_ours(old)? {
            self.run(&["lvremove", "-y", &self.lv(old)])?;
        }
        Ok(())
    }

    fn revert_cleanup(&self, volume: Obj<'_>) -> Result<()> {
        let copy_id = super::revert_copy_id(volume.id);
        let copy = Obj::volume(&copy_id);
        let old_id = format!("{}.old", volume.id);
        // Renamed away but not back: the volume's old data is its LV again.
        if self.lv_size(Obj::volume(&old_id))?.is_some() && self.lv_size(volume)?.is_none() {
            self.run(&[
                "lvrename",
                &self.vg,
                &format!("volume-{old_id}"),
                &volume.name(),
            ])?;
        }
        if self.lv_size(copy)?.is_some() && self.lv_is_ours(copy)? {
            self.run(&["lvremove", "-y", &self.lv(copy)])?;
        }
        Ok(())
    }

    fn unextend(&self, obj: Obj<'_>, size: Bytes) -> Result<bool> {
        let Some(have) = self.lv_size(obj)? else {
            return Ok(true);
        };
        if have <= size.get() {
            return Ok(true);
        }
        // An LV is always a device: only one nothing holds open may lose
        // the space it was just given.
        if self.device_busy(&self.device(obj)).is_some() {
            return Ok(false);
        }
        let want = format!("{}b", size.get());
        self.run(&["lvreduce", "-y", "-f", "-L", &want, &self.lv(obj)])?;
        Ok(true)
    }

    fn attach(&self, obj: Obj<'_>, mode: AttachMode) -> Result<String> {
        if mode.partscan {
            return Err(Error::invalid(format!(
                "backend `{}`: --partscan is for loop devices; the kernel does not scan an LV's partitions (use `kpartx` on the LV)",
                self.cfg.name()
            )));
        }
        // A logical volume is a block device already. Read-only is the LV's
        // own permission, kept in the VG's metadata, so it outlives a
        // reboot as the attachment does. Never set under a user of the LV;
        // a read-write attachment leaves the permission as it is.
        if mode.read_only {
            let dev = self.device(obj);
            if let Some(why) = self.device_busy(&dev) {
                return Err(Error::conflict(format!(
                    "{why}; it cannot be made read-only under its user"
                )));
            }
            self.set_read_only(obj, true)?;
        }
        Ok(self.device(obj))
    }

    fn detach(&self, obj: Obj<'_>, device: &str, mode: AttachMode) -> Result<()> {
        // Nothing to unbind, but "detached" must not be said of a mounted LV.
        if self.exposes(obj, device)? {
            if let Some(why) = self.device_busy(device) {
                return Err(Error::conflict(format!(
                    "{why}; volctl never detaches a device in use (unmount it first)"
                )));
            }
            // Writable again if the attachment made it read-only (and only
            // then: a permission set outside volctl is left alone).
            if mode.read_only {
                self.set_read_only(obj, false)?;
            }
        }
        Ok(())
    }

    fn exposes(&self, obj: Obj<'_>, device: &str) -> Result<bool> {
        Ok(device == self.device(obj) && std::path::Path::new(device).exists())
    }

    fn device_of(&self, _obj: Obj<'_>) -> Option<String> {
        None
    }

    fn attachments(&self) -> Result<Vec<(String, String)>> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lvm_failures_are_typed_by_lvm_s_own_message() {
        assert_eq!(
            classify(
                "Volume group \"vg0\" has insufficient free space (10 extents): 256 required."
            ),
            ErrorKind::NoSpace
        );
        assert_eq!(
            classify(
                "Cannot create new thin volume, free space in thin pool vg1/pool0 reached threshold."
            ),
            ErrorKind::NoSpace
        );
        assert_eq!(
            classify("Volume group \"nope\" not found"),
            ErrorKind::Backend
        );
        assert_eq!(
            classify("Logical Volume \"volume-x\" already exists in volume group \"vg0\""),
            ErrorKind::Backend
        );
    }

    #[test]
    fn reports_are_parsed() {
        let json = r#"{ "report": [ { "lv": [ {"lv_name":"pool0", "lv_size":"1073741824", "data_percent":"25.00"} ] } ] }"#;
        let rows = report_rows(json, "lv").unwrap();
        assert_eq!(num(&rows[0], "lv_size"), 1073741824.0);
        assert_eq!(num(&rows[0], "data_percent"), 25.0);
        let json = r#"{ "report": [ { "vg": [ {"vg_name":"vg0", "vg_size":"2147483648B", "vg_free":"1073741824B"} ] } ] }"#;
        assert_eq!(
            num(&report_rows(json, "vg").unwrap()[0], "vg_free"),
            1073741824.0
        );
    }
}
