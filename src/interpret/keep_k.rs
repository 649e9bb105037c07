//! Which units carry a learned intervention: each non-zero unit with its leave-one-out effect,
//! the keep-top-k curve with its minimal k*, and a random baseline. An ActivScalar's units are
//! its (site, layer, position) scalars, ranked by |α|. A DynScalar's α depends on the prompt, so
//! its units are its probes (site, layer), ranked by the mean |α| they produce on the prompts
//! (each prompt's own α, `steer::heat`); keeping k probes runs only those.
//!
//! Every measurement is a set run by `scale_sets::measure`; a job queues them all and runs a
//! few per `step`, so that the worker can report progress and stop between steps.

use super::report::{Interpretation, KeepPoint, RandomPoint, RankedProbe, RankedUnit, SetMetrics};
use super::scale_sets::{SetKind, measure};
use super::units::{MapShape, keep_grid, keep_only, random_grid, ranked};
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::model::hook::Site;
use crate::spread::Spread;
use crate::steer::heat::heat;
use crate::steer::hyper::Method;
use crate::steer::intervention::Intervention;
use crate::steer::prompts::Example;
use crate::tasks::split::Rng;

/// Random draws per k of the baseline.
pub const DRAWS: usize = 20;

#[derive(Clone, Copy)]
enum Tag {
    LeaveOut(usize),
    Keep(usize),
    Random(usize),
}

/// The measurements of one interpretation, run a few α-sets at a time.
pub struct InterpretJob {
    kind: SetKind,
    /// ActivScalar: α per unit; DynScalar: each probe's mean |α| on the prompts.
    values: Vec<f32>,
    order: Vec<usize>,
    examples: Vec<Example>,
    tokens: Vec<String>,
    queue: Vec<(Tag, Vec<f32>)>,
    done: Vec<(Tag, SetMetrics)>,
    next: usize,
    /// Whether the curve's gap below k* (past `EVERY_K_UP_TO`) has been filled in.
    filled: bool,
}

impl InterpretJob {
    /// `values`: the ActivScalar α in the units' order; `tokens`: labels of the positions.
    pub fn new(
        shape: MapShape,
        values: Vec<f32>,
        examples: Vec<Example>,
        tokens: Vec<String>,
        seed: u64,
    ) -> Result<Self, String> {
        if values.len() != shape.len() {
            return Err(format!("{} α values for a map of {} units", values.len(), shape.len()));
        }
        Self::queued(SetKind::Scalars(shape), values, examples, tokens, seed)
    }

    /// A DynScalar's probes ranked by the mean |α| each produces on `examples` (one forward per
    /// prompt), queued like `new`'s units.
    pub async fn probes(
        model: &Model,
        iv: Intervention,
        examples: Vec<Example>,
        seed: u64,
    ) -> Result<Self, ComputeError> {
        if iv.method != Method::DynScalar {
            return Err(format!("probes are a dyn-scalar's; this intervention is {}", iv.method.name()).into());
        }
        let probes = Site::ALL.len() * iv.n_layers;
        let (mut sum, mut count) = (vec![0.0f64; probes], 0usize);
        for x in &examples {
            let t = x.ids.len();
            let map = heat(model, &iv, &x.ids).await?;
            for (r, row) in map.chunks(t.max(1)).enumerate().take(probes) {
                sum[r] += row.iter().map(|a| f64::from(a.abs())).sum::<f64>();
            }
            count += t;
        }
        let values = sum.iter().map(|s| (s / count.max(1) as f64) as f32).collect();
        Ok(Self::queued(SetKind::Probes(iv), values, examples, vec![], seed)?)
    }

    fn queued(
        kind: SetKind,
        values: Vec<f32>,
        examples: Vec<Example>,
        tokens: Vec<String>,
        seed: u64,
    ) -> Result<Self, String> {
        if examples.is_empty() {
            return Err("no prompts to interpret the intervention on".into());
        }
        let order = ranked(&values);
        let n = order.len();
        let mut queue = Vec::new();
        for (i, &u) in order.iter().enumerate() {
            let mut set = values.clone();
            set[u] = 0.0;
            queue.push((Tag::LeaveOut(i), set));
        }
        for k in keep_grid(n) {
            queue.push((Tag::Keep(k), keep_only(&values, &order[..k])));
        }
        for k in random_grid(n) {
            for draw in 0..DRAWS {
                let mut pool = order.clone();
                Rng::new(seed ^ ((k as u64) << 20) ^ draw as u64).shuffle(&mut pool);
                queue.push((Tag::Random(k), keep_only(&values, &pool[..k])));
            }
        }
        Ok(InterpretJob { kind, values, order, examples, tokens, queue, done: vec![], next: 0, filled: false })
    }

