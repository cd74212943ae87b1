//! The `volctl` binary: everything lives in the library's `cli` module.

fn main() {
    std::process::exit(volctl::cli::main());
}
