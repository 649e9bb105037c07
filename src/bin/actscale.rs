//! The native command-line tool. Subcommands arrive with the model and steering issues.

use clap::Parser;

#[derive(Parser)]
#[command(name = "actscale", version, about = "Activation scaling on a GGUF language model")]
enum Cli {
    /// Run burn's autodiff self-check (y = Σ a·x, dy/da) on the CPU backend.
    SelfCheck,
}

fn main() {
    match Cli::parse() {
        Cli::SelfCheck => {
            let device = actscale::backend::cpu_device();
            match futures_lite::future::block_on(actscale::self_check::run(
                &device,
                actscale::backend::BackendKind::Cpu,
            )) {
                Ok(r) => println!("{}", serde_json::to_string(&r).unwrap_or_default()),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            }
        }
    }
}
