//! Task generators on the real tokenizer.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use actscale::tasks::{ccc, ioi};
use common::*;

/// The shipped CCC list is exactly the rows of the shared country-capital list whose country
/// and capital are each one token with a leading space (and differ: "Singapore, Singapore" has no conflict).
#[test]
fn shipped_ccc_list_is_the_single_token_rows_of_the_shared_list() {
    let tok = &real_model().tokenizer;
    let text = std::fs::read_to_string(repo_path("tests/data/country-capital.csv")).unwrap();
    let mut expected = String::from("country,capital\n");
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split("\",\"").map(|c| c.trim_matches('"')).collect();
        let (country, capital) = (cols[0], cols[1]);
        let one = |w: &str| tok.encode(&format!(" {w}")).map(|ids| ids.len() == 1).unwrap_or(false);
        if one(country) && one(capital) && country != capital {
            expected.push_str(&format!("{country},{capital}\n"));
        }
    }
    assert_eq!(ccc::PAIRS_CSV, expected, "regenerate src/tasks/country_capital_single_token.csv:\n{expected}");
    assert_eq!(ccc::pairs().len(), 40);
}

#[test]
fn ccc_prompts_have_one_length_and_a_seeded_disjoint_split() {
    let tok = &real_model().tokenizer;
    let (train, test) = ccc::ccc(tok, 3, 0.3).unwrap();
    assert!(!train.is_empty() && !test.is_empty());
    let len = train[0].ids.len();
    assert!(train.iter().chain(&test).all(|e| e.ids.len() == len && e.from != e.to));
    assert!(test.iter().all(|t| train.iter().all(|r| r.text != t.text)));
    let (train2, _) = ccc::ccc(tok, 3, 0.3).unwrap();
    assert_eq!(train, train2, "same seed, same split");
    let (train3, _) = ccc::ccc(tok, 4, 0.3).unwrap();
    assert_ne!(train, train3, "another seed, another split");
    assert!(train[0].text.contains("Q: What is the capital of"));
}

#[test]
fn ioi_templates_each_have_one_length_and_answers_are_the_names() {
    let tok = &real_model().tokenizer;
    for t in 0..ioi::TEMPLATES.len() {
        let (train, test) = ioi::ioi(tok, &[t], 8, 1, 0.25).unwrap();
        let len = train[0].ids.len();
        assert!(train.iter().chain(&test).all(|e| e.ids.len() == len), "template {t}");
        for e in &train {
            assert!(e.text.contains(&tok.token_text(e.from).trim().to_string()));
            assert!(e.text.contains(&tok.token_text(e.to).trim().to_string()));
        }
    }
}

/// Every CCC prompt and every IOI prompt of templates 0, 1 and 3 has each role once, where the
/// template puts it; template 2 starts with the IO name without a space (another token than
/// the answer " {A}"), so its IO has no label, and the others do.
#[test]
fn task_prompts_label_their_roles() {
    use actscale::protocol::TaskChoice;
    use actscale::tasks::roles::roles;
    let tok = &real_model().tokenizer;
    let (train, test) = ccc::ccc(tok, 3, 0.3).unwrap();
    for e in train.iter().chain(&test) {
        let r = roles(TaskChoice::Ccc, e);
        let found: Vec<&str> = r.iter().flatten().copied().collect();
        assert_eq!(found, ["COUNTRY1", "CONTEXT", "COUNTRY2", "END"], "{:?}", e.text);
    }
    for template in 0..ioi::TEMPLATES.len() {
        let (train, _) = ioi::ioi(tok, &[template], 6, 1, 0.0).unwrap();
        for e in &train {
            let found: Vec<&str> = roles(TaskChoice::Ioi, e).iter().flatten().copied().collect();
            let expected: &[&str] = if template == 2 { &["S1", "S2", "END"] } else { &["IO", "S1", "S2", "END"] };
            assert_eq!(found, expected, "{:?}", e.text);
        }
    }
}

/// The natural corrupted prompts: as many tokens, differing exactly at the swapped role(s).
#[test]
fn natural_corruptions_keep_the_length_and_change_only_their_role() {
    use actscale::protocol::TaskChoice;
    use actscale::tasks::roles::{natural_corrupt, roles};
    let tok = &real_model().tokenizer;
    let (ccc_train, _) = ccc::ccc(tok, 0, 0.3).unwrap();
    let (ioi_train, _) = ioi::ioi(tok, &[0, 1], 4, 0, 0.0).unwrap();
    for (task, set, changed) in
        [(TaskChoice::Ccc, &ccc_train, &["COUNTRY1", "COUNTRY2"][..]), (TaskChoice::Ioi, &ioi_train, &["S2"][..])]
    {
        for e in set.iter().take(6) {
            let c = natural_corrupt(task, e, tok).unwrap_or_else(|| panic!("no corruption of {:?}", e.text));
            let ids = tok.encode(&c).unwrap();
            assert_eq!(ids.len(), e.ids.len(), "{c:?}");
            let r = roles(task, e);
            for (i, (a, b)) in e.ids.iter().zip(&ids).enumerate() {
                let swapped = r[i].is_some_and(|role| changed.contains(&role));
                assert_eq!(a != b, swapped, "{:?} → {c:?} at {i}", e.text);
            }
        }
    }
    assert_eq!(natural_corrupt(TaskChoice::Pair, &ccc_train[0], tok), None);
}
