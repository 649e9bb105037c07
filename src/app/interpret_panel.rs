//! The interpret panel: which units carry the intervention (the keep-top-k curve against a
//! random baseline, k*, the ranked units, "keep only the top k"), and activation patching and
//! attribution on a corrupted prompt, shown beside the α heatmap with their agreement.

use leptos::prelude::*;

use actscale::interpret::agreement::{Agreement, agreement};
use actscale::interpret::report::{DirectionsReport, InterpretReport, PatchReport, PatchedOn};
use actscale::interpret::units::MapShape;
use actscale::protocol::{Job, Request};

use super::head_map::HeadMap;
use super::heatmap::Heatmap;
use super::line_chart::{LineChart, Series};
use super::page::Page;
use super::state::interpret::{JobState, MapChoice};
use super::state::run::TrainState;
use super::state::view::Heat;

fn job_text(state: &JobState) -> Option<(bool, String)> {
    match state {
        JobState::Idle => None,
        JobState::Running { job: Job::Interpret, total: 0, .. } => Some((false, "Measuring the units…".into())),
        JobState::Running { job: Job::Interpret, done, total } => {
            Some((false, format!("Measuring the units: {done} of {total} α-sets…")))
        }
        JobState::Running { job: Job::Patch, done, total } => {
            Some((false, format!("Patching: {done} of {total} blocks run…")))
        }
        JobState::Stopped(Job::Interpret) => Some((false, "Stopped before the units were all measured.".into())),
        JobState::Stopped(Job::Patch) => Some((false, "Stopped before every unit was patched.".into())),
        JobState::Failed(why) => Some((true, why.clone())),
    }
}

/// Which workers ran the patched rows, for the line under the patching map.
fn workers_text(on: &PatchedOn) -> String {
    match on {
        PatchedOn::OneWorker => "Patched on one worker.".into(),
        PatchedOn::TwoWorkers => "Patched on two workers (two cores), each a share of the layers.".into(),
        PatchedOn::HelperFailed(why) => format!("Patched on one worker: {why}."),
    }
}

/// The keep-top-k flip rate, the random baseline's mean ± sd, and k*.
fn keep_series(r: &InterpretReport) -> Vec<Series> {
    let i = &r.interpretation;
    let mean: Vec<(f32, f32)> = i.random.iter().map(|p| (p.k as f32, p.flip_mean)).collect();
    let edge = |s: f32| i.random.iter().map(|p| (p.k as f32, (p.flip_mean + s * p.flip_sd).clamp(0.0, 1.0))).collect();
    let mut out = vec![
        Series {
            name: "top k",
            color: "#c0392b",
            points: i.keep_k.iter().map(|p| (p.k as f32, p.metrics.flip_rate)).collect(),
        },
        Series { name: "random k ± sd", color: "#7f8c8d", points: mean },
        Series { name: "", color: "#bdc3c7", points: edge(1.0) },
        Series { name: "", color: "#bdc3c7", points: edge(-1.0) },
    ];
    if let Some(k) = i.k_star {
        out.push(Series { name: "k*", color: "#27ae60", points: vec![(k as f32, 0.0), (k as f32, 1.0)] });
    }
    out
}

fn fmt_agreement(a: &Agreement) -> (String, String) {
    (
        a.spearman.map_or("—".into(), |r| format!("{r:.2}")),
        a.top_k_overlap.map_or("—".into(), |o| format!("{:.0}%", 100.0 * o)),
    )
}

