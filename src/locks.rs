//! Advisory file locks (`flock`): the kernel releases them when their
//! process dies, so a lock held by a dead process never blocks anyone.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};

use crate::flow::CancelToken;

/// A held exclusive lock on a file; released on drop.
pub struct FileLock {
    _lock: Flock<File>,
    path: PathBuf,
}

impl std::fmt::Debug for FileLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLock")
            .field("path", &self.path)
            .finish()
    }
}

fn open(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
}

impl FileLock {
    /// Takes the lock if it is free; `None` if someone holds it.
    pub fn try_lock(path: &Path) -> io::Result<Option<FileLock>> {
        match Flock::lock(open(path)?, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Some(FileLock {
                _lock: lock,
                path: path.to_path_buf(),
            })),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, e)) => Err(io::Error::from(e)),
        }
    }

    /// Waits for the lock, giving up if `cancel` is set.
    pub fn lock(path: &Path, cancel: &CancelToken) -> io::Result<FileLock> {
        Self::lock_for(path, cancel, None)
    }

    /// Waits for the lock at most `timeout` (`TimedOut` then), giving up
    /// if `cancel` is set.
    pub fn lock_for(
        path: &Path,
        cancel: &CancelToken,
        timeout: Option<Duration>,
    ) -> io::Result<FileLock> {
        let start = std::time::Instant::now();
        loop {
            if let Some(l) = Self::try_lock(path)? {
                return Ok(l);
            }
            if timeout.is_some_and(|t| start.elapsed() >= t) {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{} is held by another process", path.display()),
                ));
            }
            if !cancel.sleep(Duration::from_millis(20)) {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_excludes_others_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let a = FileLock::try_lock(&p).unwrap().unwrap();
        assert!(FileLock::try_lock(&p).unwrap().is_none());
        drop(a);
        assert!(FileLock::try_lock(&p).unwrap().is_some());
    }
}
