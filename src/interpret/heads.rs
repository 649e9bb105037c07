//! Per-head units (issue 32 item 5, beyond the paper): (layer, head, position), where a head's
//! output is its contribution W_O[:, h-slice] · z_h to attn_out. Their maps share one layout,
//! row (layer · heads + head), then position; burn-free so that the page can draw them.

use serde::{Deserialize, Serialize};

/// The shape of a per-head map: n_layers × n_heads × positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadShape {
    pub n_layers: usize,
    pub n_heads: usize,
    pub positions: usize,
}

impl HeadShape {
    pub fn len(self) -> usize {
        self.n_layers * self.n_heads * self.positions
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    pub fn index(self, layer: usize, head: usize, position: usize) -> usize {
        (layer * self.n_heads + head) * self.positions + position
    }

    /// The map as [layer][head][position].
    pub fn nested(self, values: &[f32]) -> Vec<Vec<Vec<f32>>> {
        (0..self.n_layers)
            .map(|l| {
                (0..self.n_heads)
                    .map(|h| {
                        let start = self.index(l, h, 0);
                        values[start..start + self.positions].to_vec()
                    })
                    .collect()
            })
            .collect()
    }

    /// Layers × heads at one position (`Some(p)`), or each (layer, head)'s value of largest
    /// magnitude over positions, sign kept (`None`).
    pub fn layers_by_heads(self, values: &[f32], position: Option<usize>) -> Vec<Vec<f32>> {
        (0..self.n_layers)
            .map(|l| {
                (0..self.n_heads)
                    .map(|h| {
                        let row = &values[self.index(l, h, 0)..self.index(l, h, 0) + self.positions];
                        match position {
                            Some(p) => row.get(p).copied().unwrap_or(0.0),
                            None => row.iter().copied().fold(0.0f32, |m, v| if v.abs() > m.abs() { v } else { m }),
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// A per-head map: its shape and one value per (layer, head, position) in `HeadShape::index` order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadMap {
    pub shape: HeadShape,
    pub values: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_nested_and_layers_by_heads_agree() {
        let shape = HeadShape { n_layers: 2, n_heads: 3, positions: 4 };
        let v: Vec<f32> = (0..shape.len()).map(|i| if i % 5 == 0 { -(i as f32) } else { i as f32 }).collect();
        // Layer 1, head 2, position 3 → (1·3 + 2)·4 + 3.
        assert_eq!(shape.index(1, 2, 3), 23);
        assert_eq!(shape.nested(&v)[1][2], vec![-20.0, 21.0, 22.0, 23.0]);
        assert_eq!(shape.layers_by_heads(&v, Some(0))[1], vec![12.0, 16.0, -20.0]);
        // Largest magnitude over positions, with its sign: layer 0 head 0 is [-0, 1, 2, 3] → 3;
        // layer 1 head 1 is [16, 17, 18, 19] → 19; layer 1 head 0 is [12, 13, 14, -15] → −15.
        let max = shape.layers_by_heads(&v, None);
        assert_eq!(max[0][0], 3.0);
        assert_eq!(max[1][0], -15.0);
        assert_eq!(max[1][1], 19.0);
    }
}
