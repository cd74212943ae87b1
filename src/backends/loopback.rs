//! The loopback driver: one sparse raw file per object in the backend's
//! directory (`volume-<id>`, `snap-<id>`, `cache-<image id>`), volumes
//! attached as loop devices on request. Copies are reflinks where the
//! filesystem can (XFS, btrfs), else sparse copies.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::copy;
use super::{AttachMode, Driver, ImageSource, Io, Obj, ObjectKind, Stats, loopdev, qemu_img};
use crate::config::BackendConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::units::Bytes;

/// A loopback backend.
pub struct Loopback {
    cfg: BackendConfig,
    dir: PathBuf,
    reflink: OnceLock<bool>,
    store_id: String,
    claimed: OnceLock<()>,
}

/// Where objects without a volume are moved (never deleted by repair).
pub const QUARANTINE: &str = ".orphans";

/// The marker in a backend directory naming the store that owns it.
pub const CLAIM_FILE: &str = ".volctl-store";

impl Loopback {
    /// The driver for `cfg` (whose `path` is filled in).
    pub fn new(cfg: BackendConfig, store_id: &str) -> Self {
        let dir = cfg.path.clone().unwrap_or_default();
        Loopback {
            cfg,
            dir,
            reflink: OnceLock::new(),
            store_id: store_id.to_string(),
            claimed: OnceLock::new(),
        }
    }

    /// Claims the directory for this store (a marker holding the store's
    /// id, made with `O_EXCL`), or refuses one another store claimed:
    /// two state directories sharing a backend would each take the other's
    /// volumes for orphans.
    fn claim(&self) -> Result<()> {
        // Only success is remembered: a backend repaired meanwhile (a retry
        // in place) is claimed on the next try.
        if self.claimed.get().is_some() {
            return Ok(());
        }
        self.try_claim().map_err(|m| {
            Error::new(
                ErrorKind::Backend,
                format!("backend `{}`: {m}", self.cfg.name()),
            )
        })?;
        let _ = self.claimed.set(());
        Ok(())
    }

    fn try_claim(&self) -> std::result::Result<(), String> {
        let marker = self.dir.join(CLAIM_FILE);
        if marker.exists() {
            return self.check_claim(&marker);
        }
        // Written whole under a temporary name, then linked into place: a
        // crash never leaves an empty claim.
        let tmp = self
            .dir
            .join(format!(".volctl-store.{}", crate::store::new_id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
        {
            Ok(mut f) => {
                use std::io::Write;
                let r = f
                    .write_all(format!("{}\n", self.store_id).as_bytes())
                    .and_then(|()| f.sync_all())
                    .and_then(|()| fs::hard_link(&tmp, &marker))
                    .or_else(|e| {
                        // Another process claimed it first: judged below.
                        if e.kind() == io::ErrorKind::AlreadyExists {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    });
                let _ = fs::remove_file(&tmp);
                r.map_err(|e| format!("writing {}: {e}", marker.display()))?;
                self.check_claim(&marker)
            }
            Err(e) => Err(format!("claiming {}: {e}", marker.display())),
        }
    }

    /// Reads a claim: this store's, or an error naming the other store.
    fn check_claim(&self, marker: &Path) -> std::result::Result<(), String> {
        let owner = crate::trust::read_file(marker, "backend claim", 4096)
            .map_err(|e| e.message)?
            .trim()
            .to_string();
        if owner == self.store_id {
            Ok(())
        } else {
            Err(format!(
                "directory {} belongs to another volctl store (id {owner}; this one is {}): \
                 two state directories must not share a backend directory",
                self.dir.display(),
                self.store_id
            ))
        }
    }

    fn file(&self, obj: Obj<'_>) -> PathBuf {
        self.dir.join(obj.name())
    }

    /// Binds the volume's file to a loop device (`prefer` first, if given).
    fn bind(&self, obj: Obj<'_>, mode: AttachMode, prefer: Option<&Path>) -> Result<String> {
        self.claimed()?;
        let path = self.file(obj);
        loopdev::attach(&path, mode, prefer)
            .map(|d| d.to_string_lossy().into_owned())
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    return Error::conflict(format!("{e}; detach it first to attach it {mode}"));
                }
                self.io_err(
                    &format!("attaching {} to a loop device", path.display()),
                    &e,
                )
            })
    }

