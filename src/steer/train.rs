//! A trainer that can be stepped one step at a time (the browser worker drives it and reports
//! progress): Adam on L_eff + λF·L_faith, then the proximal minimality step in Adam's metric
//! (`prox.rs`: λM·L_min, per unit) that sets unneeded units exactly to zero. The model's weights
//! get no gradients.

use burn::tensor::Tensor;

use super::adam::Adam;
use super::convergence::Convergence;
use super::hyper::{Hyper, Method, Selection};
use super::intervention::Intervention;
use super::metrics::{Counts, counts};
use super::objective::{Baseline, terms};
use super::prompts::{Example, batches};
use super::prox::prox;
use super::read_back::{ReadBackLayout, StepValues};
use crate::compute_error::ComputeError;
use crate::model::Model;
use crate::protocol::StepReport;
use crate::readback::to_vec;

pub struct Trainer {
    pub iv: Intervention,
    pub hyper: Hyper,
    bases: Vec<Baseline>,
    /// Rotating minibatches: each one's latest gradient (SAG, `averaged_gradient`).
    recent_grads: Vec<Option<Tensor<2>>>,
    adam: Adam,
    pub step: usize,
    units: usize,
    mask: Vec<f32>,
    /// The parameters as the last step read them back.
    params_read: Vec<f32>,
    /// The stopping rule, when on, and why it stopped training.
    convergence: Option<Convergence>,
    converged: Option<String>,
    /// With the rule on and one batch: the parameters of the sparsest flipped state so far,
    /// put back when training ends (`restore_kept`).
    kept: Option<Vec<f32>>,
}

impl Trainer {
    pub fn new(
        model: &Model,
        method: Method,
        selection: Selection,
        hyper: Hyper,
        examples: &[Example],
    ) -> Result<Trainer, String> {
        hyper.validate()?;
        if examples.is_empty() {
            return Err("no training prompts".into());
        }
        let groups = batches(examples);
        let positions = groups[0].positions();
        if method.positional() && groups.len() > 1 {
            return Err(format!(
                "{} needs prompts of one length; these have {} different lengths (DynScalar handles mixed lengths)",
                method.name(),
                groups.len()
            ));
        }
        if selection.sites.contains(&crate::model::site::Site::AttnHead) && method != Method::ActivScalar {
            return Err(format!("attn_head is a site of activ-scalar only, not of {}", method.name()));
        }
        let c = &model.net.config;
        let device = model.net.device();
        let mask = Intervention::selection_mask(method, &selection, (c.n_layers, c.d_model, c.n_heads), positions);
        let iv = Intervention::zeros(method, selection, (c.n_layers, c.d_model, c.n_heads), positions, device);
        let chunks: Vec<_> = groups.iter().flat_map(|g| g.chunks(hyper.batch_size)).collect();
        let bases =
            chunks.iter().map(|b| Baseline::new(model, b)).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
        Self::from_parts(iv, hyper, bases, mask)
    }

    /// Continues training an existing intervention (e.g. one edited by hand).
    fn from_parts(iv: Intervention, hyper: Hyper, bases: Vec<Baseline>, mask: Vec<f32>) -> Result<Trainer, String> {
        let units = iv.units(&mask);
        if units == 0 {
            return Err("the site selection is empty: choose at least one site, layer and position".into());
        }
        let adam = Adam::new(&iv.params);
        Ok(Trainer {
            iv: Intervention { params: iv.params.clone().require_grad(), ..iv },
            hyper,
            recent_grads: vec![None; bases.len()],
            bases,
            adam,
            step: 0,
            units,
            mask,
            params_read: vec![],
            convergence: None,
            converged: None,
            kept: None,
        })
    }

    /// Stops training before `hyper.steps` once the stopping rule holds (`Convergence`).
    pub fn until_converged(mut self, patience: usize) -> Trainer {
        self.convergence = Some(Convergence::new(patience, self.hyper.margin));
        self
    }

    /// Why the stopping rule ended training, if it did.
    pub fn converged(&self) -> Option<&str> {
        self.converged.as_deref()
    }

    pub fn done(&self) -> bool {
        self.step >= self.hyper.steps || self.converged.is_some()
    }

    fn minibatched(&self) -> bool {
        self.hyper.batch_size > 0 && self.bases.len() > 1
    }

    /// The baselines this step trains on: all of them, or one minibatch in turn.
    fn step_bases(&self) -> &[Baseline] {
        if !self.minibatched() {
            &self.bases
        } else {
            let i = self.step % self.bases.len();
            &self.bases[i..i + 1]
        }
    }

