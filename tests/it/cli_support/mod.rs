//! Running the real `volctl` binary against a private state directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A state directory (and optional configuration) for one test.
pub struct Volctl {
    pub dir: tempfile::TempDir,
    pub state: PathBuf,
    pub config: Option<PathBuf>,
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_volctl")
}

impl Volctl {
    /// The built-in default configuration.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        Volctl {
            dir,
            state,
            config: None,
        }
    }

    /// A configuration; `@` in it stands for the test's directory.
    pub fn with_config(toml: &str) -> Self {
        let mut v = Self::new();
        let path = v.dir.path().join("config.toml");
        let text = toml.replace('@', &v.dir.path().display().to_string());
        // As an operator would, make the backends' directories first:
        // volctl makes them only inside its state directory.
        for line in text.lines() {
            if let Some(dir) = line
                .trim()
                .strip_prefix("path = \"")
                .and_then(|p| p.strip_suffix('"'))
                && !Path::new(dir).exists()
            {
                std::fs::create_dir_all(dir).unwrap();
            }
        }
        std::fs::write(&path, text).unwrap();
        v.config = Some(path);
        v
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .env("VOLCTL_STATE_DIR", &self.state)
            .env_remove("VOLCTL_PROJECT")
            .env_remove("VOLCTL_CONFIG");
        if let Some(cfg) = &self.config {
            c.env("VOLCTL_CONFIG", cfg);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).output().unwrap().into()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(
            r.code, 0,
            "volctl {args:?} failed\nstdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
        r.stdout
    }

    /// Runs with `--json`, expects success, returns the document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let r = self.run(&a);
        assert_eq!(
            r.code, 0,
            "volctl {a:?} failed\nstdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
        r.json()
    }

    /// Quota figures of the default project: resource → (in_use, reserved).
    pub fn usage(&self, resource: &str) -> (i64, i64) {
        let q = self.json(&["quota", "show"]);
        let r = &q[resource];
        if r.is_null() {
            return (0, 0);
        }
        let whole = |k: &str| {
            r[k].as_i64()
                .unwrap_or_else(|| panic!("{resource} {k} is {} (use usage_bytes)", r[k]))
        };
        (whole("in_use"), whole("reserved"))
    }

    /// A size resource's usage (in use, reserved), bytes.
    pub fn usage_bytes(&self, resource: &str) -> (u64, u64) {
        let q = self.json(&["quota", "show"]);
        let r = &q[resource];
        (
            r["in_use_bytes"].as_u64().unwrap(),
            r["reserved_bytes"].as_u64().unwrap(),
        )
    }

    /// Files in a directory (none if it does not exist), but for the
    /// backend claim marker `.volctl-store`, which is no object.
    pub fn files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != ".volctl-store")
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

/// Whether this process is root. Tests that need root (loop devices, mounts)
/// fail loudly without it, unless VOLCTL_SKIP_ROOT_TESTS=1 asks to skip them
/// (which they say, loudly). CI runs as root.
/// Prints past the test harness's capture (which takes only `print!` and
/// `eprint!`), so what was not tested shows even when the test passes.
pub fn say_loudly(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n!!! {msg} !!!\n");
}

pub fn need_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("VOLCTL_SKIP_ROOT_TESTS").is_some() {
        say_loudly(&format!(
            "SKIPPED {test}: it needs root (VOLCTL_SKIP_ROOT_TESTS is set)"
        ));
        return false;
    }
    panic!(
        "{test} needs root for loop devices and mounts (CI runs as root); set VOLCTL_SKIP_ROOT_TESTS=1 to skip it explicitly"
    );
}

/// A read-only view of a directory: a read-only bind mount (root ignores
/// permission bits). Unmounted on drop.
pub struct ReadOnly(PathBuf);

impl ReadOnly {
    pub fn new(dir: &Path) -> ReadOnly {
        std::fs::create_dir_all(dir).unwrap();
        let run = |args: &[&str]| {
            let s = command("mount")
                .args(args)
                .status()
                .unwrap_or_else(|e| panic!("mount: {e}"));
            assert!(s.success(), "mount {args:?}");
        };
        let d = dir.to_str().unwrap();
        run(&["--bind", d, d]);
        run(&["-o", "remount,bind,ro", d]);
        ReadOnly(dir.to_path_buf())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = command("umount").arg(&self.0).status();
    }
}

/// The external tools the tests run, with the Debian package of each (the
/// same list `tests/setup` installs from).
const TOOLS: &str = include_str!("../../tools.tsv");

