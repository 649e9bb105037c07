//! A short greedy continuation of the prompt, without and with the intervention, side by side.

use leptos::prelude::*;

use actscale::protocol::Request;

use super::page::{Continuation, Page};

/// Tokens generated per continuation.
pub const NEW_TOKENS: usize = 20;

#[component]
pub fn ContinuationPanel(page: Page) -> impl IntoView {
    let run = move |_| {
        page.continuation.set(Continuation::Running);
        page.send(Request::Generate { prompt: page.prompt.get_untracked(), tokens: NEW_TOKENS, beta: page.beta.get_untracked() });
    };
    let busy = move || page.continuation.get() == Continuation::Running || !matches!(page.model.get(), super::ModelState::Ready(_));
    let body = move || match page.continuation.get() {
        Continuation::None => view! { <p class="muted">{format!("Greedy, {NEW_TOKENS} tokens, at the β above.")}</p> }.into_any(),
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
            <button id="generate" disabled=busy on:click=run>"Generate"</button>
            {body}
        </section>
    }
}