    /// The gradient the update uses. Full batch: this step's. Rotating minibatches: SAG, the
    /// prompt-weighted mean of every minibatch's latest gradient (this step's replaces its
    /// minibatch's entry). With the minibatch's own gradient, a unit at zero switches on whenever
    /// that minibatch's |m̂| exceeds μ, so the set of non-zero units — and the count — kept
    /// changing with the batch (97–142 on CCC over the last 30 steps); the mean over all of them
    /// is the full-batch gradient up to staleness, and the count settles as on one prompt.
    fn averaged_gradient(&mut self, grad: Tensor<2>) -> Tensor<2> {
        if !self.minibatched() {
            return grad;
        }
        let i = self.step % self.bases.len();
        self.recent_grads[i] = Some(grad);
        let mut sum = None::<Tensor<2>>;
        let mut weight = 0usize;
        for (g, base) in self.recent_grads.iter().zip(&self.bases) {
            if let Some(g) = g {
                let w = g.clone().mul_scalar(base.n_prompts as f32);
                sum = Some(match sum {
                    Some(s) => s + w,
                    None => w,
                });
                weight += base.n_prompts;
            }
        }
        sum.expect("this step's entry is set").div_scalar(weight.max(1) as f32)
    }

    /// One optimisation step over all training prompts (or the next minibatch): the loss and
    /// its gradient, the update, one read-back of everything the report needs (on WebGPU every
    /// read is a GPU round trip), and the report. A loss that is not finite undoes the update.
    pub async fn step(&mut self, model: &Model) -> Result<StepReport, ComputeError> {
        let Objective { loss, stats, layout } = self.objective(model)?;
        let grads = loss.backward();
        let grad = self.iv.params.grad(&grads).ok_or("no gradient reached the intervention")?;
        let before = self.snapshot();
        let grad = self.averaged_gradient(grad);
        self.update(grad);
        let values = self.read_back(loss, stats, &layout).await?;
        if !values.loss.is_finite() {
            self.rollback(before);
            return Err(
                format!("the loss became {} at step {}: lower the learning rate", values.loss, self.step + 1).into()
            );
        }
        Ok(self.report(values))
    }

    /// The smooth part of the objective over this step's batches, weighted by their prompts
    /// (λM·L_min is applied by its proximal step in `update`), and each batch's statistics for
    /// the report, still on the device.
    fn objective(&self, model: &Model) -> Result<Objective, String> {
        let h = &self.hyper;
        let bases = self.step_bases();
        let total_prompts: usize = bases.iter().map(|b| b.n_prompts).sum();
        let mut loss = None::<Tensor<1>>;
        let mut stats = Vec::with_capacity(bases.len());
        let mut batches = Vec::with_capacity(bases.len());
        for base in bases {
            let t = terms(model, &self.iv, base, h.margin, h.lambda_f).map_err(|e| e.to_string())?;
            let weight = base.n_prompts as f32 / total_prompts as f32;
            let weighted = t.total.mul_scalar(weight);
            loss = Some(match loss {
                Some(l) => l + weighted,
                None => weighted,
            });
            let b = base.n_prompts;
            // In the order `ReadBackLayout` names: L_eff, L_faith, Δ(β=+1) × B, Δ(β=−1) × B.
            stats.push(Tensor::cat(vec![t.eff.detach(), t.faith.detach(), t.delta.detach().reshape([2 * b])], 0));
            batches.push((weight, b));
        }
        let loss = loss.ok_or("no training prompts")?;
        Ok(Objective { loss, stats, layout: ReadBackLayout::new(&batches) })
    }

    /// The loss, every batch's statistics and the updated parameters, in one transfer.
    async fn read_back(
        &self,
        loss: Tensor<1>,
        stats: Vec<Tensor<1>>,
        layout: &ReadBackLayout,
    ) -> Result<StepValues, ComputeError> {
        let n_params = self.iv.params.dims().iter().product::<usize>();
        let mut parts = vec![loss.detach()];
        parts.extend(stats);
        parts.push(self.iv.params.clone().detach().reshape([n_params]));
        let values = to_vec(Tensor::cat(parts, 0)).await?;
        Ok(layout.read(&values))
    }

    /// What a step changes, to undo it.
    fn snapshot(&self) -> Snapshot {
        Snapshot { params: self.iv.params.clone(), adam: self.adam.clone(), recent_grads: self.recent_grads.clone() }
    }

    fn rollback(&mut self, before: Snapshot) {
        self.iv.params = before.params;
        self.adam = before.adam;
        self.recent_grads = before.recent_grads;
    }

