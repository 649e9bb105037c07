//! A hook that records one run's activations: the residual stream entering each layer and the
//! output of every site, detached (nothing here is trained).

use std::cell::RefCell;

use burn::tensor::Tensor;

use crate::model::Model;
use crate::model::error::ModelError;
use crate::model::hook::{Hook, Site};
use crate::model::transformer::Positions;

/// One prompt's activations, each [1, positions, d].
pub struct Activations {
    /// resid[l]: entering block l; resid[n_layers]: after the last block.
    pub resid: Vec<Tensor<3>>,
    /// site[s][l]: the output of site s (`Site::index`) of block l.
    pub site: [Vec<Tensor<3>>; 2],
    /// heads[l]: the heads' outputs z of block l, [1, head, positions, head_dim] (`Hook::heads`).
    pub heads: Vec<Tensor<4>>,
    /// Last-position logits [1, vocab].
    pub logits: Tensor<2>,
}

impl Activations {
    /// Runs `ids` through the unmodified model and keeps every activation.
    pub fn record(model: &Model, ids: &[u32]) -> Result<Activations, ModelError> {
        let n = model.net.config.n_layers;
        let rec = Recorder {
            resid: RefCell::new(vec![None; n + 1]),
            site: RefCell::new([vec![None; n], vec![None; n]]),
            heads: RefCell::new(vec![None; n]),
        };
        let logits = model.net.forward(&[ids.to_vec()], &rec, Positions::Last)?;
        let v = logits.dims()[2];
        let all = |x: Vec<Option<Tensor<3>>>| x.into_iter().collect::<Option<Vec<_>>>();
        let missing = || ModelError::BadInput("the forward pass skipped a hook site".into());
        let [attn, mlp] = rec.site.into_inner();
        Ok(Activations {
            resid: all(rec.resid.into_inner()).ok_or_else(missing)?,
            site: [all(attn).ok_or_else(missing)?, all(mlp).ok_or_else(missing)?],
            heads: rec.heads.into_inner().into_iter().collect::<Option<Vec<_>>>().ok_or_else(missing)?,
            logits: logits.reshape([1, v]).detach(),
        })
    }

    pub fn at(&self, site: Site, layer: usize) -> &Tensor<3> {
        &self.site[site.index()][layer]
    }

    /// Every site output as rows [2 · n_layers · positions, d], in the units' order
    /// (`units::MapShape::index`).
    pub fn unit_rows(&self) -> Tensor<2> {
        let rows = self.site.iter().flatten().map(|h| {
            let [_, t, d] = h.dims();
            h.clone().reshape([t, d])
        });
        Tensor::cat(rows.collect(), 0)
    }

    /// Every head's output as rows [n_layers · heads · positions, head_dim], in the order of
    /// `heads::HeadShape::index`.
    pub fn head_rows(&self) -> Tensor<2> {
        let rows = self.heads.iter().map(|z| {
            let [_, nh, t, hd] = z.dims();
            z.clone().reshape([nh * t, hd])
        });
        Tensor::cat(rows.collect(), 0)
    }
}

struct Recorder {
    resid: RefCell<Vec<Option<Tensor<3>>>>,
    site: RefCell<[Vec<Option<Tensor<3>>>; 2]>,
    heads: RefCell<Vec<Option<Tensor<4>>>>,
}

impl Hook for Recorder {
    fn site(&self, site: Site, layer: usize, h: Tensor<3>) -> Tensor<3> {
        self.site.borrow_mut()[site.index()][layer] = Some(h.clone().detach());
        h
    }

    fn heads(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        self.heads.borrow_mut()[layer] = Some(z.clone().detach());
        z
    }

    fn resid(&self, layer: usize, h: &Tensor<3>) {
        self.resid.borrow_mut()[layer] = Some(h.clone().detach());
    }
}