/// Spearman ρ and top-k* overlap between each pair of maps (α only when it is of this prompt).
fn agreements(patch: &PatchReport, report: Option<&InterpretReport>) -> Vec<(&'static str, Agreement)> {
    // A DynScalar's top k* probes cover k* rows of the first prompt's α map.
    let k = report.and_then(|r| match r.interpretation.probes.is_empty() {
        true => r.interpretation.k_star,
        false => r.interpretation.k_star.map(|k| k * r.shape.positions),
    });
    let mut rows = vec![];
    // α's per-site units against the per-site maps; a per-head α's own rows against the per-head maps.
    if let Some(r) = report.filter(|r| MapShape::sites(r.shape.n_layers, r.shape.positions) == patch.shape) {
        let alpha = &r.alpha[..r.shape.per_site_len().min(r.alpha.len())];
        rows.push(("α · patching", agreement(alpha, &patch.effects, k)));
        rows.push(("α · attribution", agreement(alpha, &patch.gradient, k)));
        rows.push(("α · AtP", agreement(alpha, &patch.atp, k)));
    }
    rows.push(("patching · attribution", agreement(&patch.effects, &patch.gradient, k)));
    rows.push(("patching · AtP", agreement(&patch.effects, &patch.atp, k)));
    if let Some(h) = &patch.heads {
        if let Some((_, alpha)) = report.and_then(|r| r.shape.head_part(&r.alpha)).filter(|(s, _)| *s == h.shape) {
            rows.push(("per head: α · patching", agreement(alpha, &h.effects, k)));
        }
        rows.push(("per head: patching · attribution", agreement(&h.effects, &h.gradient, k)));
        rows.push(("per head: patching · AtP", agreement(&h.effects, &h.atp, k)));
    }
    rows
}

