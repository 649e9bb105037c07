//! Task flags shared by `train`, `eval`, `sweep` and `compare`.

use clap::Args;

use actscale::model::Model;
use actscale::steer::prompts::Example;
use actscale::tasks;

#[derive(Args, Clone)]
pub struct TaskArgs {
    /// pair (one prompt, --prompt/--from/--to), ccc, ioi (template 0), ioi-mixed (train on
    /// templates 0-2, test on the held-out template 3: other words, another length; DynScalar only)
    #[arg(long, default_value = "pair")]
    pub task: String,
    #[arg(long)]
    pub prompt: Option<String>,
    /// The answer the model prefers, as text with its leading space (" Italy").
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<String>,
    /// The answer to steer to (" France").
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Share of a task's prompts held out for testing.
    #[arg(long, default_value_t = tasks::TEST_SHARE)]
    pub test_share: f32,
    /// Prompts per IOI template.
    #[arg(long, default_value_t = tasks::IOI_PER_TEMPLATE)]
    pub per_template: usize,
}

/// (train, test) prompts of the task.
pub fn build(model: &Model, a: &TaskArgs) -> Result<(Vec<Example>, Vec<Example>), String> {
    let tok = &model.tokenizer;
    match a.task.as_str() {
        "pair" => {
            let need = |v: &Option<String>, flag: &str| v.clone().ok_or_else(|| format!("--task pair needs {flag}"));
            let ex = tasks::pair::pair(
                tok,
                &need(&a.prompt, "--prompt")?,
                &need(&a.from, "--from")?,
                &need(&a.to, "--to")?,
            )?;
            Ok((vec![ex], vec![]))
        }
        "ccc" => tasks::ccc::ccc(tok, a.seed, a.test_share),
        "ioi" => tasks::ioi::ioi(tok, &[0], a.per_template, a.seed, a.test_share),
        "ioi-mixed" => tasks::ioi::mixed(tok, a.per_template, a.seed),
        other => Err(format!("unknown task {other:?}: use pair, ccc, ioi or ioi-mixed")),
    }
}
