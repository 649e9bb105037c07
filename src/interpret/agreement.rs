//! How much two maps of the same units agree: Spearman's ρ over all units and the overlap of
//! their top k. Both compare magnitudes: a unit matters whichever way it pushes Δ.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Spearman's ρ of |a| and |b| over all units (None when either map is constant).
    pub spearman: Option<f32>,
    /// |top-k of a ∩ top-k of b| / k at `k` (None without a k).
    pub top_k_overlap: Option<f32>,
    pub k: Option<usize>,
}

pub fn agreement(a: &[f32], b: &[f32], k: Option<usize>) -> Agreement {
    let mag = |x: &[f32]| x.iter().map(|v| f64::from(v.abs())).collect::<Vec<_>>();
    let (a, b) = (mag(a), mag(b));
    let k = k.filter(|&k| k > 0 && k <= a.len());
    Agreement { spearman: spearman(&a, &b).map(|r| r as f32), top_k_overlap: k.map(|k| overlap(&a, &b, k)), k }
}

/// Ranks from 1, ties given their average rank.
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut r = vec![0.0; x.len()];
    let mut s = 0;
    while s < order.len() {
        let mut e = s + 1;
        while e < order.len() && x[order[e]] == x[order[s]] {
            e += 1;
        }
        let average = (s + e + 1) as f64 / 2.0; // ranks s+1 … e
        order[s..e].iter().for_each(|&i| r[i] = average);
        s = e;
    }
    r
}

/// Pearson correlation of the ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// Share of the k largest of `a` that are among the k largest of `b` (ties by index).
fn overlap(a: &[f64], b: &[f64], k: usize) -> f32 {
    let top = |x: &[f64]| {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&i, &j| x[j].total_cmp(&x[i]).then(i.cmp(&j)));
        order.truncate(k);
        order
    };
    let (ta, tb) = (top(a), top(b));
    ta.iter().filter(|i| tb.contains(i)).count() as f32 / k as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_by_hand() {
        // Same order: 1; reversed: −1; magnitudes only (signs ignored by `agreement`).
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(agreement(&[-1.0, 2.0, -3.0], &[1.0, -2.0, 3.0], None).spearman, Some(1.0));
        // Ties: a = [1, 1, 2] has ranks [1.5, 1.5, 3]; b = [1, 2, 3] ranks [1, 2, 3].
        // Centred: [−0.5, −0.5, 1] and [−1, 0, 1]: cov 1.5, var 1.5 and 2 → ρ = 1.5/√3.
        let r = spearman(&[1.0, 1.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!((r - 1.5 / 3f64.sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None, "a constant map has no ranking");
    }

    #[test]
    fn top_k_overlap_by_hand() {
        let a = [5.0, 4.0, 3.0, 0.0];
        let b = [5.0, 0.0, 3.0, 4.0];
        // top-2: {0, 1} and {0, 3}: one shared.
        assert_eq!(agreement(&a, &b, Some(2)).top_k_overlap, Some(0.5));
        assert_eq!(agreement(&a, &b, Some(3)).top_k_overlap, Some(2.0 / 3.0));
        assert_eq!(agreement(&a, &b, Some(0)).top_k_overlap, None);
    }
}
