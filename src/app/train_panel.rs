//! Answers, method, sites and hyperparameters; Train and Stop; the progress bar.

use leptos::prelude::*;

use actscale::model::site::Site;
use actscale::protocol::TaskChoice;
use actscale::steer::hyper::{Hyper, Method};

use super::state::run::{Settings, TrainState};

fn number_input(
    label: &'static str,
    id: &'static str,
    get: impl Fn(&Hyper) -> f32 + Send + Sync + 'static,
    set: impl Fn(&mut Hyper, f32) + Send + Sync + 'static,
    hyper: RwSignal<Hyper>,
) -> impl IntoView {
    view! {
        <label class="num-field" for=id>
            <span>{label}</span>
            <input id=id type="number" step="any"
                   prop:value=move || get(&hyper.get()).to_string()
                   on:change=move |ev| {
                       if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                           if v.is_finite() { hyper.update(|h| set(h, v)); }
                       }
                   } />
        </label>
    }
}

fn task_label(t: TaskChoice) -> &'static str {
    match t {
        TaskChoice::Pair => "this prompt (from → to)",
        TaskChoice::Ccc => "task: country–capital conflicts",
        TaskChoice::Ioi => "task: indirect object identification",
        TaskChoice::IoiMixed => "task: IOI, a held-out template (dyn-scalar)",
    }
}

fn task_note(t: TaskChoice) -> &'static str {
    match t {
        TaskChoice::Ccc => {
            "“The capital of Spain is Paris. Q: What is the capital of Spain? A:” — steer from the true capital to the one in the context. 70% of the 40 countries train, 30% test."
        }
        TaskChoice::Ioi => {
            "“When Mary and John went to the store, John gave a drink to” — steer from the indirect object to the subject. 70% train, 30% test."
        }
        TaskChoice::IoiMixed => {
            "IOI on three templates; the test split is a fourth, with other words and 7 more tokens (“Then, Mary and John had a long and really crazy day at the park. Afterwards, John said to”). Prompts of several lengths: dyn-scalar only."
        }
        TaskChoice::Pair => "",
    }
}

