//! The `actscale` binary as a script would use it: JSON on stdout, errors on stderr, exit 2.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::cli::{actscale, eval_top_k, real_model_path, two_layer_file};

#[test]
fn predict_json_prints_one_object_with_rome_first() {
    let model = real_model_path();
    let (code, stdout, stderr) =
        actscale(&["predict", "--model", &model, "--prompt", "The capital of Italy is", "--top", "5", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("exactly one JSON object");
    assert_eq!(v["ids"], serde_json::json!([504, 3575, 282, 7158, 314]));
    assert_eq!(v["tokens"][3], " Italy");
    let top = v["top"].as_array().unwrap();
    assert_eq!(top.len(), 5);
    assert_eq!(top[0]["token"], " Rome");
    let p0 = top[0]["prob"].as_f64().unwrap();
    assert!(p0 > 0.0 && p0 <= 1.0);
    assert!(top[0]["logit"].as_f64().unwrap() >= top[1]["logit"].as_f64().unwrap());
}

#[test]
fn a_foreign_file_is_a_clear_error_with_exit_code_2() {
    let dir = std::env::temp_dir().join(format!("actscale-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let foreign = dir.join("not-a-model.gguf");
    std::fs::write(&foreign, b"PK\x03\x04 this is a zip, not a GGUF").unwrap();
    let (code, stdout, stderr) =
        actscale(&["predict", "--model", foreign.to_str().unwrap(), "--prompt", "hi", "--json"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.to_lowercase().contains("gguf"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_truncated_model_is_a_clear_error_with_exit_code_2() {
    let bytes = common::model_bytes();
    let dir = std::env::temp_dir().join(format!("actscale-cli-t-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, stderr) = actscale(&["predict", "--model", cut.to_str().unwrap(), "--prompt", "hi"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("truncated"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_empty_prompt_is_a_clear_error() {
    let model = real_model_path();
    let (code, _, stderr) = actscale(&["predict", "--model", &model, "--prompt", "", "--json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("empty"), "{stderr}");
}

#[test]
fn train_and_eval_json_follow_the_script_contract() {
    let model = two_layer_file();
    let out = std::env::temp_dir().join(format!("actscale-cli-iv-{}.json", std::process::id()));
    let out_s = out.to_str().unwrap();
    let (code, stdout, stderr) = actscale(&[
        "train",
        "--model",
        &model,
        "--task",
        "pair",
        "--prompt",
        "Rome is in",
        "--from",
        " Italy",
        "--to",
        " France",
        "--method",
        "activ-scalar",
        "--steps",
        "5",
        "--seed",
        "1",
        "--out",
        out_s,
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for key in ["flip_rate", "logit_diff_pos", "logit_diff_neg", "kl_pos", "kl_neg", "l1", "nonzero", "params"] {
        assert!(v["train"][key].is_number(), "train.{key} missing in {v}");
    }
    assert_eq!(v["train"]["params"], 2 * 2 * 3);
    let (code, stdout, stderr) = actscale(&["eval", "--model", &model, "--intervention", out_s, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let e: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(e["train"]["nonzero"], v["train"]["nonzero"], "eval of the saved file reproduces training's figures");
    assert!(
        (e["train"]["logit_diff_pos"].as_f64().unwrap() - v["train"]["logit_diff_pos"].as_f64().unwrap()).abs() < 1e-4
    );
}

/// `eval --per-prompt` on a task's split: one row per prompt, whose mean is the split's figure.
#[test]
fn eval_per_prompt_lists_every_prompt_of_each_split() {
    let model = two_layer_file();
    let out = std::env::temp_dir().join(format!("actscale-cli-pp-{}.json", std::process::id()));
    let out_s = out.to_str().unwrap();
    let task = ["--task", "ccc", "--seed", "1"];
    let train = [&["train", "--model", &model, "--steps", "3", "--out", out_s][..], &task].concat();
    let (code, _, stderr) = actscale(&train);
    assert_eq!(code, 0, "{stderr}");
    let eval = [&["eval", "--model", &model, "--intervention", out_s, "--per-prompt", "--json"][..], &task].concat();
    let (code, stdout, stderr) = actscale(&eval);
    assert_eq!(code, 0, "{stderr}");
    let p: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    for split in ["train", "test"] {
        let rows = p["per_prompt"][split].as_array().unwrap();
        assert_eq!(rows.len() as u64, p[split]["prompts"].as_u64().unwrap(), "{split}: one row per prompt");
        assert!(rows.iter().all(|r| r["text"].as_str().is_some_and(|t| t.contains("capital"))));
        let mean = rows.iter().map(|r| r["delta_base"].as_f64().unwrap()).sum::<f64>() / rows.len() as f64;
        // f32 means of the same Δs in another order: a few ulps of their size.
        assert!((mean - p[split]["logit_diff_base"].as_f64().unwrap()).abs() < 1e-3, "{split}: {mean}");
    }
}

#[test]
fn train_rejects_a_multi_token_answer_naming_its_tokens() {
    let model = two_layer_file();
    let (code, stdout, stderr) = actscale(&[
        "train",
        "--model",
        &model,
        "--task",
        "pair",
        "--prompt",
        "Rome is in",
        "--from",
        " Italy",
        "--to",
        " Kyrgyzstanian",
        "--steps",
        "1",
        "--json",
    ]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("Kyrgyzstanian") && stderr.contains("tokens"), "{stderr}");
}

#[test]
fn eval_rejects_a_foreign_intervention_file() {
    let model = two_layer_file();
    let bad = std::env::temp_dir().join(format!("actscale-cli-bad-{}.json", std::process::id()));
    std::fs::write(&bad, r#"{"hello": "world"}"#).unwrap();
    let (code, _, stderr) = actscale(&["eval", "--model", &model, "--intervention", bad.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not an actscale intervention"), "{stderr}");
}

#[test]
fn until_converged_stops_before_the_budget_and_says_why() {
    let model = two_layer_file();
    let args = [
        "train",
        "--model",
        &model,
        "--prompt",
        "The capital of France is",
        "--from",
        " Paris",
        "--to",
        " London",
        "--lambda-m",
        "1",
        "--json",
    ];
    let (code, stdout, stderr) = actscale(&[&args[..], &["--steps", "200", "--until-converged"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let steps = v["steps"].as_u64().unwrap();
    assert!((30..200).contains(&steps), "stopped at {steps}");
    let why = v["converged"].as_str().expect("the reason");
    assert!(
        why.starts_with(&format!("stopped at step {steps}: flipped both ways by at least 1.8 (0.9 × margin)")),
        "{why}"
    );
    assert_eq!(v["train"]["flip_rate"].as_f64(), Some(1.0), "{v}");
    // What is saved is the state the reason names: the sparsest flipped one, not the last.
    let kept = why.rsplit_once("kept the sparsest flipped state, after step ").expect("names the kept state").1;
    let (after, count) = kept.split_once(": ").unwrap();
    assert!(after.parse::<u64>().unwrap() < steps, "{why}");
    assert_eq!(count, format!("{} non-zero", v["train"]["nonzero"]), "{why} vs {v}");
    // Without the flag the budget runs out.
    let (code, stdout, stderr) = actscale(&[&args[..], &["--steps", "60"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!((v["steps"].as_u64(), v["converged"].is_null()), (Some(60), true));
}

/// `sweep --seeds 2` reports each figure as the mean and sample sd of what `--seed 0` and
/// `--seed 1` report on their own (one λM point, CCC, whose seed draws the prompts and the split).
#[test]
fn sweep_over_two_seeds_is_the_mean_and_sd_of_each_seed_alone() {
    let model = two_layer_file();
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", "--model", &model, "--task", "ccc", "--steps", "3", "--points", "1"];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = actscale(&args);
        assert_eq!(code, 0, "{stderr}");
        let mut lines = stdout.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let row: Vec<f64> = lines.next().unwrap().split(',').map(|x| x.parse().unwrap()).collect();
        move |name: &str| row[header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name}"))]
    };
    let (both, one, two) = (sweep(&["--seeds", "2"]), sweep(&["--seed", "0"]), sweep(&["--seed", "1"]));
    assert_eq!(both("seeds"), 2.0);
    for (figure, printed) in
        [("nonzero", 0.5), ("l1", 5e-5), ("train_flip_rate", 5e-4), ("test_flip_rate", 5e-4), ("test_kl", 5e-4)]
    {
        let (a, b) = (one(figure), two(figure));
        // Each printed number is rounded to its last decimal: the mean of two roundings is off by
        // at most that half-unit, the sd (|a − b| / √2) by at most it too.
        let tol = 2.0 * printed + 1e-9;
        assert!((both(figure) - (a + b) / 2.0).abs() <= tol, "{figure}: mean {} of {a} and {b}", both(figure));
        let sd = both(&format!("{figure}_sd"));
        assert!((sd - (a - b).abs() / 2f64.sqrt()).abs() <= tol, "{figure}: sd {sd} of {a} and {b}");
    }
    assert!(one("test_flip_rate") != two("test_flip_rate") || one("l1") != two("l1"), "the seed changes the prompts");
}

/// ActivScalar on ioi-mixed (test prompts 7 tokens longer) is refused before training, naming
/// both lengths and the method that can.
#[test]
fn a_positional_method_on_prompts_of_two_lengths_is_refused_before_training() {
    let model = two_layer_file();
    let args = ["train", "--model", &model, "--task", "ioi-mixed", "--method", "activ-scalar", "--steps", "500"];
    let (code, stdout, stderr) = actscale(&args);
    assert_eq!(code, 2, "{stdout}");
    assert!(stderr.contains("one length") && stderr.contains("dyn-scalar"), "{stderr}");
    assert!(!stderr.contains("step 1/"), "refused before the first step: {stderr}");
}

/// ActivScalar trained on attn_head alone: the file says so (sites, n_heads), its link carries
/// it, `eval` of the file gives training's figures, and `interpret` ranks its per-head units.
#[test]
fn a_per_head_intervention_trains_saves_links_and_evals() {
    let model = two_layer_file();
    let dir = std::env::temp_dir().join(format!("actscale-cli-heads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("heads.json");
    let file_s = file.to_str().unwrap();
    let pair = ["--task", "pair", "--prompt", "The capital of France is", "--from", " Paris", "--to", " London"];
    let (code, stdout, stderr) = actscale(
        &[
            &["train", "--model", &model][..],
            &pair,
            &["--sites", "attn_head", "--steps", "40", "--lambda-m", "1", "--out", file_s, "--json"],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{stderr}");
    let trained: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(trained["train"]["params"], 2 * 9 * 5, "one α per layer, head and position");
    assert_eq!(trained["train"]["flip_rate"], 1.0, "{trained}");
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["n_heads"], 9);
    assert_eq!(saved["selection"]["sites"], serde_json::json!(["AttnHead"]));
    let (code, link, stderr) = actscale(&["permalink", "encode", "--intervention", file_s]);
    assert_eq!(code, 0, "{stderr}");
    let (code, decoded, stderr) = actscale(&["permalink", "decode", "--json", link.trim()]);
    assert_eq!(code, 0, "{stderr}");
    // The link's α are quantised (tests/permalink.rs checks that a link decodes to exactly the
    // quantised file); here, that the per-head rows came through.
    let decoded: serde_json::Value = serde_json::from_str(decoded.trim()).unwrap();
    assert_eq!((&decoded["n_heads"], &decoded["selection"]), (&saved["n_heads"], &saved["selection"]));
    let quantised = actscale::permalink::quantised(
        &actscale::steer::saved::SavedIntervention::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap(),
    );
    let params: Vec<f32> = serde_json::from_value(decoded["params"].clone()).unwrap();
    assert_eq!(params, quantised.params, "the link carries every per-head α, quantised");
    assert!(quantised.nonzero() > 0);
    let (code, stdout, stderr) = actscale(&["eval", "--model", &model, "--intervention", file_s, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let e: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (&e["train"]["nonzero"], &e["train"]["flip_rate"]),
        (&trained["train"]["nonzero"], &trained["train"]["flip_rate"])
    );
    // interpret ranks the per-head units; its keep-top-k curve measures them as eval does the
    // files that keep them (Δ, a difference of logits of size ~20, within 1e-3: f32 forwards
    // of other batch shapes differ by a few ulps), and top k* flips the prompt, top k* − 1 not.
    let (code, stdout, stderr) = actscale(&["interpret", "--model", &model, "--intervention", file_s, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let units = v["units"].as_array().unwrap();
    assert_eq!(units.len() as u64, trained["train"]["nonzero"].as_u64().unwrap());
    assert!(units.iter().all(|u| u["site"] == "attn_head" && u["head"].as_u64().is_some_and(|h| h < 9)), "{v}");
    let k_star = v["k_star"].as_u64().expect("the run flips its prompt") as usize;
    let eval_top = |k: usize| eval_top_k(&model, file_s, k, &dir.join(format!("top{k}.json")).display().to_string());
    for k in [k_star, units.len()] {
        let (e, p) = (eval_top(k), v["keep_k"].as_array().unwrap().iter().find(|p| p["k"] == k).unwrap().clone());
        for (a, b) in [("logit_diff_pos", "delta_pos"), ("logit_diff_neg", "delta_neg")] {
            assert!((e[a].as_f64().unwrap() - p[b].as_f64().unwrap()).abs() < 1e-3, "k {k}: eval {e}, interpret {p}");
        }
    }
    assert_eq!(eval_top(k_star)["flip_rate"].as_f64(), Some(1.0));
    assert!(eval_top(k_star - 1)["flip_rate"].as_f64().unwrap() < 1.0, "k* − 1 (0: the unsteered model)");
    // Another method with attn_head is refused before training.
    let (code, _, stderr) = actscale(
        &[&["train", "--model", &model][..], &pair, &["--sites", "attn_head", "--method", "steer-vec"]].concat(),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("activ-scalar only"), "{stderr}");
}
