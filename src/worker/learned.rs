//! The intervention in use (learned here, edited by hand, or restored from a link or file) and
//! what the page asks of it: steered predictions, continuations, edits, export.

use actscale::model::Model;
use actscale::model::predict::{last_logits_hooked, top_k};
use actscale::model::site::Site;
use actscale::protocol::{AppliedState, EngineError, MAX_NEW_TOKENS, Prediction, Response, TaskChoice, TrainRequest};
use actscale::readback::to_vec;
use actscale::steer::generate::greedy;
use actscale::steer::heat::heat;
use actscale::steer::hyper::Method;
use actscale::steer::prompts::Example;
use actscale::steer::saved::{MAX_PROMPT_TOKENS, SavedIntervention};
use actscale::tasks::roles;

use super::state::{Engine, Learned};

fn no_prediction(prompt: String, error: String) -> Prediction {
    Prediction { prompt, ids: vec![], tokens: vec![], top: vec![], error: Some(error) }
}

/// Top-k of `prompt` with the intervention at `beta`.
pub async fn steer(e: &Engine, prompt: String, beta: f32, k: usize) -> Response {
    let fail = |prompt, error| Response::Steered { beta, prediction: no_prediction(prompt, error) };
    let Some(model) = e.model() else { return fail(prompt, "the model is not loaded yet".into()) };
    let Some(l) = e.learned() else { return fail(prompt, "nothing learned yet: press Train".into()) };
    if !beta.is_finite() || !(-1.0..=1.0).contains(&beta) {
        return fail(prompt, format!("β must be between −1 and 1, not {beta}"));
    }
    let ids = match model.tokenizer.encode(&prompt) {
        Ok(ids) => ids,
        Err(e) => return fail(prompt, e.to_string()),
    };
    let c = &model.net.config;
    if let Err(e) = l.iv.check_fits((c.n_layers, c.d_model, c.n_heads), ids.len()) {
        return fail(prompt, e);
    }
    let tokens = ids.iter().map(|&i| model.tokenizer.token_text(i)).collect();
    match last_logits_hooked(&model, &ids, &l.iv.hook(&[beta])).await {
        Ok(logits) => Response::Steered {
            beta,
            prediction: Prediction { prompt, ids, tokens, top: top_k(&logits, k, &model.tokenizer), error: None },
        },
        Err(e) => fail(prompt, e.to_string()),
    }
}

/// Greedy continuations of `prompt` without and (when there is one) with the intervention.
pub async fn generate(e: &Engine, prompt: String, n: usize, beta: f32) -> Response {
    let fail = |prompt, error| Response::Generated { prompt, plain: String::new(), steered: None, error: Some(error) };
    let Some(model) = e.model() else { return fail(prompt, "the model is not loaded yet".into()) };
    if !(1..=MAX_NEW_TOKENS).contains(&n) {
        return fail(prompt, format!("a continuation has 1 to {MAX_NEW_TOKENS} tokens, not {n}"));
    }
    let ids = match model.tokenizer.encode(&prompt) {
        Ok(ids) if !ids.is_empty() => ids,
        Ok(_) => return fail(prompt, "type a prompt first".into()),
        Err(e) => return fail(prompt, e.to_string()),
    };
    let plain = match greedy(&model, &ids, n, None).await {
        Ok(new) => model.tokenizer.decode(&new),
        Err(e) => return fail(prompt, e),
    };
    let (steered, error) = match e.learned() {
        None => (None, Some("nothing learned yet: the steered continuation appears after training".to_string())),
        Some(_) if !beta.is_finite() || !(-1.0..=1.0).contains(&beta) => {
            (None, Some(format!("β must be between −1 and 1, not {beta}")))
        }
        Some(l) => match greedy(&model, &ids, n, Some((&l.iv, beta))).await {
            Ok(new) => (Some(model.tokenizer.decode(&new)), None),
            Err(e) => (None, Some(e)),
        },
    };
    Response::Generated { prompt, plain, steered, error }
}

/// Sets one ActivScalar α (a hand edit) and answers with the new heatmap.
pub async fn set_scalar(e: &Engine, site: Site, layer: usize, position: usize, value: f32) -> Response {
    let (Some(model), Some(l)) = (e.model(), e.learned()) else {
        return Response::Error(EngineError::Refused("nothing learned yet: train first".into()));
    };
    if l.iv.method != Method::ActivScalar {
        return Response::Error(EngineError::Refused(format!(
            "hand edits work on activ-scalar; this intervention is {}",
            l.iv.method.name()
        )));
    }
    if !value.is_finite() || value.abs() > 100.0 {
        return Response::Error(EngineError::Refused(format!("α must be a number between −100 and 100, not {value}")));
    }
    if layer >= l.iv.n_layers || position >= l.iv.n_positions {
        return Response::Error(EngineError::Refused(format!(
            "there is no layer {layer}, token {position} in this intervention"
        )));
    }
    let mut values = match to_vec(l.iv.params.clone()).await {
        Ok(v) => v,
        Err(e) => return Response::Error(EngineError::Failed(e.to_string())),
    };
    let mask = to_vec(l.iv.mask.clone()).await.unwrap_or_default();
    let i = (site.index() * l.iv.n_layers + layer) * l.iv.n_positions + position;
    if mask.get(i).copied().unwrap_or(0.0) == 0.0 && value != 0.0 {
        return Response::Error(EngineError::Refused(format!(
            "{} is not among the trained sites: tick it and train again",
            site.name()
        )));
    }
    values[i] = value;
    let iv = match l.iv.with_values(values.clone()) {
        Ok(iv) => iv,
        Err(e) => return Response::Error(EngineError::Refused(e)),
    };
    let ids = l.examples.first().map(|e| e.ids.clone()).unwrap_or_default();
    let h = heat(&model, &iv, &ids).await.unwrap_or_default();
    e.set_learned(Learned { iv, request: l.request.clone(), examples: l.examples.clone(), params: values });
    Response::Edited { heat: h }
}

