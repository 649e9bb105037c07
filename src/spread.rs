//! How a figure varies: the mean and sample standard deviation of its values over draws or
//! seeds (the random keep-k baseline, `compare`/`sweep --seeds N`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub mean: f32,
    /// Sample sd (n − 1 in the denominator); 0 for a single value.
    pub sd: f32,
    pub n: usize,
}

impl Spread {
    pub fn of(values: &[f32]) -> Spread {
        let n = values.len();
        if n == 0 {
            return Spread::default();
        }
        let mean = values.iter().sum::<f32>() / n as f32;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (n.max(2) - 1) as f32;
        Spread { mean, sd: var.sqrt(), n }
    }

    /// "m" for one value, "m ± sd" for several, each with `decimals` decimals.
    pub fn show(&self, decimals: usize) -> String {
        self.show_scaled(1.0, decimals, "")
    }

    /// A rate in [0, 1] as percent: "92%" or "92 ± 8%".
    pub fn percent(&self) -> String {
        self.show_scaled(100.0, 0, "%")
    }

    /// Signed, as the compare table shows Δ: "+2.91" or "+2.91 ± 0.40".
    pub fn signed(&self, decimals: usize) -> String {
        match self.n {
            0 | 1 => format!("{:+.*}", decimals, self.mean),
            _ => format!("{:+.*} ± {:.*}", decimals, self.mean, decimals, self.sd),
        }
    }

    fn show_scaled(&self, scale: f32, decimals: usize, unit: &str) -> String {
        match self.n {
            0 | 1 => format!("{:.*}{unit}", decimals, scale * self.mean),
            _ => format!("{:.*} ± {:.*}{unit}", decimals, scale * self.mean, decimals, scale * self.sd),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_sd_by_hand() {
        // 1, 2, 3, 4: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, / 3.
        let s = Spread::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((s.mean, s.n), (2.5, 4));
        assert!((s.sd - (5.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(Spread::of(&[7.0]), Spread { mean: 7.0, sd: 0.0, n: 1 });
        assert_eq!(Spread::of(&[]).n, 0);
    }

    #[test]
    fn one_value_prints_as_before_several_with_their_sd() {
        assert_eq!(Spread::of(&[0.5]).percent(), "50%");
        assert_eq!(Spread::of(&[1.0, 0.5]).percent(), "75 ± 35%");
        assert_eq!(Spread::of(&[2.0, 4.0]).signed(2), "+3.00 ± 1.41");
        assert_eq!(Spread::of(&[60.0, 58.0]).show(0), "59 ± 1");
    }
}
