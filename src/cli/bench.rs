//! `actscale bench-forward` and `bench-train`: median times of a forward pass and of one
//! ActivScalar training step, per thread count, plus model load and peak memory. Prints figures
//! (or one JSON object with `--json`, which `scripts/bench.sh` puts beside the browser's); asserts
//! nothing.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use actscale::model::Model;
use actscale::model::hook::NoHook;
use actscale::model::transformer::Positions;
use actscale::tasks::pair::MAX_PROMPT_TOKENS;

/// The benchmark prompt, cut to the token counts measured (the browser benchmark types the same
/// text cut at the same tokens, so both sides run the same ids).
pub const PROMPT: &str = "The capital of Italy is a city called Rome, and";

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long)]
    model: PathBuf,
    /// Timed repetitions per thread count.
    #[arg(long, default_value_t = 10)]
    reps: usize,
    /// Thread counts to measure.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 2])]
    threads: Vec<usize>,
    /// Prompt length in tokens (a prefix of the benchmark prompt, repeated past its end).
    #[arg(long, default_value_t = 10)]
    tokens: usize,
    /// Run every product on rayon's pool alone, without the forward's polling second thread.
    #[arg(long)]
    no_second_thread: bool,
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> Result<(), String> {
    if args.no_second_thread {
        actscale::model::kernels::second_thread::switch_off();
    }
    let start = Instant::now();
    let model = super::load_model(&args.model)?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let ids = prompt_ids(&model, args.tokens)?;
    let mut rows = Vec::new();
    for &threads in &args.threads {
        let times = timed(threads, args.reps, || {
            let logits = model.net.forward(&[ids.clone()], &NoHook, Positions::Last).map_err(|e| e.to_string())?;
            // Native only (the CLI is not in the browser build): a blocking read is fine here.
            #[allow(clippy::disallowed_methods)]
            let _ = logits.into_data();
            Ok(())
        })?;
        rows.push((threads, times));
    }
    report(args.json, "forward", load_ms, &model.tokenizer.decode(&ids), ids.len(), &rows);
    Ok(())
}

#[derive(Args)]
pub struct BenchTrainArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Thread counts to measure.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 2])]
    threads: Vec<usize>,
    /// Prompt length in tokens (a prefix of the benchmark prompt, repeated past its end).
    #[arg(long, default_value_t = 10)]
    tokens: usize,
    /// Prompts per step (copies of the one prompt).
    #[arg(long, default_value_t = 1)]
    prompts: usize,
    #[arg(long)]
    json: bool,
}

/// One ActivScalar training step (forward at β = ±1, backward, Adam, prox, the one read-back)
/// with the page's defaults, answers " Italy" → " France".
pub fn run_train(args: BenchTrainArgs) -> Result<(), String> {
    use actscale::steer::{
        hyper::{Hyper, Method, Selection},
        prompts::Example,
        train::Trainer,
    };
    let start = Instant::now();
    let model = super::load_model(&args.model)?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let ids = prompt_ids(&model, args.tokens)?;
    let text = model.tokenizer.decode(&ids);
    let from = model.tokenizer.token_id(" Italy").ok_or("no token \" Italy\"")?;
    let to = model.tokenizer.token_id(" France").ok_or("no token \" France\"")?;
    let examples: Vec<Example> =
        (0..args.prompts.max(1)).map(|_| Example { text: text.clone(), ids: ids.clone(), from, to }).collect();
    let mut rows = Vec::new();
    for &threads in &args.threads {
        let hyper = Hyper { steps: args.reps + 1, ..Hyper::default() };
        let mut trainer = Trainer::new(&model, Method::ActivScalar, Selection::default(), hyper, &examples)?;
        let times = timed(threads, args.reps, || {
            futures_lite::future::block_on(trainer.step(&model)).map(|_| ()).map_err(String::from)
        })?;
        rows.push((threads, times));
    }
    let what = format!("train step, {} prompt(s)", examples.len());
    report(args.json, &what, load_ms, &text, ids.len(), &rows);
    Ok(())
}

/// The first `n` tokens of the benchmark prompt, repeated when `n` is longer (up to the
/// longest prompt the page trains on: what its step costs is the reason for that limit).
fn prompt_ids(model: &Model, n: usize) -> Result<Vec<u32>, String> {
    let ids = model.tokenizer.encode(PROMPT).map_err(|e| e.to_string())?;
    if n == 0 || n > MAX_PROMPT_TOKENS {
        return Err(format!("--tokens must be 1..={MAX_PROMPT_TOKENS}"));
    }
    Ok(ids.iter().copied().cycle().take(n).collect())
}

/// One warm-up run, then `reps` timed runs on a pool of `threads` threads; sorted times in ms.
fn timed(threads: usize, reps: usize, mut f: impl FnMut() -> Result<(), String> + Send) -> Result<Vec<f64>, String> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| e.to_string())?;
    let mut times = Vec::with_capacity(reps);
    pool.install(|| -> Result<(), String> {
        for rep in 0..=reps.max(1) {
            let t = Instant::now();
            f()?;
            if rep > 0 {
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        Ok(())
    })?;
    times.sort_by(f64::total_cmp);
    Ok(times)
}

fn report(json: bool, what: &str, load_ms: f64, text: &str, tokens: usize, rows: &[(usize, Vec<f64>)]) {
    let median = |t: &[f64]| t[t.len() / 2];
    if json {
        let medians: Vec<_> = rows.iter().map(|(n, t)| json!({ "threads": n, "median_ms": median(t) })).collect();
        let out = json!({ "what": what, "text": text, "tokens": tokens, "load_ms": load_ms, "runs": medians, "peak_rss": peak_memory() });
        println!("{out}");
        return;
    }
    println!("load: {:.2} s", load_ms / 1e3);
    println!("prompt: {tokens} tokens, {text:?}");
    for (threads, t) in rows {
        println!(
            "{what}, {threads} thread(s): median {:.1} ms (min {:.1}, max {:.1}, n={})",
            median(t),
            t[0],
            t[t.len() - 1],
            t.len()
        );
    }
    println!("peak memory (VmHWM): {}", peak_memory());
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
