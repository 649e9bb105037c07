//! `actscale interpret` and `actscale patch` as a script would use them: which units (or a
//! DynScalar's probes) carry an intervention, and what `eval` says of the files that keep them.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::cli::{actscale, eval_top_k, two_layer_file};

/// `interpret`'s k* and `eval` agree: the file that keeps only the top k* units flips every
/// prompt both ways, the top-(k* − 1) file does not.
#[test]
fn interpret_k_star_is_the_fewest_units_that_eval_finds_flipping() {
    let model = two_layer_file();
    let dir = std::env::temp_dir().join(format!("actscale-cli-interpret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).display().to_string();
    let (code, _, stderr) = actscale(&[
        "train",
        "--model",
        &model,
        "--task",
        "pair",
        "--prompt",
        "The capital of Italy is",
        "--from",
        " Rome",
        "--to",
        " Paris",
        "--lambda-m",
        "0.002",
        "--out",
        &path("iv.json"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) =
        actscale(&["interpret", "--model", &model, "--intervention", &path("iv.json"), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for key in ["site", "layer", "position", "token", "alpha", "loo_delta_pos", "loo_delta_neg"] {
        assert!(!v["units"][0][key].is_null(), "units[0].{key} missing in {v}");
    }
    for key in ["k", "flip_rate", "delta_pos", "delta_neg", "kl_pos", "kl_neg"] {
        assert!(v["keep_k"][0][key].is_number(), "keep_k[0].{key} missing in {v}");
    }
    assert!(["attn_out", "mlp_out"].contains(&v["units"][0]["site"].as_str().unwrap()), "{}", v["units"][0]);
    let k_star = v["k_star"].as_u64().expect("this intervention flips its prompt, so k* exists") as usize;
    let flip_with = |k: usize| {
        let e = eval_top_k(&model, &path("iv.json"), k, &path(&format!("top{k}.json")));
        assert_eq!(e["nonzero"].as_u64(), Some(k as u64), "the file keeps exactly {k} units");
        e["flip_rate"].as_f64().unwrap()
    };
    assert_eq!(flip_with(k_star), 1.0, "top k* = {k_star} flips every prompt");
    assert!(flip_with(k_star - 1) < 1.0, "top k* − 1 does not");
}

#[test]
fn patch_json_has_exactly_its_keys_and_one_effect_per_layer_and_position() {
    let model = two_layer_file();
    let args = ["patch", "--model", &model, "--prompt", "Rome is in", "--corrupt", "Paris is in"];
    let (code, stdout, stderr) = actscale(&[&args[..], &["--from", " Italy", "--to", " France", "--json"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["attn_out", "delta_clean", "delta_corrupt", "mlp_out", "tokens"]);
    assert_eq!(v["tokens"], serde_json::json!(["Rome", " is", " in"]));
    for site in ["attn_out", "mlp_out"] {
        let rows = v[site].as_array().unwrap();
        assert_eq!(rows.len(), 2, "one row per layer");
        assert!(rows.iter().all(|r| r.as_array().unwrap().len() == 3), "one effect per position");
    }
    // A corrupted prompt of another length is refused, naming both counts.
    let (code, _, stderr) = actscale(&[
        "patch",
        "--model",
        &model,
        "--prompt",
        "Rome is in",
        "--corrupt",
        "The city of Paris is in",
        "--from",
        " Italy",
        "--to",
        " France",
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("3 tokens") && stderr.contains("corrupted prompt 6"), "{stderr}");
}

/// A SteerVec file: `interpret --json` prints its ‖v‖ map (the file's own vectors' norms, L rows
/// of T) and its cos(v, h) map (within [−1, 1], 0 where v = 0).
#[test]
fn interpret_of_a_steer_vec_prints_its_norm_and_cosine_maps() {
    let model = two_layer_file();
    let file = std::env::temp_dir().join(format!("actscale-cli-sv-{}.json", std::process::id()));
    let file_s = file.to_str().unwrap();
    let pair = ["--task", "pair", "--prompt", "Rome is in", "--from", " Italy", "--to", " France"];
    let args = ["train", "--model", &model, "--method", "steer-vec", "--steps", "5", "--out", file_s];
    let (code, _, stderr) = actscale(&[&args[..], &pair[..]].concat());
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = actscale(&["interpret", "--model", &model, "--intervention", file_s, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v["method"], "steer-vec");
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let (d, t) = (saved["d_model"].as_u64().unwrap() as usize, saved["n_positions"].as_u64().unwrap() as usize);
    let params: Vec<f64> = saved["params"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(v["tokens"].as_array().unwrap().len(), t);
    let mut switched_on = 0;
    for (s, site) in ["attn_out", "mlp_out"].into_iter().enumerate() {
        let (norms, cosines) = (v["norm"][site].as_array().unwrap(), v["cos"][site].as_array().unwrap());
        assert_eq!((norms.len(), cosines.len()), (2, 2), "one row per layer");
        for layer in 0..2 {
            for p in 0..t {
                let unit = (s * 2 + layer) * t + p;
                let row = &params[unit * d..(unit + 1) * d];
                let expected = row.iter().map(|x| x * x).sum::<f64>().sqrt();
                let (norm, cos) = (norms[layer][p].as_f64().unwrap(), cosines[layer][p].as_f64().unwrap());
                // f32 sum of d squares: within d·ε of the f64 norm, relative.
                assert!(
                    (norm - expected).abs() <= d as f64 * f32::EPSILON as f64 * expected + 1e-12,
                    "{site} {layer} {p}"
                );
                assert!((-1.0..=1.0).contains(&cos), "{site} {layer} {p}: cos {cos}");
                if expected == 0.0 {
                    assert_eq!(cos, 0.0);
                } else {
                    switched_on += 1;
                }
            }
        }
    }
    assert!(switched_on > 0, "training set some vectors");
}

/// `patch --heads` adds `attn_head`: per layer, one row per head of one effect per position.
#[test]
fn patch_with_heads_adds_one_effect_per_layer_head_and_position() {
    let model = two_layer_file();
    let args = ["patch", "--model", &model, "--prompt", "Rome is in", "--corrupt", "Paris is in"];
    let (code, stdout, stderr) =
        actscale(&[&args[..], &["--from", " Italy", "--to", " France", "--heads", "--json"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["attn_head", "attn_out", "delta_clean", "delta_corrupt", "mlp_out", "tokens"]);
    let layers = v["attn_head"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for heads in layers {
        let heads = heads.as_array().unwrap();
        assert_eq!(heads.len(), 9, "SmolLM2 has 9 heads");
        assert!(heads.iter().all(|h| h.as_array().unwrap().len() == 3));
    }
}

/// A DynScalar's probes: `interpret` ranks them, its keep-top-k curve measures kept probes the
/// way `eval` measures the file that keeps them (Δ within f32 rounding), all probes reproduce
/// training's Δ, and k* is the fewest probes whose file flips every prompt both ways.
#[test]
fn interpret_of_a_dyn_scalar_ranks_probes_and_its_k_star_file_flips() {
    let model = two_layer_file();
    let dir = std::env::temp_dir().join(format!("actscale-cli-dyn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).display().to_string();
    let pair = ["--task", "pair", "--prompt", "The capital of Italy is", "--from", " Rome", "--to", " Paris"];
    let args = ["train", "--model", &model, "--method", "dyn-scalar", "--json", "--out", &path("iv.json")];
    let (code, stdout, stderr) = actscale(&[&args[..], &pair[..]].concat());
    assert_eq!(code, 0, "{stderr}");
    let trained: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let args = ["interpret", "--model", &model, "--intervention", &path("iv.json"), "--json"];
    let (code, stdout, stderr) = actscale(&args);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(v["method"], "dyn-scalar");
    let probes = v["probes"].as_array().expect("probes");
    assert_eq!(probes.len() as u64, trained["train"]["nonzero"].as_u64().unwrap(), "every non-zero probe, ranked");
    let sizes: Vec<f64> = probes.iter().map(|p| p["mean_abs_alpha"].as_f64().unwrap()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]) && sizes[sizes.len() - 1] > 0.0, "{sizes:?}");
    for layer in ["attn_out", "mlp_out"] {
        assert_eq!(v["alpha"][layer].as_array().unwrap().len(), 2, "the first prompt's α, one row per layer");
    }
    let keep = |k: usize| v["keep_k"].as_array().unwrap().iter().find(|p| p["k"] == k).unwrap().clone();
    // Δ is a difference of two logits of size ~20: f32 forwards of different batch shapes
    // differ by a few ulps of those (~1e-5), far below 1e-3.
    let close = |a: &serde_json::Value, b: &serde_json::Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-3;
    let all = keep(probes.len());
    assert!(close(&all["delta_pos"], &trained["train"]["logit_diff_pos"]), "{all} vs {trained}");
    assert!(close(&all["delta_neg"], &trained["train"]["logit_diff_neg"]), "{all} vs {trained}");
    let eval_top = |k: usize| {
        let e = eval_top_k(&model, &path("iv.json"), k, &path(&format!("top{k}.json")));
        assert_eq!(e["nonzero"].as_u64(), Some(k as u64), "the file keeps exactly {k} probes");
        e
    };
    for k in 1..=probes.len() {
        let (e, p) = (eval_top(k), keep(k));
        assert!(
            close(&e["logit_diff_pos"], &p["delta_pos"]) && close(&e["logit_diff_neg"], &p["delta_neg"]),
            "k {k}: eval {e}, interpret {p}"
        );
    }
    let k_star = v["k_star"].as_u64().expect("training flipped the prompt, so k* exists") as usize;
    assert_eq!(eval_top(k_star)["flip_rate"].as_f64(), Some(1.0), "top k* = {k_star} flips the prompt");
    // k* − 1 may be 0: the file with no probe left is the unsteered model.
    assert!(eval_top(k_star - 1)["flip_rate"].as_f64().unwrap() < 1.0, "top k* − 1 does not");
}
