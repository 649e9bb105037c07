//! Permalinks natively: round trips (property tests), hostile input (fuzzing with arbitrary and
//! mutated text; zip bombs), link sizes on the default model's shapes, and the CLI contract.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use actscale::model::id::ModelId;
use actscale::model::site::Site;
use actscale::permalink::{self, FORMAT_VERSION, MAX_LINK_CHARS, PermalinkError};
use actscale::steer::example::Example;
use actscale::steer::hyper::{Hyper, Method, Selection};
use actscale::steer::layout::param_count;
use actscale::steer::saved::{FORMAT, SavedIntervention, VERSION};

/// The default model's sizes (SmolLM2-135M).
const LAYERS: usize = 30;
const WIDTH: usize = 576;

fn saved(method: Method, n_layers: usize, d_model: usize, n_positions: usize, params: Vec<f32>) -> SavedIntervention {
    SavedIntervention {
        format: FORMAT.into(),
        version: VERSION,
        model: Some(ModelId::of_file(b"a model file", n_layers, d_model)),
        method,
        selection: Selection::default(),
        hyper: Hyper::default(),
        beta: 1.0,
        n_layers,
        d_model,
        n_positions,
        n_heads: 0,
        task: "pair".into(),
        seed: None,
        examples: vec![Example {
            text: "The capital of France is a city".into(),
            ids: vec![1, 2, 3],
            from: 7042,
            to: 4843,
        }],
        params,
    }
}

/// ActivScalar on a 10-token prompt of the default model with `nonzero` scalars set, as
/// training with the default λM leaves it (13 of 600 on "Rome is in").
fn sparse_activ_scalar(nonzero: usize) -> SavedIntervention {
    let n = param_count(Method::ActivScalar, LAYERS, WIDTH, 10, 0).unwrap();
    let mut params = vec![0.0f32; n];
    for k in 0..nonzero {
        params[(k * 131 + 17) % n] = ((k as f32 + 1.0) * 0.713).sin() * 3.0;
    }
    saved(Method::ActivScalar, LAYERS, WIDTH, 10, params)
}

fn arb_saved() -> impl Strategy<Value = SavedIntervention> {
    let method = prop_oneof![Just(Method::ActivScalar), Just(Method::SteerVec), Just(Method::DynScalar)];
    let sizes =
        (method, 1usize..5, 1usize..9, 0usize..7, any::<bool>(), -1.0f32..=1.0, 0u64..1000, any::<Option<u64>>());
    (sizes, any::<bool>()).prop_flat_map(
        |((method, l, d, t, has_model, beta, seed, task_seed), per_head)| {
            // Per-head rows: ActivScalar only, with a head count that divides the width.
            let heads = if per_head && method == Method::ActivScalar { [1, d][seed as usize % 2] } else { 0 };
            let n = param_count(method, l, d, t, heads).unwrap();
            let value = prop_oneof![3 => Just(0.0f32), 2 => -100.0f32..100.0, 1 => any::<f32>().prop_filter("finite", |v| v.is_finite())];
            let sites = prop::sample::subsequence(Site::ALL.to_vec(), 0..=Site::ALL.len());
            let layers = prop::collection::vec(0..l, 0..4);
            let positions = prop::collection::vec(0..t.max(1), if t == 0 { 0..1 } else { 0..4 });
            let text = "\\PC{0,40}";
            let examples = prop::collection::vec((text, any::<u32>(), any::<u32>()), 0..4);
            (prop::collection::vec(value, n), sites, layers, positions, examples, "[a-z]{0,8}").prop_map(
                move |(params, sites, layers, positions, examples, task)| {
                    let mut s = saved(method, l, d, t, params);
                    s.model = has_model.then(|| ModelId::of_file(&seed.to_le_bytes(), l, d));
                    let mut sites = sites;
                    if heads > 0 {
                        sites.push(Site::AttnHead);
                    }
                    s.n_heads = heads;
                    s.selection = Selection { sites, layers, positions };
                    s.hyper = Hyper { margin: 1.5, lambda_f: 0.5, lambda_m: seed as f32, lr: 0.01, steps: seed as usize, batch_size: 3 };
                    s.beta = beta;
                    s.task = task;
                    s.seed = task_seed;
                    s.examples = examples.into_iter().map(|(text, from, to)| Example { text, ids: vec![5, 6], from, to }).collect();
                    s
                },
            )
        },
    )
}

