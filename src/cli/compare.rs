//! `actscale sweep` (λM over a log grid: effectiveness vs non-zero count, CSV) and
//! `actscale compare` (the three methods on CCC and IOI: a markdown table). Both train once per
//! seed with `--seeds N` and report each figure as mean ± sd over the seeds (`seeds.rs`).

use std::path::PathBuf;

use clap::Args;

use actscale::model::Model;
use actscale::steer::hyper::{Hyper, Method, Selection};
use actscale::steer::metrics::Metrics;
use actscale::steer::prompts::Example;

use super::seeds::{Runs, SeedArgs};
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
    /// Train on seeds --seed … --seed + N − 1; each figure is then a mean with an `_sd` column.
    #[arg(long, default_value_t = 1)]
    seeds: usize,
    /// Smallest and largest λM of the grid, and how many points (log-spaced).
    #[arg(long, default_value_t = 0.1)]
    from_lambda: f32,
    #[arg(long, default_value_t = 100.0)]
    to_lambda: f32,
    #[arg(long, default_value_t = 7)]
    points: usize,
}

/// The sweep's figures, in its CSV's column order.
const SWEEP_FIGURES: [&str; 10] = [
    "nonzero",
    "params",
    "l1",
    "train_flip_rate",
    "train_logit_diff_pos",
    "train_logit_diff_neg",
    "train_kl",
    "test_flip_rate",
    "test_kl",
    "seconds",
];