#[component]
pub fn TrainPanel(
    settings: Settings,
    state: ReadSignal<TrainState>,
    on_train: Callback<()>,
    on_stop: Callback<()>,
) -> impl IntoView {
    let s = settings;
    let running = move || matches!(state.get(), TrainState::Running { .. });
    let site_box = move |site: Site| {
        view! {
            <label class="check" title=(site == Site::AttnHead).then_some("each attention head's output: activ-scalar only")>
                <input type="checkbox" id=format!("site-{}", site.name())
                       prop:checked=move || s.sites.get().contains(&site)
                       on:change=move |ev| {
                           let on = event_target_checked(&ev);
                           s.sites.update(|v| { v.retain(|x| *x != site); if on { v.push(site); v.sort(); } });
                       } />
                {site.name()}
            </label>
        }
    };
    let progress = move || {
        match state.get() {
        TrainState::Idle => view! { <p class="muted">"Pick two answers, then press Train."</p> }.into_any(),
        TrainState::Running { step, steps } => view! {
            <div class="train-progress">
                <progress id="train-progress" max=steps value=step></progress>
                <span>{format!("step {step} of {steps}")}</span>
            </div>
        }.into_any(),
        TrainState::Done { stopped, step, converged, stopped_for } => view! {
            <p class="done" id="train-done">{match (stopped, converged) {
                (true, _) if stopped_for.is_some() => format!("Stopped at step {step} to {}.", stopped_for.unwrap_or_default()),
                (true, _) => format!("Stopped at step {step}; what was learned is kept."),
                (false, Some(why)) => format!("Done: {why}."),
                (false, None) => format!("Done: {step} steps."),
            }}</p>
        }.into_any(),
        TrainState::Failed(why) => view! { <p class="error" role="alert" id="train-error">{why}</p> }.into_any(),
        TrainState::Restored => view! { <p class="done" id="train-done">"Using a shared intervention (no training needed)."</p> }.into_any(),
    }
    };
    // Not a whole number ≥ 0: the field shows the seed in use again.
    let on_seed = move |ev: leptos::ev::Event| match event_target_value(&ev).trim().parse::<u64>() {
        Ok(v) => s.seed.set(v),
        Err(_) => s.seed.notify(),
    };
    view! {
        <section class="panel train-panel" aria-label="Training">
            <h2>"Steer"</h2>
            <div class="row">
                <label for="task">"train on"</label>
                <select id="task" on:change=move |ev| {
                    if let Some(t) = TaskChoice::parse(&event_target_value(&ev)) {
                        s.task.set(t);
                        // Tasks have many prompts: train on minibatches so steps stay quick, with
                        // the step and budget for one prompt or a task (`Hyper::defaults`).
                        let (m, pair) = (s.method.get_untracked(), t == TaskChoice::Pair);
                        let d = Hyper::defaults(m, pair);
                        s.hyper.update(|h| {
                            h.batch_size = Hyper::page_batch(m, pair);
                            (h.lr, h.steps) = (d.lr, d.steps);
                        });
                    }
                }>
                    {TaskChoice::ALL.iter().map(|t| view! {
                        <option value=t.name() selected=move || s.task.get() == *t>{task_label(*t)}</option>
                    }).collect_view()}
                </select>
            </div>
            {move || (s.task.get() != TaskChoice::Pair).then(|| view! {
                <p class="muted" id="task-note">{task_note(s.task.get())}</p>
                <div class="row" title="which prompts are drawn and which of them test: train again with another seed to see how much the results vary">
                    <label for="seed">"seed"</label>
                    <input id="seed" type="number" min="0" step="1" prop:value=move || s.seed.get().to_string()
                           on:change=on_seed />
                </div>
            })}
            <div class="answers" class:hidden=move || s.task.get() != TaskChoice::Pair>
                <label for="answer-from">"from (the model's answer)"</label>
                <input id="answer-from" type="text" prop:value=move || s.from.get() on:input=move |ev| s.from.set(event_target_value(&ev)) />
                <label for="answer-to">"to (where β = +1 steers)"</label>
                <input id="answer-to" type="text" prop:value=move || s.to.get() on:input=move |ev| s.to.set(event_target_value(&ev)) />
            </div>
            <div class="row">
                <label for="method">"method"</label>
                <select id="method" on:change=move |ev| {
                    if let Ok(m) = Method::parse(&event_target_value(&ev)) {
                        // Each method starts from its own defaults (`Hyper::defaults`, `page_batch`).
                        let pair = s.task.get_untracked() == TaskChoice::Pair;
                        s.method.set(m);
                        s.hyper.set(Hyper { batch_size: Hyper::page_batch(m, pair), ..Hyper::defaults(m, pair) });
                    }
                }>
                    {Method::ALL.iter().map(|m| view! {
                        <option value=m.name() selected=move || s.method.get() == *m>{m.name()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="row sites">{site_box(Site::AttnOut)}{site_box(Site::MlpOut)}{site_box(Site::AttnHead)}</div>
            <div class="hyper">
                {number_input("margin m", "hp-margin", |h| h.margin, |h, v| h.margin = v, s.hyper)}
                {number_input("λF", "hp-lambda-f", |h| h.lambda_f, |h, v| h.lambda_f = v, s.hyper)}
                {number_input("λM", "hp-lambda-m", |h| h.lambda_m, |h, v| h.lambda_m = v, s.hyper)}
                {number_input("learning rate", "hp-lr", |h| h.lr, |h, v| h.lr = v, s.hyper)}
                {number_input("steps", "hp-steps", |h| h.steps as f32, |h, v| h.steps = v.max(1.0) as usize, s.hyper)}
                {number_input("prompts per step (0 = all)", "hp-batch", |h| h.batch_size as f32, |h, v| h.batch_size = v.max(0.0) as usize, s.hyper)}
            </div>
            <label class="check prose" title="stop once no state that flips every prompt both ways by at least 0.9 of the margin has been sparser for 30 steps, and keep the sparsest such state">
                <input type="checkbox" id="until-converged"
                       prop:checked=move || s.until_converged.get()
                       on:change=move |ev| s.until_converged.set(event_target_checked(&ev)) />
                "stop when done (before the step budget)"
            </label>
            <div class="buttons">
                <button id="train" class="primary" disabled=running on:click=move |_| on_train.run(())>"Train"</button>
                <button id="stop" disabled=move || !running() on:click=move |_| on_stop.run(())>"Stop"</button>
            </div>
            {progress}
        </section>
    }
}
