//! The λM sweep: one training per λM, then effectiveness against the number of non-zero
//! parameters (flip rate on the test split for tasks, Δ at β = +1 for a single prompt).

use leptos::prelude::*;

use actscale::protocol::{Request, TaskChoice, TrainRequest};
use actscale::steer::hyper::{Hyper, Method};

use super::line_chart::{LineChart, Series};
use super::page::Page;
use super::state::run::TrainState;

/// "1, 3, 10" → [1, 3, 10], or what is wrong with it.
fn parse_lambdas(text: &str) -> Result<Vec<f32>, String> {
    let values: Result<Vec<f32>, _> = text.split([',', ' ']).filter(|s| !s.is_empty()).map(str::parse::<f32>).collect();
    match values {
        Ok(v) if !v.is_empty() && v.len() <= 16 && v.iter().all(|x| x.is_finite() && *x >= 0.0) => Ok(v),
        _ => Err(format!("λM values must be 1 to 16 numbers ≥ 0 separated by commas, not {text:?}")),
    }
}

/// The prompts a sweep ran on: points of other methods stay on the chart only while it is the same.
fn prompts_key(r: &TrainRequest) -> String {
    format!("{:?}|{}|{}|{}|{:?}", r.task, r.prompt, r.from, r.to, r.sites)
}

/// A method's default grid: its own λM times 1/20, 1/4, 1, 4 (ActivScalar: 1, 5, 20, 80).
fn default_lambdas(method: Method) -> String {
    let l = Hyper::for_method(method).lambda_m;
    [l / 20.0, l / 4.0, l, 4.0 * l].map(|x| format!("{}", (x * 1e4).round() / 1e4)).join(", ")
}

/// Chart names and colour per method (the chart's names are static).
fn style(method: Method) -> (&'static str, &'static str, &'static str, &'static str) {
    match method {
        Method::ActivScalar => ("activ-scalar", "activ Δ+1", "activ Δ−1", "#c0392b"),
        Method::SteerVec => ("steer-vec", "steer Δ+1", "steer Δ−1", "#2980b9"),
        Method::DynScalar => ("dyn-scalar", "dyn Δ+1", "dyn Δ−1", "#27ae60"),
    }
}

#[component]
pub fn Sweep(page: Page, request: Signal<TrainRequest>) -> impl IntoView {
    let text = RwSignal::new(default_lambdas(page.run.settings.method.get_untracked()));
    // A method's own grid when the method changes.
    Effect::new(move |prev: Option<Method>| {
        let m = page.run.settings.method.get();
        if prev.is_some_and(|p| p != m) {
            text.set(default_lambdas(m));
        }
        m
    });
    let error = RwSignal::new(None::<String>);
    let busy = move || page.run.sweeping.get() || matches!(page.run.train_state.get(), TrainState::Running { .. });
    let run = move || match parse_lambdas(&text.get_untracked()) {
        Ok(lambdas) => {
            error.set(None);
            let req = request.get_untracked();
            let key = prompts_key(&req);
            if page.run.sweep_key.get_value().is_some_and(|(k, _)| k == key) {
                page.run.sweep.update(|s| s.retain(|(m, _)| *m != req.method));
            } else {
                page.run.sweep.set(vec![]);
            }
            page.run.sweep_key.set_value(Some((key, req.method)));
            page.run.sweeping.set(true);
            page.send(Request::Sweep { request: req, lambdas });
        }
        Err(e) => error.set(Some(e)),
    };
    let task = move || request.with(|r| r.task);
    // One line per method (two for a single prompt: Δ at β = ±1), x = non-zero units.
    let series = Signal::derive(move || {
        let all = page.run.sweep.get();
        let mut out = vec![];
        for method in Method::ALL {
            let mut pts: Vec<_> = all.iter().filter(|(m, _)| *m == method).map(|(_, p)| p.clone()).collect();
            if pts.is_empty() {
                continue;
            }
            pts.sort_by_key(|p| p.nonzero);
            let (name, pos, neg, color) = style(method);
            if task() == TaskChoice::Pair {
                out.push(Series {
                    name: pos,
                    color,
                    points: pts.iter().map(|p| (p.nonzero as f32, p.delta_pos)).collect(),
                });
                out.push(Series {
                    name: neg,
                    color,
                    points: pts.iter().map(|p| (p.nonzero as f32, p.delta_neg)).collect(),
                });
            } else {
                out.push(Series { name, color, points: pts.iter().map(|p| (p.nonzero as f32, p.flip_rate)).collect() });
            }
        }
        out
    });
    view! {
        <section class="panel sweep" aria-label="λM sweep">
            <h2>"λM sweep"</h2>
            <form class="url-row" on:submit=move |ev| { ev.prevent_default(); run(); }>
                <input id="sweep-lambdas" type="text" aria-label="λM values" prop:value=move || text.get()
                       on:input=move |ev| text.set(event_target_value(&ev)) />
                <button id="sweep-run" type="submit" disabled=busy>"Run sweep"</button>
                <button type="button" disabled=move || !page.run.sweeping.get() on:click=move |_| page.send(Request::Stop)>"Stop"</button>
            </form>
            <p class="muted">{move || if page.run.sweeping.get() {
                format!("training {} of the values…", page.run.sweep.with(Vec::len) + 1)
            } else {
                "Trains once per λM with the settings above (same steps each). Each method keeps its \
                 line until the prompts change: switch the method and sweep again to compare \
                 (test flip rate for a task, Δ for one prompt, against non-zero units).".to_string()
            }}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <LineChart id="chart-sweep" title="Effectiveness vs non-zero parameters" x_label="non-zero"
                       y_label="Δ (prompt) / flip rate (task)" series=series />
        </section>
    }
}
