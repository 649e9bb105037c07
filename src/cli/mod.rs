//! Subcommands of the `actscale` CLI.

mod bench;
mod compare;
mod interpret;
mod permalink;
mod predict;
mod seeds;
mod steer;
mod task;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use actscale::backend::{BackendKind, cpu_device};
use actscale::model::Model;
use actscale::model::config::ModelConfig;
use actscale::model::gguf::Gguf;
use actscale::model::id::{ModelId, model_hash};
use actscale::steer::saved::SavedIntervention;

#[derive(Parser)]
#[command(
    name = "actscale",
    version,
    about = "Activation scaling on a GGUF language model (llama, qwen2, gpt2, gptneox)"
)]
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
    /// Which units carry a saved ActivScalar intervention: ranked units with leave-one-out,
    /// the keep-top-k curve and k*, a random baseline; with --corrupt also patching and attribution.
    Interpret(interpret::InterpretArgs),
    /// Activation patching: the effect on Δ of each (site, layer, position) of a corrupted run.
    Patch(interpret::PatchArgs),
    /// Turn a saved intervention into a link, or a link back into an intervention.
    #[command(subcommand)]
    Permalink(permalink::PermalinkCommand),
}

pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Predict(args) => predict::run(args),
        Command::Truncate { model, layers, out } => {
            let g = actscale::model::gguf::Gguf::parse(read(&model)?).map_err(|e| e.to_string())?;
            let bytes = actscale::model::gguf::writer::truncate_layers(&g, layers).map_err(|e| e.to_string())?;
            write_atomically(&out, &bytes)
        }
        Command::BenchForward(args) => bench::run(args),
        Command::BenchTrain(args) => bench::run_train(args),
        Command::Train(args) => steer::train(args),
        Command::Eval(args) => steer::eval(args),
        Command::Sweep(args) => compare::sweep(args),
        Command::Compare(args) => compare::compare(args),
        Command::Permalink(c) => permalink::run(c),
        Command::Interpret(args) => interpret::interpret(args),
        Command::Patch(args) => interpret::patch(args),
        Command::SelfCheck => {
            let r = futures_lite::future::block_on(actscale::self_check::run(&cpu_device(), BackendKind::Cpu))?;
            println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
            if r.is_correct() { Ok(()) } else { Err("the self-check computed a wrong gradient".into()) }
        }
    }
}

/// Writes a file so that a reader sees either nothing or the whole file: a temp file beside
/// it (unique per process), then a rename, which replaces the target in one step.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.file_name().ok_or_else(|| format!("cannot write {}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.{}.part", name.to_string_lossy(), std::process::id()));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

pub fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub fn load_model(path: &PathBuf) -> Result<Model, String> {
    Ok(load_model_with_id(path)?.0)
}

/// The model and its id (hash of the file's bytes), from one read of the file.
pub fn load_model_with_id(path: &PathBuf) -> Result<(Model, ModelId), String> {
    let bytes = read(path)?;
    let hash = model_hash(&bytes);
    let model = Model::from_bytes(bytes, &cpu_device()).map_err(|e| format!("{}: {e}", path.display()))?;
    let c = &model.net.config;
    let id = ModelId { hash, n_layers: c.n_layers, d_model: c.d_model };
    Ok((model, id))
}

/// A saved intervention file, refused when it names another model than `model`.
pub fn read_saved_for(path: &PathBuf, model: &ModelId) -> Result<SavedIntervention, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let saved = SavedIntervention::from_json(&text)?;
    if let Some(made_with) = &saved.model {
        made_with.check(model)?;
    }
    Ok(saved)
}

/// A model file's id from its header alone (no weights loaded).
pub fn model_id(path: &PathBuf) -> Result<ModelId, String> {
    let bytes = read(path)?;
    let hash = model_hash(&bytes);
    let g = Gguf::parse(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let c = ModelConfig::from_gguf(&g).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(ModelId { hash, n_layers: c.n_layers, d_model: c.d_model })
}
