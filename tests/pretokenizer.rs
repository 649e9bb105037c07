//! The pre-tokenizer a GGUF's `tokenizer.ggml.pre` names (issue 16 item 2), against an
//! independent tokenizer: tests/data/pretokenizer-fixtures.json holds, for each supported
//! pre-tokenizer, texts with their pieces and token ids from the PyPI `tokenizers` package
//! (Oniguruma regexes built from llama.cpp's regex lists) over the real SmolLM2 vocabulary;
//! scripts/make-pretokenizer-fixtures.py writes it. The loader reads the key (a missing key is
//! llama.cpp's `default`, an unknown value an error naming it).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::OnceLock;

use actscale::model::error::ModelError;
use actscale::model::gguf::{Gguf, GgufError, MetaValue, write_gguf};
use actscale::model::load::{tokenizer_from_gguf, tokenizer_from_gguf_with};
use actscale::model::pretokenizer::{GGUF_KEY, GGUF_NAMES, Pretokenizer};
use actscale::model::tokenizer::Tokenizer;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

const REGENERATE: &str = "python3 -m venv /tmp/qv && /tmp/qv/bin/pip install gguf==0.19.0 \
    tokenizers==0.22.2 regex==2024.11.6 && /tmp/qv/bin/python scripts/make-pretokenizer-fixtures.py";

fn fixtures() -> &'static serde_json::Value {
    static F: OnceLock<serde_json::Value> = OnceLock::new();
    F.get_or_init(|| {
        let path = common::repo_path("tests/data/pretokenizer-fixtures.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the pre-tokenizer fixtures are missing at {} ({e}); regenerate them with `{REGENERATE}`",
                path.display()
            )
        });
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid JSON ({e}); regenerate it with `{REGENERATE}`", path.display()))
    })
}

/// The fixture entry of one pre-tokenizer.
fn entry(name: &str) -> &'static serde_json::Value {
    fixtures()["pretokenizers"]
        .as_array()
        .expect("a pretokenizers array")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no fixtures for the pre-tokenizer {name:?}; regenerate them with `{REGENERATE}`"))
}

fn strings(v: &serde_json::Value) -> Vec<&str> {
    v.as_array().expect("an array").iter().map(|x| x.as_str().expect("a string")).collect()
}

/// The real model's GGUF, parsed once per test binary (98 MB; the tensors are never read).
fn real_gguf() -> &'static Gguf {
    static G: OnceLock<Gguf> = OnceLock::new();
    G.get_or_init(|| Gguf::parse(common::model_bytes()).expect("the real model parses"))
}

/// The real model's tokenizer metadata with `tokenizer.ggml.pre` set to `pre` (left out for
/// `None`), as a GGUF without tensors.
fn vocab_gguf(pre: Option<MetaValue>) -> Gguf {
    let keys = ["tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"];
    let mut meta: Vec<(String, MetaValue)> = keys
        .iter()
        .map(|&k| (k.to_string(), real_gguf().metadata(k).unwrap_or_else(|| panic!("the real model has {k}")).clone()))
        .collect();
    if let Some(v) = pre {
        meta.push((GGUF_KEY.to_string(), v));
    }
    Gguf::parse(write_gguf(3, 32, &meta, &[])).expect("the vocabulary-only GGUF parses")
}

/// Every fixture text of `name` encodes to the fixture's ids with `tok`; returns how many.
fn assert_ids(tok: &Tokenizer, name: &str, what: &str) -> usize {
    let cases = entry(name)["cases"].as_array().expect("a cases array");
    for case in cases {
        let text = case["text"].as_str().expect("a text");
        let got = tok.encode(text).unwrap_or_else(|e| panic!("{what}: {text:?} does not encode: {e}"));
        assert_eq!(got, common::ids_of(&case["ids"]), "{what}: ids of {text:?} under {name}");
    }
    cases.len()
}

