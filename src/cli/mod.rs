//! The command line: clap definitions (one file per command group), output,
//! and the console listener.

mod backend;
pub mod complete;
mod config;
pub mod console;
mod csi;
pub mod docs;
mod events;
mod flows;
mod image;
pub mod output;
mod quota;
mod scripts;
mod signals;
mod snapshot;
pub mod style;
mod types;
mod volume;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::ops::Ops;
use crate::service::{Service, default_state_dir};

/// Create and manage local block volumes through resumable task flows.
///
/// Every `volctl create` runs three task flows — api, scheduler, manager —
/// against a SQLite store in the state directory. Progress goes to stderr,
/// the result to stdout (`--json` for programs).
#[derive(Parser, Debug)]
#[command(name = "volctl", version, after_help = crate::error::exit_codes_help())]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes (shown after a command's own).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// State directory (store, default backend) [default: /var/lib/volctl
    /// for root, else $XDG_DATA_HOME/volctl]
    #[arg(long, global = true, env = "VOLCTL_STATE_DIR", value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Configuration file [default: <state-dir>/config.toml if it exists,
    /// else one loopback backend under the state directory]
    #[arg(long, global = true, env = "VOLCTL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Project that owns the volumes and their quota
    #[arg(long, global = true, env = "VOLCTL_PROJECT", default_value = "default")]
    project: String,
    /// Print results as JSON (one document on stdout)
    #[arg(long, global = true)]
    json: bool,
    /// Print nothing but the result, warnings and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Show every task with its time and output; -vv adds every flow and
    /// task transition and every external command (VOLCTL_LOG, a tracing
    /// filter, overrides)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Colour states and verdicts: auto (on a terminal, unless NO_COLOR is
    /// set), always, never
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    color: style::ColorChoice,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a volume
    Create(volume::CreateArgs),
    /// List volumes
    #[command(visible_alias = "ls")]
    List(volume::ListArgs),
    /// Show one volume
    Show(volume::ShowArgs),
    /// Delete volumes (attached ones only with --force)
    #[command(visible_alias = "rm")]
    Delete(volume::DeleteArgs),
    /// Grow a volume (attached or not) to a new size
    Extend(volume::ExtendArgs),
    /// Give a volume a new name
    Rename(volume::RenameArgs),
    /// Set (KEY=VALUE) or remove (KEY-) labels of a volume
    Label(scripts::LabelArgs),
    /// Delete the volumes whose expiry (create --ttl) has passed
    Gc(scripts::GcArgs),
    /// Wait until a volume is available, in use or deleted
    Wait(scripts::WaitArgs),
    /// Make the volumes a file declares so: create what is missing (in
    /// parallel), leave what matches, report what differs
    Apply(scripts::ApplyArgs),
    /// Write a volume or a snapshot to a file (raw or qcow2)
    Export(volume::ExportArgs),
    /// Move a volume to another backend (copied, verified, then switched)
    Migrate(volume::MigrateArgs),
    /// Give a volume another volume type (--migrate: moving it if need be)
    Retype(volume::RetypeArgs),
    /// Take an existing raw file or LV on a backend in as a volume
    Manage(volume::ManageArgs),
    /// Forget a volume but keep its data (renamed unmanaged-<id>)
    Unmanage(volume::ShowArgs),
    /// Attach a volume to a loop device (or every volume that should be
    /// attached, with --all)
    Attach(volume::AttachArgs),
    /// Detach a volume from its loop device
    Detach(volume::ShowArgs),
    /// Snapshots of volumes
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// The image catalog
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Show events: what happened to volumes, snapshots and images
    Events(events::EventsArgs),
    /// Flows: what ran, what stopped, and why
    #[command(subcommand)]
    Flow(flows::FlowCommand),
    /// Continue flows stopped by a crash or Ctrl-C
    Resume(flows::ResumeArgs),
    /// Undo flows stopped by a crash or Ctrl-C, from where they stopped
    Rollback(flows::RollbackArgs),
    /// Settle flows stopped half-way by the [recovery] policy: resume, roll
    /// back or leave each, retry failed reverts (safe to run from a timer)
    Reconcile(flows::ReconcileArgs),
    /// Prove the store and the backends agree (exit 0 only if they do)
    Check(flows::CheckArgs),
    /// Volume types
    #[command(subcommand, name = "type")]
    Type(types::TypeCommand),
    /// Quotas
    #[command(subcommand)]
    Quota(quota::QuotaCommand),
    /// Backends
    #[command(subcommand)]
    Backend(backend::BackendCommand),
    /// The Container Storage Interface driver (Kubernetes, Nomad)
    #[command(subcommand)]
    Csi(csi::CsiCommand),
    /// The configuration: what is in effect and where each value came
    /// from; check a file before using it
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// What a word of a command line can become, for the shell completion
    /// scripts
    #[command(name = "__complete", hide = true)]
    Complete {
        /// The words after `volctl`, the last one being completed
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        words: Vec<String>,
    },
}

