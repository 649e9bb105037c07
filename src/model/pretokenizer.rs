//! The pre-tokenizer of a byte-level BPE vocabulary, chosen by the GGUF key `tokenizer.ggml.pre`.
//!
//! A pre-tokenizer cuts a text into pieces before BPE runs on each piece (no merge crosses a
//! piece boundary), so the same vocabulary gives different ids under different pre-tokenizers:
//! `"12345"` is `1|2|3|4|5` under `smollm` and `qwen2`, `12345` under `gpt-2` and `123|45` under
//! `llama-bpe` and `default`. The names and regexes are llama.cpp's (`src/llama-vocab.cpp`,
//! `llama_vocab::impl::load` and `llm_tokenizer_bpe`, as vendored in llama-cpp-python 0.3.36):
//! each regex of a pre-tokenizer's list splits every piece of the previous one into its matches
//! and the text between them ([`Pretokenizer::regexes`]).
//!
//! * A **missing** key is llama.cpp's `default` pre-tokenizer ([`Pretokenizer::MISSING`]): it
//!   warns "missing pre-tokenizer type, using: 'default'" and loads the file, and so do we — many
//!   older GGUFs lack the key. Note that llama.cpp's `default` is not the plain GPT-2 regex: it
//!   first isolates punctuation runs and then splits numbers into groups of three digits.
//! * A **present** value that is not listed in [`GGUF_NAMES`] is an error naming it, never a
//!   silent fallback: a wrong pre-tokenizer gives wrong ids without any other sign.
//!
//! `tests/pretokenizer.rs` checks every pre-tokenizer against the PyPI `tokenizers` package
//! (Oniguruma regexes, built from llama.cpp's lists) on the real SmolLM2 vocabulary.

use tokenizers::SplitDelimiterBehavior;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};

use super::error::ModelError;
use super::gguf::Gguf;
use super::tokenizer::TokenizerError;

/// The GGUF metadata key that names the pre-tokenizer.
pub const GGUF_KEY: &str = "tokenizer.ggml.pre";

/// llama.cpp's GPT-2 regex.
const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
/// llama.cpp's Transformer 3 regex (`(?i:'s|…)` of the HF tokenizer.json spelt out case by case).
const LLAMA3: &str = concat!(
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+",
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
);
/// llama.cpp's Qwen2 regex: Transformer 3's with single digits (`\p{N}`) instead of `\p{N}{1,3}`.
const QWEN2: &str = concat!(
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+",
    r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
);

/// A supported pre-tokenizer (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pretokenizer {
    /// `smollm` (SmolLM2) and the names llama.cpp treats alike: every digit alone (`\p{N}`),
    /// then the GPT-2 regex.
    Smollm,
    /// `gpt-2`: the GPT-2 regex alone.
    Gpt2,
    /// `llama-bpe` (Transformer 3): the Transformer 3 regex (numbers in groups of up to three digits), and
    /// BPE with `ignore_merges` (a piece that is a whole token is that token).
    LlamaBpe,
    /// `qwen2`: the Transformer 3 regex with every digit alone.
    Qwen2,
    /// llama.cpp's `default`, used for a missing key: punctuation runs
    /// (`[\p{P}\$\+<=>\^~\|]+`), then the GPT-2 regex, then `\p{N}+`, then `[0-9][0-9][0-9]`.
    Default,
}

/// Every accepted `tokenizer.ggml.pre` value. The first name of each pre-tokenizer is its own
/// ([`Pretokenizer::name`]); the others are the names llama.cpp gives the same regex list and
/// merge behaviour (they differ there only in detokenisation or BOS/EOS settings).
pub const GGUF_NAMES: &[(&str, Pretokenizer)] = &[
    ("smollm", Pretokenizer::Smollm),
    ("starcoder", Pretokenizer::Smollm),
    ("refact", Pretokenizer::Smollm),
    ("command-r", Pretokenizer::Smollm),
    ("codeshell", Pretokenizer::Smollm),
    ("exaone", Pretokenizer::Smollm),
    ("minerva-7b", Pretokenizer::Smollm),
    ("gpt-2", Pretokenizer::Gpt2),
    ("phi-2", Pretokenizer::Gpt2),
    ("mpt", Pretokenizer::Gpt2),
    ("olmo", Pretokenizer::Gpt2),
    ("jais", Pretokenizer::Gpt2),
    ("trillion", Pretokenizer::Gpt2),
    ("exaone4", Pretokenizer::Gpt2),
    ("gigachat", Pretokenizer::Gpt2),
    ("mellum", Pretokenizer::Gpt2),
    ("a.x-4.0", Pretokenizer::Gpt2),
    ("llama-bpe", Pretokenizer::LlamaBpe),
    ("llama3", Pretokenizer::LlamaBpe),
    ("llama-v3", Pretokenizer::LlamaBpe),
    ("falcon3", Pretokenizer::LlamaBpe),
    ("falcon-h1", Pretokenizer::LlamaBpe),
    ("pixtral", Pretokenizer::LlamaBpe),
    ("midm-2.0", Pretokenizer::LlamaBpe),
    ("lfm2", Pretokenizer::LlamaBpe),
    ("qwen2", Pretokenizer::Qwen2),
    ("deepseek-r1-qwen", Pretokenizer::Qwen2),
    ("megrez", Pretokenizer::Qwen2),
    ("stablelm2", Pretokenizer::Qwen2),
    ("hunyuan", Pretokenizer::Qwen2),
    ("default", Pretokenizer::Default),
];