    fn io_err(&self, what: &str, e: &io::Error) -> Error {
        if e.kind() == io::ErrorKind::Interrupted {
            return Error::new(ErrorKind::Cancelled, format!("cancelled while {what}"));
        }
        Error::backend_io(format!("backend `{}`: {what}", self.cfg.name()), e)
    }

    /// A missing directory outside the state directory is not made (see
    /// [`crate::config::BackendConfig::make_dir`]): the backend cannot be
    /// used until someone makes it (or mounts what holds it).
    fn missing(&self) -> Result<()> {
        if !self.cfg.make_dir && !self.dir.exists() {
            return Err(Error::new(
                ErrorKind::Backend,
                crate::config::missing_dir_message(self.cfg.name(), &self.dir),
            ));
        }
        Ok(())
    }

    fn ensure_dir(&self) -> Result<()> {
        self.missing()?;
        // Volumes are created in it as root: a directory someone else can
        // write is refused (they could plant or swap objects).
        // A backend whose directory cannot be used is a backend fault: the
        // volume is rescheduled elsewhere.
        crate::trust::ensure_dir(
            &self.dir,
            &format!("backend `{}` directory", self.cfg.name()),
        )
        .map_err(|e| Error::new(ErrorKind::Backend, e.message))?;
        self.claim()
    }

    /// Creates the file of a new object (see [`copy::create_object`]): a
    /// file there that is not this store's is moved aside, never adopted.
    fn new_object(&self, obj: Obj<'_>) -> Result<File> {
        let path = self.file(obj);
        match copy::create_object(&path, &self.store_id) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let to = self.quarantine(obj)?;
                tracing::warn!(
                    "{} already existed and is not this store's: moved aside to {to}",
                    path.display()
                );
                copy::create_object(&path, &self.store_id)
            }
            r => r,
        }
        .map_err(|e| self.io_err(&format!("creating {}", path.display()), &e))
    }

    /// Wipes a file's data before it is removed (see [`crate::config::Wipe`]):
    /// only its data extents are touched, so a sparse file costs what it
    /// holds, not its size. Nothing to do if it is gone.
    fn wipe(&self, path: &Path, wipe: crate::config::Wipe) -> Result<()> {
        use crate::config::Wipe;
        if wipe == Wipe::None {
            return Ok(());
        }
        let f = match fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(self.io_err(&format!("opening {} to wipe it", path.display()), &e));
            }
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let err = |e: io::Error| self.io_err(&format!("wiping {}", path.display()), &e);
        match wipe {
            Wipe::None => {}
            Wipe::Discard => {
                let mode = nix::fcntl::FallocateFlags::FALLOC_FL_PUNCH_HOLE
                    | nix::fcntl::FallocateFlags::FALLOC_FL_KEEP_SIZE;
                nix::fcntl::fallocate(&f, mode, 0, len as i64).map_err(|e| err(e.into()))?;
            }
            Wipe::Zero => {
                let zeros = vec![0u8; 1 << 20];
                for (start, end) in copy::data_extents(&f, len).map_err(err)? {
                    let mut at = start;
                    while at < end {
                        let n = ((end - at) as usize).min(zeros.len());
                        std::os::unix::fs::FileExt::write_all_at(&f, &zeros[..n], at)
                            .map_err(err)?;
                        at += n as u64;
                    }
                }
            }
        }
        f.sync_all().map_err(err)
    }

    /// Bytes allocated by the files in the backend directory.
    fn allocated_bytes(&self) -> u64 {
        fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.blocks() * 512)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Makes `f` exactly `bytes` long and, on a thick backend, allocates it.
    fn finish_size(&self, f: &File, path: &Path, bytes: Option<u64>) -> Result<()> {
        if let Some(bytes) = bytes
            && f.metadata().map(|m| m.len()).unwrap_or(0) != bytes
        {
            f.set_len(bytes)
                .map_err(|e| self.io_err(&format!("sizing {}", path.display()), &e))?;
        }
        if !self.cfg.thin {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            nix::fcntl::fallocate(f, nix::fcntl::FallocateFlags::empty(), 0, len as i64).map_err(
                |e| {
                    self.io_err(
                        &format!("allocating {}", path.display()),
                        &io::Error::from(e),
                    )
                },
            )?;
        }
        Ok(())
    }
}

