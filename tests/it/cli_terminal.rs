//! What a person sees: volctl run in a real pseudo-terminal (a tmux pane of
//! 120 × 30), its screen captured as tmux renders it — during a create from
//! an image (paused in the middle of the copy), after a failing create, and
//! after a Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cli_support::*;

/// A tmux server of its own, with one pane running a shell command.
struct Pane {
    socket: String,
}

impl Pane {
    fn start(v: &Volctl, env: &[(&str, &Path)], command: &str) -> Pane {
        let socket = format!("volctl-test-{}-{}", std::process::id(), rand_suffix());
        let mut exports = format!(
            "export VOLCTL_STATE_DIR='{}' TERM=xterm-256color; unset NO_COLOR VOLCTL_CONFIG; ",
            v.state.display()
        );
        if let Some(c) = &v.config {
            exports.push_str(&format!("export VOLCTL_CONFIG='{}'; ", c.display()));
        }
        for (k, val) in env {
            exports.push_str(&format!("export {k}='{}'; ", val.display()));
        }
        let script = format!(
            "{exports}cd '{}'; '{}' {command}; echo \"EXIT:$?\"; sleep 120",
            v.dir.path().display(),
            bin()
        );
        let ok = tmux(&socket)
            .args([
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "30",
                "bash",
                "-c",
                &script,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session");
        Pane { socket }
    }

    /// The screen as a person sees it now, trailing blank lines dropped.
    fn screen(&self) -> String {
        let out = tmux(&self.socket)
            .args(["capture-pane", "-p"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.trim_end().to_string()
    }

    fn keys(&self, keys: &str) {
        assert!(
            tmux(&self.socket)
                .args(["send-keys", keys])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Waits (60 s at most) until the screen shows `what`.
    fn wait_for(&self, what: &str) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "never saw {what:?}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = tmux(&self.socket).arg("kill-server").status();
    }
}

fn tmux(socket: &str) -> Command {
    let mut c = command("tmux");
    c.args(["-L", socket, "-f", "/dev/null"]);
    c
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

fn image(v: &Volctl) -> PathBuf {
    let img = v.path("disk.qcow2");
    let img_s = img.to_str().unwrap();
    for args in [
        vec!["qemu-img", "create", "-q", "-f", "qcow2", img_s, "256M"],
        vec!["qemu-io", "-c", "write -P 0x5a 0 192M", img_s],
    ] {
        let out = command(args[0]).args(&args[1..]).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    v.ok(&["image", "import", img_s, "--name", "disk"]);
    img
}

/// A line that is a progress bar.
fn bar_lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        // `0 B/256.00 MiB` too: the console may not have redrawn the bar
        // with the first figure when the create pauses.
        .filter(|l| l.contains("[") && l.contains("B/"))
        .collect()
}

/// A create from a 256 MiB image, started in a pane, that pauses at its
/// first progress report (after the console drew it) until `pause` is
/// removed.
fn paused_create(v: &Volctl, args: &str) -> (Pane, PathBuf) {
    image(v);
    let pause = v.path("pause");
    let pane = Pane::start(
        v,
        &[
            (
                "VOLCTL_PAUSE_AT",
                Path::new("volume_create_manager/CreateVolumeFromSpec/progress"),
            ),
            ("VOLCTL_PAUSE_FILE", &pause),
        ],
        &format!("create --from-image disk {args}"),
    );
    (pane, pause)
}

#[test]
fn a_create_from_an_image_shows_its_steps_and_a_labelled_bar_then_clears_it() {
    if !need_root("a_create_from_an_image_shows_its_steps_and_a_labelled_bar_then_clears_it") {
        return;
    }
    let v = Volctl::new();
    let (pane, pause) = paused_create(&v, "--name vm");
    let during = pane.wait_for("converting image");
    let bars = bar_lines(&during);
    assert_eq!(bars.len(), 1, "one bar, for the phase under way:\n{during}");
    assert!(
        bars[0].starts_with("converting image ["),
        "labelled with its phase:\n{during}"
    );
    assert!(
        bars[0].chars().count() <= 120,
        "fits the terminal:\n{during}"
    );
    assert!(
        !bars[0].contains("ETA"),
        "no rate or ETA in the first second:\n{during}"
    );
    assert!(during.starts_with("scheduled on default"), "{during}");
    while !pause.exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::remove_file(&pause).unwrap();
    let after = pane.wait_for("EXIT:");
    assert!(after.contains("EXIT:0"), "{after}");
    assert!(
        bar_lines(&after).is_empty(),
        "no bar left on screen:\n{after}"
    );
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines[0], "scheduled on default", "{after}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("volume ") && l.contains(" available: 256 MiB on default")),
        "{after}"
    );
    assert!(
        !after.contains("Extract"),
        "no task names by default:\n{after}"
    );
}

#[test]
fn a_failing_create_lists_its_reverts_in_words_and_ends_with_the_error() {
    if !need_root("a_failing_create_lists_its_reverts_in_words_and_ends_with_the_error") {
        return;
    }
    let v =
        Volctl::with_config("[[backend]]\nname = \"ro\"\ndriver = \"loopback\"\npath = \"@/ro\"\n");
    let _ro = ReadOnly::new(&v.path("ro"));
    let pane = Pane::start(&v, &[], "create --size 64M");
    let screen = pane.wait_for("EXIT:");
    assert!(screen.contains("EXIT:1"), "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(lines[0], "scheduled on ro", "{screen}");
    assert!(screen.contains("\nundoing what was done:\n  "), "{screen}");
    assert!(
        screen.contains("  marking the volume `error`, its quota returned"),
        "{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("error: volume ") && l.contains("is in error")),
        "{screen}"
    );
    assert!(
        !screen.contains("ExtractVolumeRequest"),
        "no task names by default:\n{screen}"
    );
    assert!(bar_lines(&screen).is_empty(), "{screen}");
}

#[test]
fn a_bad_size_prints_only_the_error() {
    let v = Volctl::new();
    let pane = Pane::start(&v, &[], "create --size 0");
    let screen = pane.wait_for("EXIT:");
    assert!(screen.contains("EXIT:2"), "{screen}");
    assert!(
        screen.starts_with("error: invalid value '0' for '--size <SIZE>'"),
        "{screen}"
    );
    assert!(
        !screen.contains("revert") && !screen.contains("FAILED"),
        "{screen}"
    );
}

#[test]
fn ctrl_c_reads_as_cancelled_by_you_then_each_revert_then_exit_130() {
    if !need_root("ctrl_c_reads_as_cancelled_by_you_then_each_revert_then_exit_130") {
        return;
    }
    let v = Volctl::new();
    let (pane, pause) = paused_create(&v, "");
    pane.wait_for("converting image");
    while !pause.exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    pane.keys("C-c");
    pane.wait_for("cancelled by you:");
    std::fs::remove_file(&pause).unwrap();
    let screen = pane.wait_for("EXIT:");
    assert!(screen.contains("EXIT:130"), "{screen}");
    assert!(bar_lines(&screen).is_empty(), "no stale bar:\n{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("cancelled by you: stopping, then undoing")),
        "the note starts its own line, not after ^C:\n{screen}"
    );
    let undo = screen
        .find("undoing what was done:")
        .expect("a heading for the reverts");
    let reverts: Vec<&str> = screen[undo..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(
        reverts
            .iter()
            .any(|l| l.contains("removing what was made of the volume")),
        "{screen}"
    );
    assert!(
        reverts.iter().any(|l| l.contains("quota")),
        "the quota given back, in words:\n{screen}"
    );
    assert!(
        screen.contains("error: cancelled by you; what was done is undone (exit 130)"),
        "{screen}"
    );
    assert!(
        !screen.contains("backend `default`"),
        "not reported as a backend failure:\n{screen}"
    );
    assert_eq!(v.json(&["list"]), serde_json::json!([]), "nothing left");
}