#[test]
fn decode_of_encode_is_the_quantised_state() {
    run_cases("round trips", 600, arb_saved(), |s| {
        assert!(s.validate().is_ok(), "{:?}", s.validate());
        let link = permalink::link("https://example.org/actscale/?x=1#old", &s).unwrap();
        assert!(link.starts_with("https://example.org/actscale/?x=1#s="));
        let back = permalink::decode(&link).unwrap();
        assert_eq!(back, permalink::quantised(&s));
        // Quantising twice changes nothing: a decoded link re-encodes to the same payload.
        assert_eq!(permalink::encode(&back).unwrap(), permalink::encode(&s).unwrap());
    });
}

/// Runs `check` on `cases` inputs from `strategy` (a panic fails the test, and proptest shrinks
/// it to a small failing input) and prints how many were tried.
fn run_cases<S: Strategy>(name: &str, cases: u32, strategy: S, check: impl Fn(S::Value)) {
    let mut runner = TestRunner::new(ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() });
    let tried = AtomicUsize::new(0);
    runner
        .run(&strategy, |v| {
            tried.fetch_add(1, Ordering::Relaxed);
            check(v);
            Ok(())
        })
        .unwrap();
    println!("{name}: {} inputs passed", tried.load(Ordering::Relaxed));
}

/// What decoding hostile text may do: fail, or give an intervention that passes validation.
fn decodes_safely(text: &str) {
    if let Ok(s) = permalink::decode(text) {
        assert!(s.validate().is_ok(), "{text:?}");
    }
}

#[test]
fn arbitrary_text_never_panics() {
    let text = prop_oneof!["\\PC{0,200}", "[A-Za-z0-9_-]{0,300}", "s=[A-Za-z0-9_-]{0,300}", "#s=A[A-Za-z0-9_-]{0,300}"];
    run_cases("arbitrary text", 20_000, text, |t: String| decodes_safely(&t));
}

/// Arbitrary bytes behind a valid version byte, deflated or not: the inflater and the body
/// reader see garbage and must say so.
#[test]
fn arbitrary_bodies_never_panic() {
    let input = (prop::collection::vec(any::<u8>(), 0..400), any::<bool>());
    run_cases("arbitrary bodies", 20_000, input, |(bytes, deflate)| {
        let mut raw = vec![FORMAT_VERSION];
        if deflate {
            raw.extend(miniz_oxide::deflate::compress_to_vec(&bytes, 6));
        } else {
            raw.extend(&bytes);
        }
        decodes_safely(&URL_SAFE_NO_PAD.encode(raw));
    });
}

/// A real link with characters replaced, inserted or cut off, and real bodies with bytes changed.
#[test]
fn mutated_links_never_panic() {
    let link: Vec<char> = permalink::fragment(&sparse_activ_scalar(15)).unwrap().chars().collect();
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, "[A-Za-z0-9_-]"), 1..6);
    run_cases("mutated links", 20_000, edits, |edits| {
        let mut text = link.clone();
        for (at, kind, c) in edits {
            let i = at.index(text.len() + 1);
            match kind {
                0 if i < text.len() => text[i] = c.chars().next().unwrap(),
                1 => text.insert(i, c.chars().next().unwrap()),
                _ => text.truncate(i),
            }
        }
        decodes_safely(&text.into_iter().collect::<String>());
    });
    let body = body_of(&permalink::encode(&sparse_activ_scalar(15)).unwrap());
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4);
    run_cases("mutated bodies", 20_000, edits, |edits| {
        let mut b = body.clone();
        for (at, byte) in edits {
            let i = at.index(b.len());
            b[i] = byte;
        }
        decodes_safely(&payload_of_body(&b));
    });
}

#[test]
fn a_sparse_activ_scalar_link_on_a_10_token_prompt_is_well_under_500_characters() {
    for nonzero in [13, 30] {
        let s = sparse_activ_scalar(nonzero);
        let link = permalink::link("https://actscale.example/", &s).unwrap();
        println!("ActivScalar, 10 tokens, {nonzero} non-zero of 600: link of {} characters", link.len());
        assert!(link.len() < 400, "{} characters", link.len());
        assert_eq!(permalink::decode(&link).unwrap(), permalink::quantised(&s));
    }
}