/// What a command runs with.
pub struct Ctx {
    svc: Arc<Service>,
    global: Global,
}

impl Ctx {
    fn open(global: &Global) -> Result<Ctx> {
        let dir = global.state_dir.clone().unwrap_or_else(default_state_dir);
        let svc = Service::open(&dir, global.config.as_deref())?;
        Ok(Ctx {
            svc,
            global: global.clone(),
        })
    }

    /// Operations for a command that only reads: no owner lock, no signal
    /// handlers, and no flow can run.
    fn reader(&self) -> Ops {
        Ops::reader(self.svc.clone())
    }

    /// Operations with the console listener (unless `--quiet`).
    fn ops(&self) -> Ops {
        let cancel = signals::cancel_token(self.global.quiet);
        let mut engine = self.svc.engine().with_cancel(cancel);
        let detail = match self.global.verbose {
            0 => console::Detail::Steps,
            _ => console::Detail::Tasks,
        };
        if !self.global.quiet {
            engine = engine.with_listener(Arc::new(console::Console::new(detail)));
        }
        // After the console: a test paused at a point sees what a person
        // would at that moment.
        #[cfg(feature = "test-hooks")]
        {
            engine = engine.with_listener(Arc::new(crate::testhooks::Hooks));
        }
        if self.global.quiet {
            return Ops::new(self.svc.clone(), engine);
        }
        Ops::new(self.svc.clone(), engine).with_notes(Arc::new(|n: crate::ops::Note<'_>| match n {
            crate::ops::Note::Step(text) => output::note(text),
            crate::ops::Note::Undone(words) => console::undone(words),
        }))
    }

    /// The one way a command prints its result: `value` as one JSON
    /// document with `--json`, else what `human` prints.
    fn render<T: serde::Serialize + ?Sized>(&self, value: &T, human: impl FnOnce()) {
        if self.global.json {
            output::json(&value);
        } else {
            human();
        }
    }

    fn note(&self, text: &str) {
        if !self.global.quiet {
            output::note(text);
        }
    }
}

/// The clap command, with every command's examples in its help: what
/// parses the arguments, and what man pages and completions come from.
pub fn command() -> clap::Command {
    docs::with_examples(Cli::command(), "")
}

fn run(cli: &Cli) -> Result<()> {
    // The configuration is read, never the store.
    if let Command::Config(c) = &cli.command {
        return config::run(&cli.global, c);
    }
    // The store is only read, and never made.
    if let Command::Complete { words } = &cli.command {
        for c in complete::candidates(&command(), words) {
            output::line(&c);
        }
        return Ok(());
    }
    let ctx = Ctx::open(&cli.global)?;
    let result = dispatch(&ctx, cli);
    crate::timings::mark("command");
    // Deliver this command's events (and any left by others) to the sinks;
    // a sink's failure does not change the command's outcome.
    if let Err(e) = crate::events::dispatch(&ctx.svc) {
        output::note(&format!("warning: events not delivered: {}", e.message));
    }
    // Then forget a bounded batch of old history (never fails the command).
    if let Err(e) = crate::retention::after_command(&ctx.svc) {
        tracing::warn!("old flows and events not pruned: {}", e.message);
    }
    crate::timings::mark("events and retention");
    result
}