#[test]
fn every_pre_tokenizer_matches_the_independent_tokenizer() {
    let root = fixtures();
    assert_eq!(root["tokenizers_version"], "0.22.2", "fixtures from another tokenizers; `{REGENERATE}`");
    let real = common::repo_path(root["model"].as_str().expect("a model path"));
    assert_eq!(real, common::repo_path("static/models/smollm2-135m-instruct-q4_1.gguf"));
    let mut checked = 0;
    for pre in Pretokenizer::ALL {
        let name = pre.name();
        let e = entry(name);
        // The fixtures were built from llama.cpp's regex list for this name; it must be ours.
        assert_eq!(strings(&e["regexes"]), pre.regexes(), "{name}: regex list; `{REGENERATE}`");
        assert_eq!(e["ignore_merges"].as_bool(), Some(pre.ignore_merges()), "{name}: ignore_merges");

        let tok = tokenizer_from_gguf_with(real_gguf(), pre).unwrap_or_else(|err| panic!("{name}: {err}"));
        checked += assert_ids(&tok, name, "the real vocabulary");

        // The pieces themselves (SmolLM2's vocabulary has no token holding a digit with anything
        // else, so ids alone cannot tell digit grouping apart).
        let pre_tokenizer = tok.inner().get_pre_tokenizer().expect("the tokenizer has a pre-tokenizer");
        for case in e["cases"].as_array().expect("a cases array") {
            let text = case["text"].as_str().expect("a text");
            let mut s = PreTokenizedString::from(text);
            pre_tokenizer.pre_tokenize(&mut s).unwrap_or_else(|err| panic!("{name}: {text:?}: {err}"));
            let got: Vec<&str> =
                s.get_splits(OffsetReferential::Original, OffsetType::None).into_iter().map(|(p, _, _)| p).collect();
            assert_eq!(got, strings(&case["pretokens"]), "{name}: pieces of {text:?}");
        }
    }
    assert!(checked >= 5 * 8, "only {checked} fixture texts");

    // The fixtures show the pre-tokenizers apart: "12345" in pieces.
    let first_pieces = |name: &str| strings(&entry(name)["cases"][0]["pieces"]);
    assert_eq!(entry("smollm")["cases"][0]["text"], "12345 items in 2024");
    assert_eq!(first_pieces("smollm")[..5], ["1", "2", "3", "4", "5"]);
    assert_eq!(first_pieces("gpt-2")[0], "12345");
    assert_eq!(first_pieces("llama-bpe")[..2], ["123", "45"]);
    assert_eq!(first_pieces("qwen2")[..5], ["1", "2", "3", "4", "5"]);
    assert_eq!(first_pieces("default")[..2], ["123", "45"]);
}

#[test]
fn the_loader_reads_tokenizer_ggml_pre() {
    // The real file names "smollm".
    assert_eq!(Pretokenizer::from_gguf(real_gguf()), Ok(Pretokenizer::Smollm));
    let tok = tokenizer_from_gguf(real_gguf()).expect("the real tokenizer loads");
    assert_ids(&tok, "smollm", "the real file");

    // The same vocabulary with another name, or an alias of it, gives that pre-tokenizer's ids.
    for (value, name) in [("gpt-2", "gpt-2"), ("llama-bpe", "llama-bpe"), ("llama3", "llama-bpe"), ("qwen2", "qwen2")] {
        let g = vocab_gguf(Some(MetaValue::String(value.to_string())));
        let tok = tokenizer_from_gguf(&g).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_ids(&tok, name, &format!("{GGUF_KEY} = {value:?}"));
    }
}

#[test]
fn a_missing_key_is_llama_cpp_default() {
    let g = vocab_gguf(None);
    assert_eq!(Pretokenizer::from_gguf(&g), Ok(Pretokenizer::Default));
    assert_eq!(Pretokenizer::MISSING, Pretokenizer::Default);
    let tok = tokenizer_from_gguf(&g).expect("a file without the key loads");
    assert_ids(&tok, "default", "no tokenizer.ggml.pre");
    // llama.cpp's "default" is not GPT-2's regex: it isolates punctuation runs.
    let punct = "Hello,   world!!! ...?? (ok) $100.50+x==y\t\tz  ";
    assert_ne!(
        tok.encode(punct).unwrap(),
        tokenizer_from_gguf_with(&g, Pretokenizer::Gpt2).unwrap().encode(punct).unwrap()
    );
}

