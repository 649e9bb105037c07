//! Predictions before and after the intervention, side by side, with the β dial.

use leptos::prelude::*;

use actscale::protocol::{Prediction, TopToken};

use super::state::view::SteeredAt;

fn rows(top: &[TopToken]) -> impl IntoView + use<> {
    top.iter()
        .enumerate()
        .map(|(i, t)| {
            view! {
                <tr class="prediction" data-token=t.token.clone() data-logit=t.logit>
                    <td class="rank">{i + 1}</td>
                    <td class="tok">{format!("{:?}", t.token)}</td>
                    <td class="num prob">{format!("{:.1}%", 100.0 * t.prob)}</td>
                </tr>
            }
        })
        .collect_view()
}

#[component]
pub fn Steered(
    before: ReadSignal<Option<Prediction>>,
    after: ReadSignal<Option<SteeredAt>>,
    beta: ReadSignal<f32>,
    on_beta: Callback<f32>,
) -> impl IntoView {
    // data-beta says which β the table was computed at (None: the unmodified model).
    let table = move |p: Option<Prediction>, beta: Option<f32>, id: &'static str| match p {
        Some(p) if p.error.is_some() => view! { <p class="error" id=id>{p.error.unwrap_or_default()}</p> }.into_any(),
        Some(p) => view! {
            <table class="predictions small" id=id data-beta=beta.map(|b| b.to_string())>
                <tbody>{rows(&p.top[..p.top.len().min(5)])}</tbody>
            </table>
        }
        .into_any(),
        None => view! { <p class="muted" id=id>"—"</p> }.into_any(),
    };
    view! {
        <section class="panel steered" aria-label="Steered predictions">
            <h2>"Predictions at β"</h2>
            <label class="beta" for="beta">
                <span>{move || format!("β = {:+.2}", beta.get())}</span>
                <input id="beta" type="range" min="-1" max="1" step="0.05"
                       prop:value=move || beta.get().to_string()
                       on:input=move |ev| {
                           if let Ok(v) = event_target_value(&ev).parse::<f32>() { on_beta.run(v); }
                       } />
            </label>
            <div class="side-by-side">
                <div><h3>"unmodified"</h3>{move || table(before.get(), None, "before")}</div>
                <div><h3>"with the intervention"</h3>{move || {
                    let (prediction, at) = after.get().map(|s| (s.prediction, s.beta)).unzip();
                    table(prediction, at, "after")
                }}</div>
            </div>
        </section>
    }
}
