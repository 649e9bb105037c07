//! A loaded model: the transformer weights on a device and the tokenizer from the same GGUF.

use burn::tensor::Device;

use super::error::ModelError;
use super::gguf::Gguf;
use super::pretokenizer::Pretokenizer;
use super::tokenizer::Tokenizer;
use super::transformer::Transformer;

pub struct Model {
    pub net: Transformer,
    pub tokenizer: Tokenizer,
}

impl Model {
    /// Parses a GGUF file's bytes and loads the model onto `device`.
    pub fn from_bytes(bytes: Vec<u8>, device: &Device) -> Result<Model, ModelError> {
        Model::from_gguf(&Gguf::parse(bytes)?, device)
    }

    /// Loads a parsed GGUF onto `device`.
    pub fn from_gguf(g: &Gguf, device: &Device) -> Result<Model, ModelError> {
        let tokenizer = tokenizer_from_gguf(g)?;
        let net = Transformer::from_gguf(g, device)?;
        if tokenizer.vocab_size() != net.config.vocab_size {
            return Err(ModelError::BadConfig(format!(
                "the tokenizer has {} tokens but the embedding has {} rows",
                tokenizer.vocab_size(),
                net.config.vocab_size
            )));
        }
        Ok(Model { net, tokenizer })
    }
}

/// The byte-level BPE tokenizer stored in a GGUF's metadata, with the pre-tokenizer that
/// `tokenizer.ggml.pre` names. Without that key it is llama.cpp's `default` (as llama.cpp does,
/// so that older files keep loading); a value we do not support is an error naming it
/// ([`Pretokenizer::from_gguf`]).
pub fn tokenizer_from_gguf(g: &Gguf) -> Result<Tokenizer, ModelError> {
    check_tokenizer_model(g)?;
    tokenizer_from_gguf_with(g, Pretokenizer::from_gguf(g)?)
}

/// [`tokenizer_from_gguf`] with the pre-tokenizer `pre` instead of the one the file names.
pub fn tokenizer_from_gguf_with(g: &Gguf, pre: Pretokenizer) -> Result<Tokenizer, ModelError> {
    let strings = |key: &str| -> Result<Vec<String>, ModelError> {
        g.metadata(key)
            .and_then(|v| v.as_string_vec())
            .ok_or_else(|| super::gguf::GgufError::MissingMetadata(key.to_string()).into())
    };
    check_tokenizer_model(g)?;
    let tokens = strings("tokenizer.ggml.tokens")?;
    let merges = strings("tokenizer.ggml.merges")?;
    let types = g.metadata("tokenizer.ggml.token_type").and_then(|v| v.as_i32_vec());
    Ok(Tokenizer::from_vocab_merges(tokens, merges, types, pre)?)
}

/// Only GPT-2 style byte-level BPE (`tokenizer.ggml.model` "gpt2", the default) is supported.
fn check_tokenizer_model(g: &Gguf) -> Result<(), ModelError> {
    let model = g.get_str("tokenizer.ggml.model").unwrap_or("gpt2");
    if model != "gpt2" {
        return Err(ModelError::BadConfig(format!(
            "tokenizer type {model:?} is not supported (only GPT-2 style byte-level BPE)"
        )));
    }
    Ok(())
}