#[test]
fn an_unknown_value_is_an_error_naming_it() {
    let check = |msg: &str, value: &str| {
        assert!(msg.contains(&format!("{value:?}")), "{msg}");
        assert!(msg.contains(GGUF_KEY), "{msg}");
        for p in Pretokenizer::ALL {
            assert!(msg.contains(p.name()), "{msg} does not list {}", p.name());
        }
    };
    // "minerva" is llama.cpp's "minerva-7b"; names are case-sensitive, as in llama.cpp.
    for value in ["deepseek-llm", "tekken", "minerva", "SMOLLM", "", "gpt2"] {
        let msg = Pretokenizer::from_gguf_name(value).expect_err(value);
        check(&msg, value);
    }

    // Through the loader: a user-facing configuration error, not a fallback.
    let g = vocab_gguf(Some(MetaValue::String("deepseek-llm".to_string())));
    match tokenizer_from_gguf(&g) {
        Err(e @ ModelError::BadConfig(_)) => {
            let msg = e.to_string();
            check(&msg, "deepseek-llm");
            assert!(msg.contains("not supported"), "{msg}");
        }
        other => panic!("expected a BadConfig error, got {other:?}"),
    }

    // A value that is not a string names the key.
    let g = vocab_gguf(Some(MetaValue::U32(1)));
    match tokenizer_from_gguf(&g) {
        Err(ModelError::Gguf(GgufError::BadMetadata { key, .. })) => assert_eq!(key, GGUF_KEY),
        other => panic!("expected a BadMetadata error, got {other:?}"),
    }
}

#[test]
fn names_and_aliases() {
    for p in Pretokenizer::ALL {
        assert_eq!(Pretokenizer::from_gguf_name(p.name()), Ok(p));
    }
    for &(name, p) in GGUF_NAMES {
        assert_eq!(Pretokenizer::from_gguf_name(name), Ok(p), "{name}");
    }
    assert_eq!(Pretokenizer::from_gguf_name("starcoder"), Ok(Pretokenizer::Smollm));
    assert_eq!(Pretokenizer::from_gguf_name("minerva-7b"), Ok(Pretokenizer::Smollm));
    assert_eq!(Pretokenizer::from_gguf_name("phi-2"), Ok(Pretokenizer::Gpt2));
    assert_eq!(Pretokenizer::from_gguf_name("llama3"), Ok(Pretokenizer::LlamaBpe));
    assert_eq!(Pretokenizer::from_gguf_name("deepseek-r1-qwen"), Ok(Pretokenizer::Qwen2));
    assert_eq!(Pretokenizer::from_gguf_name("default"), Ok(Pretokenizer::Default));
}

/// llama-bpe takes a piece that is a whole token as that token (llama.cpp's `ignore_merges`),
/// even where the merges would not reach it; the others merge.
#[test]
fn llama_bpe_ignores_merges() {
    let toks = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // "abc": the merges make "ab" first and have no rule for "ab" + "c".
    let build = |pre| {
        Tokenizer::from_vocab_merges(toks(&["a", "b", "c", "ab", "bc", "abc"]), toks(&["a b", "a bc"]), None, pre)
            .expect("the tiny tokenizer builds")
    };
    assert_eq!(build(Pretokenizer::LlamaBpe).encode("abc").unwrap(), vec![5]);
    for pre in [Pretokenizer::Smollm, Pretokenizer::Gpt2, Pretokenizer::Qwen2, Pretokenizer::Default] {
        assert_eq!(build(pre).encode("abc").unwrap(), vec![3, 2], "{pre:?}");
    }
}

/// tests/data/arch: llama.cpp tokenises " the ring in" as [258, 220, 81, 278, 283] with each of
/// these files (their README), whose `tokenizer.ggml.pre` is gpt-2, qwen2 or llama-bpe.
#[test]
fn the_arch_fixture_files_load_with_their_pre_tokenizers() {
    for (file, pre) in [
        ("gpt2", Pretokenizer::Gpt2),
        ("qwen2", Pretokenizer::Qwen2),
        ("llama3", Pretokenizer::LlamaBpe),
        ("llama-tied", Pretokenizer::LlamaBpe),
    ] {
        let path = common::repo_path(&format!("tests/data/arch/{file}.gguf"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let g = Gguf::parse(bytes).expect("the arch fixture parses");
        assert_eq!(Pretokenizer::from_gguf(&g), Ok(pre), "{file}");
        let tok = tokenizer_from_gguf(&g).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(tok.encode(" the ring in").unwrap(), vec![258, 220, 81, 278, 283], "{file}");
    }
}
