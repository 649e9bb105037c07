//! What the page shows and the user points at: the prompt and its predictions, β and the
//! steered predictions, the heatmap and a picked cell, the continuation, and the share panel.

use leptos::prelude::*;

use actscale::protocol::Prediction;

/// The heatmap's values and labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heat {
    pub tokens: Vec<String>,
    pub n_layers: usize,
    /// [site][layer][position]
    pub values: Vec<f32>,
    /// "α", "‖v‖" or "α(h)"
    pub what: &'static str,
}

/// A heatmap cell picked for a hand edit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub site: actscale::model::site::Site,
    pub layer: usize,
    pub position: usize,
    pub value: f32,
}

/// Greedy continuations without and with the intervention.
#[derive(Clone, Debug, PartialEq)]
pub enum Continuation {
    None,
    Running,
    Done { plain: String, steered: Option<String>, error: Option<String> },
}

/// What the worker's export is for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExportFor {
    Link,
    File,
}

/// The steered top-k and the β it was computed at (the dial may have moved on since).
#[derive(Clone, Debug, PartialEq)]
pub struct SteeredAt {
    pub beta: f32,
    pub prediction: Prediction,
}

/// The view's signals.
#[derive(Clone, Copy)]
pub struct View {
    pub prompt: RwSignal<String>,
    pub prediction: RwSignal<Option<Prediction>>,
    pub error: RwSignal<Option<String>>,
    pub heat: RwSignal<Option<Heat>>,
    pub beta: RwSignal<f32>,
    pub steered: RwSignal<Option<SteeredAt>>,
    pub continuation: RwSignal<Continuation>,
    pub cell: RwSignal<Option<Cell>>,
    /// The last link made or opened, and the share panel's message.
    pub link: RwSignal<Option<String>>,
    pub share_message: RwSignal<Option<(bool, String)>>,
    pub export_for: StoredValue<Option<ExportFor>>,
    /// A link's fragment waiting for the model to be ready.
    pub pending_fragment: StoredValue<Option<String>>,
}

impl View {
    pub fn new() -> Self {
        View {
            prompt: RwSignal::new("The capital of Italy is".into()),
            prediction: RwSignal::new(None),
            error: RwSignal::new(None),
            heat: RwSignal::new(None),
            beta: RwSignal::new(1.0),
            steered: RwSignal::new(None),
            continuation: RwSignal::new(Continuation::None),
            cell: RwSignal::new(None),
            link: RwSignal::new(None),
            share_message: RwSignal::new(None),
            export_for: StoredValue::new(None),
            pending_fragment: StoredValue::new(None),
        }
    }
}