/// The intervention at full precision, naming the model it was made on.
pub async fn export(e: &Engine) -> Response {
    let (Some(info), Some(l)) = (e.model_info(), e.learned()) else {
        return Response::Exported(Err(EngineError::Refused("nothing learned yet: train first".into())));
    };
    let saved = SavedIntervention::from_intervention(&l.iv, &l.request.hyper, l.request.task.name(), &l.examples).await;
    Response::Exported(
        saved
            .map(|mut s| {
                s.model = Some(info.id);
                s.seed = l.request.recorded_seed();
                s
            })
            .map_err(EngineError::Failed),
    )
}

/// The intervention in use from its host copy, naming the model (none when nothing is learned).
pub fn host_copy(e: &Engine) -> Option<SavedIntervention> {
    let (info, l) = (e.model_info()?, e.learned()?);
    let mut saved =
        SavedIntervention::with_params(&l.iv, &l.request.hyper, l.request.task.name(), &l.examples, l.params.clone());
    saved.model = Some(info.id);
    saved.seed = l.request.recorded_seed();
    Some(saved)
}

/// Uses an intervention from a link or a file, after checking it fits the loaded model.
pub async fn apply(e: &Engine, saved: SavedIntervention) -> Response {
    // A link or file that does not fit this model is refused, with the reason.
    Response::Applied(apply_checked(e, saved).await.map_err(EngineError::Refused))
}

async fn apply_checked(e: &Engine, mut saved: SavedIntervention) -> Result<AppliedState, String> {
    let (Some(model), Some(info)) = (e.model(), e.model_info()) else {
        return Err("the model is not loaded yet".into());
    };
    saved.validate()?;
    match &saved.model {
        Some(id) => id.check(&info.id)?,
        None => {} // files from older versions name no model; the size checks below still apply
    }
    retokenize(&model, &mut saved.examples)?;
    let first = saved.examples.first().ok_or("the intervention has no prompt")?;
    if saved.method.positional() && first.ids.len() != saved.n_positions {
        return Err(format!(
            "the prompt {:?} is {} tokens with this model's tokenizer, but the intervention has {} positions",
            first.text,
            first.ids.len(),
            saved.n_positions
        ));
    }
    let iv = saved.to_intervention(&model.net.config, model.net.device())?;
    let h = heat(&model, &iv, &first.ids).await?;
    let tok = &model.tokenizer;
    let request = TrainRequest {
        task: TaskChoice::parse(&saved.task).unwrap_or_default(),
        seed: saved.seed.unwrap_or(0),
        prompt: first.text.clone(),
        from: tok.token_text(first.from),
        to: tok.token_text(first.to),
        method: saved.method,
        sites: saved.selection.sites.clone(),
        hyper: saved.hyper.clone(),
        until_converged: true,
    };
    let state = AppliedState {
        task: request.task,
        prompt: request.prompt.clone(),
        from: request.from.clone(),
        to: request.to.clone(),
        tokens: roles::labelled(request.task, first, first.ids.iter().map(|&i| tok.token_text(i)).collect()),
        heat: h,
        saved: saved.clone(),
    };
    e.set_learned(Learned { iv, request, examples: saved.examples, params: saved.params.clone() });
    Ok(state)
}

/// Links carry prompt text, not token ids: tokenise here, and check the answers are tokens.
fn retokenize(model: &Model, examples: &mut [Example]) -> Result<(), String> {
    let vocab = model.tokenizer.vocab_size() as u32;
    for e in examples.iter_mut() {
        if e.from >= vocab || e.to >= vocab {
            return Err(format!("an answer token id is outside this model's vocabulary ({vocab} tokens)"));
        }
        let ids = model.tokenizer.encode(&e.text).map_err(|e| e.to_string())?;
        if ids.len() > MAX_PROMPT_TOKENS {
            return Err(format!(
                "a prompt in it has {} tokens with this model; at most {MAX_PROMPT_TOKENS} (the most training takes)",
                ids.len()
            ));
        }
        if !e.ids.is_empty() && e.ids != ids {
            return Err(format!("the prompt {:?} tokenises differently with this model", e.text));
        }
        e.ids = ids;
    }
    Ok(())
}