fn dispatch(ctx: &Ctx, cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Create(a) => volume::create(ctx, a),
        Command::List(a) => volume::list(ctx, a),
        Command::Show(a) => volume::show(ctx, a),
        Command::Delete(a) => volume::delete(ctx, a),
        Command::Label(a) => scripts::label(ctx, a),
        Command::Gc(a) => scripts::gc(ctx, a),
        Command::Wait(a) => scripts::wait(ctx, a),
        Command::Apply(a) => scripts::apply(ctx, a),
        Command::Extend(a) => volume::extend(ctx, a),
        Command::Rename(a) => volume::rename(ctx, a),
        Command::Export(a) => volume::export(ctx, a),
        Command::Manage(a) => volume::manage(ctx, a),
        Command::Migrate(a) => volume::migrate(ctx, a),
        Command::Retype(a) => volume::retype(ctx, a),
        Command::Unmanage(a) => volume::unmanage(ctx, a),
        Command::Attach(a) => volume::attach(ctx, a),
        Command::Detach(a) => volume::detach(ctx, a),
        Command::Snapshot(c) => snapshot::run(ctx, c),
        Command::Image(c) => image::run(ctx, c),
        Command::Events(a) => events::run(ctx, a),
        Command::Flow(c) => flows::flow(ctx, c),
        Command::Resume(a) => flows::resume(ctx, a),
        Command::Rollback(a) => flows::rollback(ctx, a),
        Command::Reconcile(a) => flows::reconcile(ctx, a),
        Command::Check(a) => flows::check(ctx, a),
        Command::Type(c) => types::run(ctx, c),
        Command::Quota(c) => quota::run(ctx, c),
        Command::Backend(c) => backend::run(ctx, c),
        Command::Csi(c) => csi::run(ctx, c),
        Command::Config(c) => config::run(&ctx.global, c),
        Command::Complete { .. } => Ok(()),
    }
}

/// Reports an error the way the output mode wants; returns the exit code.
fn report(e: &Error, json: bool) -> i32 {
    console::clear_bars();
    let code = e.kind.exit_code();
    if e.reported {
        return code;
    }
    if json {
        output::json(&output::error_json(e));
    }
    let message = match e.kind {
        // The user's own Ctrl-C (or a SIGTERM), whatever task it stopped;
        // "undone" only when something was.
        crate::error::ErrorKind::Cancelled if console::undid_something() => format!(
            "cancelled by {}; what was done is undone (exit {code})",
            signals::canceller()
        ),
        crate::error::ErrorKind::Cancelled => {
            format!("cancelled by {} (exit {code})", signals::canceller())
        }
        _ => e.message.clone(),
    };
    output::note(&format!(
        "{} {message}",
        style::paint(style::Tone::Bad, "error:")
    ));
    code
}

/// Arguments clap refused (or `--help`, `--version`): its message on
/// stderr (stdout for help) as always, and with `--json` also the error
/// document on stdout, so a script gets one JSON document whatever failed.
fn usage_error(e: &clap::Error) -> i32 {
    let _ = e.print();
    let code = e.exit_code();
    if code != 0 && std::env::args().any(|a| a == "--json") {
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first).trim();
        output::json(&output::error_json(&Error::invalid(message.to_string())));
    }
    code
}

/// Parses the arguments and runs; returns the process exit code.
/// Diagnostics on stderr through `tracing`: warnings a person must see (a
/// cache not filled, an object moved aside) by default; `VOLCTL_LOG` (a
/// tracing filter such as `debug` or `volctl::backends=trace`) for more.
fn init_diagnostics(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        // `-q` too: a warning a person must see (a size rounded up to the
        // backend's extents, an object moved aside) is not progress.
        0 | 1 => "warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = std::env::var("VOLCTL_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(style::enabled())
        .without_time()
        .with_target(false)
        .try_init();
}

pub fn main() -> i32 {
    crate::timings::start();
    // Everything volctl creates (database, locks, objects, directories) is
    // the invoking user's alone, whatever umask it was started with.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    use clap::FromArgMatches;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let color = style::ColorChoice::from_args(&args);
    let cli = match command()
        .color(color.for_clap())
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    crate::timings::mark("parse arguments");
    style::init(cli.global.color);
    init_diagnostics(cli.global.verbose);
    crate::timings::mark("diagnostics");
    let code = match run(&cli) {
        Ok(()) => 0,
        Err(e) => report(&e, cli.global.json),
    };
    crate::timings::mark("close");
    console::clear_bars();
    crate::timings::report();
    code
}
