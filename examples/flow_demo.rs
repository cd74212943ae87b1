//! A flow of its own tasks on volctl's engine: make a directory, write a file
//! in it, then (with `--fail`) a step that fails — and watch the reverts.
//!
//! ```sh
//! cargo run --example flow_demo -- /tmp/demo          # succeeds
//! cargo run --example flow_demo -- --fail /tmp/demo   # fails, reverts
//! ```
//!
//! State is recorded in `<dir>.flows.db` (SQLite), so the run can be
//! inspected afterwards.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use volctl::db::Db;
use volctl::flow::*;

fn io(e: std::io::Error) -> Failure {
    Failure::new("io", e.to_string())
}

/// The demo's symbols: each value's name and type, spelt once.
const DIR: Sym<PathBuf> = Sym::new("dir");
const CREATED: Sym<bool> = Sym::new("created");
const TEXT: Sym<String> = Sym::new("text");
const FILE: Sym<PathBuf> = Sym::new("file");
const FAIL: Sym<bool> = Sym::new("fail");

/// Creates a directory; its revert removes it, if this task made it.
struct MakeDir;

impl Task for MakeDir {
    fn name(&self) -> &str {
        "make_dir"
    }
    fn requires(&self) -> Vec<&str> {
        vec![DIR.name()]
    }
    fn provides(&self) -> Vec<&str> {
        vec![CREATED.name()]
    }
    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let dir = ctx.get(DIR)?;
        let created = !dir.exists();
        fs::create_dir_all(&dir).map_err(io)?;
        Ok(outputs().with(CREATED, created))
    }
    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let dir = ctx.get(DIR)?;
        // Only undo what this task did: a directory that existed stays.
        if ctx.result(CREATED) == Some(true) && dir.exists() {
            fs::remove_dir(&dir).map_err(io)?;
        }
        Ok(())
    }
}

/// Writes `hello.txt` in the directory; its revert deletes it.
struct WriteFile;

impl Task for WriteFile {
    fn name(&self) -> &str {
        "write_file"
    }
    fn requires(&self) -> Vec<&str> {
        vec![DIR.name(), TEXT.name()]
    }
    fn provides(&self) -> Vec<&str> {
        vec![FILE.name()]
    }
    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        let dir = ctx.get(DIR)?;
        let text = ctx.get(TEXT)?;
        let file = dir.join("hello.txt");
        fs::write(&file, text).map_err(io)?;
        Ok(outputs().with(FILE, &file))
    }
    fn revert(&self, ctx: &RevertContext<'_>) -> Result<(), Failure> {
        let dir = ctx.get(DIR)?;
        match fs::remove_file(dir.join("hello.txt")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        }
    }
    fn summary(&self, outputs: &Values) -> Option<String> {
        outputs.read(FILE).map(|f| format!("wrote {}", f.display()))
    }
}

/// Fails on purpose when asked to.
struct MaybeFail;

impl Task for MaybeFail {
    fn name(&self) -> &str {
        "maybe_fail"
    }
    fn requires(&self) -> Vec<&str> {
        vec![FAIL.name(), FILE.name()]
    }
    fn execute(&self, ctx: &ExecContext<'_>) -> Result<Values, Failure> {
        if ctx.get(FAIL)? {
            Err(Failure::new("demo", "this step fails on purpose"))
        } else {
            Ok(outputs())
        }
    }
}

/// Prints each transition.
struct Printer;

impl Listener for Printer {
    fn flow_changed(&self, e: &FlowEvent<'_>) {
        println!("flow {:<11} {}", e.state, e.flow_name);
    }
    fn atom_changed(&self, e: &AtomEvent<'_>) {
        let detail = match (e.summary, e.failure) {
            (_, Some(f)) => format!("  ({f})"),
            (Some(s), None) => format!("  ({s})"),
            _ => String::new(),
        };
        println!("  {:<11} {}{detail}", e.state.as_str(), e.atom);
    }
}

/// Builds and runs the demo flow; returns its outcome.
fn run(dir: &Path, fail: bool) -> Result<FlowOutcome, EngineError> {
    let db_path = dir.with_extension("flows.db");
    let db = Db::open(&db_path).map_err(StoreError::from)?;
    let engine = Engine::new(Arc::new(SqliteFlowStore::open(db)?)).with_listener(Arc::new(Printer));
    let flow = Flow::linear("demo")
        .add(MakeDir)
        .add(WriteFile)
        .add(MaybeFail);
    let inputs = outputs()
        .with(DIR, dir.to_path_buf())
        .with(TEXT, "hello from a flow\n".to_string())
        .with(FAIL, fail);
    engine.run(&flow, inputs)
}

fn main() {
    let mut fail = false;
    let mut dir = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--fail" => fail = true,
            "-h" | "--help" => {
                println!("usage: flow_demo [--fail] [DIR]");
                return;
            }
            other => dir = Some(PathBuf::from(other)),
        }
    }
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join("volctl-flow-demo"));
    match run(&dir, fail) {
        Ok(out) if out.is_success() => println!("done: {}", dir.join("hello.txt").display()),
        Ok(out) => {
            println!(
                "failed and {}: {}",
                out.state,
                out.failures
                    .first()
                    .map(|f| f.message.as_str())
                    .unwrap_or("?")
            );
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_leaves_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        let out = run(&dir, false).unwrap();
        assert_eq!(out.state, FlowState::Success);
        assert_eq!(
            fs::read_to_string(dir.join("hello.txt")).unwrap(),
            "hello from a flow\n"
        );
    }

    #[test]
    fn failure_reverts_file_and_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        let out = run(&dir, true).unwrap();
        assert_eq!(out.state, FlowState::Reverted);
        assert_eq!(out.failures[0].message, "this step fails on purpose");
        assert!(!dir.exists(), "the directory the flow made is gone");
    }

    #[test]
    fn failure_keeps_a_directory_that_was_already_there() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("other"), "x").unwrap();
        let out = run(&dir, true).unwrap();
        assert_eq!(out.state, FlowState::Reverted);
        assert!(dir.join("other").exists());
        assert!(!dir.join("hello.txt").exists());
    }
}
