//! `actscale interpret` (which units carry a saved ActivScalar intervention, or which probes a
//! DynScalar's, and how that agrees with patching and attribution; a SteerVec's ‖v‖ and
//! cos(v, h) maps) and
//! `actscale patch` (activation patching alone).

use std::path::PathBuf;

use clap::Args;
use futures_lite::future::block_on;
use serde_json::{Value, json};

use actscale::interpret::agreement::agreement;
use actscale::interpret::attribution::{attribute, attribute_heads};
use actscale::interpret::directions::directions;
use actscale::interpret::heads::HeadMap;
use actscale::interpret::keep_k::InterpretJob;
use actscale::interpret::patching::{PatchJob, PatchMap};
use actscale::interpret::report::Interpretation;
use actscale::interpret::units::MapShape;
use actscale::model::Model;
use actscale::model::hook::Site;
use actscale::protocol::TaskChoice;
use actscale::steer::heat::heat;
use actscale::steer::hyper::Method;
use actscale::steer::intervention::Intervention;
use actscale::steer::prompts::Example;
use actscale::steer::saved::SavedIntervention;
use actscale::tasks::pair::pair;
use actscale::tasks::roles;

/// α-sets measured per step of an interpretation.
const SETS_PER_STEP: usize = 64;

#[derive(Args)]
pub struct InterpretArgs {
    #[arg(long)]
    model: PathBuf,
    /// A saved intervention (`actscale train --out`): ActivScalar (units), DynScalar (probes) or
    /// SteerVec (‖v‖ and cos(v, h) maps).
    #[arg(long)]
    intervention: PathBuf,
    /// A corrupted version of the first prompt (same number of tokens): adds activation
    /// patching, attribution and their agreement with α.
    #[arg(long)]
    corrupt: Option<String>,
    /// With --corrupt: patch and attribute each attention head too (`attn_head` maps,
    /// [layer][head][position]; H·T more rows per layer's forward).
    #[arg(long, requires = "corrupt")]
    heads: bool,
    /// Measure on the first N training prompts only (a task's whole split takes minutes per
    /// α-set batch); k* then means "flips these N both ways".
    #[arg(long)]
    prompts: Option<usize>,
    /// Seed of the random baseline's draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// With --out: write the intervention that keeps only the top K units (a DynScalar: probes).
    #[arg(long, requires = "out")]
    keep: Option<usize>,
    #[arg(long, requires = "keep")]
    out: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn interpret(a: InterpretArgs) -> Result<(), String> {
    let (model, model_id) = super::load_model_with_id(&a.model)?;
    let saved = super::read_saved_for(&a.intervention, &model_id)?;
    let c = &model.net.config;
    let iv = saved.to_intervention(c, model.net.device())?; // validates the shape
    let shape = MapShape { n_layers: saved.n_layers, positions: saved.n_positions, heads: saved.n_heads };
    let first = saved.examples.first().ok_or("the intervention has no prompts")?;
    let task = TaskChoice::parse(&saved.task).unwrap_or_default();
    let tokens = roles::labelled(task, first, first.ids.iter().map(|&i| model.tokenizer.token_text(i)).collect());
    let n = a.prompts.unwrap_or(saved.examples.len()).clamp(1, saved.examples.len());
    let examples = saved.examples[..n].to_vec();
    match saved.method {
        Method::ActivScalar => {}
        Method::SteerVec => {
            let maps = block_on(directions(&model, &iv, &examples))?;
            let out = json!({
                "method": saved.method.name(),
                "tokens": tokens,
                "prompts": n,
                "norm": site_rows(&maps.norm, shape),
                "cos": site_rows(&maps.cos, shape),
            });
            match a.json {
                true => println!("{out}"),
                false => print_directions(&out, &tokens),
            }
            return Ok(());
        }
        Method::DynScalar => return interpret_probes(&a, &model, &saved, iv, examples, tokens),
    }
    let mut job = InterpretJob::new(shape, saved.params.clone(), examples, tokens.clone(), a.seed)?;
    run_job(&model, &mut job)?;
    let found = job.result();
    if let (Some(k), Some(out)) = (a.keep, &a.out) {
        write_kept(&saved, found.keep_top(shape, k), out)?;
    }
    let mut out = serde_json::to_value(&found).map_err(|e| e.to_string())?;
    out["tokens"] = json!(tokens);
    out["prompts"] = json!(n);
    if let Some(corrupt) = &a.corrupt {
        let side = side_by_side(&model, shape, &saved, corrupt, &saved.params, found.k_star, a.heads)?;
        out.as_object_mut().expect("an object").extend(side);
    }
    if a.json {
        println!("{out}");
    } else {
        print_interpretation(&found, &out);
    }
    Ok(())
}

/// A DynScalar: its probes ranked by the mean |α| they produce, keep-top-k over probes, and the
/// α it produces on the first prompt as the map set beside patching and attribution.
fn interpret_probes(
    a: &InterpretArgs,
    model: &Model,
    saved: &SavedIntervention,
    iv: Intervention,
    examples: Vec<Example>,
    tokens: Vec<String>,
) -> Result<(), String> {
    let first = examples[0].ids.clone();
    let shape = MapShape::sites(saved.n_layers, first.len());
    let alpha = block_on(heat(model, &iv, &first))?;
    let n = examples.len();
    let mut job = block_on(InterpretJob::probes(model, iv, examples, a.seed))?;
    run_job(model, &mut job)?;
    let found = job.result();
    if let (Some(k), Some(out)) = (a.keep, &a.out) {
        write_kept(saved, found.keep_top_probes(saved.n_layers, &saved.params, saved.d_model + 1, k), out)?;
    }
    let mut out = serde_json::to_value(&found).map_err(|e| e.to_string())?;
    out["method"] = json!(saved.method.name());
    out["tokens"] = json!(tokens);
    out["prompts"] = json!(n);
    out["alpha"] = site_rows(&alpha, shape);
    if let Some(corrupt) = &a.corrupt {
        // The top k* probes cover k*·T units of the first prompt's map.
        let k = found.k_star.map(|k| k * shape.positions);
        let side = side_by_side(model, shape, saved, corrupt, &alpha, k, a.heads)?;
        out.as_object_mut().expect("an object").extend(side);
    }
    if a.json {
        println!("{out}");
    } else {
        print_probes(&found, &out);
    }
    Ok(())
}

/// Writes `saved` with other parameters (a top-k cut of it), checked as a file is on reading.
fn write_kept(saved: &SavedIntervention, params: Vec<f32>, out: &std::path::Path) -> Result<(), String> {
    let kept = SavedIntervention { params, ..saved.clone() };
    kept.validate()?;
    super::write_atomically(out, serde_json::to_string(&kept).map_err(|e| e.to_string())?.as_bytes())
}

fn run_job(model: &Model, job: &mut InterpretJob) -> Result<(), String> {
    while !job.is_done() {
        block_on(job.step(&model, SETS_PER_STEP))?;
        let (done, all) = job.progress();
        eprint!("\rinterpreting: {done}/{all} sets   ");
    }
    eprintln!();
    Ok(())
}

/// Patching, attribution and the three pairwise agreements with `alpha` (the α map of the first
/// prompt), on the first prompt; top-k overlaps at `k`.
fn side_by_side(
    model: &Model,
    shape: MapShape,
    saved: &SavedIntervention,
    corrupt: &str,
    alpha: &[f32],
    k: Option<usize>,
    heads: bool,
) -> Result<serde_json::Map<String, Value>, String> {
    let first = &saved.examples[0];
    let corrupt_ids = model.tokenizer.encode(corrupt).map_err(|e| e.to_string())?;
    let job = run_patching(model, &first.ids, &corrupt_ids, first.from, first.to, heads)?;
    let map = job.result();
    let (clean_run, corrupt_run) = job.runs();
    let attribution = block_on(attribute(model, &first.ids, first.from, first.to, clean_run, Some(corrupt_run)))?;
    let (gradient, atp) = (attribution.gradient, attribution.atp.unwrap_or_default());
    let mut out = serde_json::Map::new();
    out.insert("patching".into(), patch_json(&map, shape));
    out.insert("attribution".into(), json!({ "gradient": site_rows(&gradient, shape), "atp": site_rows(&atp, shape) }));
    if let Some(patched) = &map.heads {
        let per_head =
            block_on(attribute_heads(model, &first.ids, first.from, first.to, clean_run, Some(corrupt_run)))?;
        let (g, atp) = (per_head.gradient, per_head.atp.unwrap_or_default());
        out["attribution"]["attn_head"] =
            json!({ "gradient": patched.shape.nested(&g), "atp": patched.shape.nested(&atp) });
        let mut heads = json!({
            "patching_attribution": agreement(&patched.values, &g, k),
            "patching_atp": agreement(&patched.values, &atp, k),
        });
        if let Some((_, alpha)) = shape.head_part(alpha).filter(|(s, _)| *s == patched.shape) {
            heads["alpha_patching"] = json!(agreement(alpha, &patched.values, k));
            heads["alpha_attribution"] = json!(agreement(alpha, &g, k));
        }
        out.insert("agreement_heads".into(), heads);
    }
    // α's per-site units against the per-site maps (a per-head α's own rows are compared above).
    let alpha = &alpha[..shape.per_site_len().min(alpha.len())];
    out.insert(
        "agreement".into(),
        json!({
            "alpha_patching": agreement(alpha, &map.effects, k),
            "alpha_attribution": agreement(alpha, &gradient, k),
            "patching_attribution": agreement(&map.effects, &gradient, k),
            "patching_atp": agreement(&map.effects, &atp, k),
        }),
    );
    Ok(out)
}

fn run_patching(
    model: &Model,
    clean: &[u32],
    corrupt: &[u32],
    from: u32,
    to: u32,
    heads: bool,
) -> Result<PatchJob, String> {
    let mut job = block_on(PatchJob::new(model, clean, corrupt, from, to))?;
    if heads {
        job = job.with_heads(model);
    }
    while !job.is_done() {
        block_on(job.step(model))?;
        let (done, all) = job.progress();
        eprint!("\rpatching: block {done} of {all}   ");
    }
    eprintln!();
    Ok(job)
}

fn site_rows(values: &[f32], shape: MapShape) -> Value {
    json!({ "attn_out": shape.rows(values, Site::AttnOut), "mlp_out": shape.rows(values, Site::MlpOut) })
}

fn patch_json(map: &PatchMap, shape: MapShape) -> Value {
    let mut out = json!({
        "delta_clean": map.delta_clean,
        "delta_corrupt": map.delta_corrupt,
        "attn_out": shape.rows(&map.effects, Site::AttnOut),
        "mlp_out": shape.rows(&map.effects, Site::MlpOut),
    });
    if let Some(heads) = &map.heads {
        out["attn_head"] = json!(heads.shape.nested(&heads.values));
    }
    out
}

/// A per-head map as a table: layers × heads, each the effect of largest magnitude over
/// positions, and at which position.
fn print_heads(map: &HeadMap, tokens: &[String]) {
    let s = map.shape;
    println!("attn_head (largest effect over positions, at token):");
    println!("{:>8}: {}", "layer", (0..s.n_heads).map(|h| format!("{:>16}", format!("head {h}"))).collect::<String>());
    for l in 0..s.n_layers {
        let cells = (0..s.n_heads).map(|h| {
            let row = &map.values[s.index(l, h, 0)..s.index(l, h, 0) + s.positions];
            let p = (0..row.len()).max_by(|&a, &b| row[a].abs().total_cmp(&row[b].abs()).then(b.cmp(&a))).unwrap_or(0);
            let token = tokens.get(p).map_or(String::new(), |t| format!("{t:.7}"));
            format!("{:>16}", format!("{:+.3} {token}", row.get(p).copied().unwrap_or(0.0)))
        });
        println!("{l:>8}: {}", cells.collect::<String>());
    }
}

/// SteerVec's two maps as tables: site, layer, then one column per token.
fn print_directions(out: &Value, tokens: &[String]) {
    for (map, title) in [("norm", "‖v‖"), ("cos", "cos(v, h), mean over the prompts")] {
        println!("{title}");
        for site in Site::ALL {
            println!("{:>8}: {}", site.name(), tokens.iter().map(|t| format!("{t:>9.9}")).collect::<String>());
            for (l, row) in out[map][site.name()].as_array().into_iter().flatten().enumerate() {
                let cells =
                    row.as_array().into_iter().flatten().map(|x| format!("{:>9.3}", x.as_f64().unwrap_or(f64::NAN)));
                println!("{l:>8}: {}", cells.collect::<String>());
            }
        }
    }
}

fn print_probes(found: &Interpretation, out: &Value) {
    let k_star = found.k_star.map_or("none".into(), |k| k.to_string());
    println!(
        "{} probes produce α; k* = {k_star} (the fewest top probes that flip every prompt both ways)",
        found.probes.len()
    );
    println!("{:>4} {:<8} {:>5} {:>10} {:>9} {:>9}", "rank", "site", "layer", "mean |α|", "LOO Δ+", "LOO Δ−");
    for (i, p) in found.probes.iter().take(20).enumerate() {
        println!(
            "{:>4} {:<8} {:>5} {:>10.4} {:>9.2} {:>9.2}",
            i + 1,
            p.site.name(),
            p.layer,
            p.mean_abs_alpha,
            p.loo_delta_pos,
            p.loo_delta_neg
        );
    }
    print_keep_k(found, out);
}

fn print_interpretation(found: &Interpretation, out: &Value) {
    let k_star = found.k_star.map_or("none".into(), |k| k.to_string());
    println!(
        "{} non-zero units; k* = {k_star} (the fewest top units that flip every prompt both ways)",
        found.units.len()
    );
    println!(
        "{:>4} {:<9} {:>5} {:>4} {:<12} {:>8} {:>9} {:>9}",
        "rank", "site", "layer", "pos", "token", "α", "LOO Δ+", "LOO Δ−"
    );
    for (i, u) in found.units.iter().take(20).enumerate() {
        println!(
            "{:>4} {:<9} {:>5} {:>4} {:<12} {:>8.3} {:>9.2} {:>9.2}",
            i + 1,
            u.unit.site.name(),
            u.unit.head.map_or(u.unit.layer.to_string(), |h| format!("{}.{h}", u.unit.layer)),
            u.unit.position,
            format!("{:?}", u.token),
            u.alpha,
            u.loo_delta_pos,
            u.loo_delta_neg
        );
    }
    print_keep_k(found, out);
}

fn print_keep_k(found: &Interpretation, out: &Value) {
    println!("{:>4} {:>6} {:>8} {:>8} {:>7} {:>7}", "k", "flip", "Δ+", "Δ−", "KL+", "KL−");
    for p in &found.keep_k {
        let m = &p.metrics;
        println!(
            "{:>4} {:>5.0}% {:>8.2} {:>8.2} {:>7.3} {:>7.3}",
            p.k,
            100.0 * m.flip_rate,
            m.delta_pos,
            m.delta_neg,
            m.kl_pos,
            m.kl_neg
        );
    }
    if let Some(a) = out.get("agreement") {
        println!("agreement (Spearman ρ of |values|, top-k* overlap): {a}");
    }
}

#[derive(Args)]
pub struct PatchArgs {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    prompt: String,
    /// The corrupted prompt (same number of tokens).
    #[arg(long)]
    corrupt: String,
    #[arg(long)]
    from: String,
    #[arg(long)]
    to: String,
    /// Patch each attention head's output too: adds `attn_head`, [layer][head][position].
    #[arg(long)]
    heads: bool,
    #[arg(long)]
    json: bool,
}

pub fn patch(a: PatchArgs) -> Result<(), String> {
    let model = super::load_model(&a.model)?;
    let clean = pair(&model.tokenizer, &a.prompt, &a.from, &a.to)?;
    let corrupt = pair(&model.tokenizer, &a.corrupt, &a.from, &a.to)?;
    if clean.ids.len() != corrupt.ids.len() {
        return Err(format!(
            "the prompt has {} tokens and the corrupted prompt {}: patching needs the same number",
            clean.ids.len(),
            corrupt.ids.len()
        ));
    }
    let map = run_patching(&model, &clean.ids, &corrupt.ids, clean.from, clean.to, a.heads)?.result();
    let shape = map.shape;
    let tokens: Vec<String> = clean.ids.iter().map(|&i| model.tokenizer.token_text(i)).collect();
    let mut out = patch_json(&map, shape);
    out["tokens"] = json!(tokens);
    if a.json {
        println!("{out}");
    } else {
        println!(
            "Δ clean {:+.3}, Δ corrupted {:+.3}; effect of patching each unit on Δ:",
            map.delta_clean, map.delta_corrupt
        );
        for site in Site::ALL {
            println!("{}: {}", site.name(), tokens.iter().map(|t| format!("{t:>9.9}")).collect::<String>());
            for (l, row) in shape.rows(&map.effects, site).iter().enumerate() {
                println!("{l:>8}: {}", row.iter().map(|e| format!("{e:>9.3}")).collect::<String>());
            }
        }
        if let Some(heads) = &map.heads {
            print_heads(heads, &tokens);
        }
    }
    Ok(())
}
