//! Copying volume files: a reflink (FICLONE) where the filesystem shares
//! extents (XFS, btrfs), else a sparse-aware copy that walks the data
//! extents (SEEK_DATA / SEEK_HOLE) and copies them in the kernel
//! (`copy_file_range`) — holes are never read or written.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use super::{Io, Phase};

/// `FICLONE` = `_IOW(0x94, 9, int)`.
const FICLONE: libc::c_ulong = 0x4004_9409;
const CHUNK: u64 = 64 << 20;

/// How a copy was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Shared extents: instant, no space used until written.
    Reflink,
    /// Data extents copied, holes kept.
    SparseCopy,
}

/// Opens an existing file for reading, refusing symlinks.
pub fn open_read(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
}

/// Creates (or truncates) a file for writing, refusing symlinks.
pub fn create_write(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
}

/// The extended attribute that marks a file as a volctl store's object. In
/// the `trusted.` namespace when root (only CAP_SYS_ADMIN can set those, so
/// no local user can forge the mark), else `user.` (a user's own store).
fn tag_name() -> &'static std::ffi::CStr {
    if nix::unistd::geteuid().is_root() {
        c"trusted.volctl.store"
    } else {
        c"user.volctl.store"
    }
}

/// Takes a store's mark off `f` (an object given up: `unmanage`).
pub fn clear_tag(f: &File) -> io::Result<()> {
    // SAFETY: valid descriptor and NUL-terminated name.
    let r = unsafe { libc::fremovexattr(f.as_raw_fd(), tag_name().as_ptr()) };
    if r < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::ENODATA) {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Renames `from` to `to` unless `to` exists (`RENAME_NOREPLACE`): nothing
/// is ever replaced.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let (f, t) = (
        std::ffi::CString::new(from.as_os_str().as_bytes())?,
        std::ffi::CString::new(to.as_os_str().as_bytes())?,
    );
    // SAFETY: NUL-terminated paths; AT_FDCWD for both.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            f.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Marks `f` as an object of store `store`.
pub fn set_tag(f: &File, store: &str) -> io::Result<()> {
    // SAFETY: valid descriptor, NUL-terminated name, value pointer and length.
    let r = unsafe {
        libc::fsetxattr(
            f.as_raw_fd(),
            tag_name().as_ptr(),
            store.as_ptr().cast(),
            store.len(),
            0,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Whether the file at `path` (not a symlink) bears store `store`'s mark.
fn has_tag(path: &Path, store: &str) -> bool {
    let Ok(f) = open_read(path) else { return false };
    if !f.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut buf = [0u8; 64];
    // SAFETY: valid descriptor, name, and a buffer of the given length.
    let n = unsafe {
        libc::fgetxattr(
            f.as_raw_fd(),
            tag_name().as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    n > 0 && &buf[..n as usize] == store.as_bytes()
}

/// Creates a new object file for store `store`: `O_CREAT|O_EXCL|O_NOFOLLOW`,
/// marked as the store's. A file already there is reused only if it bears
/// the store's mark (the same object, made by an interrupted run of the
/// same task); anything else fails with `AlreadyExists` — it is never
/// adopted, and the caller moves it aside.
pub fn create_object(path: &Path, store: &str) -> io::Result<File> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => {
            // A filesystem without xattrs only loses the reuse after a crash.
            let _ = set_tag(&f, store);
            Ok(f)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && has_tag(path, store) => {
            OpenOptions::new()
                .write(true)
                .truncate(true)
                .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
                .open(path)
        }
        Err(e) => Err(e),
    }
}

fn cancelled() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "cancelled")
}

/// Shares `src`'s extents with `dst` (same filesystem with reflink support).
pub fn reflink(src: &File, dst: &File) -> io::Result<()> {
    // SAFETY: FICLONE takes the source file descriptor as its argument.
    let r = unsafe { libc::ioctl(dst.as_raw_fd(), FICLONE as _, src.as_raw_fd()) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn seek(f: &File, off: u64, whence: libc::c_int) -> io::Result<Option<u64>> {
    // SAFETY: plain lseek on an owned descriptor.
    let r = unsafe { libc::lseek(f.as_raw_fd(), off as libc::off_t, whence) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENXIO) {
            return Ok(None); // no data at or after `off`
        }
        return Err(e);
    }
    Ok(Some(r as u64))
}

/// Copies `[start, end)` of `src` into `dst` at the same offsets.
fn copy_range(
    src: &File,
    dst: &File,
    start: u64,
    end: u64,
    len: u64,
    io: &Io<'_>,
) -> io::Result<()> {
    let mut pos = start;
    let mut use_cfr = true;
    let mut buf = Vec::new();
    while pos < end {
        if io.cancel.is_cancelled() {
            return Err(cancelled());
        }
        let n = (end - pos).min(CHUNK);
        let copied = if use_cfr {
            let mut off_in = pos as libc::loff_t;
            let mut off_out = pos as libc::loff_t;
            // SAFETY: offsets are owned locals; descriptors are valid. The
            // system call directly: in a static glibc build the libc wrapper
            // can be a null weak symbol.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_copy_file_range,
                    src.as_raw_fd(),
                    &mut off_in as *mut libc::loff_t,
                    dst.as_raw_fd(),
                    &mut off_out as *mut libc::loff_t,
                    n as usize,
                    0u32,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EXDEV)
                    | Some(libc::EINVAL)
                    | Some(libc::EOPNOTSUPP)
                    | Some(libc::ENOSYS) => {
                        use_cfr = false;
                        continue;
                    }
                    _ => return Err(e),
                }
            }
            r as u64
        } else {
            buf.resize(n.min(4 << 20) as usize, 0);
            let got = src.read_at(&mut buf, pos)?;
            dst.write_all_at(&buf[..got], pos)?;
            got as u64
        };
        if copied == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "source shrank during the copy",
            ));
        }
        pos += copied;
        io.report(Phase::Copying, pos, len);
    }
    Ok(())
}

