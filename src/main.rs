//! The `volctl` binary: parse arguments, run, map errors to exit codes.

use clap::Parser;

/// Create and manage local block volumes through resumable task flows.
#[derive(Parser, Debug)]
#[command(name = "volctl", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
