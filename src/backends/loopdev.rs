//! Loop devices through the kernel's ioctls (`linux/loop.h`), as `losetup`
//! does: find a free device, bind a file to it, unbind it.
//!
//! A recorded device number goes stale (a reboot, `losetup -d`, another
//! tool reusing the number), so nothing here trusts a path: a device backs a
//! file only if the kernel's record of its backing inode (`LOOP_GET_STATUS64`
//! on the open device) equals the file's `stat`; and a device is unbound only
//! through an exclusive open, so never while it is mounted or held.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::AttachMode;

const LOOP_SET_FD: libc::c_ulong = 0x4C00;
const LOOP_CLR_FD: libc::c_ulong = 0x4C01;
const LOOP_SET_STATUS64: libc::c_ulong = 0x4C04;
const LOOP_GET_STATUS64: libc::c_ulong = 0x4C05;
const LOOP_SET_CAPACITY: libc::c_ulong = 0x4C07;
const LO_FLAGS_READ_ONLY: u32 = 1;
const LO_FLAGS_AUTOCLEAR: u32 = 4;
const LO_FLAGS_PARTSCAN: u32 = 8;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;

const LO_NAME_SIZE: usize = 64;

/// `struct loop_info64`.
#[repr(C)]
#[derive(Clone, Copy)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; LO_NAME_SIZE],
    lo_crypt_name: [u8; LO_NAME_SIZE],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// `struct loop_config`.
#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

fn info_for(file: &Path) -> LoopInfo64 {
    let mut name = [0u8; LO_NAME_SIZE];
    let bytes = file.as_os_str().as_encoded_bytes();
    let n = bytes.len().min(LO_NAME_SIZE - 1);
    name[..n].copy_from_slice(&bytes[..n]);
    LoopInfo64 {
        lo_device: 0,
        lo_inode: 0,
        lo_rdevice: 0,
        lo_offset: 0,
        lo_sizelimit: 0,
        lo_number: 0,
        lo_encrypt_type: 0,
        lo_encrypt_key_size: 0,
        // No LO_FLAGS_AUTOCLEAR: the device must outlive this process.
        lo_flags: 0,
        lo_file_name: name,
        lo_crypt_name: [0; LO_NAME_SIZE],
        lo_encrypt_key: [0; 32],
        lo_init: [0; 2],
    }
}

fn ioctl_ptr<T>(fd: &File, req: libc::c_ulong, arg: *const T) -> io::Result<libc::c_int> {
    // SAFETY: `arg` points to a live, correctly laid-out struct for `req`.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn ioctl_int(fd: &File, req: libc::c_ulong, arg: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: integer-argument loop ioctls.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn open_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

/// A file's identity: (device, inode), as the kernel records a loop
/// device's backing file.
pub type FileId = (u64, u64);

/// The identity of the regular file at `path` (a symlink is not followed).
pub fn file_id(path: &Path) -> io::Result<FileId> {
    id_of_meta(&std::fs::symlink_metadata(path)?, path)
}

/// The identity of a regular file from its metadata (of `path`).
fn id_of_meta(m: &std::fs::Metadata, path: &Path) -> io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    if !m.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok((m.dev(), m.ino()))
}

/// The status of an open loop device; `None` if nothing is bound to it.
fn status(dev: &File) -> io::Result<Option<LoopInfo64>> {
    let mut info = info_for(Path::new(""));
    match ioctl_ptr(dev, LOOP_GET_STATUS64, &mut info as *mut LoopInfo64) {
        Ok(_) => Ok(Some(info)),
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => Ok(None),
        Err(e) => Err(e),
    }
}

fn id_of(info: &LoopInfo64) -> FileId {
    (info.lo_device, info.lo_inode)
}

/// Whether the loop device `dev` is bound to exactly the file `id` names.
pub fn backs(dev: &Path, id: FileId) -> bool {
    bound_to(dev, id).unwrap_or(false)
}

/// Whether `dev` is bound to the file `id` names: `Ok(false)` only on
/// proof (no such device, nothing bound, or another file); an error when
/// it cannot be told (the device could not be opened or asked).
pub fn bound_to(dev: &Path, id: FileId) -> io::Result<bool> {
    Ok(open_bound_to(dev, id)?.is_some())
}

/// `dev`, opened, if it is bound to the file `id` names (asked on the open
/// device, so what is then done to it is done to that binding); `None` on
/// proof that it is not.
fn open_bound_to(dev: &Path, id: FileId) -> io::Result<Option<File>> {
    let d = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(dev)
    {
        Ok(d) => d,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENXIO)) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    Ok(matches!(status(&d)?, Some(info) if id_of(&info) == id).then_some(d))
}

/// Tells the loop device `dev` to re-read the size of its backing file
/// (after the file grew), if — and only if — it is bound to the file `id`
/// names; asked on the same open device that is then resized, so another
/// binding cannot slip in between. `Ok(false)` when it is not bound to it.
pub fn set_capacity(dev: &Path, id: FileId) -> io::Result<bool> {
    let Some(d) = open_bound_to(dev, id)? else {
        return Ok(false);
    };
    ioctl_int(&d, LOOP_SET_CAPACITY, 0)?;
    Ok(true)
}

