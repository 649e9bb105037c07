//! The λM sweep: one training per λM, then effectiveness against the number of non-zero
//! parameters (flip rate on the test split for tasks, Δ at β = +1 for a single prompt).

use leptos::prelude::*;

use actscale::protocol::{Request, TaskChoice, TrainRequest};

use super::line_chart::{LineChart, Series};
use super::page::Page;
use super::train_panel::TrainState;

/// "1, 3, 10" → [1, 3, 10], or what is wrong with it.
fn parse_lambdas(text: &str) -> Result<Vec<f32>, String> {
    let values: Result<Vec<f32>, _> = text.split([',', ' ']).filter(|s| !s.is_empty()).map(str::parse::<f32>).collect();
    match values {
        Ok(v) if !v.is_empty() && v.len() <= 16 && v.iter().all(|x| x.is_finite() && *x >= 0.0) => Ok(v),
        _ => Err(format!("λM values must be 1 to 16 numbers ≥ 0 separated by commas, not {text:?}")),
    }
}

#[component]
pub fn Sweep(page: Page, request: Signal<TrainRequest>) -> impl IntoView {
    let text = RwSignal::new(String::from("1, 5, 20, 80"));
    let error = RwSignal::new(None::<String>);
    let busy = move || page.sweeping.get() || matches!(page.train_state.get(), TrainState::Running { .. });
    let run = move || match parse_lambdas(&text.get_untracked()) {
        Ok(lambdas) => {
            error.set(None);
            page.sweep.set(vec![]);
            page.sweeping.set(true);
            page.send(Request::Sweep { request: request.get_untracked(), lambdas });
        }
        Err(e) => error.set(Some(e)),
    };
    let task = move || request.with(|r| r.task);
    let series = Signal::derive(move || {
        let mut pts = page.sweep.get();
        pts.sort_by_key(|p| p.nonzero);
        if task() == TaskChoice::Pair {
            vec![
                Series { name: "Δ at β=+1", color: "#c0392b", points: pts.iter().map(|p| (p.nonzero as f32, p.delta_pos)).collect() },
                Series { name: "Δ at β=−1", color: "#2980b9", points: pts.iter().map(|p| (p.nonzero as f32, p.delta_neg)).collect() },
            ]
        } else {
            vec![Series { name: "test flip rate", color: "#27ae60", points: pts.iter().map(|p| (p.nonzero as f32, p.flip_rate)).collect() }]
        }
    });
    view! {
        <section class="panel sweep" aria-label="λM sweep">
            <h2>"λM sweep"</h2>
            <form class="url-row" on:submit=move |ev| { ev.prevent_default(); run(); }>
                <input id="sweep-lambdas" type="text" aria-label="λM values" prop:value=move || text.get()
                       on:input=move |ev| text.set(event_target_value(&ev)) />
                <button id="sweep-run" type="submit" disabled=busy>"Run sweep"</button>
                <button type="button" disabled=move || !page.sweeping.get() on:click=move |_| page.send(Request::Stop)>"Stop"</button>
            </form>
            <p class="muted">{move || if page.sweeping.get() {
                format!("training {} of the values…", page.sweep.with(Vec::len) + 1)
            } else {
                "Trains once per λM with the settings above (same steps each).".to_string()
            }}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <LineChart id="chart-sweep" title="Effectiveness vs non-zero parameters" x_label="non-zero"
                       y_label="Δ (prompt) / flip rate (task)" series=series />
        </section>
    }
}
