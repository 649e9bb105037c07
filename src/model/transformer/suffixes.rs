//! Rows that re-run only what a change to one position can reach. A change to the residual
//! stream at position p entering block l reaches positions p … T−1 of blocks l … on, and never
//! a position before p (attention is causal). So each row runs its own suffix of positions, the
//! rows' tokens packed one after another for the weight products, and its attention reads the
//! clean run's keys and values at the positions before its start. Rows join at their own block
//! and then run through the rest together: each block runs once, on every row that has reached
//! it. Activation patching runs a row per unit this way (`interpret::patching`).

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::{Transformer, causal_mask, rotate, split_heads};
use crate::model::error::ModelError;
use crate::model::hook::NoHook;

/// Most tokens a block's products take at once. Rows are run through a block in groups of at
/// most this many tokens (the default model's MLP then holds 4096 × 1536 floats, 25 MB, per
/// product), and each group's products read each weight once for all of its rows.
const GROUP_TOKENS: usize = 4096;
/// Most padded slots (rows × T) of a group: attention pads each row to all T positions, so a
/// group of rows that start late holds far more slots than tokens.
const GROUP_SLOTS: usize = 8192;
/// Most attention scores (rows × heads × T × T) of a group: 32 M floats, 128 MB.
const GROUP_SCORES: usize = 1 << 25;

/// Where each row's tokens sit: packed (row after row, positions start … T−1) and padded
/// ([rows, T], for attention).
struct Layout {
    t: usize,
    /// Packed index of each row's first token; the packed count at the end.
    offsets: Vec<usize>,
    starts: Vec<usize>,
}

impl Layout {
    fn new(t: usize, starts: &[usize]) -> Self {
        let mut offsets = vec![0];
        for &p in starts {
            offsets.push(offsets.last().copied().unwrap_or(0) + t - p);
        }
        Layout { t, offsets, starts: starts.to_vec() }
    }

    fn packed(&self) -> usize {
        self.offsets[self.starts.len()]
    }

    /// (row, position) of every packed token.
    fn tokens(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.starts.iter().enumerate().flat_map(|(r, &p)| (p..self.t).map(move |pos| (r, pos)))
    }

    /// For cat([clean [T, ·], firsts [rows, ·]]): each packed token's row in it.
    fn entering(&self) -> Vec<usize> {
        self.tokens().map(|(r, pos)| if pos == self.starts[r] { self.t + r } else { pos }).collect()
    }

    /// For cat([packed [N, ·], clean [T, ·]]): each padded slot's row in it, the clean run's
    /// before the row's start.
    fn padded(&self) -> Vec<usize> {
        let n = self.packed();
        let mut idx = Vec::with_capacity(self.starts.len() * self.t);
        for (r, &p) in self.starts.iter().enumerate() {
            idx.extend((0..self.t).map(|pos| if pos < p { n + pos } else { self.offsets[r] + pos - p }));
        }
        idx
    }

    /// Each packed token's slot in the padded [rows · T].
    fn unpadded(&self) -> Vec<usize> {
        self.tokens().map(|(r, pos)| r * self.t + pos).collect()
    }

    /// Each row's last packed token.
    fn lasts(&self) -> Vec<usize> {
        self.offsets[1..].iter().map(|o| o - 1).collect()
    }
}

/// Rows packed together: their starts, and their residual stream [packed tokens, d].
struct Group {
    starts: Vec<usize>,
    x: Tensor<2>,
}

/// Rows that each differ from a clean run of T positions in the residual stream at one position
/// only, from the block they join at on. Rows join before a block (`join`), every row joined so
/// far runs through it (`run_block`), and after the last block each row's last position gives
/// logits (`logits`). Rows that join at different blocks so share each block's products.
pub struct SuffixRun {
    t: usize,
    /// Most rows in a group (`GROUP_SLOTS`, `GROUP_SCORES`); at least one.
    group_rows: usize,
    groups: Vec<Group>,
    next: usize,
}

impl SuffixRun {
    /// No rows yet, before block `block` of a clean run of `positions` positions, on a model of
    /// `n_heads` query heads.
    pub fn new(positions: usize, n_heads: usize, block: usize) -> Self {
        let t = positions.max(1);
        let group_rows = (GROUP_SLOTS / t).min(GROUP_SCORES / (n_heads.max(1) * t * t)).max(1);
        SuffixRun { t: positions, group_rows, groups: Vec::new(), next: block }
    }