#[test]
fn a_dense_dyn_scalar_on_the_default_model_fits_and_steer_vec_does_not() {
    let n = param_count(Method::DynScalar, LAYERS, WIDTH, 10, 0).unwrap();
    // Noise-like values, as trained probes are: nothing for deflate to find.
    let mut x = 0x9e3779b97f4a7c15u64;
    let dense: Vec<f32> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
        })
        .collect();
    let dyn_scalar = saved(Method::DynScalar, LAYERS, WIDTH, 10, dense);
    let payload = permalink::encode(&dyn_scalar).expect("DynScalar fits in a link");
    println!("DynScalar, all {n} parameters non-zero: payload of {} characters", payload.len());
    assert_eq!(permalink::decode(&payload).unwrap(), permalink::quantised(&dyn_scalar));

    let n = param_count(Method::SteerVec, LAYERS, WIDTH, 10, 0).unwrap();
    let steer_vec = saved(Method::SteerVec, LAYERS, WIDTH, 10, (0..n).map(|i| ((i as f32) * 0.11).cos()).collect());
    let err = permalink::encode(&steer_vec).unwrap_err();
    assert!(matches!(err, PermalinkError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("Export file"), "{err}");
    assert!(!permalink::fits(&steer_vec));
}

/// The inflated body of a payload.
fn body_of(payload: &str) -> Vec<u8> {
    miniz_oxide::inflate::decompress_to_vec(&URL_SAFE_NO_PAD.decode(payload).unwrap()[1..]).unwrap()
}

