//! Indirect object identification: "When {A} and {B} went to the {place}, {B} gave a {object} to"
//! → y_from = " {A}" (the indirect object, which the model prefers), y_to = " {B}" (the subject).
//! Names, places and objects are single tokens, so each template has one length.

use crate::model::tokenizer::Tokenizer;
use crate::steer::prompts::Example;

use super::split::{Rng, train_test};

pub const TEMPLATES: &[&str] = &[
    "When {A} and {B} went to the {P}, {B} gave a {O} to",
    "After {A} and {B} arrived at the {P}, {B} handed the {O} to",
    "{A} and {B} were working at the {P}. {B} passed the {O} to",
    "Then, {A} and {B} had a long and really crazy day at the {P}. Afterwards, {B} said to",
];

pub const NAMES: &[&str] = &[
    "Mary", "John", "Tom", "James", "Sarah", "Anna", "David", "Michael", "Emma", "Paul", "Mark", "Lisa", "Kate",
    "Peter", "Alice", "Robert", "Laura", "Daniel", "Susan", "George",
];
pub const PLACES: &[&str] = &["store", "park", "school", "hospital", "office", "station", "restaurant", "garden"];
pub const OBJECTS: &[&str] = &["drink", "book", "ball", "letter", "gift", "key", "phone", "bag"];

fn single(tokenizer: &Tokenizer, words: &[&str]) -> Vec<String> {
    words.iter().filter(|w| super::single_token(tokenizer, &format!(" {w}")).is_ok()).map(|w| w.to_string()).collect()
}

/// `per_template` prompts for each of the `templates` (indices into TEMPLATES), split into train and test.
pub fn ioi(
    tokenizer: &Tokenizer,
    templates: &[usize],
    per_template: usize,
    seed: u64,
    test_share: f32,
) -> Result<(Vec<Example>, Vec<Example>), String> {
    let names = single(tokenizer, NAMES);
    let places = single(tokenizer, PLACES);
    let objects = single(tokenizer, OBJECTS);
    if names.len() < 2 || places.is_empty() || objects.is_empty() {
        return Err("this tokenizer has too few single-token names, places or objects for IOI".into());
    }
    let mut rng = Rng::new(seed ^ 0x101);
    let mut examples = Vec::new();
    for &t in templates {
        let template = TEMPLATES.get(t).ok_or_else(|| format!("IOI has templates 0..{}", TEMPLATES.len() - 1))?;
        for _ in 0..per_template {
            let a = rng.below(names.len());
            let b = (a + 1 + rng.below(names.len() - 1)) % names.len();
            let (a, b) = (&names[a], &names[b]);
            let text = template
                .replace("{A}", a)
                .replace("{B}", b)
                .replace("{P}", &places[rng.below(places.len())])
                .replace("{O}", &objects[rng.below(objects.len())]);
            let ids = tokenizer.encode(&text).map_err(|e| e.to_string())?;
            let from = super::single_token(tokenizer, &format!(" {a}"))?;
            let to = super::single_token(tokenizer, &format!(" {b}"))?;
            examples.push(Example { text, ids, from, to });
        }
    }
    Ok(train_test(examples, seed, test_share))
}

/// `ioi-mixed`: every prompt of templates 0–2 trains and every one of the held-out template 3
/// tests (other words, another length), `per_template / 2` of each; no random split.
pub fn mixed(tokenizer: &Tokenizer, per_template: usize, seed: u64) -> Result<(Vec<Example>, Vec<Example>), String> {
    let all = |templates: &[usize], seed| {
        ioi(tokenizer, templates, per_template / 2, seed, 0.0).map(|(a, b)| [a, b].concat())
    };
    Ok((all(&[0, 1, 2], seed)?, all(&[3], seed ^ 1)?))
}
