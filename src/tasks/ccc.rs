//! Country–capital conflicts (the paper's CCC): the context names a wrong capital,
//! "The capital of {country} is {other capital}. Q: What is the capital of {country}? A:".
//! y_from is the true capital, y_to the in-context city. The country/capital list is the rows of
//! shared/data/country-capital.csv whose names are single tokens with a leading space (40 rows;
//! tests/tasks.rs checks the list).

use crate::model::tokenizer::Tokenizer;
use crate::steer::prompts::Example;

use super::split::{Rng, train_test};

/// "country,capital" lines, filtered as above (see tests/tasks.rs for the check).
pub const PAIRS_CSV: &str = include_str!("country_capital_single_token.csv");

pub fn pairs() -> Vec<(String, String)> {
    PAIRS_CSV
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(c, k)| (c.trim().to_string(), k.trim().to_string()))
        .collect()
}

pub fn prompt(country: &str, other_capital: &str) -> String {
    format!("The capital of {country} is {other_capital}. Q: What is the capital of {country}? A:")
}

/// All CCC examples (one per country, with a seeded choice of the conflicting capital), split
/// into train and test.
pub fn ccc(tokenizer: &Tokenizer, seed: u64, test_share: f32) -> Result<(Vec<Example>, Vec<Example>), String> {
    let pairs = pairs();
    if pairs.len() < 2 {
        return Err("the country–capital list has fewer than two rows".into());
    }
    let mut rng = Rng::new(seed ^ 0xCCC);
    let mut examples = Vec::with_capacity(pairs.len());
    for (country, capital) in &pairs {
        // Another country's capital, never this country's own (two countries share Jerusalem).
        let others: Vec<&String> = pairs.iter().map(|p| &p.1).filter(|c| *c != capital).collect();
        let Some(&other) = others.get(rng.below(others.len())) else { continue };
        let text = prompt(country, other);
        let ids = tokenizer.encode(&text).map_err(|e| e.to_string())?;
        let from = super::single_token(tokenizer, &format!(" {capital}"))?;
        let to = super::single_token(tokenizer, &format!(" {other}"))?;
        examples.push(Example { text, ids, from, to });
    }
    Ok(train_test(examples, seed, test_share))
}
