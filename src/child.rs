//! Running external commands whose output cannot be trusted (qemu-img on an
//! untrusted image can print gigabytes of errors; lvm2 is only less likely
//! to): output is read with a bound — the first and last few KiB kept, the
//! rest counted — and the wait is limited in wall-clock time and stopped by
//! cancellation (the child, in its own process group, is killed).

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::flow::CancelToken;

/// What a stream printed, bounded.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    /// The first bytes (up to the head bound).
    pub head: Vec<u8>,
    /// The last bytes after the head (up to the tail bound).
    pub tail: Vec<u8>,
    /// Everything the stream printed, counted.
    pub total: u64,
}

impl Captured {
    /// Whether bytes were dropped between head and tail.
    pub fn truncated(&self) -> bool {
        self.total > (self.head.len() + self.tail.len()) as u64
    }

    /// The whole output, if nothing was dropped.
    pub fn complete(&self) -> Option<Vec<u8>> {
        (!self.truncated()).then(|| [self.head.as_slice(), self.tail.as_slice()].concat())
    }

    /// As text, saying how much was left out in the middle.
    pub fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.head).into_owned();
        if self.truncated() {
            let dropped = self.total - (self.head.len() + self.tail.len()) as u64;
            s.push_str(&format!("\n[... {dropped} bytes left out ...]\n"));
        }
        s.push_str(&String::from_utf8_lossy(&self.tail));
        s
    }
}

/// Reads `r` to its end, keeping at most `head` bytes from the start and
/// `tail` from the end.
pub fn read_bounded(mut r: impl Read, head: usize, tail: usize) -> Captured {
    let mut c = Captured::default();
    let mut ring: std::collections::VecDeque<u8> = std::collections::VecDeque::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        c.total += n as u64;
        let mut chunk = &buf[..n];
        if c.head.len() < head {
            let take = chunk.len().min(head - c.head.len());
            c.head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        ring.extend(chunk);
        while ring.len() > tail {
            ring.pop_front();
        }
    }
    c.tail = ring.into_iter().collect();
    c
}

/// How a bounded run ended.
#[derive(Debug)]
pub enum Ended {
    /// It exited (or was killed by a signal it got elsewhere, e.g. an rlimit).
    Exited(ExitStatus),
    /// It ran past the wall-clock limit and was killed.
    TimedOut,
    /// It was cancelled (Ctrl-C) and killed.
    Cancelled,
}

/// A finished bounded run.
#[derive(Debug)]
pub struct Output {
    /// How it ended.
    pub ended: Ended,
    /// Its stdout, bounded.
    pub stdout: Captured,
    /// Its stderr, bounded.
    pub stderr: Captured,
}

/// Bounds for [`run`].
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Bytes kept from the start of stdout (a JSON report must fit).
    pub stdout_head: usize,
    /// Bytes kept from the start and from the end of stderr.
    pub stderr_keep: usize,
    /// The longest it may run.
    pub wall: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            stdout_head: 1 << 20,
            stderr_keep: 8 << 10,
            wall: Duration::from_secs(60),
        }
    }
}

/// Runs `cmd` (stdin closed, its own process group) within `bounds`,
/// stopped by `cancel`.
pub fn run(
    mut cmd: Command,
    bounds: Bounds,
    cancel: Option<&CancelToken>,
) -> std::io::Result<Output> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let program = format!("{:?}", cmd.get_program());
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let t0 = Instant::now();
    let mut child = cmd.spawn()?;
    let out = child.stdout.take().expect("piped");
    let err = child.stderr.take().expect("piped");
    std::thread::scope(|scope| {
        let o = scope.spawn(move || read_bounded(out, bounds.stdout_head, 4 << 10));
        let e = scope.spawn(move || read_bounded(err, bounds.stderr_keep, bounds.stderr_keep));
        let ended = wait(&mut child, bounds.wall, cancel);
        let stdout = o.join().unwrap_or_default();
        let stderr = e.join().unwrap_or_default();
        tracing::debug!(
            target: "volctl::child",
            program,
            args = ?args,
            ended = ?ended.as_ref().ok(),
            elapsed_ms = t0.elapsed().as_secs_f64() * 1e3,
            "ran {program}"
        );
        ended.map(|ended| Output {
            ended,
            stdout,
            stderr,
        })
    })
}

fn kill_group(child: &mut Child) {
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn wait(child: &mut Child, wall: Duration, cancel: Option<&CancelToken>) -> std::io::Result<Ended> {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(Ended::Exited(st));
        }
        if cancel.is_some_and(CancelToken::is_cancelled) {
            kill_group(child);
            return Ok(Ended::Cancelled);
        }
        if start.elapsed() >= wall {
            kill_group(child);
            return Ok(Ended::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_bounded_head_and_tail() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let c = read_bounded(&data[..], 1000, 500);
        assert_eq!(c.total, 100_000);
        assert_eq!(c.head, data[..1000]);
        assert_eq!(c.tail, data[data.len() - 500..]);
        assert!(c.truncated() && c.complete().is_none());
        let small = read_bounded(&b"hello"[..], 1000, 500);
        assert_eq!(small.complete().unwrap(), b"hello");
    }

    #[test]
    fn a_flood_costs_bounded_memory_and_a_hang_is_killed() {
        let mut c = Command::new("sh");
        c.args(["-c", "yes error | head -c 50000000 >&2; echo done"]);
        let out = run(c, Bounds::default(), None).unwrap();
        assert!(matches!(out.ended, Ended::Exited(s) if s.success()));
        assert_eq!(out.stderr.total, 50_000_000);
        assert!(out.stderr.head.len() + out.stderr.tail.len() <= 16 << 10);
        assert_eq!(out.stdout.complete().unwrap(), b"done\n");

        let mut c = Command::new("sh");
        c.args(["-c", "sleep 30"]);
        let b = Bounds {
            wall: Duration::from_millis(200),
            ..Bounds::default()
        };
        assert!(matches!(run(c, b, None).unwrap().ended, Ended::TimedOut));

        let cancel = CancelToken::new();
        cancel.cancel();
        let mut c = Command::new("sh");
        c.args(["-c", "sleep 30"]);
        assert!(matches!(
            run(c, Bounds::default(), Some(&cancel)).unwrap().ended,
            Ended::Cancelled
        ));
    }
}
