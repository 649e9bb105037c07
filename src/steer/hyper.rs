//! Methods, site selection and hyperparameters, with defaults that work on SmolLM2-135M.

use serde::{Deserialize, Serialize};

use crate::model::site::Site;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// h · (1 + β·α), one scalar per (site, layer, position).
    ActivScalar,
    /// h + β·v, one d-vector per (site, layer, position).
    SteerVec,
    /// h · (1 + β·(w·ĥ + b)), ĥ = h / (RMS(h)·d); one probe per (site, layer), any prompt length.
    DynScalar,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::ActivScalar, Method::SteerVec, Method::DynScalar];

    pub fn name(self) -> &'static str {
        match self {
            Method::ActivScalar => "activ-scalar",
            Method::SteerVec => "steer-vec",
            Method::DynScalar => "dyn-scalar",
        }
    }

    pub fn parse(s: &str) -> Result<Method, String> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown method {s:?}: use activ-scalar, steer-vec or dyn-scalar"))
    }

    /// Whether the parameters are tied to prompt positions (so all prompts need one length).
    pub fn positional(self) -> bool {
        !matches!(self, Method::DynScalar)
    }
}

/// Which sites the intervention may touch. Empty `layers`/`positions` mean all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub sites: Vec<Site>,
    pub layers: Vec<usize>,
    pub positions: Vec<usize>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection { sites: Site::ALL.to_vec(), layers: vec![], positions: vec![] }
    }
}

impl Selection {
    pub fn has(&self, site: Site, layer: usize, position: usize) -> bool {
        self.sites.contains(&site)
            && (self.layers.is_empty() || self.layers.contains(&layer))
            && (self.positions.is_empty() || self.positions.contains(&position))
    }
}

/// DynScalar's own defaults (`Hyper::for_method`), from runs on seeds 0–4 of `ioi-mixed`
/// (docs/method.md "DynScalar across seeds"): a margin of 7 because a held-out prompt starts
/// further from the flip and the probe's shift carries over at ~80% of its size (margin 6 left
/// seed 3 at 67%, margin 8 cost seed 2 its KL); λF 3 to keep that shift's KL down (≤ 0.41 on
/// every seed); lr 0.02 on minibatches of 8 because lr 0.05 blew up on seed 2 (loss 5 → 14 at
/// step 15, train flips 47%). Held-out flips 83–100% over the five seeds.
pub const DYN_SCALAR_MARGIN: f32 = 7.0;
pub const DYN_SCALAR_LAMBDA_F: f32 = 3.0;
pub const DYN_SCALAR_LAMBDA_M: f32 = 0.1;
pub const DYN_SCALAR_LR: f32 = 0.02;
pub const DYN_SCALAR_STEPS: usize = 80;
pub const DYN_SCALAR_BATCH: usize = 8;

/// Prompts per step of a task in the page for a method without its own batch size: small
/// minibatches keep each step quick in the browser.
pub const PAGE_TASK_BATCH: usize = 4;

/// ActivScalar's lr and step budget on one prompt (`Hyper::for_one_prompt`).
pub const ONE_PROMPT_LR: f32 = 0.1;
pub const ONE_PROMPT_STEPS: usize = 80;

/// Hyperparameters of the objective and the optimiser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// Margin m of the effectiveness hinge (logits).
    pub margin: f32,
    /// λF, weight of the faithfulness KL.
    pub lambda_f: f32,
    /// λM, weight of the minimality term L_min = Σ‖unit‖/N (a proximal step after each Adam
    /// update, `prox.rs`): per unit for every method.
    pub lambda_m: f32,
    /// Adam learning rate.
    pub lr: f32,
    pub steps: usize,
    /// Prompts per step (0 = all): larger tasks train on rotating minibatches.
    #[serde(default)]
    pub batch_size: usize,
}

impl Default for Hyper {
    /// Checked on "Rome is in" (" Italy" ↔ " France"): flips both ways with few of the 180 scalars (docs/method.md
    /// "Defaults": 9 measured; `tests/steering.rs` checks ≤ 20).
    fn default() -> Self {
        Hyper { margin: 2.0, lambda_f: 1.0, lambda_m: 20.0, lr: 0.05, steps: 150, batch_size: 0 }
    }
}

impl Hyper {
    /// The defaults for `method`: ActivScalar's and SteerVec's are `Hyper::default()`. DynScalar
    /// is meant for prompts it was not trained on, and a held-out prompt can start further from
    /// the flip (IOI: Δ −5.7 on the held-out template vs −2.4 on the train templates), so its
    /// margin is larger (`DYN_SCALAR_MARGIN`); its probes switch off at a λM 200× smaller than
    /// ActivScalar's scalars (0.95 leaves 10 of 60; docs/method.md "DynScalar's defaults").
    pub fn for_method(method: Method) -> Hyper {
        match method {
            Method::ActivScalar | Method::SteerVec => Hyper::default(),
            Method::DynScalar => Hyper {
                margin: DYN_SCALAR_MARGIN,
                lambda_f: DYN_SCALAR_LAMBDA_F,
                lambda_m: DYN_SCALAR_LAMBDA_M,
                lr: DYN_SCALAR_LR,
                steps: DYN_SCALAR_STEPS,
                batch_size: DYN_SCALAR_BATCH,
            },
        }
    }

    /// The defaults for `method` on one prompt (the page's "pair", the CLI's `--task pair`).
    /// ActivScalar there takes twice the step for about half the steps: with the stopping
    /// rule's sparsest flipped state kept, lr 0.1 over 80 steps ends sparser than lr 0.05 over
    /// 150 on five prompts (docs/method.md "Stopping rule"), and the page's default Train on a 6-token
    /// prompt fits in ~30 s. Not on tasks: with rotating minibatches lr 0.1 left 481 of 1080
    /// scalars on CCC (lr 0.05: 294) and 308 of 840 on IOI (59).
    pub fn for_one_prompt(method: Method) -> Hyper {
        match method {
            Method::ActivScalar => Hyper { lr: ONE_PROMPT_LR, steps: ONE_PROMPT_STEPS, ..Hyper::for_method(method) },
            // One prompt is one batch.
            Method::SteerVec | Method::DynScalar => Hyper { batch_size: 0, ..Hyper::for_method(method) },
        }
    }

    /// Prompts per step in the page: all of one prompt; on a task the method's own batch size,
    /// else `PAGE_TASK_BATCH`.
    pub fn page_batch(method: Method, one_prompt: bool) -> usize {
        match (one_prompt, Hyper::for_method(method).batch_size) {
            (true, _) => 0,
            (false, 0) => PAGE_TASK_BATCH,
            (false, own) => own,
        }
    }

    /// `for_one_prompt` or `for_method`.
    pub fn defaults(method: Method, one_prompt: bool) -> Hyper {
        if one_prompt { Hyper::for_one_prompt(method) } else { Hyper::for_method(method) }
    }

    pub fn validate(&self) -> Result<(), String> {
        let finite = [self.margin, self.lambda_f, self.lambda_m, self.lr].iter().all(|x| x.is_finite());
        if !finite || self.margin < 0.0 || self.lambda_f < 0.0 || self.lambda_m < 0.0 || self.lr <= 0.0 {
            return Err(format!("hyperparameters must be finite, non-negative, lr > 0: {self:?}"));
        }
        if self.steps > 100_000 {
            return Err(format!("{} steps is too many (at most 100000)", self.steps));
        }
        Ok(())
    }
}
