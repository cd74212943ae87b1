//! What the benches that run the real binary share.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs `cmd args` (with a volctl state and config when given), expecting
/// success; returns its wall time in seconds and its stdout.
pub fn run(cmd: &str, args: &[&str], env: Option<(&Path, &Path)>) -> (f64, String) {
    let mut c = Command::new(cmd);
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some((state, config)) = env {
        c.env("VOLCTL_STATE_DIR", state)
            .env("VOLCTL_CONFIG", config);
    }
    let t = Instant::now();
    let out = c.output().unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        secs,
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

/// The median.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Unmounts on drop.
#[allow(dead_code)] // not every bench mounts a filesystem
pub struct Mount(pub PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Runs `cmd args` (expecting success) and returns its peak resident set
/// size in KiB, from the kernel's accounting of the child (`wait4`).
#[allow(dead_code)] // not every bench measures memory
pub fn peak_rss_kib(cmd: &str, args: &[&str], env: Option<(&Path, &Path)>) -> u64 {
    let mut c = Command::new(cmd);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some((state, config)) = env {
        c.env("VOLCTL_STATE_DIR", state)
            .env("VOLCTL_CONFIG", config);
    }
    // Reaped by `wait4` below, which also reports its memory.
    #[allow(clippy::zombie_processes)]
    let child = c.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain out-parameters; the child is ours and not yet reaped.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 {cmd}");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd} {args:?} failed"
    );
    usage.ru_maxrss as u64
}
