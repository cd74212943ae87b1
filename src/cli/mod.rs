//! The command line: clap definitions, output, and the console listener.

use clap::{CommandFactory, Parser};

/// Create and manage local block volumes through resumable task flows.
#[derive(Parser, Debug)]
#[command(name = "volctl", version, about, long_about = None)]
pub struct Cli {}

/// The clap command, for generating man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Parses the arguments and runs; returns the process exit code.
pub fn main() -> i32 {
    let _cli = Cli::parse();
    0
}