    /// Rows joining before the next block: row r differs from the clean run's residual
    /// entering it, `clean` [1, T, d], at position starts[r] alone, where it is firsts[r] ([rows, d]).
    pub fn join(&mut self, clean: &Tensor<3>, starts: &[usize], firsts: Tensor<2>) -> Result<(), ModelError> {
        let (t, [_, d]) = (self.t, firsts.dims());
        if clean.dims() != [1, t, d] || firsts.dims()[0] != starts.len() {
            return Err(ModelError::BadInput(format!(
                "{} rows of width {d} cannot join a clean run of {:?}",
                starts.len(),
                clean.dims()
            )));
        }
        if let Some(p) = starts.iter().find(|&&p| p >= t) {
            return Err(ModelError::BadInput(format!("a row starts at position {p} of {t}")));
        }
        let layout = Layout::new(t, starts);
        let device = firsts.device();
        let packed =
            Tensor::cat(vec![clean.clone().reshape([t, d]), firsts], 0).select(0, index(layout.entering(), &device));
        let (most_tokens, most_rows) = (GROUP_TOKENS, self.group_rows);
        let mut r = 0;
        while r < starts.len() {
            let fits = |g: &Group| g.x.dims()[0] + t - starts[r] <= most_tokens && g.starts.len() < most_rows;
            if !self.groups.last().is_some_and(fits) {
                self.groups.push(Group { starts: Vec::new(), x: Tensor::zeros([0, d], &device) });
            }
            let group = self.groups.last_mut().expect("pushed above");
            // This row, and those after it that still fit.
            let (mut end, mut tokens, mut rows) = (r + 1, group.x.dims()[0] + t - starts[r], group.starts.len() + 1);
            while end < starts.len() && tokens + t - starts[end] <= most_tokens && rows < most_rows {
                tokens += t - starts[end];
                rows += 1;
                end += 1;
            }
            let (from, to) = (layout.offsets[r], layout.offsets[end]);
            let rows = packed.clone().narrow(0, from, to - from);
            group.x = if group.starts.is_empty() { rows } else { Tensor::cat(vec![group.x.clone(), rows], 0) };
            group.starts.extend_from_slice(&starts[r..end]);
            r = end;
        }
        Ok(())
    }

    /// Runs the next block on every row joined so far; `clean` [1, T, d] is the clean
    /// run's residual entering it (its keys and values precede each row's start).
    pub fn run_block(&mut self, net: &Transformer, clean: &Tensor<3>) -> Result<(), ModelError> {
        let (l, t, d) = (self.next, self.t, net.config.d_model);
        if l >= net.config.n_layers || clean.dims() != [1, t, d] {
            return Err(ModelError::BadInput(format!("cannot run block {l} from a clean run of {:?}", clean.dims())));
        }
        let clean = clean.clone().reshape([t, d]);
        for g in &mut self.groups {
            let layout = Layout::new(t, &g.starts);
            g.x = net.on_threads(|| net.block_on_suffixes(l, &layout, g.x.clone(), clean.clone()));
            if l + 1 == net.config.n_layers {
                // Each row is its last position now.
                g.starts = vec![t - 1; g.starts.len()];
            }
        }
        self.next += 1;
        Ok(())
    }

    /// Logits of the tokens `answers` at each row's last position, [rows, answers], rows in
    /// the order they joined; after the last block.
    pub fn logits(&self, net: &Transformer, answers: &[u32]) -> Result<Tensor<2>, ModelError> {
        let c = &net.config;
        if self.next != c.n_layers || self.groups.is_empty() {
            return Err(ModelError::BadInput(format!("logits asked for before block {} of {}", self.next, c.n_layers)));
        }
        if let Some(id) = answers.iter().find(|&&id| id as usize >= c.vocab_size) {
            return Err(ModelError::BadInput(format!("answer id {id} is outside the vocabulary ({})", c.vocab_size)));
        }
        let device = net.device();
        let lasts = self.groups.iter().map(|g| {
            let layout = Layout::new(self.t, &g.starts);
            g.x.clone().select(0, index(layout.lasts(), device))
        });
        let last = Tensor::cat(lasts.collect(), 0);
        let [rows, d] = last.dims();
        let h = net.final_norm.forward(last.reshape([rows, 1, d])).reshape([rows, d]);
        // Only the answers' rows of the LM head: Δ needs two logits, not the vocabulary.
        let ids = index(answers.iter().map(|&i| i as usize).collect(), device);
        let logits = h.matmul(net.lm_head.weight().clone().select(0, ids.clone()).transpose());
        Ok(match &net.lm_head.b {
            Some(b) => logits + b.clone().select(0, ids).reshape([1, answers.len()]),
            None => logits,
        })
    }
}

