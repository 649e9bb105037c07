//! A button that opens the file chooser and hands over the picked file (model loader, import).

use leptos::prelude::*;

#[component]
pub fn FilePicker(
    id: &'static str,
    label: &'static str,
    accept: &'static str,
    on_file: Callback<web_sys::File>,
) -> impl IntoView {
    view! {
        <label class="file-button">
            {label}
            <input id=id type="file" accept=accept
                   on:change=move |ev| {
                       let input: web_sys::HtmlInputElement = event_target(&ev);
                       if let Some(file) = input.files().and_then(|f| f.get(0)) { on_file.run(file); }
                       // Cleared, so that picking the same file again fires `change` again.
                       input.set_value("");
                   } />
        </label>
    }
}
