//! The native command-line tool, on the core library and burn's CPU backend.
//! Errors go to stderr with exit code 2.

#[path = "../cli/mod.rs"]
mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(message) = cli::run(args) {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}
