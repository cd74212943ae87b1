//! What volctl trusts on the filesystem. It runs as root and acts on what
//! its state directory and configuration say (the configuration can name a
//! command to run), so, as ssh does with `~/.ssh`, it refuses a directory or
//! file that someone else could have planted or can change: one not owned by
//! the effective user (or root), or writable by group or others. Files are
//! opened without following symlinks, must be regular files, and are read
//! with a bound (so `--config /dev/zero` or a FIFO is refused, not read
//! forever).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// The largest configuration file read.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

fn owner_ok(uid: u32) -> bool {
    uid == 0 || uid == nix::unistd::geteuid().as_raw()
}

fn describe(m: &fs::Metadata) -> String {
    format!("owner uid {}, mode {:04o}", m.uid(), m.mode() & 0o7777)
}

/// Refuses `m` (of `path`, a `what`) unless the effective user or root owns
/// it and neither group nor others may write it.
fn check_meta(path: &Path, what: &str, m: &fs::Metadata) -> Result<()> {
    if !owner_ok(m.uid()) {
        return Err(Error::invalid(format!(
            "{what} {} is not owned by this user or root ({}): refusing to trust it; \
             chown it, or use another",
            path.display(),
            describe(m)
        )));
    }
    if m.mode() & 0o022 != 0 {
        return Err(Error::invalid(format!(
            "{what} {} is writable by group or others ({}): refusing to trust it; \
             chmod go-w it",
            path.display(),
            describe(m)
        )));
    }
    Ok(())
}

/// A directory volctl keeps its state in: created 0700 if missing (whatever
/// the umask), else checked. A symlink to a trusted directory is followed
/// (the target is what is checked).
pub fn ensure_dir(path: &Path, what: &str) -> Result<()> {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => check_meta(path, what, &m),
        Ok(_) => Err(Error::invalid(format!(
            "{what} {} is not a directory",
            path.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .map_err(|e| Error::invalid(format!("{what} {}: {e}", path.display())))?;
            // The umask may have removed bits, never added: make it exact.
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::invalid(format!("{what} {}: {e}", path.display())))?;
            Ok(())
        }
        Err(e) => Err(Error::invalid(format!("{what} {}: {e}", path.display()))),
    }
}

/// Checks an existing file (not following a symlink), if it exists: the
/// database, which others must not be able to rewrite.
pub fn check_file_if_exists(path: &Path, what: &str) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::invalid(format!(
            "{what} {} is a symbolic link: refusing to follow it",
            path.display()
        ))),
        Ok(m) => check_meta(path, what, &m),
        Err(_) => Ok(()),
    }
}

/// Checks an existing directory, if it exists.
pub fn check_dir_if_exists(path: &Path, what: &str) -> Result<()> {
    match fs::metadata(path) {
        Ok(m) => check_meta(path, what, &m),
        Err(_) => Ok(()),
    }
}

/// Checks an opened file: a regular file, owned and writable as
/// [`check_meta`] requires; returns its metadata.
fn check_open(f: &File, path: &Path, what: &str) -> Result<fs::Metadata> {
    let m = f
        .metadata()
        .map_err(|e| Error::invalid(format!("{what} {}: {e}", path.display())))?;
    if !m.is_file() {
        return Err(Error::invalid(format!(
            "{what} {} is not a regular file",
            path.display()
        )));
    }
    check_meta(path, what, &m)?;
    Ok(m)
}

/// Reads a trusted text file: not a symlink, a regular file, owned and
/// writable only as [`ensure_dir`] requires, at most `limit` bytes.
pub fn read_file(path: &Path, what: &str, limit: u64) -> Result<String> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                Error::invalid(format!(
                    "{what} {} is a symbolic link: refusing to follow it",
                    path.display()
                ))
            } else {
                Error::invalid(format!("{what} {}: {e}", path.display()))
            }
        })?;
    let m = check_open(&f, path, what)?;
    if m.len() > limit {
        return Err(Error::invalid(format!(
            "{what} {} is {} bytes; at most {limit} are read",
            path.display(),
            m.len()
        )));
    }
    let mut text = String::new();
    f.take(limit)
        .read_to_string(&mut text)
        .map_err(|e| Error::invalid(format!("{what} {}: {e}", path.display())))?;
    Ok(text)
}

/// Opens a file to append to (an event sink): created 0600, never through a
/// symlink, an existing one checked like a configuration file.
pub fn open_append(path: &Path, what: &str) -> Result<File> {
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::invalid(format!("{what} {}: {e}", path.display())))?;
    check_open(&f, path, what)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_or_world_writable_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x");
        fs::write(&p, "a = 1\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).unwrap();
        let e = read_file(&p, "config", 100).unwrap_err();
        assert!(
            e.message.contains("writable by group or others"),
            "{}",
            e.message
        );
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_file(&p, "config", 100).unwrap(), "a = 1\n");
        assert!(
            read_file(&p, "config", 3)
                .unwrap_err()
                .message
                .contains("at most 3")
        );
    }

    #[test]
    fn symlinks_fifos_and_devices_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        fs::write(&real, "").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(
            read_file(&link, "config", 100)
                .unwrap_err()
                .message
                .contains("symbolic link")
        );
        let fifo = d.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(
            read_file(&fifo, "config", 100)
                .unwrap_err()
                .message
                .contains("not a regular file")
        );
        assert!(
            read_file(Path::new("/dev/zero"), "config", 100)
                .unwrap_err()
                .message
                .contains("not a regular file")
        );
    }

    #[test]
    fn new_directories_are_0700_whatever_the_umask() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b");
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::empty());
        let r = ensure_dir(&p, "state directory");
        nix::sys::stat::umask(old);
        r.unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o700);
    }
}