/// `name`, once it is known to be on PATH; otherwise the test fails with one
/// line naming the tool and the package that provides it.
pub fn tool(name: &str) -> &str {
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    });
    if !on_path {
        let package = TOOLS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                let mut f = l.split('\t');
                (f.next() == Some(name)).then(|| f.next().unwrap_or("?"))
            })
            .unwrap_or("(not in tests/tools.tsv)");
        panic!(
            "missing tool `{name}` (Debian package `{package}`): run tests/setup as root, which installs it"
        );
    }
    name
}

/// A command for an external tool, checked by [`tool`].
pub fn command(name: &str) -> Command {
    Command::new(tool(name))
}

/// Runs a command, which must succeed.
pub fn sh(cmd: &str, args: &[&str]) {
    let out = command(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Unmounts a mount point on drop.
pub struct Umount(pub PathBuf);

impl Drop for Umount {
    fn drop(&mut self) {
        let _ = command("umount").arg(&self.0).status();
    }
}

/// A tmpfs of `size` (e.g. `8m`) mounted at `dir`, unmounted on drop.
pub fn tmpfs(dir: &Path, size: &str) -> Umount {
    std::fs::create_dir_all(dir).unwrap();
    sh(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0700"),
            "tmpfs",
            dir.to_str().unwrap(),
        ],
    );
    Umount(dir.to_path_buf())
}

/// Starts `volctl args` with the test hook that pauses it at `point`, and
/// returns once it is paused there, with the file whose removal releases it.
pub fn spawn_paused(v: &Volctl, args: &[&str], point: &str) -> (std::process::Child, PathBuf) {
    let pause = v.path("pause");
    let child = v
        .cmd(args)
        .env("VOLCTL_PAUSE_AT", point)
        .env("VOLCTL_PAUSE_FILE", &pause)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !pause.exists() {
        assert!(t0.elapsed().as_secs() < 60, "never paused at {point}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    (child, pause)
}

/// The flow transitions `volctl args` passes, in order, each once, from a
/// traced run in `v` (which must succeed).
pub fn trace_points(v: &Volctl, args: &[&str]) -> Vec<String> {
    let trace = v.path("trace");
    let out = v
        .cmd(args)
        .env("VOLCTL_TRACE_POINTS", &trace)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "traced run of {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(v.path("trace.done"));
    let mut seen = std::collections::BTreeSet::new();
    let points = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|p| seen.insert(p.to_string()))
        .map(String::from)
        .collect();
    let _ = std::fs::remove_file(&trace);
    points
}

/// Runs `volctl args` made to stop dead (`abort()`) at `point`; asserts
/// that it did. A `…/progress` point is a report qemu-img makes in the
/// middle of a copy, when it makes one (it depends on timing): a run that
/// finished without passing it returns `false` (the caller skips that
/// round); any other point must be reached.
pub fn crash_at(v: &Volctl, args: &[&str], point: &str) -> bool {
    let r: Run = v
        .cmd(args)
        .env("VOLCTL_CRASH_AT", point)
        .output()
        .unwrap()
        .into();
    if r.code == 0 && point.ends_with("/progress") {
        eprintln!("note: {args:?} finished without a report in the middle of its copy");
        return false;
    }
    assert!(
        r.code != 0
            && r.stderr
                .contains(&format!("test hook: crashing at {point}")),
        "{args:?} did not crash at {point}: {}\n{}",
        r.code,
        r.stderr
    );
    true
}

/// Asserts that `volctl check` passes in `v`; `what` says when.
pub fn check_passes(v: &Volctl, what: &str) {
    let r = v.run(&["check"]);
    assert_eq!(r.code, 0, "{what}: check failed:\n{}{}", r.stdout, r.stderr);
}

/// The file a loop device is bound to, from sysfs (None: unbound).
pub fn backing(dev: &str) -> Option<String> {
    let name = dev.trim_start_matches("/dev/");
    std::fs::read_to_string(format!("/sys/block/{name}/loop/backing_file"))
        .ok()
        .map(|s| s.trim().to_string())
}

pub fn losetup_d(dev: &str) {
    sh("losetup", &["-d", dev]);
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Detaches whatever this test's volumes still have bound, whatever happened.
pub struct Cleanup(PathBuf);

impl Cleanup {
    /// For the volumes of `v`'s store.
    pub fn of(v: &Volctl) -> Cleanup {
        Cleanup(v.state.clone())
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let here = self.0.to_string_lossy().into_owned();
        if let Ok(out) = command("losetup").arg("-a").output() {
            for l in String::from_utf8_lossy(&out.stdout).lines() {
                if l.contains(&here)
                    && let Some(dev) = l.split(':').next()
                {
                    let _ = command("losetup").args(["-d", dev]).status();
                }
            }
        }
    }
}

/// One crashed and settled run of [`every_crash_point`].
pub struct Settled<'a> {
    /// Resumed (else rolled back).
    pub resume: bool,
    /// Where the run crashed.
    pub point: &'a str,
    /// "resume after POINT" or "rollback after POINT", for messages.
    pub what: String,
    /// The operation's own flow (`must_pass`'s first part); the points of
    /// the flows it runs inside it (an apply's creates) are passed too.
    pub flow: &'a str,
}

impl Settled<'_> {
    /// Whether the operation's effect must be there: resumed, or crashed
    /// only once its flow had succeeded (`<flow>/success`).
    pub fn done(&self) -> bool {
        self.resume || self.point.strip_suffix("/success") == Some(self.flow)
    }
}

/// `volctl reconcile --json` under `v`'s configuration with no grace and
/// `extra` (a `[recovery.policy]` table's lines) added; expects success
/// and returns its decisions.
pub fn reconcile_under(v: &Volctl, extra: &str) -> Vec<Value> {
    let r = reconcile_run(v, "[recovery]\ngrace = \"0s\"\n", extra);
    assert_eq!(r.code, 0, "reconcile under {extra:?}: {}", r.stderr);
    r.json().as_array().cloned().unwrap_or_default()
}

/// `volctl reconcile --json` with `recovery` (a `[recovery]` table) and
/// `policy` (its `[recovery.policy]` lines) added to `v`'s configuration.
pub fn reconcile_run(v: &Volctl, recovery: &str, policy: &str) -> Run {
    let base = v
        .config
        .as_ref()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .unwrap_or_default();
    // Outside the test's directory, which some tests list.
    let mut cfg = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(
        &mut cfg,
        format!("{base}\n{recovery}\n[recovery.policy]\n{policy}\n").as_bytes(),
    )
    .unwrap();
    v.cmd(&["reconcile", "--json"])
        .env("VOLCTL_CONFIG", cfg.path())
        .output()
        .unwrap()
        .into()
}

/// The decisions of a reconcile, as `(decision, flow)` pairs.
pub fn verdicts(ds: &[Value]) -> Vec<(String, String)> {
    ds.iter()
        .map(|d| {
            (
                d["decision"].as_str().unwrap_or("?").to_string(),
                d["flow"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

/// The crash-at-every-step test of one operation. A traced run of
/// `args(v, setup(v))` in a store made by `store` gives the flow's
/// transition points (one must start with `must_pass`). Then, for each
/// point, twice: a fresh store and setup, the run crashed there, and
/// `reconcile` under a policy that resumes everything or (after one that
/// leaves everything, which must change nothing) rolls everything back;
/// every decision must be the policy's, then `verify`, `check`, and a
/// second `reconcile` that finds nothing to do.
pub fn every_crash_point<S>(
    store: impl Fn() -> Volctl,
    setup: impl Fn(&Volctl) -> S,
    args: impl Fn(&Volctl, &S) -> Vec<String>,
    must_pass: &str,
    verify: impl Fn(&Volctl, &S, &Settled<'_>),
) {
    fn strs(a: &[String]) -> Vec<&str> {
        a.iter().map(String::as_str).collect()
    }
    let points = {
        let v = store();
        let s = setup(&v);
        trace_points(&v, &strs(&args(&v, &s)))
    };
    assert!(
        points.iter().any(|p| p.starts_with(must_pass)),
        "no point {must_pass}…: {points:?}"
    );
    for point in &points {
        for resume in [true, false] {
            let v = store();
            let s = setup(&v);
            if !crash_at(&v, &strs(&args(&v, &s)), point) {
                continue;
            }
            let settle = if resume { "resume" } else { "rollback" };
            let settled = Settled {
                resume,
                point,
                what: format!("{settle} after {point}"),
                flow: must_pass.split('/').next().unwrap_or(must_pass),
            };
            let what = &settled.what;
            if !resume {
                let before = v.json(&["flow", "list"]);
                let left = reconcile_under(&v, "default = \"leave\"");
                assert!(
                    verdicts(&left).iter().all(|(d, _)| d == "leave"),
                    "{what}: a policy of leave: {left:?}"
                );
                assert_eq!(
                    v.json(&["flow", "list"]),
                    before,
                    "{what}: leave changed nothing"
                );
            }
            let policy = format!("default = \"{settle}\"");
            let unfinished = v.json(&["flow", "list"]).as_array().unwrap().len();
            let decided = reconcile_under(&v, &policy);
            assert!(
                decided.len() >= unfinished,
                "{what}: {unfinished} flows stopped, {} decided: {decided:?}",
                decided.len()
            );
            for d in &decided {
                assert_eq!(d["decision"], settle, "{what}: {d}");
                assert!(d.get("error").is_none(), "{what}: {d}");
            }
            verify(&v, &s, &settled);
            check_passes(&v, what);
            let again = reconcile_under(&v, &policy);
            assert!(again.is_empty(), "{what}: a second reconcile: {again:?}");
        }
    }
}