/// The nearest existing ancestor (the backend directory may not exist yet).
fn existing_ancestor(p: &Path) -> &Path {
    let mut p = p;
    while !p.exists() {
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    p
}

impl Driver for Loopback {
    fn config(&self) -> &BackendConfig {
        &self.cfg
    }

    fn stats(&self) -> Result<Stats> {
        self.missing()?;
        let at = existing_ancestor(&self.dir);
        let vfs = nix::sys::statvfs::statvfs(at)
            .map_err(|e| self.io_err(&format!("statvfs {}", at.display()), &io::Error::from(e)))?;
        let frsize = vfs.fragment_size() as u64;
        let fs_total = Bytes((vfs.blocks() as u64).saturating_mul(frsize));
        let fs_free = Bytes((vfs.blocks_available() as u64).saturating_mul(frsize));
        let (total, free) = match self.cfg.capacity_gb {
            None => (fs_total, fs_free),
            Some(cap) => {
                let cap = Bytes((cap * (1u64 << 30) as f64) as u64);
                let used = Bytes(self.allocated_bytes());
                (cap, cap.saturating_sub(used).min(fs_free))
            }
        };
        Ok(Stats {
            allocation_unit: Bytes(0),
            total,
            free,
            thin: self.cfg.thin,
        })
    }

    fn stats_ttl(&self) -> Option<std::time::Duration> {
        // Only the allocated figure is costly (a walk of the directory).
        self.cfg
            .capacity_gb
            .map(|_| std::time::Duration::from_secs(self.cfg.stats_cache_seconds))
    }

    fn path(&self, obj: Obj<'_>) -> String {
        self.file(obj).to_string_lossy().into_owned()
    }

    fn create(&self, obj: Obj<'_>, size: Bytes) -> Result<String> {
        self.ensure_dir()?;
        let path = self.file(obj);
        let f = self.new_object(obj)?;
        self.finish_size(&f, &path, Some(size.get()))?;
        Ok(path.to_string_lossy().into_owned())
    }

    fn copy(
        &self,
        from: Obj<'_>,
        to: Obj<'_>,
        grow_to: Option<Bytes>,
        io: &Io<'_>,
    ) -> Result<String> {
        self.ensure_dir()?;
        let (src, dst) = (self.file(from), self.file(to));
        copy::clone_into(&src, self.new_object(to)?, io).map_err(|e| {
            self.io_err(
                &format!("copying {} to {}", src.display(), dst.display()),
                &e,
            )
        })?;
        let f = fs::OpenOptions::new()
            .write(true)
            .open(&dst)
            .map_err(|e| self.io_err(&format!("opening {}", dst.display()), &e))?;
        self.finish_size(&f, &dst, grow_to.map(Bytes::get))?;
        Ok(dst.to_string_lossy().into_owned())
    }

    fn import_image(
        &self,
        image: &ImageSource<'_>,
        to: Obj<'_>,
        size: Bytes,
        io: &Io<'_>,
    ) -> Result<String> {
        self.ensure_dir()?;
        let dst = self.file(to);
        // Start from an empty sparse file of the final size: qemu-img writes
        // only the image's data (`-n`), so holes stay holes.
        let f = self.new_object(to)?;
        let file_copy = image.is_volume
            && image.format == qemu_img::Format::Raw
            && fs::symlink_metadata(image.path).is_ok_and(|m| m.is_file());
        if file_copy {
            // Another loopback volume: copied in the kernel (a reflink, or
            // its data extents), no qemu-img process.
            let to_file = f
                .try_clone()
                .map_err(|e| self.io_err(&format!("opening {}", dst.display()), &e))?;
            copy::clone_into(image.path, to_file, io).map_err(|e| {
                self.io_err(
                    &format!("copying {} to {}", image.path.display(), dst.display()),
                    &e,
                )
            })?;
        }
        f.set_len(size.get())
            .map_err(|e| self.io_err(&format!("sizing {}", dst.display()), &e))?;
        if !file_copy {
            qemu_img::convert(image.path, image.format, &dst, image.virtual_size, io)
                .map_err(|e| e.context(format!("backend `{}`", self.cfg.name())))?;
        }
        self.finish_size(&f, &dst, None)?;
        Ok(dst.to_string_lossy().into_owned())
    }

    fn delete_wiped(&self, obj: Obj<'_>, wipe: crate::config::Wipe) -> Result<()> {
        self.claimed()?;
        let path = self.file(obj);
        if obj.kind != ObjectKind::Snapshot {
            self.wipe(&path, wipe)?;
        }
        // Look first: unlinking a missing file on a read-only filesystem
        // fails with EROFS, not ENOENT; and with no directory (ENOTDIR) there
        // is no file either.
        if let Err(e) = fs::symlink_metadata(&path)
            && (e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR))
        {
            return Ok(());
        }
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(self.io_err(&format!("removing {}", path.display()), &e))
            }
            _ => Ok(()),
        }
    }

    fn quarantine(&self, obj: Obj<'_>) -> Result<String> {
        self.claimed()?;
        let q = self.dir.join(QUARANTINE);
        crate::trust::ensure_dir(&q, "quarantine directory")?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // Unique: an earlier quarantined object of the same name is kept.
        let to = q.join(format!(
            "{}.{stamp}.{}",
            obj.name(),
            &crate::store::new_id()[..8]
        ));
        fs::rename(self.file(obj), &to)
            .map_err(|e| self.io_err(&format!("moving {} aside", obj.name()), &e))?;
        Ok(to.to_string_lossy().into_owned())
    }

    fn quarantined(&self) -> Result<Vec<String>> {
        match fs::read_dir(self.dir.join(QUARANTINE)) {
            Ok(rd) => {
                let mut v: Vec<String> = rd
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                v.sort();
                Ok(v)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(self.io_err("listing the quarantine", &e)),
        }
    }

    fn purge(&self, name: &str) -> Result<()> {
        self.claimed()?;
        if name.contains('/') || name.starts_with('.') {
            return Err(Error::invalid(format!(
                "`{name}` is not a quarantined object"
            )));
        }
        let p = self.dir.join(QUARANTINE).join(name);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_file() => fs::remove_file(&p)
                .map_err(|e| self.io_err(&format!("removing {}", p.display()), &e)),
            Ok(_) => Err(Error::invalid(format!("{} is not a file", p.display()))),
            Err(e) => Err(self.io_err(&format!("removing {}", p.display()), &e)),
        }
    }

    fn fingerprint(&self, obj: Obj<'_>) -> Option<String> {
        let m = fs::symlink_metadata(self.file(obj)).ok()?;
        m.is_file().then(|| {
            format!(
                "{}:{}:{}:{}.{}",
                m.dev(),
                m.ino(),
                m.len(),
                m.mtime(),
                m.mtime_nsec()
            )
        })
    }

    fn size(&self, obj: Obj<'_>) -> Result<Option<Bytes>> {
        match fs::symlink_metadata(self.file(obj)) {
            Ok(m) if m.is_file() => Ok(Some(Bytes(m.len()))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io_err("stat", &e)),
        }
    }

    fn list(&self, kind: ObjectKind) -> Result<Vec<String>> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io_err(&format!("listing {}", self.dir.display()), &e)),
        };
        let prefix = format!("{}-", kind.prefix());
        let mut ids: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_prefix(&prefix)
                    .map(str::to_string)
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    fn claimed(&self) -> Result<()> {
        // Reads only: undoing, deleting or checking needs no claim of its
        // own (and must work on a read-only backend); a foreign one refuses.
        if self.claimed.get().is_some() {
            return Ok(());
        }
        match self.foreign_claim() {
            Some(why) => Err(Error::new(ErrorKind::Backend, why)),
            None => Ok(()),
        }
    }

    fn foreign_claim(&self) -> Option<String> {
        let marker = self.dir.join(CLAIM_FILE);
        if !marker.exists() {
            return None;
        }
        match self.check_claim(&marker) {
            // Ours: later checks in this process need not read it again.
            Ok(()) => {
                let _ = self.claimed.set(());
                None
            }
            Err(m) => Some(format!("backend `{}`: {m}", self.cfg.name())),
        }
    }

    fn cheap_copies(&self) -> bool {
        *self
            .reflink
            .get_or_init(|| self.ensure_dir().is_ok() && copy::dir_supports_reflink(&self.dir))
    }

    fn extend(&self, obj: Obj<'_>, size: Bytes, device: Option<&str>) -> Result<()> {
        self.claimed()?;
        let path = self.file(obj);
        let f = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| self.io_err(&format!("opening {}", path.display()), &e))?;
        let m = f
            .metadata()
            .map_err(|e| self.io_err(&format!("stat {}", path.display()), &e))?;
        if !m.is_file() {
            return Err(Error::conflict(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        if m.len() < size.get() {
            self.finish_size(&f, &path, Some(size.get()))?;
        }
        if let Some(dev) = device {
            // The device is told only if it is bound to this very file.
            loopdev::set_capacity(Path::new(dev), (m.dev(), m.ino()))
                .map_err(|e| self.io_err(&format!("telling {dev} its new size"), &e))?;
        }
        Ok(())
    }

    fn unextend(&self, obj: Obj<'_>, size: Bytes) -> Result<bool> {
        if self.device_of(obj).is_some() {
            return Ok(false);
        }
        let path = self.file(obj);
        let f = match fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(self.io_err(&format!("opening {}", path.display()), &e)),
        };
        if f.metadata()
            .is_ok_and(|m| m.is_file() && m.len() > size.get())
        {
            f.set_len(size.get())
                .map_err(|e| self.io_err(&format!("shrinking {} back", path.display()), &e))?;
        }
        Ok(true)
    }

    fn revert_to(&self, volume: Obj<'_>, snapshot: Obj<'_>, io: &Io<'_>) -> Result<()> {
        self.ensure_dir()?;
        if let Some(dev) = self.device_of(volume) {
            return Err(Error::conflict(format!(
                "volume {} is attached ({dev}): a loop device keeps reading the file it was \
                 bound to, so the snapshot's data cannot be swapped in under it; detach it first",
                volume.id
            )));
        }
        let copy_id = super::revert_copy_id(volume.id);
        let copy = Obj::volume(&copy_id);
        let (src, tmp, dst) = (self.file(snapshot), self.file(copy), self.file(volume));
        copy::clone_into(&src, self.new_object(copy)?, io).map_err(|e| {
            self.io_err(
                &format!("copying {} to {}", src.display(), tmp.display()),
                &e,
            )
        })?;
        let f = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(|e| self.io_err(&format!("opening {}", tmp.display()), &e))?;
        self.finish_size(&f, &tmp, None)?;
        f.sync_all()
            .map_err(|e| self.io_err(&format!("syncing {}", tmp.display()), &e))?;
        // The swap: atomic, and durable once the directory is synced.
        fs::rename(&tmp, &dst).map_err(|e| {
            self.io_err(
                &format!("renaming {} to {}", tmp.display(), dst.display()),
                &e,
            )
        })?;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn revert_cleanup(&self, volume: Obj<'_>) -> Result<()> {
        let copy_id = super::revert_copy_id(volume.id);
        let tmp = self.file(Obj::volume(&copy_id));
        // Ours by its mark only: anything else there is moved aside.
        if tmp.exists() {
            match copy::create_object(&tmp, &self.store_id) {
                Ok(_) => fs::remove_file(&tmp)
                    .map_err(|e| self.io_err(&format!("removing {}", tmp.display()), &e))?,
                Err(_) => {
                    self.quarantine(Obj::volume(&copy_id))?;
                }
            }
        }
        Ok(())
    }

    fn inspect_foreign(&self, object: &str) -> Result<(String, Bytes)> {
        self.ensure_dir()?;
        let path = Path::new(object);
        let bad = |why: &str| Error::invalid(format!("{object}: {why}"));
        let dir = fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        let parent = path.parent().and_then(|p| {
            fs::canonicalize(if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            })
            .ok()
        });
        if parent.as_deref() != Some(dir.as_path()) {
            return Err(bad(&format!(
                "not a file in backend `{}`'s directory {} (move it there first)",
                self.cfg.name(),
                self.dir.display()
            )));
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| bad("not a file name"))?
            .to_string();
        if name.starts_with('.')
            || [ObjectKind::Volume, ObjectKind::Snapshot, ObjectKind::Cache]
                .iter()
                .any(|k| name.starts_with(&format!("{}-", k.prefix())))
        {
            return Err(bad("volctl's own name: it is an object already"));
        }
        let f = copy::open_read(&dir.join(&name))
            .map_err(|e| self.io_err(&format!("opening {object}"), &e))?;
        let m = f
            .metadata()
            .map_err(|e| self.io_err(&format!("stat {object}"), &e))?;
        if !m.is_file() {
            return Err(bad("not a regular file"));
        }
        if m.uid() != nix::unistd::geteuid().as_raw() || m.nlink() != 1 {
            return Err(bad("not a file of this user's with a single name"));
        }
        if loopdev::find_by_id((m.dev(), m.ino())).is_some() {
            return Err(Error::conflict(format!(
                "{object} is attached to a loop device"
            )));
        }
        let mut head = vec![0u8; 4096];
        let n = std::os::unix::fs::FileExt::read_at(&f, &mut head, 0).unwrap_or(0);
        match qemu_img::detect(&head[..n]) {
            qemu_img::Detected::Image(qemu_img::Format::Raw) => {}
            qemu_img::Detected::Image(fmt) => {
                return Err(bad(&format!(
                    "it is a {} image, not a raw disk",
                    fmt.as_str()
                )));
            }
            qemu_img::Detected::Other(what) => {
                return Err(bad(&format!("it is {what}, not a raw disk")));
            }
        }
        Ok((name, Bytes(m.len())))
    }

    fn adopt(&self, name: &str, obj: Obj<'_>) -> Result<String> {
        self.claimed()?;
        let (src, dst) = (self.dir.join(name), self.file(obj));
        // Done already (a resumed run): only the mark to make sure of.
        if !dst.exists() || src.exists() {
            copy::rename_noreplace(&src, &dst).map_err(|e| {
                self.io_err(
                    &format!("renaming {} to {}", src.display(), dst.display()),
                    &e,
                )
            })?;
        }
        let f = copy::open_read(&dst)
            .map_err(|e| self.io_err(&format!("opening {}", dst.display()), &e))?;
        copy::set_tag(&f, &self.store_id)
            .map_err(|e| self.io_err(&format!("marking {}", dst.display()), &e))?;
        Ok(dst.to_string_lossy().into_owned())
    }

    fn release(&self, obj: Obj<'_>, name: &str) -> Result<String> {
        self.claimed()?;
        let (src, dst) = (self.file(obj), self.dir.join(name));
        if src.exists() {
            let f = copy::open_read(&src)
                .map_err(|e| self.io_err(&format!("opening {}", src.display()), &e))?;
            copy::clear_tag(&f)
                .map_err(|e| self.io_err(&format!("unmarking {}", src.display()), &e))?;
            copy::rename_noreplace(&src, &dst).map_err(|e| {
                self.io_err(
                    &format!("renaming {} to {}", src.display(), dst.display()),
                    &e,
                )
            })?;
        }
        Ok(dst.to_string_lossy().into_owned())
    }

    fn attach(&self, obj: Obj<'_>, mode: AttachMode) -> Result<String> {
        self.bind(obj, mode, None)
    }

    fn reattach(&self, obj: Obj<'_>, mode: AttachMode, device: &str) -> Result<String> {
        self.bind(obj, mode, Some(Path::new(device)))
    }

    fn detach(&self, obj: Obj<'_>, device: &str, _mode: AttachMode) -> Result<()> {
        self.claimed()?;
        let path = self.file(obj);
        // Without the file there is no proof the device is this volume's:
        // leave it.
        let Ok(id) = loopdev::file_id(&path) else {
            return Ok(());
        };
        // udev opens a device for a moment after every close-for-write (a
        // mkfs, say): busy for that long is not "in use". Try for a while.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            match loopdev::detach(Path::new(device), id) {
                Ok(()) => return Ok(()),
                Err(loopdev::DetachError::Busy(_)) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(loopdev::DetachError::Busy(why)) => {
                    return Err(Error::conflict(format!(
                        "{why}; volctl never detaches a device in use (unmount it or stop what holds it first)"
                    )));
                }
                Err(loopdev::DetachError::Io(e)) => {
                    return Err(self.io_err(&format!("detaching {device}"), &e));
                }
            }
        }
    }

    fn exposes(&self, obj: Obj<'_>, device: &str) -> Result<bool> {
        let id = match loopdev::file_id(&self.file(obj)) {
            Ok(id) => id,
            // No file: nothing can be bound to it (a device bound to its
            // deleted inode backs no volume of ours any more).
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(self.io_err("stat", &e)),
        };
        loopdev::bound_to(Path::new(device), id)
            .map_err(|e| self.io_err(&format!("asking {device} what it is bound to"), &e))
    }

    fn device_of(&self, obj: Obj<'_>) -> Option<String> {
        loopdev::find_by_backing(&self.file(obj)).map(|d| d.to_string_lossy().into_owned())
    }

    fn attachments(&self) -> Result<Vec<(String, String)>> {
        let dir = fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        let prefix = format!("{}-", ObjectKind::Volume.prefix());
        Ok(loopdev::list()
            .into_iter()
            .filter(|(_, file)| file.parent() == Some(dir.as_path()))
            .filter_map(|(dev, file)| {
                let id = file
                    .file_name()?
                    .to_str()?
                    .strip_prefix(&prefix)?
                    .to_string();
                // The name in sysfs is a hint; the inode is the proof.
                loopdev::file_id(&file)
                    .is_ok_and(|fid| loopdev::backs(&dev, fid))
                    .then(|| (dev.to_string_lossy().into_owned(), id))
            })
            .collect())
    }
}
