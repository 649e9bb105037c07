//! Units and their order: the layout every map of this module shares (the ActivScalar
//! parameter layout: row r = site · n_layers + layer, then position; with per-head units, rows
//! S · n_layers + layer · heads + head after them), the ranking by |α|, and the grids of k the
//! keep-top-k curve is measured at.

use serde::{Deserialize, Serialize};

use super::heads::HeadShape;
use crate::model::site::Site;

/// One (site, layer, position), or (attn_head, layer, head, position).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Written as "attn_out" / "mlp_out" / "attn_head", the names the maps' keys use.
    #[serde(with = "site_name")]
    pub site: Site,
    pub layer: usize,
    pub position: usize,
    /// The head of an attn_head unit (None for the per-site ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<usize>,
}

impl Unit {
    /// A per-site unit.
    pub fn at(site: Site, layer: usize, position: usize) -> Unit {
        Unit { site, layer, position, head: None }
    }
}

pub(crate) mod site_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::model::site::Site;

    pub fn serialize<S: Serializer>(site: &Site, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(site.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Site, D::Error> {
        let name = String::deserialize(d)?;
        Site::parse(&name).ok_or_else(|| D::Error::custom(format!("no site {name:?}")))
    }
}

/// The shape of a map: n_layers × positions for each site, then, when `heads` > 0, n_layers ×
/// heads × positions of per-head units (an ActivScalar trained with attn_head).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapShape {
    pub n_layers: usize,
    pub positions: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub heads: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl MapShape {
    /// Per-site units only.
    pub fn sites(n_layers: usize, positions: usize) -> MapShape {
        MapShape { n_layers, positions, heads: 0 }
    }

    pub fn len(self) -> usize {
        self.rows_count() * self.positions
    }

    /// Rows of positions: S · n_layers per-site rows, then n_layers · heads.
    pub fn rows_count(self) -> usize {
        (Site::ALL.len() + self.heads) * self.n_layers
    }

    /// Values of the per-site units (the first rows); maps of patching and attribution have
    /// only these.
    pub fn per_site_len(self) -> usize {
        Site::ALL.len() * self.n_layers * self.positions
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    pub fn index(self, u: Unit) -> usize {
        let row = match (u.site, u.head) {
            (Site::AttnHead, Some(h)) => Site::ALL.len() * self.n_layers + u.layer * self.heads + h,
            (site, _) => site.index() * self.n_layers + u.layer,
        };
        row * self.positions + u.position
    }

    pub fn unit(self, index: usize) -> Unit {
        let t = self.positions.max(1);
        let (r, position) = (index / t, index % t);
        let per_site = Site::ALL.len() * self.n_layers;
        if r >= per_site && self.heads > 0 {
            let (layer, head) = ((r - per_site) / self.heads, (r - per_site) % self.heads);
            return Unit { site: Site::AttnHead, layer, position, head: Some(head) };
        }
        Unit::at(Site::ALL[r / self.n_layers.max(1)], r % self.n_layers.max(1), position)
    }

    /// The per-head units' shape and values, when the map has any.
    pub fn head_part(self, values: &[f32]) -> Option<(HeadShape, &[f32])> {
        let shape = HeadShape { n_layers: self.n_layers, n_heads: self.heads, positions: self.positions };
        (self.heads > 0).then(|| (shape, values.get(self.per_site_len()..).unwrap_or(&[])))
    }

    /// The map's values of one site of `Site::ALL` as rows (layers) of positions.
    pub fn rows(self, values: &[f32], site: Site) -> Vec<Vec<f32>> {
        (0..self.n_layers)
            .map(|l| {
                let start = (site.index() * self.n_layers + l) * self.positions;
                values[start..start + self.positions].to_vec()
            })
            .collect()
    }
}

/// Indices of the non-zero values, largest |value| first, ties broken by index.
pub fn ranked(values: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| values[i] != 0.0).collect();
    order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()).then(a.cmp(&b)));
    order
}

/// `values` with only the indices in `keep` left, every other value 0.
pub fn keep_only(values: &[f32], keep: &[usize]) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for &i in keep {
        out[i] = values[i];
    }
    out
}