/// The loop flags that give `mode`.
fn flags_of(mode: AttachMode) -> u32 {
    let mut flags = 0;
    if mode.read_only {
        flags |= LO_FLAGS_READ_ONLY;
    }
    if mode.partscan {
        flags |= LO_FLAGS_PARTSCAN;
    }
    flags
}

/// The mode the loop device `dev`, bound to the file `id` names, was bound
/// in; `None` when it is not bound to it.
pub fn mode_of(dev: &Path, id: FileId) -> io::Result<Option<AttachMode>> {
    let Some(d) = open_bound_to(dev, id)? else {
        return Ok(None);
    };
    Ok(status(&d)?.map(|info| AttachMode {
        read_only: info.lo_flags & LO_FLAGS_READ_ONLY != 0,
        partscan: info.lo_flags & LO_FLAGS_PARTSCAN != 0,
    }))
}

/// Binds `file` to a free loop device in `mode`; returns the device's
/// path. If a device already backs this very file in that mode, that one
/// is returned (idempotent: a resumed attach finds the device its first
/// run made); in another mode, it is an error (`AlreadyExists`). Another
/// process may take the same free device first: then the next one is
/// tried. `prefer` names a loop device to try first (the one a volume had
/// before it was rebound: its users keep their path if it is still free).
pub fn attach(file: &Path, mode: AttachMode, prefer: Option<&Path>) -> io::Result<PathBuf> {
    // Open first and bind the open file: what gets bound is the inode
    // checked here, whatever happens to the name meanwhile. Read-only, the
    // file is opened so: the kernel then cannot write it at all.
    let backing = OpenOptions::new()
        .read(true)
        .write(!mode.read_only)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(file)?;
    let id = id_of_meta(&backing.metadata()?, file)?;
    if let Some(dev) = find_by_id(id) {
        // Partitions scanned without being asked is the kernel's doing
        // (`loop.max_part`), not another attachment's.
        return match mode_of(&dev, id)? {
            Some(m) if m.read_only != mode.read_only || (mode.partscan && !m.partscan) => {
                Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} already backs it {m}", dev.display()),
                ))
            }
            _ => Ok(dev),
        };
    }
    let mut info = info_for(file);
    info.lo_flags |= flags_of(mode);
    if let Some(path) = prefer.filter(|p| is_loop_device(p))
        && let Ok(dev) = open_rw(path)
        && bind(&dev, &backing, &info)?
    {
        return Ok(path.to_path_buf());
    }
    let ctl = open_rw(Path::new("/dev/loop-control"))?;
    let mut last = io::Error::from_raw_os_error(libc::EBUSY);
    for _ in 0..64 {
        let n = ioctl_int(&ctl, LOOP_CTL_GET_FREE, 0)?;
        let path = PathBuf::from(format!("/dev/loop{n}"));
        let dev = match open_rw(&path) {
            Ok(d) => d,
            // devtmpfs may not have made the node yet.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                last = e;
                std::thread::sleep(std::time::Duration::from_millis(2));
                continue;
            }
            Err(e) => return Err(e),
        };
        if bind(&dev, &backing, &info)? {
            return Ok(path);
        }
    }
    Err(last)
}

/// Whether `path` is a loop block device (major 7), not merely named so.
fn is_loop_device(path: &Path) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_block_device() && libc::major(m.rdev()) == 7)
}