fn index(v: Vec<usize>, device: &Device) -> Tensor<1, Int> {
    let n = v.len();
    Tensor::<1, Int>::from_data(TensorData::new(v.into_iter().map(|i| i as i32).collect(), [n]), device)
}

impl Transformer {
    /// Block `l` on packed rows `x` [N, d] laid out as `layout` says; `clean` [T, d]: the clean
    /// run's residual entering block l. After the last block only each row's last position is
    /// read, so there the rows come back as that position alone, [rows, d].
    fn block_on_suffixes(&self, l: usize, layout: &Layout, x: Tensor<2>, clean: Tensor<2>) -> Tensor<2> {
        let c = &self.config;
        let (t, n, rows) = (layout.t, layout.packed(), layout.starts.len());
        let (d, nh, hd) = (c.d_model, c.n_heads, c.head_dim);
        let device = &self.device;
        let layer = &self.layers[l];
        let norm = |x: Tensor<2>, m: usize| layer.attn_norm.forward(x.reshape([1, m, d])).reshape([m, d]);
        let h = norm(x.clone(), n);
        // Before its start, a row reads the clean run's keys and values.
        let clean_h = norm(clean, t);
        let padded = index(layout.padded(), device);
        let pad = |packed: Tensor<2>, before: Tensor<2>| {
            split_heads(Tensor::cat(vec![packed, before], 0).select(0, padded.clone()), rows, t, hd)
        };
        let rope = self.rope(t);
        let k = rotate(rope.as_ref(), pad(layer.wk.forward(h.clone()), layer.wk.forward(clean_h.clone())));
        let v = pad(layer.wv.forward(h.clone()), layer.wv.forward(clean_h));
        let (x, z) = if l + 1 == c.n_layers {
            // The last block: one query per row, at the last position, reading every key.
            let lasts = index(layout.lasts(), device);
            let q = split_heads(layer.wq.forward(h.select(0, lasts.clone())), rows, 1, hd);
            let z = self.attend(l, [rotate(rope.map(|r| r.last()).as_ref(), q), k, v], None, &NoHook);
            (x.select(0, lasts), z.swap_dims(1, 2).reshape([rows, nh * hd]))
        } else {
            // Queries before a row's start are zeros: their outputs are never read.
            let q = pad(layer.wq.forward(h), Tensor::zeros([t, nh * hd], device));
            let mask = causal_mask([rows, nh], t, device);
            let z = self.attend(l, [rotate(rope.as_ref(), q), k, v], Some(mask), &NoHook);
            (x, z.swap_dims(1, 2).reshape([rows * t, nh * hd]).select(0, index(layout.unpadded(), device)))
        };
        let m = x.dims()[0];
        let attn = layer.wo.forward(z).reshape([1, m, d]);
        self.finish_block(l, x.reshape([1, m, d]), attn, &NoHook).reshape([m, d])
    }
}

#[cfg(test)]
mod tests {
    use super::Layout;

    /// T = 4, rows starting at 1 and 3: packed tokens (0,1) (0,2) (0,3) (1,3).
    #[test]
    fn layout_indices_by_hand() {
        let l = Layout::new(4, &[1, 3]);
        assert_eq!(l.packed(), 4);
        assert_eq!(l.tokens().collect::<Vec<_>>(), [(0, 1), (0, 2), (0, 3), (1, 3)]);
        // A row's first token comes from firsts (T + row), the rest from the clean run.
        assert_eq!(l.entering(), [4, 2, 3, 5]);
        // Padded [2, 4] over cat([packed (4), clean (4)]): clean before the start.
        assert_eq!(l.padded(), [4, 0, 1, 2, 4, 5, 6, 3]);
        assert_eq!(l.unpadded(), [1, 2, 3, 7]);
        assert_eq!(l.lasts(), [2, 3]);
    }
}
