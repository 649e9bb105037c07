//! `actscale train` and `actscale eval`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use futures_lite::future::block_on;
use serde_json::json;

use actscale::model::Model;
use actscale::model::hook::Site;
use actscale::steer::hyper::{Hyper, Method, Selection};
use actscale::steer::intervention::Intervention;
use actscale::steer::metrics::{Metrics, evaluate};
use actscale::steer::prompts::Example;
use actscale::steer::saved::SavedIntervention;
use actscale::steer::train::Trainer;

use super::task::{TaskArgs, build};

#[derive(Args, Clone)]
pub struct HyperArgs {
    #[arg(long, default_value = "activ-scalar")]
    pub method: String,
    #[arg(long)]
    pub steps: Option<usize>,
    #[arg(long)]
    pub lr: Option<f32>,
    #[arg(long)]
    pub margin: Option<f32>,
    #[arg(long = "lambda-f")]
    pub lambda_f: Option<f32>,
    #[arg(long = "lambda-m")]
    pub lambda_m: Option<f32>,
    /// Prompts per training step (0 = all; larger tasks use rotating minibatches).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Sites to intervene on: attn_out, mlp_out, attn_head (each head's output; activ-scalar
    /// only), comma-separated.
    #[arg(long, default_value = "attn_out,mlp_out", value_delimiter = ',')]
    pub sites: Vec<String>,
    /// Stop before --steps once no state that flips every prompt both ways by 0.9 × margin has
    /// been sparser for K steps (K defaults to the page's); on one batch, keep the sparsest.
    #[arg(long = "until-converged", value_name = "K", num_args = 0..=1, default_missing_value = actscale::steer::convergence::PATIENCE_ARG)]
    pub until_converged: Option<usize>,
}

impl HyperArgs {
    pub fn method(&self) -> Result<Method, String> {
        Method::parse(&self.method)
    }

    /// The flags given, else the method's defaults on one prompt or on a task (an unknown method
    /// gets ActivScalar's; its name is refused by `method()`).
    pub fn hyper(&self, one_prompt: bool) -> Hyper {
        let d = Hyper::defaults(self.method().unwrap_or(Method::ActivScalar), one_prompt);
        Hyper {
            margin: self.margin.unwrap_or(d.margin),
            lambda_f: self.lambda_f.unwrap_or(d.lambda_f),
            lambda_m: self.lambda_m.unwrap_or(d.lambda_m),
            lr: self.lr.unwrap_or(d.lr),
            steps: self.steps.unwrap_or(d.steps),
            batch_size: self.batch.unwrap_or(d.batch_size),
        }
    }

