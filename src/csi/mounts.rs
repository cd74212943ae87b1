//! What the node service does to the node's filesystems: reads the mount
//! table, mounts and unmounts, probes, makes and grows filesystems. The
//! paths come from the container orchestrator; each is checked before it is
//! acted on (never through a symlink), and every tool runs bounded.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::mount::{MntFlags, MsFlags};

use crate::error::{Error, ErrorKind, Result};

/// One line of `/proc/self/mountinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted.
    pub target: PathBuf,
    /// The filesystem type.
    pub fs_type: String,
    /// What is mounted (a device, or the filesystem's name).
    pub source: String,
    /// The path inside the source filesystem (a bind mount's origin).
    pub root: String,
    /// Per-mount options (`ro` or `rw`, …).
    pub options: Vec<String>,
}

/// Undoes mountinfo's octal escapes (`\040` is a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let n = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(n);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses mountinfo text.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let f: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(Mount {
                root: unescape(f.get(3)?),
                target: PathBuf::from(unescape(f.get(4)?)),
                options: f.get(5)?.split(',').map(str::to_string).collect(),
                fs_type: r.first()?.to_string(),
                source: unescape(r.get(1)?),
            })
        })
        .collect()
}

/// The mount table of this process's namespace.
pub fn mounts() -> Result<Vec<Mount>> {
    // Bounded: a mount table of many thousands of lines is still read, a
    // runaway one is not.
    let f = std::fs::File::open("/proc/self/mountinfo").map_err(Error::from_io)?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(f, 64 << 20), &mut text)
        .map_err(Error::from_io)?;
    Ok(parse_mountinfo(&text))
}

/// The topmost mount at `path`, if `path` is a mount point.
pub fn mounted_at(path: &Path) -> Result<Option<Mount>> {
    Ok(mounts()?.into_iter().rev().find(|m| m.target == path))
}

/// Whether `m` shows `device` (`/dev/loop3`, `/dev/vg/lv`): a filesystem
/// on it, or its device node bind-mounted (a published raw block volume:
/// such a bind does not hold the device open, so only the mount table
/// tells).
pub fn shows(m: &Mount, device: &str) -> bool {
    let node = Path::new(device)
        .file_name()
        .map(|n| format!("/{}", n.to_string_lossy()));
    m.source == device
        || (matches!(m.fs_type.as_str(), "devtmpfs" | "tmpfs") && Some(&m.root) == node.as_ref())
}

/// Where `device` is mounted or its node bound, anywhere on this node.
pub fn uses_of(device: &str) -> Result<Vec<PathBuf>> {
    Ok(mounts()?
        .into_iter()
        .filter(|m| shows(m, device))
        .map(|m| m.target)
        .collect())
}

/// `path` as it must be to act on: absolute, and not a symlink.
pub fn checked(path: &str, what: &str) -> Result<PathBuf> {
    let p = PathBuf::from(path);
    if !p.is_absolute() || p.components().any(|c| c == std::path::Component::ParentDir) {
        return Err(Error::invalid(format!(
            "{what} `{path}` must be an absolute path without `..`"
        )));
    }
    if let Ok(m) = std::fs::symlink_metadata(&p)
        && m.file_type().is_symlink()
    {
        return Err(Error::invalid(format!(
            "{what} `{path}` is a symlink: refusing to mount through it"
        )));
    }
    // Its directory as the mount table names it (a symlinked
    // /var/lib/kubelet is common): mounts are found by that path.
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) => match std::fs::canonicalize(dir) {
            Ok(dir) => Ok(dir.join(name)),
            Err(e) => Err(Error::invalid(format!(
                "{what} `{path}`: its directory: {e}"
            ))),
        },
        _ => Ok(p),
    }
}

/// Makes directory `path` if missing (its parent must exist).
pub fn make_dir(path: &Path) -> Result<()> {
    match std::fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(e) => Err(Error::backend_io(format!("mkdir {}", path.display()), &e)),
    }
}

/// Makes regular file `path` if missing (for a raw block bind mount),
/// never following a symlink.
pub fn make_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let m = std::fs::symlink_metadata(path).map_err(Error::from_io)?;
            if m.file_type().is_file() {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "{} exists and is not a regular file",
                    path.display()
                )))
            }
        }
        Err(e) => Err(Error::backend_io(format!("create {}", path.display()), &e)),
    }
}

fn mount_error(what: String, e: nix::Error) -> Error {
    let kind = match e {
        nix::Error::EBUSY => ErrorKind::Conflict,
        nix::Error::ENOENT | nix::Error::ENOTDIR | nix::Error::EINVAL => ErrorKind::Invalid,
        _ => ErrorKind::Backend,
    };
    Error::new(kind, format!("{what}: {}", e.desc()))
}

/// Mounts filesystem `fs_type` on `device` at `target`, with `options`
/// (`ro` honoured as a flag, the rest passed to the filesystem).
pub fn mount_fs(device: &str, target: &Path, fs_type: &str, options: &[String]) -> Result<()> {
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    let mut data = Vec::new();
    for o in options {
        match o.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" | "defaults" => {}
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            other => data.push(other),
        }
    }
    let data = data.join(",");
    nix::mount::mount(
        Some(device),
        target,
        Some(fs_type),
        flags,
        Some(data.as_str()).filter(|d| !d.is_empty()),
    )
    .map_err(|e| {
        mount_error(
            format!("mount {device} ({fs_type}) at {}", target.display()),
            e,
        )
    })
}

