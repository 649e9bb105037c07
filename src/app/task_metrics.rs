//! A task's train and test metrics after training: flip rate, logit differences and KL.

use leptos::prelude::*;

use actscale::protocol::SplitMetrics;

use super::page::Page;
use super::state::run::TaskResult;

fn row(name: &'static str, m: &SplitMetrics) -> impl IntoView + use<> {
    view! {
        <tr class=format!("split-{name}")>
            <th scope="row">{name}</th>
            <td class="num">{m.prompts}</td>
            <td class="num flip">{format!("{:.0}%", 100.0 * m.flip_rate)}</td>
            <td class="num">{format!("{:+.2}", m.delta_base)}</td>
            <td class="num">{format!("{:+.2}", m.delta_pos)}</td>
            <td class="num">{format!("{:+.2}", m.delta_neg)}</td>
            <td class="num">{format!("{:.3}", m.kl_pos)}</td>
        </tr>
    }
}

#[component]
pub fn TaskMetrics(page: Page) -> impl IntoView {
    move || {
        page.run.task_metrics.get().map(|TaskResult { seed, train, test }| {
            view! {
                <table class="metrics" id="task-metrics" aria-label="train and test metrics" data-seed=seed.to_string()>
                    <caption>{format!("prompts and split drawn with seed {seed}")}</caption>
                    <thead><tr>
                        <th></th><th>"prompts"</th><th>"flipped"</th><th>"Δ at β=0"</th>
                        <th>"Δ at β=+1"</th><th>"Δ at β=−1"</th><th>"KL at β=+1"</th>
                    </tr></thead>
                    <tbody>{row("train", &train)}{row("test", &test)}</tbody>
                </table>
            }
        })
    }
}
