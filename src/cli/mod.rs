//! Subcommands of the `actscale` CLI.

mod bench;
mod compare;
mod predict;
mod steer;
mod task;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use actscale::backend::{BackendKind, cpu_device};
use actscale::model::Model;

#[derive(Parser)]
#[command(name = "actscale", version, about = "Activation scaling on a llama-family GGUF model")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a prompt's tokens and the top-K next tokens.
    Predict(predict::PredictArgs),
    /// Learn an intervention on a task and save it (JSON).
    Train(steer::TrainArgs),
    /// Metrics of a saved intervention on its prompts or on a task's train and test split.
    Eval(steer::EvalArgs),
    /// Train with λM over a log grid; print effectiveness vs non-zero count as CSV.
    Sweep(compare::SweepArgs),
    /// ActivScalar vs SteerVec vs DynScalar on CCC and IOI: a markdown table.
    Compare(compare::CompareArgs),
    /// Write the first N blocks of a GGUF as a valid GGUF (the fast test model).
    Truncate {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        layers: u32,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the median forward-pass time on a 10-token prompt and the peak memory.
    BenchForward(bench::BenchArgs),
    /// Print the median time of one training step (1 and 8 prompts of 10 tokens).
    BenchTrain(bench::BenchTrainArgs),
    /// Run burn's autodiff self-check (y = Σ a·x, dy/da) on the CPU backend.
    SelfCheck,
}

pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Predict(args) => predict::run(args),
        Command::Truncate { model, layers, out } => {
            let g = actscale::model::gguf::Gguf::parse(read(&model)?).map_err(|e| e.to_string())?;
            let bytes = actscale::model::gguf::writer::truncate_layers(&g, layers).map_err(|e| e.to_string())?;
            std::fs::write(&out, bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))
        }
        Command::BenchForward(args) => bench::run(args),
        Command::BenchTrain(args) => bench::run_train(args),
        Command::Train(args) => steer::train(args),
        Command::Eval(args) => steer::eval(args),
        Command::Sweep(args) => compare::sweep(args),
        Command::Compare(args) => compare::compare(args),
        Command::SelfCheck => {
            let r = futures_lite::future::block_on(actscale::self_check::run(&cpu_device(), BackendKind::Cpu))?;
            println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
            if r.is_correct() { Ok(()) } else { Err("the self-check computed a wrong gradient".into()) }
        }
    }
}

pub fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub fn load_model(path: &PathBuf) -> Result<Model, String> {
    Model::from_bytes(read(path)?, &cpu_device()).map_err(|e| format!("{}: {e}", path.display()))
}
