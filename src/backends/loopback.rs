//! The loopback driver: one sparse raw file per volume in the backend's
//! directory, attached as a loop device on request.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::{Driver, Stats, loopdev};
use crate::config::BackendConfig;
use crate::error::{Error, Result};

const GIB: u64 = 1 << 30;
/// Volume files are `volume-<id>`: names come from ids, never from users.
const PREFIX: &str = "volume-";

/// A loopback backend.
pub struct Loopback {
    cfg: BackendConfig,
    dir: PathBuf,
}

impl Loopback {
    /// The driver for `cfg` (whose `path` is filled in).
    pub fn new(cfg: BackendConfig) -> Self {
        let dir = cfg.path.clone().unwrap_or_default();
        Loopback { cfg, dir }
    }

    fn file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{PREFIX}{id}"))
    }

    fn io_err(&self, what: &str, e: &io::Error) -> Error {
        Error::backend_io(format!("backend `{}`: {what}", self.cfg.name()), e)
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
        let at = existing_ancestor(&self.dir);
        let vfs = nix::sys::statvfs::statvfs(at)
            .map_err(|e| self.io_err(&format!("statvfs {}", at.display()), &io::Error::from(e)))?;
        let frsize = vfs.fragment_size() as f64;
        let fs_total = vfs.blocks() as f64 * frsize / GIB as f64;
        let fs_free = vfs.blocks_available() as f64 * frsize / GIB as f64;
        let (total_gb, free_gb) = match self.cfg.capacity_gb {
            None => (fs_total, fs_free),
            Some(cap) => {
                let used = self.allocated_bytes() as f64 / GIB as f64;
                (cap, (cap - used).max(0.0).min(fs_free))
            }
        };
        Ok(Stats {
            total_gb,
            free_gb,
            thin: self.cfg.thin,
        })
    }

    fn object_path(&self, id: &str) -> String {
        self.file(id).to_string_lossy().into_owned()
    }

    fn create(&self, id: &str, size_gb: u64) -> Result<String> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| self.io_err(&format!("creating {}", self.dir.display()), &e))?;
        let path = self.file(id);
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| self.io_err(&format!("creating {}", path.display()), &e))?;
        let bytes = size_gb * GIB;
        f.set_len(bytes)
            .map_err(|e| self.io_err(&format!("sizing {}", path.display()), &e))?;
        if !self.cfg.thin {
            nix::fcntl::fallocate(&f, nix::fcntl::FallocateFlags::empty(), 0, bytes as i64)
                .map_err(|e| {
                    self.io_err(
                        &format!("allocating {}", path.display()),
                        &io::Error::from(e),
                    )
                })?;
        }
        Ok(path.to_string_lossy().into_owned())
    }

    fn delete(&self, id: &str) -> Result<()> {
        let path = self.file(id);
        // Look first: unlinking a missing file on a read-only filesystem
        // fails with EROFS, not ENOENT.
        if let Err(e) = fs::symlink_metadata(&path)
            && e.kind() == io::ErrorKind::NotFound
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

    fn object_size(&self, id: &str) -> Result<Option<u64>> {
        match fs::symlink_metadata(self.file(id)) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io_err("stat", &e)),
        }
    }

    fn list_objects(&self) -> Result<Vec<String>> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io_err(&format!("listing {}", self.dir.display()), &e)),
        };
        let mut ids: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_prefix(PREFIX)
                    .map(str::to_string)
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    fn attach(&self, id: &str) -> Result<String> {
        let path = self.file(id);
        loopdev::attach(&path)
            .map(|d| d.to_string_lossy().into_owned())
            .map_err(|e| {
                self.io_err(
                    &format!("attaching {} to a loop device", path.display()),
                    &e,
                )
            })
    }

    fn detach(&self, id: &str, device: &str) -> Result<()> {
        loopdev::detach(Path::new(device), &self.file(id))
            .map_err(|e| self.io_err(&format!("detaching {device}"), &e))
    }
}
