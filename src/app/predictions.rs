//! The prompt's tokens (with ids) and the top next tokens with probabilities.

use leptos::prelude::*;

use super::state::engine::ModelState;
use actscale::protocol::Prediction;

/// Makes leading spaces and newlines visible in token chips.
fn visible(token: &str) -> String {
    token.replace(' ', "␣").replace('\n', "↵")
}

#[component]
pub fn Predictions(
    prediction: ReadSignal<Option<Prediction>>,
    model: ReadSignal<ModelState>,
    /// (token, is_target): a click on "from" or "to" picks that token as an answer.
    on_pick: Callback<(String, bool)>,
) -> impl IntoView {
    move || match (prediction.get(), model.get()) {
        (Some(p), _) if p.error.is_some() => {
            view! { <p class="error" role="alert">{p.error.unwrap_or_default()}</p> }.into_any()
        }
        (Some(p), _) => {
            let tokens = p
                .ids
                .iter()
                .zip(p.tokens.iter())
                .map(|(id, t)| {
                    view! {
                        <span class="token-chip" title=format!("id {id}")>
                            <span class="token-text">{visible(t)}</span>
                            <span class="token-id">{*id}</span>
                        </span>
                    }
                })
                .collect_view();
            let max_p = p.top.first().map(|t| t.prob).unwrap_or(1.0).max(1e-9);
            let rows = p
                .top
                .into_iter()
                .enumerate()
                .map(|(rank, t)| {
                    let width = format!("width: {:.1}%", 100.0 * t.prob / max_p);
                    let (t1, t2) = (t.token.clone(), t.token.clone());
                    view! {
                        <tr class="prediction" data-token=t.token.clone() data-id=t.id>
                            <td class="rank">{rank + 1}</td>
                            <td class="tok">{format!("{:?}", t.token)}</td>
                            <td class="bar"><span class="bar-fill" style=width></span></td>
                            <td class="num prob">{format!("{:.1}%", 100.0 * t.prob)}</td>
                            <td class="num logit">{format!("{:.2}", t.logit)}</td>
                            <td class="pick">
                                <button class="pick-from" title="use as the 'from' answer" on:click=move |_| on_pick.run((t1.clone(), false))>"from"</button>
                                <button class="pick-to" title="use as the 'to' answer" on:click=move |_| on_pick.run((t2.clone(), true))>"to"</button>
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <div class="tokens" id="prompt-tokens" aria-label="prompt tokens">{tokens}</div>
                <table class="predictions" id="predictions">
                    <thead><tr><th>"#"</th><th>"token"</th><th></th><th>"p"</th><th>"logit"</th><th>"use as"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        }
        (None, ModelState::Ready(_)) => view! { <p class="muted">"Predicting…"</p> }.into_any(),
        (None, _) => view! { <p class="muted">"Predictions appear once the model is loaded."</p> }.into_any(),
    }
}
