//! `actscale predict`: tokens of a prompt and the top-K next tokens.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use actscale::model::predict::{TopToken, top_k};

#[derive(Args)]
pub struct PredictArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    prompt: String,
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print exactly one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Output {
    ids: Vec<u32>,
    tokens: Vec<String>,
    top: Vec<TopToken>,
}

pub fn run(args: PredictArgs) -> Result<(), String> {
    let model = super::load_model(&args.model)?;
    let ids = model.tokenizer.encode(&args.prompt).map_err(|e| e.to_string())?;
    let logits = futures_lite::future::block_on(actscale::model::predict::last_logits(&model, &ids))
        .map_err(|e| e.to_string())?;
    let out = Output {
        tokens: ids.iter().map(|&i| model.tokenizer.token_text(i)).collect(),
        top: top_k(&logits, args.top, &model.tokenizer),
        ids,
    };
    if args.json {
        println!("{}", serde_json::to_string(&out).map_err(|e| e.to_string())?);
        return Ok(());
    }
    println!("tokens:");
    for (id, t) in out.ids.iter().zip(&out.tokens) {
        println!("  {id:>6}  {t:?}");
    }
    println!("top {} next tokens:", out.top.len());
    for t in &out.top {
        println!("  {:>6}  {:<16} logit {:>8.4}  p {:.4}", t.id, format!("{:?}", t.token), t.logit, t.prob);
    }
    Ok(())
}