    /// (α-sets measured, α-sets in all so far).
    pub fn progress(&self) -> (usize, usize) {
        (self.next, self.queue.len())
    }

    pub fn is_done(&self) -> bool {
        self.next == self.queue.len() && self.filled
    }

    /// Measures up to `sets` more α-sets.
    pub async fn step(&mut self, model: &Model, sets: usize) -> Result<(), ComputeError> {
        if self.next == self.queue.len() {
            if !self.filled {
                self.fill_gap_below_k_star();
            }
            return Ok(());
        }
        let end = (self.next + sets.max(1)).min(self.queue.len());
        let batch: Vec<Vec<f32>> = self.queue[self.next..end].iter().map(|(_, s)| s.clone()).collect();
        let metrics = measure(model, &self.kind, &batch, &self.examples).await?;
        self.done.extend(self.queue[self.next..end].iter().map(|(t, _)| *t).zip(metrics));
        self.next = end;
        Ok(())
    }

    /// Past `EVERY_K_UP_TO` the curve is on a grid; every k between k* and the grid point
    /// before it is measured too, so that k* is the smallest k.
    fn fill_gap_below_k_star(&mut self) {
        self.filled = true;
        let keep = self.keep_points();
        let Some(i) = keep.iter().position(flips_all) else { return };
        let below = if i == 0 { 0 } else { keep[i - 1].k };
        for k in below + 1..keep[i].k {
            self.queue.push((Tag::Keep(k), keep_only(&self.values, &self.order[..k])));
        }
    }

    fn keep_points(&self) -> Vec<KeepPoint> {
        let mut keep: Vec<KeepPoint> = self
            .done
            .iter()
            .filter_map(|(t, m)| match t {
                Tag::Keep(k) => Some(KeepPoint { k: *k, metrics: m.clone() }),
                _ => None,
            })
            .collect();
        keep.sort_by_key(|p| p.k);
        keep
    }

    /// The result (call when `is_done`).
    pub fn result(&self) -> Interpretation {
        let loo = |i: usize| self.done.iter().find_map(|(t, m)| matches!(t, Tag::LeaveOut(j) if *j == i).then_some(m));
        let (mut units, mut probes) = (vec![], vec![]);
        for (i, &u) in self.order.iter().enumerate() {
            let (loo_delta_pos, loo_delta_neg) = loo(i).map_or((f32::NAN, f32::NAN), |m| (m.delta_pos, m.delta_neg));
            match &self.kind {
                SetKind::Scalars(shape) => {
                    let unit = shape.unit(u);
                    units.push(RankedUnit {
                        unit,
                        token: self.tokens.get(unit.position).cloned().unwrap_or_default(),
                        alpha: self.values[u],
                        loo_delta_pos,
                        loo_delta_neg,
                    });
                }
                SetKind::Probes(iv) => probes.push(RankedProbe {
                    site: Site::ALL[u / iv.n_layers.max(1)],
                    layer: u % iv.n_layers.max(1),
                    mean_abs_alpha: self.values[u],
                    loo_delta_pos,
                    loo_delta_neg,
                }),
            }
        }
        let keep_k = self.keep_points();
        let k_star = keep_k.iter().find(|p| flips_all(p)).map(|p| p.k);
        let random = random_grid(self.order.len())
            .into_iter()
            .map(|k| {
                let flips: Vec<f32> = self
                    .done
                    .iter()
                    .filter_map(|(t, m)| matches!(t, Tag::Random(j) if *j == k).then_some(m.flip_rate))
                    .collect();
                let s = Spread::of(&flips);
                RandomPoint { k, flip_mean: s.mean, flip_sd: s.sd, draws: s.n }
            })
            .collect();
        Interpretation { units, probes, keep_k, k_star, random }
    }
}

fn flips_all(p: &KeepPoint) -> bool {
    p.metrics.flip_rate >= 1.0
}