    pub fn selection(&self) -> Result<Selection, String> {
        let sites: Vec<Site> = self
            .sites
            .iter()
            .map(|s| {
                Site::parse(s.trim()).ok_or_else(|| format!("unknown site {s:?}: use attn_out, mlp_out or attn_head"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sites = Site::SELECTABLE.into_iter().filter(|s| sites.contains(s)).collect(); // each once
        Ok(Selection { sites, ..Selection::default() })
    }
}

#[derive(Args)]
pub struct TrainArgs {
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    task: TaskArgs,
    #[command(flatten)]
    hyper: HyperArgs,
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object (metrics per split) on stdout.
    #[arg(long)]
    json: bool,
}

/// What `train_quiet` learned, how long it took, and where it stopped.
pub struct Trained {
    pub iv: Intervention,
    pub secs: f64,
    pub steps: usize,
    /// Why the stopping rule ended training (with --until-converged).
    pub converged: Option<String>,
}

/// Trains with a progress line on stderr (`until`: the stopping rule's K, if on).
pub fn train_quiet(
    model: &Model,
    method: Method,
    selection: Selection,
    hyper: Hyper,
    train: &[Example],
    until: Option<usize>,
    progress: bool,
) -> Result<Trained, String> {
    let start = Instant::now();
    let trainer = Trainer::new(model, method, selection, hyper.clone(), train)?;
    let mut trainer = match until {
        Some(k) => trainer.until_converged(k),
        None => trainer,
    };
    while !trainer.done() {
        let r = block_on(trainer.step(model))?;
        if progress {
            let filled = r.step * 30 / hyper.steps.max(1);
            eprint!(
                "\r[{}{}] step {}/{}  loss {:.3}  Δ+ {:+.2}  Δ− {:+.2}  non-zero {}   ",
                "#".repeat(filled),
                ".".repeat(30 - filled),
                r.step,
                hyper.steps,
                r.loss,
                r.delta_pos,
                r.delta_neg,
                r.nonzero
            );
            let _ = std::io::stderr().flush();
        }
    }
    if progress {
        eprintln!();
        if let Some(why) = trainer.converged() {
            eprintln!("{why}");
        }
    }
    Ok(Trained {
        iv: trainer.intervention(),
        secs: start.elapsed().as_secs_f64(),
        steps: trainer.step,
        converged: trainer.converged().map(String::from),
    })
}

pub fn split_metrics(
    model: &Model,
    iv: &Intervention,
    train: &[Example],
    test: &[Example],
    margin: f32,
) -> Result<serde_json::Value, String> {
    let mut out = serde_json::Map::new();
    for (name, set) in [("train", train), ("test", test)] {
        if !set.is_empty() {
            let m = block_on(evaluate(model, iv, set, margin))?;
            out.insert(name.into(), serde_json::to_value(m).map_err(|e| e.to_string())?);
        }
    }
    Ok(serde_json::Value::Object(out))
}

/// The metrics of one split ("train" or "test") in `split_metrics`'s output.
pub fn metrics_of(v: &serde_json::Value, split: &str) -> Option<Metrics> {
    v.get(split).and_then(|m| serde_json::from_value(m.clone()).ok())
}

fn print_table(metrics: &serde_json::Value) {
    println!(
        "{:<6} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "split", "prompts", "flip", "Δ(β=0)", "Δ(β=+1)", "Δ(β=−1)", "KL+", "KL−", "non-zero"
    );
    for split in ["train", "test"] {
        if let Some(m) = metrics_of(metrics, split) {
            println!(
                "{split:<6} {:>7} {:>8.0}% {:>8.2} {:>8.2} {:>8.2} {:>8.3} {:>8.3} {:>4}/{}",
                m.prompts,
                100.0 * m.flip_rate,
                m.logit_diff_base,
                m.logit_diff_pos,
                m.logit_diff_neg,
                m.kl_pos,
                m.kl_neg,
                m.nonzero,
                m.params
            );
        }
    }
}

pub fn train(a: TrainArgs) -> Result<(), String> {
    let (model, model_id) = super::load_model_with_id(&a.model)?;
    let (train, test) = build(&model, &a.task)?;
    actscale::tasks::check_lengths(a.hyper.method()?, &train, &test)?;
    let hyper = a.hyper.hyper(a.task.task == "pair");
    let Trained { iv, secs, steps, converged } = train_quiet(
        &model,
        a.hyper.method()?,
        a.hyper.selection()?,
        hyper.clone(),
        &train,
        a.hyper.until_converged,
        true,
    )?;
    let metrics = split_metrics(&model, &iv, &train, &test, hyper.margin)?;
    if let Some(out) = &a.out {
        let mut saved = block_on(SavedIntervention::from_intervention(&iv, &hyper, &a.task.task, &train))?;
        saved.model = Some(model_id);
        saved.seed = (a.task.task != "pair").then_some(a.task.seed);
        saved.validate().map_err(|e| format!("cannot save this intervention: {e}"))?;
        let text = serde_json::to_string(&saved).map_err(|e| e.to_string())?;
        super::write_atomically(out, text.as_bytes())?;
    }
    if a.json {
        let mut v = metrics;
        v["wall_seconds"] = json!(secs);
        v["steps"] = json!(steps);
        v["converged"] = json!(converged);
        println!("{v}");
    } else {
        println!("trained {} on {} ({} prompts) in {secs:.1} s", iv.method.name(), a.task.task, train.len());
        print_table(&metrics);
    }
    Ok(())
}

#[derive(Args)]
pub struct EvalArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    intervention: PathBuf,
    /// Evaluate on a task instead of the prompts saved with the intervention.
    #[arg(long)]
    task: Option<String>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also each prompt's own figures (text, Δ at β = 0 and ±1, KL): which prompts fail.
    #[arg(long)]
    per_prompt: bool,
    #[arg(long)]
    json: bool,
}

/// Each prompt of `set` measured alone.
fn per_prompt(model: &Model, iv: &Intervention, set: &[Example], margin: f32) -> Result<serde_json::Value, String> {
    let rows = set
        .iter()
        .map(|x| {
            let m = block_on(evaluate(model, iv, std::slice::from_ref(x), margin))?;
            Ok(json!({
                "text": x.text,
                "flipped": m.flip_rate >= 1.0,
                "delta_base": m.logit_diff_base,
                "delta_pos": m.logit_diff_pos,
                "delta_neg": m.logit_diff_neg,
                "kl_pos": m.kl_pos,
                "kl_neg": m.kl_neg,
            }))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(json!(rows))
}

pub fn eval(a: EvalArgs) -> Result<(), String> {
    let (model, model_id) = super::load_model_with_id(&a.model)?;
    let saved = super::read_saved_for(&a.intervention, &model_id)?;
    let c = &model.net.config;
    let iv = saved.to_intervention(c, model.net.device())?;
    let (train, test) = match &a.task {
        Some(task) => build(
            &model,
            &TaskArgs {
                task: task.clone(),
                prompt: None,
                from: None,
                to: None,
                seed: a.seed,
                test_share: 0.3,
                per_template: 24,
            },
        )?,
        None => (saved.examples.clone(), vec![]),
    };
    let mut metrics = split_metrics(&model, &iv, &train, &test, saved.hyper.margin)?;
    if a.per_prompt {
        let margin = saved.hyper.margin;
        metrics["per_prompt"] = json!({ "train": per_prompt(&model, &iv, &train, margin)?, "test": per_prompt(&model, &iv, &test, margin)? });
    }
    if a.json {
        println!("{metrics}");
        return Ok(());
    }
    print_table(&metrics);
    for split in ["train", "test"] {
        for p in metrics["per_prompt"][split].as_array().into_iter().flatten() {
            let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "{split:<6} {} Δ {:+.2} → {:+.2} / {:+.2}  KL {:.3}/{:.3}  {:?}",
                if p["flipped"] == true { "flip" } else { "FAIL" },
                f("delta_base"),
                f("delta_pos"),
                f("delta_neg"),
                f("kl_pos"),
                f("kl_neg"),
                p["text"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}