/// `values` as rows of `cols` with only the rows in `keep` left, every other row 0 (a
/// DynScalar's [w | b] with only some probes).
pub fn keep_rows(values: &[f32], cols: usize, keep: &[usize]) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for &r in keep {
        if let (Some(to), Some(from)) = (out.get_mut(r * cols..(r + 1) * cols), values.get(r * cols..(r + 1) * cols)) {
            to.copy_from_slice(from);
        }
    }
    out
}

/// Every k measured exactly up to this; past it a geometric grid.
pub const EVERY_K_UP_TO: usize = 64;

/// k = 1 … n: every k up to `EVERY_K_UP_TO`, then a grid growing by a quarter each step, and n.
pub fn keep_grid(n: usize) -> Vec<usize> {
    let mut ks: Vec<usize> = (1..=n.min(EVERY_K_UP_TO)).collect();
    let mut k = EVERY_K_UP_TO;
    while k < n {
        k = (k + k / 4).min(n);
        ks.push(k);
    }
    ks
}

/// The k the random baseline draws at: powers of two below n, and n (each draw costs as much
/// as a point of the curve, and the band is smooth in k).
pub fn random_grid(n: usize) -> Vec<usize> {
    let mut ks: Vec<usize> = std::iter::successors(Some(1usize), |k| Some(k * 2)).take_while(|&k| k < n).collect();
    if n > 0 {
        ks.push(n);
    }
    ks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_unit_are_inverse_and_follow_the_activ_scalar_layout() {
        let shape = MapShape::sites(3, 4);
        for i in 0..shape.len() {
            assert_eq!(shape.index(shape.unit(i)), i);
        }
        // Row r = site·L + layer: mlp_out layer 1 is row 4, position 2 → 4·4 + 2.
        assert_eq!(shape.unit(18), Unit::at(Site::MlpOut, 1, 2));
        let v: Vec<f32> = (0..24).map(|i| i as f32).collect();
        assert_eq!(shape.rows(&v, Site::MlpOut)[1], vec![16.0, 17.0, 18.0, 19.0]);
        let json = serde_json::to_string(&shape.unit(18)).unwrap();
        assert_eq!(json, r#"{"site":"mlp_out","layer":1,"position":2}"#);
        assert_eq!(serde_json::from_str::<Unit>(&json).unwrap(), shape.unit(18));
    }

    #[test]
    fn per_head_units_follow_the_per_site_rows_as_the_parameters_do() {
        let shape = MapShape { n_layers: 3, positions: 4, heads: 2 };
        assert_eq!((shape.len(), shape.per_site_len()), ((6 + 6) * 4, 24));
        for i in 0..shape.len() {
            assert_eq!(shape.index(shape.unit(i)), i);
        }
        // Row S·L + l·H + h (`steer::layout`): layer 1, head 1 is row 6 + 3 = 9 → 9·4 + 2.
        let u = Unit { site: Site::AttnHead, layer: 1, position: 2, head: Some(1) };
        assert_eq!(shape.unit(38), u);
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(json, r#"{"site":"attn_head","layer":1,"position":2,"head":1}"#);
        assert_eq!(serde_json::from_str::<Unit>(&json).unwrap(), u);
        assert_eq!(serde_json::to_string(&MapShape::sites(3, 4)).unwrap(), r#"{"n_layers":3,"positions":4}"#);
    }

    #[test]
    fn ranked_orders_non_zero_units_by_magnitude_then_index() {
        assert_eq!(ranked(&[0.0, -0.5, 0.2, 0.5, 0.0, -0.1]), vec![1, 3, 2, 5]);
        assert_eq!(keep_only(&[0.0, -0.5, 0.2, 0.5], &[3, 1]), vec![0.0, -0.5, 0.0, 0.5]);
        assert_eq!(keep_rows(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, &[2, 0]), vec![1.0, 2.0, 0.0, 0.0, 5.0, 6.0]);
    }

    #[test]
    fn grids_cover_every_small_k_and_end_at_n() {
        assert_eq!(keep_grid(3), vec![1, 2, 3]);
        let g = keep_grid(200);
        assert_eq!(&g[..64], &(1..=64).collect::<Vec<_>>()[..]);
        assert_eq!(&g[64..], &[80, 100, 125, 156, 195, 200]);
        assert_eq!(random_grid(10), vec![1, 2, 4, 8, 10]);
        assert_eq!(random_grid(8), vec![1, 2, 4, 8]);
        assert!(random_grid(0).is_empty() && keep_grid(0).is_empty());
    }
}
