//! `actscale permalink encode|decode`: a saved intervention as a link and back.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use actscale::permalink;
use actscale::steer::saved::SavedIntervention;

/// Where the page is served by `make serve`.
const DEFAULT_BASE: &str = "http://127.0.0.1:8080/";

#[derive(Subcommand)]
pub enum PermalinkCommand {
    /// Print the link of a saved intervention (JSON from `train --out` or the page's export).
    Encode(EncodeArgs),
    /// Print what a link (or `#s=…`, `s=…`, a bare payload) carries.
    Decode(DecodeArgs),
}

#[derive(Args)]
pub struct EncodeArgs {
    #[arg(long)]
    intervention: PathBuf,
    /// The GGUF it was made with; needed when the file has no model id (older files).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The dial β in [−1, 1] the link opens at (default: the file's).
    #[arg(long, allow_hyphen_values = true)]
    beta: Option<f32>,
    /// The page's address; the link is this plus `#s=…`.
    #[arg(long, default_value = DEFAULT_BASE)]
    base: String,
}

#[derive(Args)]
pub struct DecodeArgs {
    link: String,
    /// Print the intervention as one JSON object (the file format) instead of a summary.
    #[arg(long)]
    json: bool,
}

pub fn run(c: PermalinkCommand) -> Result<(), String> {
    match c {
        PermalinkCommand::Encode(a) => encode(a),
        PermalinkCommand::Decode(a) => decode(a),
    }
}

fn encode(a: EncodeArgs) -> Result<(), String> {
    let text = std::fs::read_to_string(&a.intervention)
        .map_err(|e| format!("cannot read {}: {e}", a.intervention.display()))?;
    let mut saved = SavedIntervention::from_json(&text)?;
    match (&a.model, &saved.model) {
        (Some(path), recorded) => {
            let id = super::model_id(path)?;
            if let Some(r) = recorded {
                r.check(&id).map_err(|e| format!("{}: {e}", path.display()))?;
            }
            saved.model = Some(id);
        }
        (None, Some(_)) => {}
        (None, None) => {
            return Err(format!(
                "{} does not say which model it was made with; pass --model PATH.gguf (the file it was trained on)",
                a.intervention.display()
            ));
        }
    }
    if let Some(b) = a.beta {
        saved.beta = b;
    }
    println!("{}", permalink::link(&a.base, &saved)?);
    Ok(())
}

fn decode(a: DecodeArgs) -> Result<(), String> {
    let saved = permalink::decode(&a.link)?;
    if a.json {
        println!("{}", serde_json::to_string(&saved).map_err(|e| e.to_string())?);
        return Ok(());
    }
    let h = &saved.hyper;
    let seed = saved.seed.map(|s| format!(" (seed {s})")).unwrap_or_default();
    println!("{} on task {:?}{seed}, β = {}", saved.method.name(), saved.task, saved.beta);
    match &saved.model {
        Some(m) => println!("model: {}", m.describe()),
        None => println!("model: not recorded ({} layers, width {})", saved.n_layers, saved.d_model),
    }
    let sites: Vec<&str> = saved.selection.sites.iter().map(|s| s.name()).collect();
    println!("sites: {}; {} positions", sites.join(", "), saved.n_positions);
    println!("non-zero parameters: {} of {}", saved.nonzero(), saved.params.len());
    println!(
        "margin {}, λF {}, λM {}, lr {}, {} steps, batch {}",
        h.margin, h.lambda_f, h.lambda_m, h.lr, h.steps, h.batch_size
    );
    for e in saved.examples.iter().take(5) {
        println!("prompt {:?}: token {} → {}", e.text, e.from, e.to);
    }
    if saved.examples.len() > 5 {
        println!("… and {} more prompts", saved.examples.len() - 5);
    }
    Ok(())
}
