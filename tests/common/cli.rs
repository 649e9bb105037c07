//! The `actscale` binary run as a script runs it, and the model files its tests pass it.

use std::process::Command;
use std::sync::OnceLock;

/// (exit code, stdout, stderr) of `actscale ARGS`.
pub fn actscale(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_actscale")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn real_model_path() -> String {
    let _ = super::model_bytes(); // fails with the setup command when missing
    super::repo_path("static/models/smollm2-135m-instruct-q4_1.gguf").display().to_string()
}

/// A 2-layer copy of the real model in a temp dir, written by the CLI itself, once per test
/// binary: the tests run in parallel, and the CLI writes atomically (temp file, then rename).
pub fn two_layer_file() -> String {
    static FILE: OnceLock<String> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("actscale-cli-2l-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("two.gguf");
        let (code, _, stderr) =
            actscale(&["truncate", "--model", &real_model_path(), "--layers", "2", "--out", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
        out.display().to_string()
    })
    .clone()
}

/// Writes the top-`k` cut of `intervention` (`interpret --keep k --out out`) and returns what
/// `eval --json` says of it on its training prompts (the "train" object).
pub fn eval_top_k(model: &str, intervention: &str, k: usize, out: &str) -> serde_json::Value {
    let keep = k.to_string();
    let args = ["interpret", "--model", model, "--intervention", intervention, "--keep", &keep, "--out", out];
    let (code, _, stderr) = actscale(&args);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = actscale(&["eval", "--model", model, "--intervention", out, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let e: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    e["train"].clone()
}