/// The data extents (`start..end`) of the first `len` bytes of `f`, by
/// SEEK_DATA / SEEK_HOLE: what is not in one reads as zeros.
pub fn data_extents(f: &File, len: u64) -> io::Result<Vec<(u64, u64)>> {
    let mut extents = Vec::new();
    let mut off = 0;
    while off < len {
        let Some(data) = seek(f, off, libc::SEEK_DATA)? else {
            break;
        };
        let hole = seek(f, data, libc::SEEK_HOLE)?.unwrap_or(len).min(len);
        extents.push((data, hole));
        off = hole;
    }
    Ok(extents)
}

/// Copies the data extents of `src` into `dst` (which it truncates), keeping
/// holes; the result has `src`'s length.
pub fn sparse_copy(src: &File, dst: &File, io: &Io<'_>) -> io::Result<()> {
    let len = src.metadata()?.len();
    dst.set_len(0)?;
    dst.set_len(len)?;
    for (data, hole) in data_extents(src, len)? {
        copy_range(src, dst, data, hole, len, io)?;
    }
    io.report(Phase::Copying, len, len);
    Ok(())
}

/// Makes `dst` a copy of `src`: a reflink if the filesystem can, else a
/// sparse copy. `dst` is created or truncated.
pub fn clone_file(src: &Path, dst: &Path, io: &Io<'_>) -> io::Result<Method> {
    clone_into(src, create_write(dst)?, io)
}

/// Makes the open file `d` a copy of `src`, as [`clone_file`] does.
pub fn clone_into(src: &Path, d: File, io: &Io<'_>) -> io::Result<Method> {
    let s = open_read(src)?;
    if !s.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", src.display()),
        ));
    }
    if reflink(&s, &d).is_ok() {
        let len = s.metadata()?.len();
        io.report(Phase::Copying, len, len);
        return Ok(Method::Reflink);
    }
    sparse_copy(&s, &d, io)?;
    Ok(Method::SparseCopy)
}

/// Whether files in `dir` can be reflinked (probed with two tiny files).
pub fn dir_supports_reflink(dir: &Path) -> bool {
    let a = dir.join(format!(".reflink-probe-{}-a", std::process::id()));
    let b = dir.join(format!(".reflink-probe-{}-b", std::process::id()));
    let ok = (|| -> io::Result<()> {
        // FICLONE reads its source: a write-only one is refused (EBADF),
        // which once made every XFS look unable to reflink.
        let fa = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&a)?;
        fa.write_all_at(&[1u8; 4096], 0)?;
        let fb = create_write(&b)?;
        reflink(&fa, &fb)
    })()
    .is_ok();
    let _ = std::fs::remove_file(&a);
    let _ = std::fs::remove_file(&b);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::CancelToken;
    use std::os::unix::fs::MetadataExt;

    fn quiet() -> (CancelToken, impl Fn(Phase, u64, u64) + Sync) {
        (CancelToken::new(), |_: Phase, _: u64, _: u64| {})
    }

    #[test]
    fn sparse_copy_keeps_holes_and_data() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let f = create_write(&src).unwrap();
        f.set_len(1 << 30).unwrap();
        f.write_all_at(&[7u8; 8192], 0).unwrap();
        f.write_all_at(&[9u8; 4096], 512 << 20).unwrap();
        f.write_all_at(b"end", (1 << 30) - 3).unwrap();
        drop(f);
        let dst = dir.path().join("dst");
        let (cancel, progress) = quiet();
        let io = Io {
            progress: &progress,
            cancel: &cancel,
            phase: None,
        };
        let s = open_read(&src).unwrap();
        let d = create_write(&dst).unwrap();
        sparse_copy(&s, &d, &io).unwrap();
        let m = std::fs::metadata(&dst).unwrap();
        assert_eq!(m.len(), 1 << 30);
        assert!(
            m.blocks() * 512 < 1 << 20,
            "holes stay holes: {} bytes allocated",
            m.blocks() * 512
        );
        let mut buf = [0u8; 4096];
        d.sync_all().unwrap();
        let d = open_read(&dst).unwrap();
        d.read_exact_at(&mut buf, 512 << 20).unwrap();
        assert_eq!(buf, [9u8; 4096]);
        d.read_exact_at(&mut buf, 256 << 20).unwrap();
        assert_eq!(buf, [0u8; 4096]);
        let mut end = [0u8; 3];
        d.read_exact_at(&mut end, (1 << 30) - 3).unwrap();
        assert_eq!(&end, b"end");
    }

    #[test]
    fn cancellation_stops_a_copy() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let f = create_write(&src).unwrap();
        f.write_all_at(&[1u8; 1 << 20], 0).unwrap();
        let cancel = CancelToken::new();
        cancel.cancel();
        let progress = |_: Phase, _: u64, _: u64| {};
        let io = Io {
            progress: &progress,
            cancel: &cancel,
            phase: None,
        };
        let s = open_read(&src).unwrap();
        let d = create_write(&dir.path().join("dst")).unwrap();
        assert_eq!(
            sparse_copy(&s, &d, &io).unwrap_err().kind(),
            io::ErrorKind::Interrupted
        );
    }

    #[test]
    fn clone_file_refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let (cancel, progress) = quiet();
        let io = Io {
            progress: &progress,
            cancel: &cancel,
            phase: None,
        };
        assert!(clone_file(&dir.path().join("link"), &dir.path().join("dst"), &io).is_err());
    }
}
