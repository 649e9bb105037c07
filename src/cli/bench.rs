//! `actscale bench-forward`: median forward time on a 10-token prompt, per thread count, and
//! the peak memory of the process. Prints figures; asserts nothing.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use actscale::model::hook::NoHook;
use actscale::model::llama::Positions;

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
}

/// Ten tokens with this tokenizer (the benchmark truncates to 10 in any case).
const PROMPT: &str = "The capital of Italy is a city called Rome, and";

pub fn run(args: BenchArgs) -> Result<(), String> {
    let start = Instant::now();
    let model = super::load_model(&args.model)?;
    println!("load: {:.2} s", start.elapsed().as_secs_f64());
    let mut ids = model.tokenizer.encode(PROMPT).map_err(|e| e.to_string())?;
    ids.truncate(10);
    println!("prompt: {} tokens", ids.len());
    for &threads in &args.threads {
        let pool = rayon_pool(threads)?;
        let mut times = Vec::with_capacity(args.reps);
        pool.install(|| -> Result<(), String> {
            // One warm-up pass, then the timed ones.
            for rep in 0..=args.reps {
                let t = Instant::now();
                let logits = model.llama.forward(&[ids.clone()], &NoHook, Positions::Last).map_err(|e| e.to_string())?;
                // Native only (the CLI is not in the browser build): a blocking read is fine here.
                #[allow(clippy::disallowed_methods)]
                let _ = logits.into_data();
                if rep > 0 {
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            Ok(())
        })?;
        times.sort_by(f64::total_cmp);
        println!(
            "forward, {threads} thread(s): median {:.1} ms (min {:.1}, max {:.1}, n={})",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            times.len()
        );
    }
    println!("peak memory (VmHWM): {}", peak_memory());
    Ok(())
}

fn rayon_pool(threads: usize) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| e.to_string())
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.trim_start_matches("VmHWM:").trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

#[derive(Args)]
pub struct BenchTrainArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value_t = 5)]
    reps: usize,
}

/// Median time of one ActivScalar training step (forward at β = ±1, backward, Adam, prox) on
/// 1 and 8 prompts of 10 tokens.
pub fn run_train(args: BenchTrainArgs) -> Result<(), String> {
    use actscale::steer::{hyper::{Hyper, Method, Selection}, prompts::Example, train::Trainer};
    let model = super::load_model(&args.model)?;
    let mut ids = model.tokenizer.encode(PROMPT).map_err(|e| e.to_string())?;
    ids.truncate(10);
    let from = model.tokenizer.token_id(" Italy").ok_or("no token \" Italy\"")?;
    let to = model.tokenizer.token_id(" France").ok_or("no token \" France\"")?;
    for n in [1usize, 8] {
        let examples: Vec<Example> = (0..n).map(|_| Example { text: PROMPT.into(), ids: ids.clone(), from, to }).collect();
        let hyper = Hyper { steps: args.reps + 1, ..Hyper::default() };
        let mut trainer = Trainer::new(&model, Method::ActivScalar, Selection::default(), hyper, &examples)?;
        let mut times = Vec::new();
        for rep in 0..=args.reps {
            let t = Instant::now();
            futures_lite::future::block_on(trainer.step(&model))?;
            if rep > 0 {
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        times.sort_by(f64::total_cmp);
        println!("train step, {n} prompt(s) x {} tokens: median {:.0} ms (n={})", ids.len(), times[times.len() / 2], times.len());
    }
    println!("peak memory (VmHWM): {}", peak_memory());
    Ok(())
}
