//! Who owns a running flow: a process, identified by an id and holding an
//! exclusive `flock` on `<state-dir>/locks/owner-<id>.lock` for as long as it
//! lives. The kernel drops the lock when the process dies, however it dies,
//! so any volctl command can tell a live flow from an orphaned one without
//! guessing from timestamps or pids.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::locks::FileLock;

/// This process as an owner.
pub struct Owner {
    id: String,
    lock: Option<FileLock>,
}

fn lock_path(state_dir: &Path, id: &str) -> PathBuf {
    state_dir.join("locks").join(format!("owner-{id}.lock"))
}

impl Owner {
    /// Takes a fresh owner identity and its lock.
    pub fn acquire(state_dir: &Path) -> Result<Owner> {
        let id = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let lock = FileLock::try_lock(&lock_path(state_dir, &id))
            .map_err(|e| Error::internal(format!("owner lock: {e}")))?
            .ok_or_else(|| Error::internal("a fresh owner lock is already held"))?;
        Ok(Owner {
            id,
            lock: Some(lock),
        })
    }

    /// The owner id recorded on flows and casts.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            let path = lock.path().to_path_buf();
            let _ = std::fs::remove_file(&path);
            drop(lock);
        }
    }
}

/// Whether the owner `id` is a live process. An owner whose lock can be
/// taken is dead; its lock file is removed on the way.
pub fn is_alive(state_dir: &Path, id: &str) -> bool {
    let path = lock_path(state_dir, id);
    if !path.exists() {
        return false;
    }
    match FileLock::try_lock(&path) {
        Ok(Some(lock)) => {
            let _ = std::fs::remove_file(&path);
            drop(lock);
            false
        }
        Ok(None) => true,
        // Cannot tell: assume alive rather than steal a running flow.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_is_alive_while_held_and_dead_after() {
        let dir = tempfile::tempdir().unwrap();
        let o = Owner::acquire(dir.path()).unwrap();
        let id = o.id().to_string();
        assert!(is_alive(dir.path(), &id));
        drop(o);
        assert!(!is_alive(dir.path(), &id));
        assert!(!is_alive(dir.path(), "never-existed"));
    }

    #[test]
    fn a_killed_owner_is_dead() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().to_path_buf();
        // A child process takes the lock and is killed (`-o`: the lock is
        // the flock process's own, not inherited by `sleep`).
        std::fs::create_dir_all(state.join("locks")).unwrap();
        let mut child = std::process::Command::new("flock")
            .arg("-o")
            .arg(lock_path(&state, "child"))
            .args(["sleep", "60"])
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !is_alive(&state, "child") {
            assert!(t0.elapsed().as_secs() < 10);
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!is_alive(&state, "child"));
    }
}