pub fn sweep(a: SweepArgs) -> Result<(), String> {
    let model = super::load_model(&a.model)?;
    let seeds = SeedArgs { first: a.task.seed, count: a.seeds }.seeds()?;
    let (method, selection) = (a.hyper.method()?, a.hyper.selection()?);
    if a.points == 0 || a.from_lambda <= 0.0 || a.to_lambda < a.from_lambda {
        return Err("the λM grid needs 0 < --from-lambda <= --to-lambda and --points >= 1".into());
    }
    let splits =
        seeds.iter().map(|&seed| build(&model, &TaskArgs { seed, ..a.task.clone() })).collect::<Result<Vec<_>, _>>()?;
    for (train, test) in &splits {
        actscale::tasks::check_lengths(method, train, test)?;
    }
    let several = seeds.len() > 1;
    let mut header = vec!["lambda_m".to_string()];
    for f in SWEEP_FIGURES {
        header.push(f.into());
        if several {
            header.push(format!("{f}_sd"));
        }
    }
    if several {
        header.push("seeds".into());
    }
    println!("{}", header.join(","));
    for i in 0..a.points {
        let t = if a.points == 1 { 0.0 } else { i as f32 / (a.points - 1) as f32 };
        let lambda_m = a.from_lambda * (a.to_lambda / a.from_lambda).powf(t);
        let hyper = Hyper { lambda_m, ..a.hyper.hyper(a.task.task == "pair") };
        let mut runs = Runs::default();
        for (train, test) in &splits {
            let Trained { iv, secs, .. } =
                train_quiet(&model, method, selection.clone(), hyper.clone(), train, a.hyper.until_converged, false)?;
            let m = split_metrics(&model, &iv, train, test, hyper.margin)?;
            runs.push(metrics_of(&m, "train").unwrap_or_default(), metrics_of(&m, "test"), secs);
        }
        // KL: the mean of β = +1 and β = −1 (faithfulness on the prompts' other tokens).
        let figures = [
            Some(runs.of(|r| r.train.nonzero as f32)),
            Some(runs.of(|r| r.train.params as f32)),
            Some(runs.of(|r| r.train.l1)),
            Some(runs.of(|r| r.train.flip_rate)),
            Some(runs.of(|r| r.train.logit_diff_pos)),
            Some(runs.of(|r| r.train.logit_diff_neg)),
            Some(runs.of(|r| (r.train.kl_pos + r.train.kl_neg) / 2.0)),
            runs.of_test(|t| t.flip_rate),
            runs.of_test(|t| (t.kl_pos + t.kl_neg) / 2.0),
            Some(runs.of(|r| r.secs as f32)),
        ];
        let decimals = [0, 0, 4, 3, 3, 3, 3, 3, 3, 1];
        let mut row = vec![format!("{lambda_m:.4}")];
        for (f, d) in figures.iter().zip(decimals) {
            // A split without prompts (one-prompt tasks have no test split) leaves its cells empty.
            let cell = |x: f32| f.map(|_| format!("{x:.d$}")).unwrap_or_default();
            row.push(cell(f.map_or(0.0, |s| s.mean)));
            if several {
                row.push(cell(f.map_or(0.0, |s| s.sd)));
            }
        }
        if several {
            row.push(seeds.len().to_string());
        }
        println!("{}", row.join(","));
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
    #[command(flatten)]
    seeds: SeedArgs,
    /// ioi-mixed trains on three IOI templates and tests on a fourth (other words and length):
    /// only DynScalar can take prompts of several lengths.
    #[arg(long, default_value = "ccc,ioi,ioi-mixed", value_delimiter = ',')]
    tasks: Vec<String>,
    /// The methods to train, in the table's order.
    #[arg(long, default_value = "activ-scalar,steer-vec,dyn-scalar", value_delimiter = ',')]
    methods: Vec<String>,
}

pub fn compare(a: CompareArgs) -> Result<(), String> {
    let model = super::load_model(&a.model)?;
    let seeds = a.seeds.seeds()?;
    let methods = a.methods.iter().map(|m| Method::parse(m.trim())).collect::<Result<Vec<_>, _>>()?;
    if seeds.len() > 1 {
        println!("Each figure: mean ± sample sd over seeds {}–{}.\n", seeds[0], seeds[seeds.len() - 1]);
    }
    println!(
        "| task | method | params | non-zero | train flip | test flip | train Δ(β=+1) / Δ(β=−1) | test Δ(β=+1) / Δ(β=−1) | test KL(+/−) | wall s |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for task in &a.tasks {
        let splits = seeds.iter().map(|&seed| task_split(&model, &a, task, seed)).collect::<Result<Vec<_>, _>>()?;
        let one_length = splits.iter().all(|(train, test)| {
            let first = train.first().map(|e| e.ids.len());
            train.iter().chain(test).all(|e| Some(e.ids.len()) == first)
        });
        for &method in &methods {
            if method.positional() && !one_length {
                println!("| {task} | {} | – | – | – | – | – | – | – | – |", method.name());
                continue;
            }
            let hyper = Hyper { steps: a.steps, batch_size: a.batch, ..Hyper::for_method(method) };
            let mut runs = Runs::default();
            for (train, test) in &splits {
                let Trained { iv, secs, .. } =
                    train_quiet(&model, method, Selection::default(), hyper.clone(), train, None, false)?;
                let m = split_metrics(&model, &iv, train, test, hyper.margin)?;
                runs.push(metrics_of(&m, "train").unwrap_or_default(), metrics_of(&m, "test"), secs);
            }
            let test = |f: fn(&Metrics) -> f32| runs.of_test(f).unwrap_or_default();
            println!(
                "| {task} | {} | {:.0} | {} | {} | {} | {} / {} | {} / {} | {} / {} | {} |",
                method.name(),
                runs.of(|r| r.train.params as f32).mean, // the same on every seed
                runs.of(|r| r.train.nonzero as f32).show(0),
                runs.of(|r| r.train.flip_rate).percent(),
                test(|t| t.flip_rate).percent(),
                runs.of(|r| r.train.logit_diff_pos).signed(2),
                runs.of(|r| r.train.logit_diff_neg).signed(2),
                test(|t| t.logit_diff_pos).signed(2),
                test(|t| t.logit_diff_neg).signed(2),
                test(|t| t.kl_pos).show(3),
                test(|t| t.kl_neg).show(3),
                runs.of(|r| r.secs as f32).show(0),
            );
        }
    }
    Ok(())
}

/// One seed's (train, test) prompts of `task`, cut to --max-prompts.
fn task_split(model: &Model, a: &CompareArgs, task: &str, seed: u64) -> Result<(Vec<Example>, Vec<Example>), String> {
    let args = TaskArgs {
        task: task.into(),
        prompt: None,
        from: None,
        to: None,
        seed,
        test_share: 0.3,
        per_template: a.per_template,
    };
    let (mut train, mut test) = build(model, &args)?;
    if a.max_prompts > 0 {
        train.truncate(a.max_prompts);
        test.truncate(a.max_prompts);
    }
    Ok((train, test))
}