    /// Counts the step, reports it, and lets the stopping rule (when on) keep or end.
    fn report(&mut self, values: StepValues) -> StepReport {
        let StepValues { loss, eff, faith, prompts, delta_pos_sum, delta_neg_sum, flips, worst_pos, worst_neg, params } =
            values;
        let measured = std::mem::replace(&mut self.params_read, params);
        self.step += 1;
        let Counts { l1, nonzero, .. } = counts(&self.iv, &self.params_read, &self.mask);
        let n = prompts as f32;
        let min = l1 / self.units as f32;
        let mut report = StepReport {
            step: self.step,
            // the whole objective: the smooth part before the update, L_min after it
            loss: loss + self.hyper.lambda_m * min,
            eff,
            faith,
            min,
            l1,
            nonzero,
            delta_pos: delta_pos_sum / n,
            delta_neg: delta_neg_sum / n,
            flip_rate: flips as f32 / n,
            worst_delta_pos: worst_pos,
            worst_delta_neg: worst_neg,
        };
        if let Some(c) = &mut self.convergence {
            let verdict = c.observe(&report);
            if verdict.new_best && !self.minibatched() {
                self.kept = Some(measured);
            }
            self.converged = verdict.stop;
            if self.done() {
                self.restore_kept(&mut report);
            }
        }
        report
    }

    /// At the end of a run with the stopping rule on one batch: the sparsest state that flipped
    /// every prompt by 0.9·m replaces the last one, which may sit anywhere on the count's cycle
    /// (docs/method.md "Stopping rule"); `report` then describes the kept state. With minibatches a
    /// step's Δs cover one batch only, so the last state stays.
    fn restore_kept(&mut self, report: &mut StepReport) {
        let (Some(c), Some(params)) = (&self.convergence, self.kept.take()) else { return };
        let Some(best) = c.best() else { return };
        let Ok(kept) = self.iv.with_values(params.clone()) else { return };
        let last = report.nonzero;
        self.iv = Intervention { params: kept.params.detach().require_grad(), ..kept };
        self.params_read = params;
        let Counts { l1, nonzero, .. } = counts(&self.iv, &self.params_read, &self.mask);
        report.l1 = l1;
        report.min = l1 / self.units as f32;
        report.nonzero = nonzero;
        (report.delta_pos, report.delta_neg) = (best.delta_pos, best.delta_neg);
        (report.worst_delta_pos, report.worst_delta_neg) = (best.worst_delta_pos, best.worst_delta_neg);
        report.flip_rate = 1.0;
        let note =
            format!("kept the sparsest flipped state, after step {}: {} non-zero", best.after_step, best.nonzero);
        self.converged = Some(match self.converged.take() {
            Some(why) => format!("{why}; {note}"),
            None => format!("ran all {} steps; {note} (the last step left {last})", self.step),
        });
    }

    /// 1 where a parameter may be non-zero (the site selection), 0 elsewhere; on the host.
    pub fn selection_mask(&self) -> &[f32] {
        &self.mask
    }

    /// The parameters after the last step as read back with it (masked; empty before a step).
    pub fn params_read(&self) -> &[f32] {
        &self.params_read
    }

    /// The learning rate of the coming step. Full-batch runs keep `lr`. Runs on rotating
    /// minibatches decay it as lr·½(1 + cos(π·t/T)) over the T steps: SAG's stale gradients
    /// (`averaged_gradient`) with a constant step oscillated (CCC: KL 1.2–1.4, the count 211–246
    /// over the last 30 steps); with the decay the count holds within one unit (docs/method.md
    /// "Minibatches: SAG and a cosine step, so the count settles").
    pub fn lr_now(&self) -> f32 {
        let h = &self.hyper;
        if !self.minibatched() || h.steps == 0 {
            return h.lr;
        }
        let t = (self.step as f32 / h.steps as f32).min(1.0);
        h.lr * 0.5 * (1.0 + (std::f32::consts::PI * t).cos())
    }

    /// Adam, then the proximal minimality step, then the selection mask; a fresh gradient leaf.
    fn update(&mut self, grad: Tensor<2>) {
        let lr = self.lr_now();
        let h = &self.hyper;
        let (p, rate) = self.adam.step(self.iv.params.clone().detach(), grad, lr);
        let p = prox(self.iv.method, p, rate, h.lambda_m / self.units as f32);
        self.adam.forget_momentum(p.clone().not_equal_elem(0.0).float());
        self.iv.params = (p * self.iv.mask.clone()).detach().require_grad();
    }

    /// The learned intervention without the gradient graph.
    pub fn intervention(&self) -> Intervention {
        Intervention { params: self.iv.params.clone().detach(), ..self.iv.clone() }
    }
}

/// A step's objective before its backward pass.
struct Objective {
    loss: Tensor<1>,
    stats: Vec<Tensor<1>>,
    layout: ReadBackLayout,
}

/// What `Trainer::step` changes, kept to undo an update whose loss was not finite.
struct Snapshot {
    params: Tensor<2>,
    adam: Adam,
    recent_grads: Vec<Option<Tensor<2>>>,
}
