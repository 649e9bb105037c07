//! `actscale sweep` (λM over a log grid: effectiveness vs non-zero count, CSV) and
//! `actscale compare` (the three methods on CCC and IOI: a markdown table).

use std::path::PathBuf;

use clap::Args;

use actscale::steer::hyper::{Hyper, Method, Selection};

use super::steer::{HyperArgs, Trained, metrics_of, split_metrics, train_quiet};
use super::task::{TaskArgs, build};

#[derive(Args)]
pub struct SweepArgs {
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    task: TaskArgs,
    #[command(flatten)]
    hyper: HyperArgs,
    /// Smallest and largest λM of the grid, and how many points (log-spaced).
    #[arg(long, default_value_t = 0.1)]
    from_lambda: f32,
    #[arg(long, default_value_t = 100.0)]
    to_lambda: f32,
    #[arg(long, default_value_t = 7)]
    points: usize,
}

pub fn sweep(a: SweepArgs) -> Result<(), String> {
    let model = super::load_model(&a.model)?;
    let (train, test) = build(&model, &a.task)?;
    let (method, selection) = (a.hyper.method()?, a.hyper.selection()?);
    if a.points == 0 || a.from_lambda <= 0.0 || a.to_lambda < a.from_lambda {
        return Err("the λM grid needs 0 < --from-lambda <= --to-lambda and --points >= 1".into());
    }
    println!(
        "lambda_m,nonzero,params,l1,train_flip_rate,train_logit_diff_pos,train_logit_diff_neg,train_kl,test_flip_rate,test_kl,seconds"
    );
    for i in 0..a.points {
        let t = if a.points == 1 { 0.0 } else { i as f32 / (a.points - 1) as f32 };
        let lambda_m = a.from_lambda * (a.to_lambda / a.from_lambda).powf(t);
        let hyper = Hyper { lambda_m, ..a.hyper.hyper(a.task.task == "pair") };
        let Trained { iv, secs, .. } =
            train_quiet(&model, method, selection.clone(), hyper.clone(), &train, a.hyper.until_converged, false)?;
        let m = split_metrics(&model, &iv, &train, &test, hyper.margin)?;
        let tr = metrics_of(&m, "train").unwrap_or_default();
        // KL: the mean of β = +1 and β = −1 (faithfulness on the prompts' other tokens).
        let te = metrics_of(&m, "test")
            .map(|t| format!("{:.3},{:.3}", t.flip_rate, (t.kl_pos + t.kl_neg) / 2.0))
            .unwrap_or(",".into());
        println!(
            "{lambda_m:.4},{},{},{:.4},{:.3},{:.3},{:.3},{:.3},{te},{secs:.1}",
            tr.nonzero,
            tr.params,
            tr.l1,
            tr.flip_rate,
            tr.logit_diff_pos,
            tr.logit_diff_neg,
            (tr.kl_pos + tr.kl_neg) / 2.0
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct CompareArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Prompts per training step.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Use at most this many prompts per split (0 = all); a quick form for CI.
    #[arg(long, default_value_t = 0)]
    max_prompts: usize,
    /// Prompts per IOI template.
    #[arg(long, default_value_t = 24)]
    per_template: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// ioi-mixed trains on three IOI templates and tests on a fourth (other words and length):
    /// only DynScalar can take prompts of several lengths.
    #[arg(long, default_value = "ccc,ioi,ioi-mixed", value_delimiter = ',')]
    tasks: Vec<String>,
}

pub fn compare(a: CompareArgs) -> Result<(), String> {
    let model = super::load_model(&a.model)?;
    println!(
        "| task | method | params | non-zero | train flip | test flip | train Δ(β=+1) / Δ(β=−1) | test Δ(β=+1) / Δ(β=−1) | test KL(+/−) | wall s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for task in &a.tasks {
        let args = TaskArgs {
            task: task.clone(),
            prompt: None,
            from: None,
            to: None,
            seed: a.seed,
            test_share: 0.3,
            per_template: a.per_template,
        };
        let (mut train, mut test) = build(&model, &args)?;
        if a.max_prompts > 0 {
            train.truncate(a.max_prompts);
            test.truncate(a.max_prompts);
        }
        let first_len = train.first().map(|e| e.ids.len());
        let one_length = train.iter().chain(&test).all(|e| Some(e.ids.len()) == first_len);
        for method in Method::ALL {
            if method.positional() && !one_length {
                println!("| {task} | {} | – | – | – | – | – | – | – | – |", method.name());
                continue;
            }
            let hyper = Hyper { steps: a.steps, batch_size: a.batch, ..Hyper::for_method(method) };
            let Trained { iv, secs, .. } =
                train_quiet(&model, method, Selection::default(), hyper.clone(), &train, None, false)?;
            let m = split_metrics(&model, &iv, &train, &test, hyper.margin)?;
            let (tr, te) = (metrics_of(&m, "train").unwrap_or_default(), metrics_of(&m, "test").unwrap_or_default());
            println!(
                "| {task} | {} | {} | {} | {:.0}% | {:.0}% | {:+.2} / {:+.2} | {:+.2} / {:+.2} | {:.3} / {:.3} | {secs:.0} |",
                method.name(),
                tr.params,
                tr.nonzero,
                100.0 * tr.flip_rate,
                100.0 * te.flip_rate,
                tr.logit_diff_pos,
                tr.logit_diff_neg,
                te.logit_diff_pos,
                te.logit_diff_neg,
                te.kl_pos,
                te.kl_neg
            );
        }
    }
    Ok(())
}
