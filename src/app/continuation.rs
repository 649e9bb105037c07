//! A short greedy continuation of the prompt, without and with the intervention, side by side.

use leptos::prelude::*;

use actscale::protocol::{MAX_NEW_TOKENS, Request};

use super::page::Page;
use super::state::engine::ModelState;
use super::state::view::Continuation;

/// Tokens generated per continuation, unless the user asks for another number.
pub const NEW_TOKENS: usize = 20;

#[component]
pub fn ContinuationPanel(page: Page) -> impl IntoView {
    let count = RwSignal::new(NEW_TOKENS);
    let run = move |_| {
        page.view.continuation.set(Continuation::Running);
        page.send(Request::Generate {
            prompt: page.view.prompt.get_untracked(),
            tokens: count.get_untracked(),
            beta: page.view.beta.get_untracked(),
        });
    };
    let busy = move || {
        page.view.continuation.get() == Continuation::Running
            || !matches!(page.engine.model.get(), ModelState::Ready(_))
    };
    let body = move || match page.view.continuation.get() {
        Continuation::None => view! { <p class="muted">"Greedy, at the β above."</p> }.into_any(),
        Continuation::Running => view! { <p class="muted">"Generating…"</p> }.into_any(),
        Continuation::Done { plain, steered, error } => view! {
            <div class="side-by-side">
                <div><h3>"unmodified"</h3><p class="continuation" id="continuation-plain">{plain}</p></div>
                <div>
                    <h3>"with the intervention"</h3>
                    {steered.map(|s| view! { <p class="continuation" id="continuation-steered">{s}</p> })}
                    {error.map(|e| view! { <p class="muted" id="continuation-error">{e}</p> })}
                </div>
            </div>
        }
        .into_any(),
    };
    view! {
        <section class="panel continuation-panel" aria-label="Continuation">
            <h2>"Continue the prompt"</h2>
            <div class="row">
                <button id="generate" disabled=busy on:click=run>"Generate"</button>
                <label class="num-field" for="gen-tokens">
                    <span>"tokens"</span>
                    <input id="gen-tokens" type="number" min="1" max=MAX_NEW_TOKENS step="1"
                           prop:value=move || count.get().to_string()
                           on:change=move |ev| {
                               // Out of range or not a number: keep the count (the field shows it again).
                               match event_target_value(&ev).parse::<usize>() {
                                   Ok(n) if (1..=MAX_NEW_TOKENS).contains(&n) => count.set(n),
                                   _ => count.notify(),
                               }
                           } />
                </label>
            </div>
            {body}
        </section>
    }
}