/// Bind-mounts `source` at `target`, read-only if asked (a second,
/// remounting call: the kernel ignores `MS_RDONLY` on the bind itself).
pub fn bind(source: &Path, target: &Path, read_only: bool) -> Result<()> {
    let what = || format!("bind {} at {}", source.display(), target.display());
    nix::mount::mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| mount_error(what(), e))?;
    if read_only {
        let r = nix::mount::mount(
            None::<&str>,
            target,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        );
        if let Err(e) = r {
            let _ = nix::mount::umount(target);
            return Err(mount_error(format!("{} read-only", what()), e));
        }
    }
    Ok(())
}

/// Unmounts the topmost mount at `target` (never following a symlink).
pub fn unmount_one(target: &Path) -> Result<()> {
    nix::mount::umount2(target, MntFlags::UMOUNT_NOFOLLOW)
        .map_err(|e| mount_error(format!("umount {}", target.display()), e))
}

/// Unmounts whatever is mounted at `target` (every layer); nothing to do
/// when nothing is.
pub fn unmount(target: &Path) -> Result<()> {
    while mounted_at(target)?.is_some() {
        nix::mount::umount2(target, MntFlags::UMOUNT_NOFOLLOW)
            .map_err(|e| mount_error(format!("umount {}", target.display()), e))?;
    }
    Ok(())
}

fn tool(program: &str, args: &[&str], wall: Duration) -> Result<crate::child::Output> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    let bounds = crate::child::Bounds {
        wall,
        ..Default::default()
    };
    crate::child::run(cmd, bounds, None)
        .map_err(|e| Error::backend_io(format!("run {program}"), &e))
}

fn failed(program: &str, out: &crate::child::Output) -> Error {
    Error::new(
        ErrorKind::Backend,
        format!(
            "{program} failed ({:?}): {}",
            out.ended,
            out.stderr.text().trim()
        ),
    )
}

fn succeeded(out: &crate::child::Output) -> bool {
    matches!(out.ended, crate::child::Ended::Exited(s) if s.success())
}

/// The filesystem on `device` (`blkid -p`), `None` when it has nothing
/// on it at all. A partition table or another signature without a
/// filesystem is an error: it is data, not an empty device.
pub fn fs_type_of(device: &str) -> Result<Option<String>> {
    let out = tool(
        "blkid",
        &["-p", "-o", "export", device],
        Duration::from_secs(30),
    )?;
    match out.ended {
        crate::child::Ended::Exited(s) if s.success() => {
            let text = out.stdout.text();
            let field = |k: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
                    .map(str::to_string)
            };
            match field("TYPE") {
                Some(t) => Ok(Some(t)),
                None => Err(Error::conflict(format!(
                    "{device} has no filesystem but is not empty ({}): not making one over it",
                    field("PTTYPE")
                        .map(|p| format!("a {p} partition table"))
                        .unwrap_or_else(|| "blkid found a signature".into())
                ))),
            }
        }
        // 2: nothing was found on it.
        crate::child::Ended::Exited(s) if s.code() == Some(2) => Ok(None),
        _ => Err(failed("blkid", &out)),
    }
}

/// Makes filesystem `fs_type` on `device`.
pub fn make_fs(fs_type: &str, device: &str) -> Result<()> {
    let (program, args): (String, Vec<&str>) = match fs_type {
        "ext4" => ("mkfs.ext4".into(), vec!["-q", "-F", device]),
        "xfs" => ("mkfs.xfs".into(), vec!["-q", device]),
        other => {
            return Err(Error::invalid(format!(
                "cannot make a `{other}` filesystem"
            )));
        }
    };
    let out = tool(&program, &args, Duration::from_secs(600))?;
    if succeeded(&out) {
        Ok(())
    } else {
        Err(failed(&program, &out))
    }
}

/// Grows the filesystem on `device`, mounted at `mount_point`, to the
/// device's size (online).
pub fn grow_fs(fs_type: &str, device: &str, mount_point: &Path) -> Result<()> {
    let mp = mount_point.to_string_lossy();
    let (program, args): (&str, Vec<&str>) = match fs_type {
        "xfs" => ("xfs_growfs", vec![mp.as_ref()]),
        _ => ("resize2fs", vec![device]),
    };
    let out = tool(program, &args, Duration::from_secs(600))?;
    if succeeded(&out) {
        Ok(())
    } else {
        Err(failed(program, &out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines_are_read_with_their_escapes() {
        let text = "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                    37 35 7:3 / /var/lib/k/stage ro,relatime - ext4 /dev/loop3 rw\n\
                    garbage\n";
        let m = parse_mountinfo(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].target, PathBuf::from("/mnt/with space"));
        assert_eq!(m[0].root, "/mnt1");
        assert_eq!(
            (m[1].fs_type.as_str(), m[1].source.as_str()),
            ("ext4", "/dev/loop3")
        );
        assert_eq!(m[1].options[0], "ro");
    }

    #[test]
    fn paths_must_be_absolute_and_not_symlinks() {
        assert!(checked("relative/x", "target").is_err());
        assert!(checked("/a/../b", "target").is_err());
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("l");
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        let e = checked(link.to_str().unwrap(), "target").unwrap_err();
        assert!(e.message.contains("symlink"), "{}", e.message);
        assert!(checked(d.path().join("new").to_str().unwrap(), "target").is_ok());
    }
}