/// A DynScalar's probes, largest mean |α| first, with Δ when each alone is switched off.
#[component]
fn ProbeTable(report: InterpretReport) -> impl IntoView {
    view! {
        <p class="muted" id="probes-note">"A DynScalar computes α from each activation, so its units are its probes (site, layer); the map beside patching is the α it produces on the first training prompt."</p>
        <table class="units" id="probes">
            <thead><tr><th>"#"</th><th>"site"</th><th>"layer"</th><th>"mean |α|"</th>
                <th title="mean Δ at β = +1 with this probe switched off">"LOO Δ+"</th>
                <th title="mean Δ at β = −1 with this probe switched off">"LOO Δ−"</th></tr></thead>
            <tbody>
                {report.interpretation.probes.iter().take(10).enumerate().map(|(i, p)| view! {
                    <tr><td>{i + 1}</td><td>{p.site.name()}</td><td>{p.layer}</td>
                        <td>{format!("{:.3}", p.mean_abs_alpha)}</td>
                        <td>{format!("{:+.2}", p.loo_delta_pos)}</td><td>{format!("{:+.2}", p.loo_delta_neg)}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A SteerVec's two maps in the α heatmap's layout: where it acts, and whether it only rescales
/// the activation there (cos ±1, what a scalar could do) or adds a direction of its own (cos ≈ 0).
#[component]
fn DirectionMaps(report: DirectionsReport) -> impl IntoView {
    let heat = |values: &[f32], what: &'static str| {
        RwSignal::new(Some(Heat {
            tokens: report.tokens.clone(),
            n_layers: report.shape.n_layers,
            values: values.to_vec(),
            what,
        }))
        .read_only()
    };
    let (norm, cos) =
        (heat(&report.directions.norm, "‖v‖"), heat(&report.directions.cos, "cos(v, h), mean over the prompts"));
    view! {
        <p class="muted" id="directions-note">"A steering vector may point anywhere: cos(v, h) ≈ ±1 where it only rescales the activation (what a scalar does), ≈ 0 where it adds a direction of its own."</p>
        <Heatmap heat=norm on_cell=Callback::new(|_| {}) id="norm-map" empty="" />
        <Heatmap heat=cos on_cell=Callback::new(|_| {}) id="cos-map" empty="" range=1.0 />
    }
}

#[component]
pub fn InterpretPanel(page: Page) -> impl IntoView {
    let it = page.interp;
    let busy = move || {
        page.run.sweeping.get()
            || matches!(page.run.train_state.get(), TrainState::Running { .. })
            || matches!(it.job.get(), JobState::Running { .. })
    };
    let readable = move || page.run.has_intervention.get();
    let on_interpret = move |_| {
        if !busy() {
            it.job.set(JobState::Running { job: Job::Interpret, done: 0, total: 0 });
            page.send(Request::Interpret { prompts: it.prompts.get_untracked() });
        }
    };
    let on_patch = move |_| {
        if !busy() {
            super::responses::patch(page);
        }
    };
    // Not a whole number ≥ 0: the field shows the count in use again.
    let on_prompts = move |ev: leptos::ev::Event| match event_target_value(&ev).trim().parse::<usize>() {
        Ok(n) => it.prompts.set(n),
        Err(_) => it.prompts.notify(),
    };
    let keep_input = RwSignal::new(String::new());
    // A new interpretation proposes its k*.
    Effect::new(move |_| {
        if let Some(k) = it.report.with(|r| r.as_ref().and_then(|r| r.interpretation.k_star)) {
            keep_input.set(k.to_string());
        }
    });
    let on_keep = move |_| {
        if let Ok(k) = keep_input.get_untracked().trim().parse::<usize>() {
            page.send(Request::KeepTop { k: Some(k) });
        } else {
            it.job.set(JobState::Failed("type how many units to keep (a whole number)".into()));
        }
    };
    let map_heat = RwSignal::new(None::<Heat>);
    Effect::new(move |_| {
        let choice = it.map.get();
        map_heat.set(it.patch.with(|p| {
            p.as_ref().map(|p| Heat {
                tokens: p.tokens.clone(),
                n_layers: p.shape.n_layers,
                values: choice.values(p).to_vec(),
                what: choice.label(),
            })
        }));
    });
    let keep_chart = Signal::derive(move || it.report.with(|r| r.as_ref().map(keep_series).unwrap_or_default()));

    let summary = move || {
        it.report.with(|r| {
            r.as_ref().map(|r| {
                // A DynScalar's units are its probes (site, layer): its α depends on the prompt.
                let probes = !r.interpretation.probes.is_empty();
                let (n, what) = match probes {
                    true => (r.interpretation.probes.len(), "probes"),
                    false => (r.interpretation.units.len(), "units"),
                };
                let on = match r.prompts < r.training_prompts {
                    true => format!(" (measured on the first {} of {} training prompts)", r.prompts, r.training_prompts),
                    false => String::new(),
                };
                let text = match (r.interpretation.k_star, probes) {
                    (Some(k), false) => format!("k* = {k}: the top {k} of {n} non-zero units flip every prompt both ways{on}."),
                    (Some(k), true) => format!("k* = {k}: the top {k} of {n} probes (by the mean |α| they produce) flip every prompt both ways{on}."),
                    (None, _) => format!("No top-k of the {n} {what} flips every prompt both ways{on}."),
                };
                let in_use = match it.keep.get() {
                    Some(k) => format!("In use: the top {k} {what}."),
                    None => format!("In use: all {n} {what}."),
                };
                view! {
                    <p id="k-star" data-k-star=r.interpretation.k_star.map_or(-1, |k| k as i64)>{text}</p>
                    <LineChart id="chart-keep-k" title="Flip rate of the top k units (random k: mean ± sd of 20 draws)"
                        x_label=if probes { "k, probes kept (largest mean |α| first)" } else { "k, units kept (largest |α| first)" }
                        y_label="share flipped" series=keep_chart />
                    <div class="keep-row">
                        <label for="keep-k">"Keep only the top"</label>
                        <input id="keep-k" type="number" min="1" max=n
                            prop:value=move || keep_input.get()
                            on:input=move |ev| keep_input.set(event_target_value(&ev)) />
                        <button id="keep-apply" on:click=on_keep disabled=busy>"Apply"</button>
                        <button id="keep-all" on:click=move |_| page.send(Request::KeepTop { k: None })
                            disabled=move || busy() || it.keep.get().is_none()>"All units"</button>
                        <span id="keep-in-use" class="muted" data-keep=it.keep.get().map_or(0, |k| k)>{in_use}</span>
                    </div>
                    {probes.then(|| view! { <ProbeTable report=r.clone() /> })}
                    <table class="units" id="units" class:hidden=probes>
                        <thead><tr><th>"#"</th><th>"site"</th><th title="layer, or layer.head">"layer"</th><th>"token"</th><th>"α"</th>
                            <th title="mean Δ at β = +1 with this unit's α set to 0">"LOO Δ+"</th>
                            <th title="mean Δ at β = −1 with this unit's α set to 0">"LOO Δ−"</th></tr></thead>
                        <tbody>
                            {r.interpretation.units.iter().take(10).enumerate().map(|(i, u)| view! {
                                <tr><td>{i + 1}</td><td>{u.unit.site.name()}</td>
                                    <td>{u.unit.head.map_or(u.unit.layer.to_string(), |h| format!("{}.{h}", u.unit.layer))}</td>
                                    <td>{format!("{:?}", u.token)}</td><td>{format!("{:+.3}", u.alpha)}</td>
                                    <td>{format!("{:+.2}", u.loo_delta_pos)}</td><td>{format!("{:+.2}", u.loo_delta_neg)}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            })
        })
    };
    let patch_view = move || {
        it.patch.with(|p| {
            p.as_ref().map(|p| {
                let rows = it.report.with(|r| agreements(p, r.as_ref()));
                view! {
                    <p class="muted" id="patch-deltas">
                        {format!("Δ clean {:+.2}, Δ corrupted {:+.2} (Δ = z[to] − z[from] at the last token)", p.delta_clean, p.delta_corrupt)}
                    </p>
                    <p class="muted" id="patch-workers">{workers_text(&p.on)}</p>
                    <table class="agreement" id="agreement">
                        <thead><tr><th>"maps"</th><th>"Spearman ρ (|values|)"</th><th>"top-k* overlap"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(name, a)| {
                                let (rho, overlap) = fmt_agreement(&a);
                                view! { <tr><td>{name}</td><td>{rho}</td><td>{overlap}</td></tr> }
                            }).collect_view()}
                        </tbody>
                    </table>
                    {p.heads.clone().map(|h| view! { <HeadMap it=it report=h tokens=p.tokens.clone() /> })}
                }
            })
        })
    };

    view! {
        <section class="panel interpret" id="interpret" aria-label="Interpret">
            <h2>"What carries it"</h2>
            <p class="muted">"Rank the learned units, find the fewest that still flip the prompt (k*), and compare with activation patching and attribution on a corrupted prompt."</p>
            <div class="interpret-body">
            <div class="interpret-units">
            <div class="interpret-actions">
                <button id="interpret-run" on:click=on_interpret disabled=move || busy() || !readable()
                    title="activ-scalar (units), dyn-scalar (probes) and steer-vec (‖v‖, cos) interventions, after training or from a link">"Find the units"</button>
                <button id="interpret-stop" on:click=move |_| page.send(Request::Stop) class:hidden=move || !it.running()>"Stop"</button>
                <label for="interpret-prompts" title="a task's whole split takes minutes on the real model">"on the first"</label>
                <input id="interpret-prompts" type="number" min="0" step="1" prop:value=move || it.prompts.get().to_string()
                    on:change=on_prompts />
                <span class="muted">"training prompts (0 = all)"</span>
            </div>
            {move || job_text(&it.job.get()).map(|(error, text)| if error {
                view! { <p class="error" id="interpret-status" role="alert">{text}</p> }.into_any()
            } else {
                view! { <p class="muted" id="interpret-status">{text}</p> }.into_any()
            })}
            {summary}
            {move || it.directions.get().map(|r| view! { <DirectionMaps report=r /> })}
            </div>
            <div class="interpret-maps">
            <div class="patch-row">
                <label for="corrupt">"Corrupted prompt (same number of tokens)"</label>
                <input id="corrupt" type="text" prop:value=move || it.corrupt.get()
                    on:input=move |ev| it.corrupt.set(event_target_value(&ev)) />
                <label class="inline" title="patch and attribute each attention head's output too (heads × positions more patched rows)">
                    <input id="patch-heads" type="checkbox" prop:checked=move || it.heads.get()
                        on:change=move |ev| it.heads.set(event_target_checked(&ev)) />
                    "per head"
                </label>
                <button id="patch-run" on:click=on_patch disabled=busy>"Patch"</button>
            </div>
            <label for="map-choice">"Map"</label>
            <select id="map-choice" on:change=move |ev| if let Some(m) = MapChoice::parse(&event_target_value(&ev)) { it.map.set(m) }>
                {MapChoice::ALL.iter().map(|m| view! {
                    <option value=m.key() selected=move || it.map.get() == *m>{m.label()}</option>
                }).collect_view()}
            </select>
            <Heatmap heat=map_heat.read_only() on_cell=Callback::new(|_| {}) id="patch-map"
                empty="Patch to see each unit's effect on Δ here." />
            {patch_view}
            </div>
            </div>
        </section>
    }
}
