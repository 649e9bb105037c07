//! Shows the worker's autodiff self-check (y = Σ a·x, dy/da) for each backend.

use leptos::prelude::*;

use super::state::engine::EngineState;
use actscale::self_check::SelfCheckResult;

fn numbers(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
    format!("[{}]", parts.join(", "))
}

fn result_row(name: &'static str, result: Result<SelfCheckResult, String>) -> impl IntoView {
    match result {
        Ok(r) => {
            let verdict = if r.is_correct() { "ok" } else { "WRONG" };
            view! {
                <tr class="self-check-row" data-backend=name data-verdict=verdict>
                    <td>{name}</td>
                    <td class="num">{numbers(&r.x)}</td>
                    <td class="num">{numbers(&r.a)}</td>
                    <td class="num y">{format!("{}", r.y)}</td>
                    <td class="num grad">{numbers(&r.grad_a)}</td>
                    <td class=format!("verdict {verdict}")>{verdict}</td>
                </tr>
            }
            .into_any()
        }
        Err(why) => view! {
            <tr class="self-check-row" data-backend=name data-verdict="error">
                <td>{name}</td>
                <td colspan="5" class="error">{why}</td>
            </tr>
        }
        .into_any(),
    }
}

#[component]
pub fn SelfCheckPanel(engine: ReadSignal<EngineState>) -> impl IntoView {
    move || match engine.get() {
        EngineState::Ready(report) => {
            let webgpu_row = match report.webgpu {
                Some(r) => result_row("WebGPU", r).into_any(),
                None => view! {
                    <tr class="self-check-row" data-backend="WebGPU" data-verdict="unavailable">
                        <td>"WebGPU"</td>
                        <td colspan="5" class="muted">
                            {format!("not available: {}", report.webgpu_unavailable.unwrap_or_default())}
                        </td>
                    </tr>
                }
                .into_any(),
            };
            view! {
                <div id="self-check" class="self-check">
                    <h3>"Engine self-check: y = Σ a·x, dy/da by burn autodiff (must equal x)"</h3>
                    <table>
                        <thead>
                            <tr><th>"backend"</th><th>"x"</th><th>"a"</th><th>"y"</th><th>"dy/da"</th><th></th></tr>
                        </thead>
                        <tbody>{result_row("CPU", report.cpu)}{webgpu_row}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }
        EngineState::Starting => view! { <p class="muted">"Running the engine self-check…"</p> }.into_any(),
    }
}
