//! The α heatmap: one panel per site, rows = layers, columns = prompt tokens, a diverging
//! colour scale centred at 0; hovering a cell shows site, layer, token and value.

use leptos::prelude::*;

use actscale::model::site::Site;

use super::state::view::{Cell, Heat};

/// Blue for negative, white at 0, red for positive; `v` in [−1, 1].
pub fn colour(v: f32) -> String {
    let v = v.clamp(-1.0, 1.0);
    let (r, g, b) = if v >= 0.0 {
        (255.0, 255.0 * (1.0 - v), 255.0 * (1.0 - v))
    } else {
        (255.0 * (1.0 + v), 255.0 * (1.0 + v), 255.0)
    };
    format!("rgb({:.0},{:.0},{:.0})", r, g, b)
}

const CELL_H: f32 = 9.0;
const LEFT: f32 = 26.0;
const TOP: f32 = 16.0;

#[component]
pub fn Heatmap(
    heat: ReadSignal<Option<Heat>>,
    on_cell: Callback<Cell>,
    /// The element's id (a page can show more than one map).
    #[prop(default = "heatmap")]
    id: &'static str,
    /// What the panel says before there are values.
    #[prop(default = "The learned scalars appear here while training.")]
    empty: &'static str,
    /// A fixed colour range ±range (a cosine's is 1); by default the largest |value|.
    #[prop(optional)]
    range: Option<f32>,
) -> impl IntoView {
    move || {
        let Some(h) = heat.get() else {
            return view! { <p class="muted">{empty}</p> }.into_any();
        };
        let t = h.tokens.len().max(1);
        let scale = range.unwrap_or_else(|| h.values.iter().fold(0.0f32, |m, v| m.max(v.abs()))).max(1e-6);
        let cell_w = (220.0 / t as f32).clamp(14.0, 48.0);
        let width = LEFT + cell_w * t as f32 + 4.0;
        let height = TOP + CELL_H * h.n_layers as f32 + 64.0;
        let panels = Site::ALL
            .iter()
            .map(|&site| {
                let cells = (0..h.n_layers)
                    .flat_map(|l| (0..t).map(move |p| (l, p)))
                    .map(|(l, p)| {
                        let i = (site.index() * h.n_layers + l) * t + p;
                        let v = h.values.get(i).copied().unwrap_or(0.0);
                        let token = h.tokens.get(p).cloned().unwrap_or_default();
                        view! {
                            <rect class="cell" x=LEFT + cell_w * p as f32 y=TOP + CELL_H * l as f32
                                  width=cell_w - 1.0 height=CELL_H - 1.0 fill=colour(v / scale)
                                  data-value=v data-site=site.name() data-layer=l data-position=p
                                  on:click=move |_| on_cell.run(Cell { site, layer: l, position: p, value: v })>
                                <title>{format!("{} · layer {l} · token {p} {token:?} · {} = {v:.4}", site.name(), h.what)}</title>
                            </rect>
                        }
                    })
                    .collect_view();
                let layer_ticks = (0..h.n_layers)
                    .step_by(5)
                    .map(|l| view! { <text x=LEFT - 3.0 y=TOP + CELL_H * l as f32 + 7.0 text-anchor="end" class="tick">{l}</text> })
                    .collect_view();
                let token_labels = h
                    .tokens
                    .iter()
                    .enumerate()
                    .map(|(p, tok)| {
                        let x = LEFT + cell_w * (p as f32 + 0.5);
                        let y = TOP + CELL_H * h.n_layers as f32 + 6.0;
                        view! {
                            <text x=x y=y class="tick" text-anchor="end" transform=format!("rotate(-60 {x} {y})")>
                                {tok.replace(' ', "␣")}
                            </text>
                        }
                    })
                    .collect_view();
                view! {
                    <figure class="heat-panel">
                        <figcaption>{format!("{} — {}", site.name(), h.what)}</figcaption>
                        <svg class="heatmap" viewBox=format!("0 0 {width} {height}") width=width height=height
                             role="img" aria-label=format!("{} heatmap", site.name())>
                            <text x="2" y="10" class="tick">"layer"</text>
                            {layer_ticks}{cells}{token_labels}
                        </svg>
                    </figure>
                }
            })
            .collect_view();
        view! {
            <div class="heatmaps" id=id>
                {panels}
                <p class="scale-note">
                    <span class="swatch" style=format!("background:{}", colour(-1.0))></span>{format!("−{scale:.3}")}
                    " · 0 · "
                    <span class="swatch" style=format!("background:{}", colour(1.0))></span>{format!("+{scale:.3}")}
                </p>
            </div>
        }
        .into_any()
    }
}