impl Pretokenizer {
    /// All supported pre-tokenizers.
    pub const ALL: [Pretokenizer; 5] =
        [Pretokenizer::Smollm, Pretokenizer::Gpt2, Pretokenizer::LlamaBpe, Pretokenizer::Qwen2, Pretokenizer::Default];

    /// The pre-tokenizer of a GGUF without `tokenizer.ggml.pre`: llama.cpp's `default` (which
    /// llama.cpp also uses then, with a warning), so that older files keep loading.
    pub const MISSING: Pretokenizer = Pretokenizer::Default;

    /// The pre-tokenizer a `tokenizer.ggml.pre` value names, or a message naming the value and
    /// listing the supported ones. Names are case-sensitive, as in llama.cpp.
    pub fn from_gguf_name(name: &str) -> Result<Self, String> {
        GGUF_NAMES.iter().find(|(n, _)| *n == name).map(|&(_, p)| p).ok_or_else(|| {
            format!(
                "the tokenizer's pre-tokenizer {name:?} ({GGUF_KEY}) is not supported; \
                 supported: {}",
                supported_list()
            )
        })
    }

    /// The pre-tokenizer of a parsed GGUF: [`Pretokenizer::MISSING`] without the key, an error
    /// for a value that is not a string or not a supported name.
    pub fn from_gguf(g: &Gguf) -> Result<Self, ModelError> {
        match g.metadata(GGUF_KEY) {
            None => Ok(Self::MISSING),
            Some(_) => Self::from_gguf_name(g.get_str(GGUF_KEY)?).map_err(ModelError::BadConfig),
        }
    }

    /// The `tokenizer.ggml.pre` value of this pre-tokenizer, e.g. `"llama-bpe"`.
    pub fn name(self) -> &'static str {
        match self {
            Pretokenizer::Smollm => "smollm",
            Pretokenizer::Gpt2 => "gpt-2",
            Pretokenizer::LlamaBpe => "llama-bpe",
            Pretokenizer::Qwen2 => "qwen2",
            Pretokenizer::Default => "default",
        }
    }

    /// llama.cpp's regex list for this pre-tokenizer, applied one after the other.
    ///
    /// `smollm` and `gpt-2` are built as in SmolLM2's HF `tokenizer.json` instead
    /// (`Digits(individual_digits)` and `ByteLevel(use_regex)`, whose regex is GPT-2's with a
    /// final `|\s+`); that gives the same pieces (a whitespace run that `\s+(?!\S)` leaves
    /// unmatched is a piece of its own either way): `tests/pretokenizer.rs` compares the pieces
    /// with the fixtures, and the script that writes them checks it on random texts too.
    pub fn regexes(self) -> &'static [&'static str] {
        match self {
            Pretokenizer::Smollm => &[r"\p{N}", GPT2],
            Pretokenizer::Gpt2 => &[GPT2],
            Pretokenizer::LlamaBpe => &[LLAMA3],
            Pretokenizer::Qwen2 => &[QWEN2],
            Pretokenizer::Default => &[r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
        }
    }

    /// Whether BPE takes a piece that is itself a token as that token without merging
    /// (llama.cpp's `ignore_merges`, set for the Transformer 3 family; HF's BPE `ignore_merges`).
    pub fn ignore_merges(self) -> bool {
        self == Pretokenizer::LlamaBpe
    }

    /// The `tokenizers` pre-tokenizer: the regex splits, then the byte-level mapping (bytes to
    /// the GPT-2 byte alphabet, no prefix space).
    pub fn build(self) -> Result<PreTokenizerWrapper, TokenizerError> {
        let byte_level = |use_regex| PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, use_regex));
        Ok(match self {
            Pretokenizer::Smollm => PreTokenizerWrapper::Sequence(Sequence::new(vec![
                PreTokenizerWrapper::Digits(Digits::new(true)),
                byte_level(true),
            ])),
            Pretokenizer::Gpt2 => byte_level(true),
            Pretokenizer::LlamaBpe | Pretokenizer::Qwen2 | Pretokenizer::Default => {
                let mut steps = self.regexes().iter().map(|r| split(r)).collect::<Result<Vec<_>, _>>()?;
                steps.push(byte_level(false));
                PreTokenizerWrapper::Sequence(Sequence::new(steps))
            }
        })
    }
}

/// A regex split that keeps both the matches and the text between them as pieces.
fn split(regex: &str) -> Result<PreTokenizerWrapper, TokenizerError> {
    Split::new(SplitPattern::Regex(regex.to_string()), SplitDelimiterBehavior::Isolated, false)
        .map(PreTokenizerWrapper::Split)
        .map_err(|e| TokenizerError::Build(format!("the pre-tokenizer regex {regex:?} is invalid: {e}")))
}

/// "smollm (also starcoder, …), gpt-2 (also …), …, default".
fn supported_list() -> String {
    Pretokenizer::ALL
        .iter()
        .map(|&p| {
            let aliases: Vec<&str> =
                GGUF_NAMES.iter().filter(|&&(n, q)| q == p && n != p.name()).map(|&(n, _)| n).collect();
            if aliases.is_empty() {
                p.name().to_string()
            } else {
                format!("{} (also {})", p.name(), aliases.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
