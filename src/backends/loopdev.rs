//! Loop devices through the kernel's ioctls (`linux/loop.h`), as `losetup`
//! does: find a free device, bind a file to it, unbind it.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const LOOP_SET_FD: libc::c_ulong = 0x4C00;
const LOOP_CLR_FD: libc::c_ulong = 0x4C01;
const LOOP_SET_STATUS64: libc::c_ulong = 0x4C04;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;

const LO_NAME_SIZE: usize = 64;

/// `struct loop_info64`.
#[repr(C)]
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

/// Binds `file` to a free loop device; returns the device's path. Another
/// process may take the same free device first: then the next one is tried.
pub fn attach(file: &Path) -> io::Result<PathBuf> {
    if let Some(dev) = find_by_backing(file) {
        return Ok(dev);
    }
    let ctl = open_rw(Path::new("/dev/loop-control"))?;
    let backing = open_rw(file)?;
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
        let cfg = LoopConfig {
            fd: backing.as_raw_fd() as u32,
            block_size: 0,
            info: info_for(file),
            reserved: [0; 8],
        };
        match ioctl_ptr(&dev, LOOP_CONFIGURE, &cfg) {
            Ok(_) => return Ok(path),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => last = e,
            // Kernels before 5.8: bind, then describe.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOTTY)) => {
                match ioctl_int(&dev, LOOP_SET_FD, backing.as_raw_fd() as libc::c_ulong) {
                    Ok(_) => {
                        let info = info_for(file);
                        if let Err(e) = ioctl_ptr(&dev, LOOP_SET_STATUS64, &info) {
                            let _ = ioctl_int(&dev, LOOP_CLR_FD, 0);
                            return Err(e);
                        }
                        return Ok(path);
                    }
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => last = e,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Unbinds a loop device, but only if it is bound to `file` (a device
/// recorded long ago may have been reused by someone else since).
pub fn detach(dev: &Path, file: &Path) -> io::Result<()> {
    match backing_file(dev) {
        Some(b) if same_file(&b, file) => {}
        _ => return Ok(()),
    }
    let d = open_rw(dev)?;
    match ioctl_int(&d, LOOP_CLR_FD, 0) {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => Ok(()),
        Err(e) => Err(e),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || std::fs::canonicalize(b).map(|c| c == a).unwrap_or(false)
}

/// The file a loop device is bound to, from sysfs.
pub fn backing_file(dev: &Path) -> Option<PathBuf> {
    let name = dev.file_name()?.to_str()?;
    let s = std::fs::read_to_string(format!("/sys/block/{name}/loop/backing_file")).ok()?;
    let s = s.trim_end_matches('\n');
    let s = s.strip_suffix(" (deleted)").unwrap_or(s);
    Some(PathBuf::from(s))
}

/// Every bound loop device and its file.
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

/// The loop device `file` is bound to, if any.
pub fn find_by_backing(file: &Path) -> Option<PathBuf> {
    list()
        .into_iter()
        .find(|(_, b)| same_file(b, file))
        .map(|(d, _)| d)
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
