//! The page's state, by concern, each type defined with the state that holds it (not in a
//! view): the engine and its model (`engine`), a training run and its settings and results
//! (`run`), and what the page shows and the user points at (`view`). `Page` (page.rs) holds one
//! of each; components read and set their signals. The state machines without web code (the
//! engine's recovery, the model's sources) live in the library's `page_state`, tested natively.

pub mod engine;
pub mod interpret;
pub mod run;
pub mod view;
