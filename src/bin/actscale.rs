//! The native command-line tool, on the core library and burn's CPU backend.
//! Errors go to stderr with exit code 2.

#[path = "../cli/mod.rs"]
mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    // Run the command on a thread of rayon's pool: from a thread outside it, every parallel
    // matmul is handed to the pool and waited for (a cross-thread round trip, hundreds of times
    // a step); from inside, the calling thread takes its share (docs/performance.md "What was
    // tried" has the figures).
    let result = match rayon::ThreadPoolBuilder::new().build() {
        Ok(pool) => pool.install(|| cli::run(args)),
        Err(_) => cli::run(args),
    };
    if let Err(message) = result {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}
