//! Training once per seed: which seeds (`--seed S --seeds N` = S … S + N − 1) and what each run
//! measured, summarised as mean ± sd per figure.

use clap::Args;

use actscale::spread::Spread;
use actscale::steer::metrics::Metrics;

#[derive(Args, Clone)]
pub struct SeedArgs {
    /// The first seed: it sets the task's prompt sample and its train/test split.
    #[arg(long = "seed", default_value_t = 0)]
    pub first: u64,
    /// Train on N seeds and report each figure as mean ± sd over them.
    #[arg(long = "seeds", default_value_t = 1)]
    pub count: usize,
}

/// At most this many seeds: each is a whole training run.
const MAX_SEEDS: usize = 100;

impl SeedArgs {
    pub fn seeds(&self) -> Result<Vec<u64>, String> {
        if self.count == 0 || self.count > MAX_SEEDS {
            return Err(format!("--seeds takes 1 to {MAX_SEEDS}, not {}", self.count));
        }
        Ok((0..self.count as u64).map(|i| self.first.wrapping_add(i)).collect())
    }
}

/// One seed's run.
pub struct Run {
    pub train: Metrics,
    pub test: Option<Metrics>,
    pub secs: f64,
}

/// Every seed's run of one setting.
#[derive(Default)]
pub struct Runs(Vec<Run>);

impl Runs {
    pub fn push(&mut self, train: Metrics, test: Option<Metrics>, secs: f64) {
        self.0.push(Run { train, test, secs });
    }

    pub fn of(&self, figure: impl Fn(&Run) -> f32) -> Spread {
        Spread::of(&self.0.iter().map(figure).collect::<Vec<_>>())
    }

    /// A test-split figure; None when no run had a test split.
    pub fn of_test(&self, figure: impl Fn(&Metrics) -> f32) -> Option<Spread> {
        let values: Vec<f32> = self.0.iter().filter_map(|r| r.test.as_ref().map(&figure)).collect();
        (!values.is_empty()).then(|| Spread::of(&values))
    }
}
