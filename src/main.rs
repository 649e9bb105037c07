//! The page: Leptos UI on the main thread. It never touches tensors; the engine worker does.

mod app;
mod worker;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