fn payload_of_body(body: &[u8]) -> String {
    let mut raw = vec![FORMAT_VERSION];
    raw.extend(miniz_oxide::deflate::compress_to_vec(body, 10));
    URL_SAFE_NO_PAD.encode(raw)
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_inflated() {
    let bomb = payload_of_body(&vec![0u8; 32 << 20]);
    assert!(bomb.len() < MAX_LINK_CHARS, "the bomb is a small link ({} characters)", bomb.len());
    let err = permalink::decode(&bomb).unwrap_err();
    assert!(err.to_string().contains("unpacks to more than"), "{err}");
}

#[test]
fn oversized_newer_and_empty_links_give_clear_messages() {
    let long = "A".repeat(MAX_LINK_CHARS + 1);
    assert!(matches!(permalink::decode(&long), Err(PermalinkError::TooLarge { .. })));
    let mut newer = permalink::encode(&sparse_activ_scalar(3)).unwrap().into_bytes();
    let mut raw = URL_SAFE_NO_PAD.decode(&newer).unwrap();
    raw[0] = FORMAT_VERSION + 1;
    newer = URL_SAFE_NO_PAD.encode(raw).into_bytes();
    let err = permalink::decode(std::str::from_utf8(&newer).unwrap()).unwrap_err();
    assert_eq!(err, PermalinkError::NewerVersion(FORMAT_VERSION + 1));
    assert!(err.to_string().contains("newer version"));
    for empty in ["", "#", "#s=", "https://x.org/", "https://x.org/#other=1"] {
        assert_eq!(permalink::decode(empty), Err(PermalinkError::NoIntervention), "{empty:?}");
    }
    assert!(permalink::decode("#s=!!!").unwrap_err().to_string().contains("damaged"));
}

#[test]
fn fields_out_of_range_for_the_model_are_rejected() {
    // A valid link, then its body rewritten with a layer that the sizes do not have.
    let mut s = sparse_activ_scalar(3);
    s.selection.layers = vec![29];
    let ok = permalink::encode(&s).unwrap();
    assert_eq!(permalink::decode(&ok).unwrap().selection.layers, vec![29]);
    let mut body = body_of(&ok);
    // flags(1) + hash(8) + method(1), then n_layers = 30 as one varint byte: claim 20 layers.
    assert_eq!(body[10], 30);
    body[10] = 20;
    let err = permalink::decode(&payload_of_body(&body)).unwrap_err();
    assert!(err.to_string().contains("layer is 29, at most 20"), "{err}");
    // Non-finite β written straight into the body.
    let mut s = sparse_activ_scalar(3);
    s.beta = 0.5;
    let body = body_of(&permalink::encode(&s).unwrap());
    let at = body.windows(4).position(|w| w == 0.5f32.to_le_bytes()).expect("β is in the body");
    let mut nan = body.clone();
    nan[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(permalink::decode(&payload_of_body(&nan)).unwrap_err().to_string().contains("β"));
}

fn actscale(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_actscale")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_encode_then_decode_prints_the_quantised_intervention() {
    let s = sparse_activ_scalar(13);
    let file = std::env::temp_dir().join(format!("actscale-permalink-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(&s).unwrap()).unwrap();
    let (code, link, stderr) = actscale(&[
        "permalink",
        "encode",
        "--intervention",
        file.to_str().unwrap(),
        "--base",
        "https://a.example/page",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let link = link.trim();
    assert!(link.starts_with("https://a.example/page#s="), "{link}");
    let (code, json, stderr) = actscale(&["permalink", "decode", link, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let back: SavedIntervention = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(back, permalink::quantised(&s));
}

#[test]
fn cli_decode_of_bad_input_is_an_error_with_exit_code_2() {
    let good = permalink::fragment(&sparse_activ_scalar(5)).unwrap();
    let cut = &good[..good.len() / 2];
    for bad in ["", "https://x.org/", "#s=%%%", cut, "#s=AQ"] {
        let (code, stdout, stderr) = actscale(&["permalink", "decode", bad, "--json"]);
        assert_eq!(code, 2, "{bad:?}: {stderr}");
        assert!(stdout.is_empty(), "{bad:?}");
        assert!(!stderr.contains("panicked") && stderr.len() > 10, "{bad:?}: {stderr}");
    }
}

#[test]
fn cli_encode_refuses_a_file_without_a_model_id_unless_given_the_model() {
    let mut s = sparse_activ_scalar(2);
    s.model = None;
    let file = std::env::temp_dir().join(format!("actscale-permalink-nomodel-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(&s).unwrap()).unwrap();
    let (code, _, stderr) = actscale(&["permalink", "encode", "--intervention", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--model"), "{stderr}");
}

#[test]
fn links_keep_small_scalars_on_the_grid_and_small_vector_components() {
    let mut s = sparse_activ_scalar(0);
    s.params[3] = 0.005; // non-zero (the trainer counts exact zeros): carried, on the grid
    s.params[4] = 0.001; // below half the grid step (2⁻⁷ for max |α| 0.5): rounds to 0
    s.params[5] = -0.5;
    let back = permalink::decode(&permalink::encode(&s).unwrap()).unwrap();
    assert_eq!((back.params[3], back.params[4], back.params[5]), (1.0 / 128.0, 0.0, -0.5));
    assert_eq!(back.nonzero(), 2);
    let mut v = saved(Method::SteerVec, 1, 4, 1, vec![0.004, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
    v.selection = Selection::default();
    let back = permalink::decode(&permalink::encode(&v).unwrap()).unwrap();
    assert!((back.params[0] - 0.004).abs() < 1e-5, "a SteerVec component is part of a vector: kept");
}

/// A link and a file made before links and files recorded a seed (`tests/data/compat/README.md`):
/// they still open, unchanged, and today's build writes the same link for that file.
#[test]
fn links_and_files_made_before_seeds_open_unchanged() {
    let data = |name: &str| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/compat").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let (link, decoded, file) = (data("ccc-seed3.link"), data("ccc-seed3.link.json"), data("ccc-seed3.json"));
    let link = link.trim();
    let then: SavedIntervention = serde_json::from_str(&decoded).unwrap();
    let now = permalink::decode(link).expect("an old link opens");
    assert_eq!(now, then, "what the old link carries is unchanged");
    assert_eq!(now.seed, None);
    let saved = SavedIntervention::from_json(&file).expect("an old file opens");
    assert_eq!((saved.seed, saved.task.as_str()), (None, "ccc"));
    assert_eq!(
        permalink::link("http://127.0.0.1:8080/", &saved).unwrap(),
        link,
        "the same link as the build that made it"
    );
    // With a seed, the same intervention's link carries it and still decodes to the rest.
    let seeded = SavedIntervention { seed: Some(3), ..saved };
    let back = permalink::decode(&permalink::link("http://127.0.0.1:8080/", &seeded).unwrap()).unwrap();
    assert_eq!(back, SavedIntervention { seed: Some(3), ..now });
}

/// Links and files made by the build before per-head sites (`tests/data/compat/README.md`), a
/// task with its seed and one prompt: they open to what they carried, and today's build writes
/// the same file and the same link for them.
#[test]
fn links_and_files_made_before_per_head_sites_open_unchanged() {
    let data = |name: &str| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/compat").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    for name in ["before-heads-ccc-seed4", "before-heads-pair"] {
        let (link, decoded, file) =
            (data(&format!("{name}.link")), data(&format!("{name}.link.json")), data(&format!("{name}.json")));
        let link = link.trim();
        let then: SavedIntervention = serde_json::from_str(&decoded).unwrap();
        let now = permalink::decode(link).unwrap_or_else(|e| panic!("{name}: the link opens: {e}"));
        assert_eq!(now, then, "{name}: what the link carries is unchanged");
        let saved = SavedIntervention::from_json(&file).unwrap_or_else(|e| panic!("{name}: the file opens: {e}"));
        assert!(saved.nonzero() > 0, "{name}: a file with something in it");
        assert_eq!(serde_json::to_string(&saved).unwrap(), file.trim(), "{name}: written back the same");
        assert_eq!(permalink::link("http://127.0.0.1:8080/", &saved).unwrap(), link, "{name}: the same link");
    }
}