/// Binds the open `backing` file to the open loop device `dev`, described
/// by `info`. `Ok(false)` when the device is taken (someone bound it first).
fn bind(dev: &File, backing: &File, info: &LoopInfo64) -> io::Result<bool> {
    let cfg = LoopConfig {
        fd: backing.as_raw_fd() as u32,
        block_size: 0,
        info: *info,
        reserved: [0; 8],
    };
    match ioctl_ptr(dev, LOOP_CONFIGURE, &cfg) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(false),
        // Kernels before 5.8: bind, then describe.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOTTY)) => {
            match ioctl_int(dev, LOOP_SET_FD, backing.as_raw_fd() as libc::c_ulong) {
                Ok(_) => {
                    if let Err(e) = ioctl_ptr(dev, LOOP_SET_STATUS64, info) {
                        let _ = ioctl_int(dev, LOOP_CLR_FD, 0);
                        return Err(e);
                    }
                    Ok(true)
                }
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(false),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Why a device cannot be unbound.
#[derive(Debug)]
pub enum DetachError {
    /// Mounted, held by another device (device-mapper, md) or open in
    /// another process: unbinding it would pull a disk from under a user.
    Busy(String),
    /// The kernel refused.
    Io(io::Error),
}

impl From<io::Error> for DetachError {
    fn from(e: io::Error) -> Self {
        DetachError::Io(e)
    }
}

/// Unbinds the loop device `dev`, but only if it is bound to the file `id`
/// names (a device recorded long ago may back someone else's file now:
/// that one is left alone) and nothing uses it. The device is opened
/// exclusively and unbound through that open, so nothing can mount it in
/// between; a device still open elsewhere (the kernel would only defer the
/// unbinding) is left bound.
pub fn detach(dev: &Path, id: FileId) -> Result<(), DetachError> {
    // Ours at all? Asked through a plain open, so that checking a device
    // that backs someone else's file never takes it exclusively.
    if !bound_to(dev, id)? {
        return Ok(());
    }
    let d = match OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_EXCL)
        .open(dev)
    {
        Ok(d) => d,
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
            // Busy for us, but is it ours at all? A device backing another
            // file is simply not this volume's.
            if !backs(dev, id) {
                return Ok(());
            }
            return Err(DetachError::Busy(holders(dev)));
        }
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENXIO)) => {
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    match status(&d)? {
        Some(info) if id_of(&info) == id => {}
        _ => return Ok(()),
    }
    match ioctl_int(&d, LOOP_CLR_FD, 0) {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    // Still bound: someone else has it open, and the kernel only set
    // autoclear. Take that back and say who holds it.
    if let Some(mut info) = status(&d)?
        && id_of(&info) == id
    {
        info.lo_flags &= !LO_FLAGS_AUTOCLEAR;
        let _ = ioctl_ptr(&d, LOOP_SET_STATUS64, &info);
        return Err(DetachError::Busy(format!(
            "{} is open in another process",
            dev.display()
        )));
    }
    Ok(())
}

/// What holds a busy block device, in words: where it is mounted, which
/// devices sit on it, or "open exclusively".
pub fn holders(dev: &Path) -> String {
    let mut what = Vec::new();
    // The device and its partitions (`attach --partscan`), by major:minor.
    let mut numbers = Vec::new();
    if let Ok(m) = std::fs::metadata(dev) {
        use std::os::unix::fs::MetadataExt;
        let rdev = m.rdev();
        numbers.push((
            String::new(),
            format!("{}:{}", libc::major(rdev), libc::minor(rdev)),
        ));
    }
    let name = dev.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if let Ok(rd) = std::fs::read_dir(format!("/sys/block/{name}")) {
        for e in rd.flatten() {
            let part = e.file_name().to_string_lossy().into_owned();
            if part.starts_with(&format!("{name}p"))
                && let Ok(n) = read_bounded(&e.path().join("dev"), 64)
            {
                numbers.push((format!("its partition {part} "), n.trim().to_string()));
            }
        }
    }
    if let Ok(info) = read_bounded(Path::new("/proc/self/mountinfo"), 4 << 20) {
        for line in info.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if f.len() > 4
                && let Some((label, _)) = numbers.iter().find(|(_, n)| n == f[2])
            {
                what.push(format!("{label}mounted at {}", f[4]));
            }
        }
    }
    if let Some(name) = dev.file_name().and_then(|n| n.to_str())
        && let Ok(rd) = std::fs::read_dir(format!("/sys/block/{name}/holders"))
    {
        for e in rd.flatten() {
            what.push(format!("held by {}", e.file_name().to_string_lossy()));
        }
    }
    if what.is_empty() {
        what.push("open exclusively by another process".into());
    }
    format!("{} is in use: {}", dev.display(), what.join(", "))
}

/// Whether a block device is in use (mounted, held, or open exclusively),
/// and by what; `None` if an exclusive open succeeds.
pub fn busy(dev: &Path) -> Option<String> {
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_EXCL)
        .open(dev)
    {
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Some(holders(dev)),
        _ => None,
    }
}

/// At most `limit` bytes of a file (kernel files are small; a bound keeps a
/// surprise from costing memory).
fn read_bounded(path: &Path, limit: u64) -> io::Result<String> {
    use std::io::Read;
    let mut s = String::new();
    File::open(path)?.take(limit).read_to_string(&mut s)?;
    Ok(s)
}

/// The file a loop device is bound to, from sysfs (a name only: see
/// [`backs`] for the check that counts).
pub fn backing_file(dev: &Path) -> Option<PathBuf> {
    let name = dev.file_name()?.to_str()?;
    let s = read_bounded(
        Path::new(&format!("/sys/block/{name}/loop/backing_file")),
        8192,
    )
    .ok()?;
    let s = s.trim_end_matches('\n');
    let s = s.strip_suffix(" (deleted)").unwrap_or(s);
    Some(PathBuf::from(s))
}

/// Every bound loop device and the name of its file.
pub fn list() -> Vec<(PathBuf, PathBuf)> {
    let Ok(rd) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with("loop") {
                return None;
            }
            let dev = PathBuf::from(format!("/dev/{name}"));
            backing_file(&dev).map(|b| (dev, b))
        })
        .collect();
    out.sort();
    out
}

/// The loop device bound to the file `id` names, if any.
pub fn find_by_id(id: FileId) -> Option<PathBuf> {
    list().into_iter().map(|(d, _)| d).find(|d| backs(d, id))
}

/// The loop device bound to the file at `file`, if any.
pub fn find_by_backing(file: &Path) -> Option<PathBuf> {
    find_by_id(file_id(file).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structs_have_the_kernel_layout() {
        assert_eq!(std::mem::size_of::<LoopInfo64>(), 232);
        assert_eq!(std::mem::size_of::<LoopConfig>(), 304);
    }
}
