//! Editing the intervention by hand: a heatmap click (or these fields, from the keyboard) picks
//! a (site, layer, token); Set or Zero changes its α and the steered predictions follow.

use leptos::prelude::*;

use actscale::model::site::Site;
use actscale::protocol::Request;
use actscale::steer::hyper::Method;

use super::page::Page;
use super::state::view::Cell;

#[component]
pub fn CellEditor(page: Page) -> impl IntoView {
    let value = RwSignal::new(String::new());
    // A click on the heatmap fills the value field with the cell's α.
    Effect::new(move |_| {
        if let Some(c) = page.view.cell.get() {
            value.set(format!("{:.4}", c.value));
        }
    });
    let send = move |v: f32| {
        let Some(c) = page.view.cell.get_untracked() else { return };
        page.send(Request::SetScalar { site: c.site, layer: c.layer, position: c.position, value: v });
        page.view.cell.set(Some(Cell { value: v, ..c }));
    };
    let set = move || match value.get_untracked().trim().parse::<f32>() {
        Ok(v) if v.is_finite() => send(v),
        _ => page.view.error.set(Some(format!("α must be a number, not {:?}", value.get_untracked()))),
    };
    let field =
        move |label: &'static str, id: &'static str, max: usize, get: fn(&Cell) -> usize, put: fn(&mut Cell, usize)| {
            view! {
                <label class="num-field" for=id>
                    <span>{label}</span>
                    <input id=id type="number" min="0" max=max.saturating_sub(1) step="1"
                           prop:value=move || page.view.cell.get().map(|c| get(&c).to_string()).unwrap_or_default()
                           on:change=move |ev| {
                               if let Ok(v) = event_target_value(&ev).parse::<usize>() {
                                   if v < max { page.view.cell.update(|c| if let Some(c) = c { put(c, v) }); }
                               }
                           } />
                </label>
            }
        };
    move || {
        let editable = page.run.settings.method.get() == Method::ActivScalar && page.run.has_intervention.get();
        let Some(heat) = page.view.heat.get().filter(|_| editable) else {
            return view! { <p class="muted">"After training activ-scalar, click a cell to edit its α."</p> }
                .into_any();
        };
        let (layers, tokens) = (heat.n_layers, heat.tokens.len());
        if page.view.cell.get_untracked().is_none() {
            page.view.cell.set(Some(Cell { site: Site::AttnOut, layer: 0, position: 0, value: 0.0 }));
        }
        view! {
            <form class="cell-editor" aria-label="edit one scalar" on:submit=move |ev| { ev.prevent_default(); set(); }>
                <label class="num-field" for="cell-site">
                    <span>"site"</span>
                    <select id="cell-site" on:change=move |ev| {
                        let name = event_target_value(&ev);
                        if let Some(site) = Site::ALL.into_iter().find(|s| s.name() == name) {
                            page.view.cell.update(|c| if let Some(c) = c { c.site = site });
                        }
                    }>
                        {Site::ALL.into_iter().map(|s| view! {
                            <option value=s.name() selected=move || page.view.cell.get().is_some_and(|c| c.site == s)>{s.name()}</option>
                        }).collect_view()}
                    </select>
                </label>
                {field("layer", "cell-layer", layers, |c| c.layer, |c, v| c.layer = v)}
                {field("token", "cell-token", tokens, |c| c.position, |c, v| c.position = v)}
                <label class="num-field" for="cell-value">
                    <span>"α"</span>
                    <input id="cell-value" type="number" step="any" prop:value=move || value.get()
                           on:input=move |ev| value.set(event_target_value(&ev)) />
                </label>
                <button id="cell-set" type="submit">"Set"</button>
                <button id="cell-zero" type="button" on:click=move |_| { value.set("0".into()); send(0.0); }>"Zero"</button>
            </form>
        }
        .into_any()
    }
}
