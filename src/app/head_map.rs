//! Per-head maps (issue 32 item 5): rows = layers, columns = attention heads, at one chosen
//! position or, by default, each head's value of largest magnitude over the positions (sign
//! kept). Two of them: patching and attribution per head (`HeadMap`), and the learned α of an
//! ActivScalar trained with attn_head (`HeadAlphaMap`). The colour scale is the α heatmap's.

use leptos::prelude::*;

use actscale::interpret::heads::HeadShape;
use actscale::interpret::report::HeadPatchReport;
use actscale::model::site::Site;

use super::heatmap::colour;
use super::state::interpret::{Interp, MapChoice};
use super::state::view::Heat;

const CELL: f32 = 14.0;
const CELL_H: f32 = 9.0;
const LEFT: f32 = 26.0;
const TOP: f32 = 16.0;

fn position_label(tokens: &[String], p: Option<usize>) -> String {
    match p {
        None => "largest |value| over positions".into(),
        Some(p) => format!("at token {p} {:?}", tokens.get(p).cloned().unwrap_or_default()),
    }
}

/// The layers × heads grid of `values` (`HeadShape` order) at `position`.
fn grid(shape: HeadShape, values: &[f32], position: Option<usize>, caption: String) -> impl IntoView + use<> {
    let rows = shape.layers_by_heads(values, position);
    let scale = rows.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
    let width = LEFT + CELL * shape.n_heads as f32 + 4.0;
    let height = TOP + CELL_H * shape.n_layers as f32 + 14.0;
    let cells = rows
        .iter()
        .enumerate()
        .flat_map(|(l, row)| row.iter().enumerate().map(move |(h, &v)| (l, h, v)))
        .map(|(l, h, v)| {
            view! {
                <rect class="cell" x=LEFT + CELL * h as f32 y=TOP + CELL_H * l as f32 width=CELL - 1.0
                      height=CELL_H - 1.0 fill=colour(v / scale) data-value=v data-layer=l data-head=h>
                    <title>{format!("layer {l} · head {h} = {v:.4}")}</title>
                </rect>
            }
        })
        .collect_view();
    let layer_ticks = (0..shape.n_layers)
        .step_by(5)
        .map(|l| view! { <text x=LEFT - 3.0 y=TOP + CELL_H * l as f32 + 7.0 text-anchor="end" class="tick">{l}</text> })
        .collect_view();
    let head_ticks = (0..shape.n_heads)
        .map(|h| {
            let x = LEFT + CELL * (h as f32 + 0.5);
            view! { <text x=x y=TOP + CELL_H * shape.n_layers as f32 + 10.0 text-anchor="middle" class="tick">{h}</text> }
        })
        .collect_view();
    view! {
        <figure class="heat-panel">
            <figcaption>{caption}</figcaption>
            <svg class="heatmap" viewBox=format!("0 0 {width} {height}") width=width height=height
                 role="img" aria-label="per-head heatmap" data-position=position.map_or(-1, |p| p as i64)>
                <text x="2" y="10" class="tick">"layer"</text>
                <text x=width - 2.0 y="10" class="tick" text-anchor="end">"head →"</text>
                {layer_ticks}{cells}{head_ticks}
            </svg>
            <p class="scale-note">{format!("colour: ±{scale:.3}")}</p>
        </figure>
    }
}

/// A position picker: "largest over positions", then each token.
fn position_select(id: &'static str, tokens: Vec<String>, chosen: RwSignal<Option<usize>>) -> impl IntoView + use<> {
    let n = tokens.len();
    let options = std::iter::once(None).chain((0..n).map(Some)).collect::<Vec<_>>();
    let on_change =
        move |ev: leptos::ev::Event| chosen.set(event_target_value(&ev).parse::<usize>().ok().filter(|&p| p < n));
    view! {
        <label for=id>"Heads at"</label>
        <select id=id on:change=on_change>
            {options.into_iter().map(|p| {
                let value = p.map_or("max".to_string(), |p| p.to_string());
                view! { <option value=value selected=move || chosen.get() == p>{position_label(&tokens, p)}</option> }
            }).collect_view()}
        </select>
    }
}

/// Patching, attribution or AtP per head, whichever the panel's map selector shows.
#[component]
pub fn HeadMap(it: Interp, report: HeadPatchReport, tokens: Vec<String>) -> impl IntoView {
    let shape = report.shape;
    let labels = tokens.clone();
    let shown = move || {
        let choice: MapChoice = it.map.get();
        let position = it.head_position.get().filter(|&p| p < shape.positions);
        let caption = format!("attn_head — {}, {}", choice.label(), position_label(&labels, position));
        grid(shape, choice.head_values(&report), position, caption)
    };
    view! {
        <div class="head-map" id="head-map">
            {position_select("head-position", tokens, it.head_position)}
            {shown}
        </div>
    }
}

/// The per-head α of an ActivScalar trained with attn_head: the rows after the per-site ones in
/// the heatmap's values (`steer::layout`). Nothing when the intervention has none.
#[component]
pub fn HeadAlphaMap(heat: ReadSignal<Option<Heat>>) -> impl IntoView {
    let position = RwSignal::new(None::<usize>);
    move || {
        let h = heat.get()?;
        let (l, t) = (h.n_layers, h.tokens.len());
        let per_site = Site::ALL.len() * l * t;
        let extra = h.values.len().checked_sub(per_site).filter(|&n| n > 0 && l * t > 0 && n % (l * t) == 0)?;
        let shape = HeadShape { n_layers: l, n_heads: extra / (l * t), positions: t };
        let values = h.values[per_site..].to_vec();
        let tokens = h.tokens.clone();
        let shown = move || {
            let p = position.get().filter(|&p| p < t);
            grid(shape, &values, p, format!("attn_head — {}, {}", h.what, position_label(&tokens, p)))
        };
        Some(view! {
            <div class="head-map" id="head-alpha-map">
                {position_select("head-alpha-position", h.tokens.clone(), position)}
                {shown}
            </div>
        })
    }
}
