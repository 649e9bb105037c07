//! The stopping rule: training is done once every prompt of the step is flipped both ways by
//! nearly the margin (Δ ≥ 0.9·m at β = +1 and Δ ≤ −0.9·m at β = −1) and the non-zero count has
//! not changed for `patience` steps (the ℓ1 step has stopped pruning). "Nearly": L_eff stops
//! pulling at the margin while the ℓ1 term keeps pulling back, so Δ settles just inside it
//! ("Rome is in" with the defaults ends at Δ = +1.98 for m = 2).

use super::train::StepReport;

/// Steps the non-zero count must hold still (README, "Stopping rule").
pub const PATIENCE: usize = 10;
/// Share of the margin every prompt must reach.
const MARGIN_SHARE: f32 = 0.9;

#[derive(Clone, Debug)]
pub struct Convergence {
    patience: usize,
    margin: f32,
    last_nonzero: Option<usize>,
    steady: usize,
}

impl Convergence {
    pub fn new(patience: usize, margin: f32) -> Convergence {
        Convergence { patience, margin, last_nonzero: None, steady: 0 }
    }

    /// Records one step; `Some(why)` once training can stop there.
    pub fn observe(&mut self, r: &StepReport) -> Option<String> {
        self.steady = if self.last_nonzero == Some(r.nonzero) { self.steady + 1 } else { 0 };
        self.last_nonzero = Some(r.nonzero);
        let reach = MARGIN_SHARE * self.margin;
        let flipped = r.worst_delta_pos >= reach && r.worst_delta_neg <= -reach;
        (flipped && self.steady >= self.patience).then(|| {
            format!(
                "stopped at step {}: flipped both ways by at least {reach} (0.9 × margin) and the non-zero count ({}) unchanged for {} steps",
                r.step, r.nonzero, self.patience
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(step: usize, nonzero: usize, worst_pos: f32, worst_neg: f32) -> StepReport {
        StepReport {
            step,
            loss: 0.0,
            eff: 0.0,
            faith: 0.0,
            min: 0.0,
            l1: 0.0,
            nonzero,
            delta_pos: worst_pos,
            delta_neg: worst_neg,
            worst_delta_pos: worst_pos,
            worst_delta_neg: worst_neg,
            flip_rate: 1.0,
        }
    }

    #[test]
    fn stops_only_after_patience_steady_steps_with_every_prompt_past_the_margin() {
        let mut c = Convergence::new(3, 2.0);
        // Flipped with margin, but the count is still moving.
        assert_eq!(c.observe(&report(1, 9, 3.0, -3.0)), None);
        assert_eq!(c.observe(&report(2, 8, 3.0, -3.0)), None);
        // Steady for 1, 2 steps; then a prompt falls short of 0.9·m (Δ− = −1.7 > −1.8).
        assert_eq!(c.observe(&report(3, 8, 3.0, -3.0)), None);
        assert_eq!(c.observe(&report(4, 8, 3.0, -3.0)), None);
        assert_eq!(c.observe(&report(5, 8, 3.0, -1.7)), None);
        // Still steady (since step 2), all past 0.9·m again: done, and it says why.
        let why = c.observe(&report(6, 8, 1.8, -1.9)).expect("converged");
        assert!(why.starts_with("stopped at step 6:") && why.contains("(8) unchanged for 3 steps"), "{why}");
        // A change of the count starts the wait again.
        assert_eq!(c.observe(&report(7, 7, 3.0, -3.0)), None);
    }
}
