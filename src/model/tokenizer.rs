//! GPT-2 style byte-level BPE tokenizer built from GGUF metadata.
//!
//! A GGUF file carries its tokenizer as plain metadata: `tokenizer.ggml.tokens` (the vocab
//! strings, id = index), `tokenizer.ggml.merges` (`"a b"` strings, rank = index) and optionally
//! `tokenizer.ggml.token_type` (one `i32` per token, llama.cpp's `llama_token_type`). This module
//! turns that into a [`tokenizers::Tokenizer`]:
//!
//! * pre-tokenizer: the one `tokenizer.ggml.pre` names ([`Pretokenizer`]; SmolLM2's `smollm`
//!   splits off every digit, then applies the GPT-2 regex), then the byte-level mapping;
//! * model: BPE over the vocab and merges (no unk token, no dropout — byte level, so every byte
//!   has a token; `ignore_merges` where the pre-tokenizer asks for it, as for Transformer 3);
//! * decoder: ByteLevel; no normalizer and no post-processor (no BOS, no prefix space).
//!
//! Control tokens (`token_type == 3`, e.g. `<|im_start|>`) and user-defined tokens (`4`) are
//! registered as added tokens, so their literal text in the input maps to their id, as llama.cpp
//! does with `special = true`.
//!
//! Nothing here panics on input: malformed vocabularies give [`TokenizerError`] at build time and
//! text the vocabulary cannot represent gives an error from [`Tokenizer::encode`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use tokenizers::decoders::DecoderWrapper;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BPE, Merges, Vocab};
use tokenizers::{AddedToken, ModelWrapper};

use super::pretokenizer::Pretokenizer;

/// llama.cpp `LLAMA_TOKEN_TYPE_UNKNOWN`.
pub const TOKEN_TYPE_UNKNOWN: i32 = 2;
/// llama.cpp `LLAMA_TOKEN_TYPE_CONTROL` (e.g. `<|im_start|>`, `<|endoftext|>`).
pub const TOKEN_TYPE_CONTROL: i32 = 3;
/// llama.cpp `LLAMA_TOKEN_TYPE_USER_DEFINED`.
pub const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// Why a tokenizer could not be built or a text could not be encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenizerError {
    /// The `tokenizers` crate refused the configuration (message from it).
    Build(String),
    /// Encoding a text failed.
    Encode(String),
    /// The vocabulary has no tokens.
    EmptyVocab,
    /// The vocabulary has more tokens than a `u32` id can address.
    VocabTooLarge(usize),
    /// `tokenizer.ggml.token_type` does not have one entry per token.
    TokenTypeCount { tokens: usize, types: usize },
    /// A merge rule is malformed or names a token that is not in the vocabulary.
    BadMerge { index: usize, merge: String, reason: String },
}

impl fmt::Display for TokenizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenizerError::Build(msg) => write!(f, "could not build the tokenizer: {msg}"),
            TokenizerError::Encode(msg) => write!(f, "could not tokenize the text: {msg}"),
            TokenizerError::EmptyVocab => {
                write!(f, "the model's tokenizer vocabulary is empty (no tokenizer.ggml.tokens)")
            }
            TokenizerError::VocabTooLarge(n) => {
                write!(f, "the tokenizer vocabulary has {n} tokens, more than a 32-bit id allows")
            }
            TokenizerError::TokenTypeCount { tokens, types } => {
                write!(f, "the tokenizer has {tokens} tokens but {types} token types; they must match")
            }
            TokenizerError::BadMerge { index, merge, reason } => {
                write!(f, "tokenizer merge rule #{index} ({merge:?}) is invalid: {reason}")
            }
        }
    }
}

impl std::error::Error for TokenizerError {}

/// GPT-2 `bytes_to_unicode`: the printable character that stands for each byte in a byte-level
/// BPE vocabulary (e.g. b' ' -> 'Ġ').
static BYTE_TO_CHAR: LazyLock<[char; 256]> = LazyLock::new(|| {
    let mut table = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
        let code = if printable {
            u32::from(b)
        } else {
            n += 1;
            255 + n
        };
        // All codes are below 0x200, so always valid scalar values.
        table[usize::from(b)] = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
    }
    table
});

/// Inverse of [`BYTE_TO_CHAR`].
static CHAR_TO_BYTE: LazyLock<HashMap<char, u8>> =
    LazyLock::new(|| BYTE_TO_CHAR.iter().enumerate().map(|(b, &c)| (c, b as u8)).collect());

/// The bytes a byte-level vocab string stands for. Strings with a character outside the byte
/// alphabet are taken literally (as the HF ByteLevel decoder does).
fn byte_level_bytes(token: &str, out: &mut Vec<u8>) {
    let start = out.len();
    for c in token.chars() {
        match CHAR_TO_BYTE.get(&c) {
            Some(&b) => out.push(b),
            None => {
                out.truncate(start);
                out.extend_from_slice(token.as_bytes());
                return;
            }
        }
    }
}

/// A byte-level BPE tokenizer (see the module docs).
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    /// Raw vocab strings (byte-level alphabet), id = index.
    tokens: Vec<String>,
    /// Ids registered as added tokens (control / user-defined): their text is taken literally.
    added: Vec<bool>,
    /// Bytes that have no single-byte token; text containing them may not encode losslessly.
    missing_bytes: Vec<u8>,
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.tokens.len())
            .field("added_tokens", &self.added.iter().filter(|&&a| a).count())
            .field("missing_bytes", &self.missing_bytes.len())
            .finish()
    }
}

impl Tokenizer {
    /// GPT-2 byte-level BPE built from a GGUF's `tokenizer.ggml.tokens` (vocab strings,
    /// id = index), `tokenizer.ggml.merges` (`"a b"` strings, rank = index) and optional
    /// `tokenizer.ggml.token_type` (i32 per token; 3 = CONTROL and 4 = USER_DEFINED are
    /// registered as added tokens, so `"<|im_start|>"` in a text maps to its id; 1 = normal),
    /// pre-tokenized by `pre` (the file's `tokenizer.ggml.pre`: [`Pretokenizer::from_gguf`]).
    pub fn from_vocab_merges(
        tokens: Vec<String>,
        merges: Vec<String>,
        token_types: Option<Vec<i32>>,
        pre: Pretokenizer,
    ) -> Result<Self, TokenizerError> {
        if tokens.is_empty() {
            return Err(TokenizerError::EmptyVocab);
        }
        if u32::try_from(tokens.len()).is_err() {
            return Err(TokenizerError::VocabTooLarge(tokens.len()));
        }
        if let Some(types) = &token_types {
            if types.len() != tokens.len() {
                return Err(TokenizerError::TokenTypeCount { tokens: tokens.len(), types: types.len() });
            }
        }

        // Vocab: on duplicate strings the last id wins (as in llama.cpp's token_to_id map).
        let mut vocab = Vocab::default();
        for (id, tok) in tokens.iter().enumerate() {
            vocab.insert(tok.clone(), id as u32);
        }

        let merges = parse_merges(&merges, &vocab)?;

        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .ignore_merges(pre.ignore_merges())
            .build()
            .map_err(|e| TokenizerError::Build(e.to_string()))?;

        let mut inner = tokenizers::Tokenizer::new(ModelWrapper::BPE(bpe));
        inner.with_pre_tokenizer(Some(pre.build()?));
        inner.with_decoder(Some(DecoderWrapper::ByteLevel(ByteLevelDecoder::default())));

        let mut added = vec![false; tokens.len()];
        if let Some(types) = &token_types {
            let mut extra = Vec::new();
            for (id, (tok, &ty)) in tokens.iter().zip(types).enumerate() {
                if tok.is_empty() {
                    continue;
                }
                let special = match ty {
                    TOKEN_TYPE_CONTROL | TOKEN_TYPE_UNKNOWN => true,
                    TOKEN_TYPE_USER_DEFINED => false,
                    _ => continue,
                };
                // Only a token whose string maps back to this id (not shadowed by a duplicate).
                if inner.token_to_id(tok) != Some(id as u32) {
                    continue;
                }
                added[id] = true;
                extra.push(AddedToken::from(tok.clone(), special).normalized(false));
            }
            if !extra.is_empty() {
                inner.add_tokens(extra).map_err(|e| TokenizerError::Build(e.to_string()))?;
            }
        }

        let missing_bytes = (0..=255u8)
            .filter(|&b| {
                let s = BYTE_TO_CHAR[usize::from(b)].to_string();
                inner.token_to_id(&s).is_none()
            })
            .collect();

        Ok(Tokenizer { inner, tokens, added, missing_bytes })
    }

    /// Token ids of `text`: no BOS, no prefix space. Control tokens written literally in the
    /// text (e.g. `<|im_start|>`) become their ids. An empty text gives an empty Vec.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let encoding = self.inner.encode_fast(text, false).map_err(|e| TokenizerError::Encode(e.to_string()))?;
        let ids = encoding.get_ids().to_vec();
        // BPE without an unk token silently drops characters it has no token for; that can only
        // happen for bytes with no single-byte token. Check the round trip in that case.
        if !self.missing_bytes.is_empty()
            && text.bytes().any(|b| self.missing_bytes.binary_search(&b).is_ok())
            && self.decode_bytes(&ids) != text.as_bytes()
        {
            let c = text
                .chars()
                .find(|c| {
                    let mut buf = [0u8; 4];
                    c.encode_utf8(&mut buf).bytes().any(|b| self.missing_bytes.binary_search(&b).is_ok())
                })
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(TokenizerError::Encode(format!(
                "the character {c:?} (U+{:04X}) cannot be represented by this model's vocabulary",
                u32::from(c)
            )));
        }
        Ok(ids)
    }

    /// The text of a sequence of ids: byte-level decoded, invalid UTF-8 replaced (lossy).
    /// Added tokens (e.g. `<|im_start|>`) appear literally; ids outside the vocab are skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
    }

    /// The text of one token, e.g. `" Italy"` for 7158 (byte-level decoded; a partial UTF-8
    /// sequence is shown lossily). Empty for an id outside the vocab.
    pub fn token_text(&self, id: u32) -> String {
        self.decode(&[id])
    }

    /// The raw vocab string of one token (byte-level alphabet, e.g. `"ĠItaly"`).
    pub fn raw_token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Whether `id` is a control token (`<|endoftext|>`, `<|im_end|>`, …): generation stops there.
    pub fn is_control(&self, id: u32) -> bool {
        self.added.get(id as usize).copied().unwrap_or(false)
    }

    /// Number of tokens in the vocabulary (ids are `0..vocab_size`).
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The id of `text` when it encodes to exactly one token, e.g. `" France"` -> `Some(4649)`.
    pub fn token_id(&self, text: &str) -> Option<u32> {
        match self.encode(text).ok()?.as_slice() {
            [id] => Some(*id),
            _ => None,
        }
    }

    /// The underlying `tokenizers` tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    fn decode_bytes(&self, ids: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &id in ids {
            let Some(tok) = self.tokens.get(id as usize) else { continue };
            if self.added[id as usize] {
                out.extend_from_slice(tok.as_bytes());
            } else {
                byte_level_bytes(tok, &mut out);
            }
        }
        out
    }
}

/// Splits `"a b"` merge rules and checks that both sides and their concatenation are tokens
/// (the `tokenizers` BPE builder would otherwise error or, for some malformed inputs, panic).
/// Repeated rules keep their first (highest-priority) rank, as llama.cpp does.
fn parse_merges(merges: &[String], vocab: &Vocab) -> Result<Merges, TokenizerError> {
    let mut out: Merges = Vec::with_capacity(merges.len());
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(merges.len());
    for (index, merge) in merges.iter().enumerate() {
        let bad = |reason: String| TokenizerError::BadMerge { index, merge: merge.clone(), reason };
        // Split at the first space after the first character (llama.cpp: find(' ', 1)).
        let Some(pos) = merge.char_indices().skip(1).find_map(|(i, c)| (c == ' ').then_some(i)) else {
            return Err(bad("expected two tokens separated by a space".into()));
        };
        let (a, b) = (&merge[..pos], &merge[pos + 1..]);
        if b.is_empty() {
            return Err(bad("the second token is empty".into()));
        }
        for part in [a, b] {
            if !vocab.contains_key(part) {
                return Err(bad(format!("{part:?} is not in the vocabulary")));
            }
        }
        let joined = format!("{a}{b}");
        if !vocab.contains_key(&joined) {
            return Err(bad(format!("the merged token {joined:?} is not in the vocabulary")));
        }
        if seen.insert((a, b)) {
            out.push((a.to_string(), b.to_string()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gguf::Gguf;
    use crate::model::pretokenizer::Pretokenizer::Smollm;
    use std::path::Path;
    use std::sync::OnceLock;

    const MODEL_PATH: &str = "static/models/smollm2-135m-instruct-q4_1.gguf";

    /// Tokenizer metadata of the real model, read with the crate's GGUF reader (the reader is
    /// tested on its own in `gguf/tests.rs`; token ids are checked against llama.cpp in
    /// `tests/model_reference.rs`).
    struct GgufVocab {
        tokens: Vec<String>,
        merges: Vec<String>,
        token_types: Option<Vec<i32>>,
    }

    fn vocab() -> &'static GgufVocab {
        static V: OnceLock<GgufVocab> = OnceLock::new();
        V.get_or_init(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(MODEL_PATH);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| {
                panic!("model file {} is missing ({e}): run `scripts/setup.sh model` to fetch it", path.display())
            });
            let g = Gguf::parse(bytes).expect("the real model parses");
            let strings =
                |key: &str| g.metadata(key).and_then(|v| v.as_string_vec()).unwrap_or_else(|| panic!("{key}"));
            GgufVocab {
                tokens: strings("tokenizer.ggml.tokens"),
                merges: strings("tokenizer.ggml.merges"),
                token_types: g.metadata("tokenizer.ggml.token_type").and_then(|v| v.as_i32_vec()),
            }
        })
    }

    fn tok() -> &'static Tokenizer {
        static T: OnceLock<Tokenizer> = OnceLock::new();
        T.get_or_init(|| {
            let v = vocab();
            Tokenizer::from_vocab_merges(v.tokens.clone(), v.merges.clone(), v.token_types.clone(), Smollm)
                .expect("build tokenizer from the GGUF vocab")
        })
    }

    #[test]
    fn vocab_shape() {
        let v = vocab();
        assert_eq!(v.tokens.len(), 49152);
        assert_eq!(v.merges.len(), 48900);
        assert_eq!(v.token_types.as_ref().map(Vec::len), Some(49152));
        assert_eq!(tok().vocab_size(), 49152);
        // SmolLM2's vocab lacks a few bytes: some control characters, bytes that never occur
        // in UTF-8, and the lead bytes of planes 4..=11. Text with them is an error, not a
        // silent drop.
        assert_eq!(
            tok().missing_bytes,
            [
                0x04, 0x06, 0x13, 0x14, 0x16, 0x1d, 0xc0, 0xc1, 0xf1, 0xf2, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb,
                0xfc, 0xfd, 0xfe, 0xff
            ]
        );
        let err = tok().encode("a\u{4}b").unwrap_err();
        assert!(matches!(err, TokenizerError::Encode(_)));
        assert!(err.to_string().contains("U+0004"), "{err}");
        // Every other ASCII character encodes and round-trips.
        let ascii: String = (0u8..128).filter(|b| !tok().missing_bytes.contains(b)).map(char::from).collect();
        let ids = tok().encode(&ascii).unwrap();
        assert_eq!(tok().decode(&ids), ascii);
    }

    #[test]
    fn known_ids() {
        let t = tok();
        assert_eq!(t.encode("Rome is in").unwrap(), vec![46292, 314, 281]);
        assert_eq!(t.token_text(7158), " Italy");
        assert_eq!(t.raw_token(7158), Some("ĠItaly"));
        assert_eq!(t.token_id(" Italy"), Some(7158));
        assert_eq!(t.token_id(" France"), Some(4649));
        assert_eq!(t.token_id(" Mary"), Some(5099));
        assert_eq!(t.token_id(" John"), Some(2322));
        assert_eq!(t.token_text(5099), " Mary");
        assert_eq!(t.token_id("Rome is in"), None);
        assert_eq!(t.token_id(""), None);
        assert_eq!(t.token_text(u32::MAX), "");
        assert_eq!(t.token_text(49152), "");
    }

    #[test]
    fn digits_are_split() {
        let t = tok();
        let ids = t.encode("2024").unwrap();
        assert_eq!(ids.len(), 4, "{ids:?}");
        let parts: Vec<String> = ids.iter().map(|&i| t.token_text(i)).collect();
        assert_eq!(parts, ["2", "0", "2", "4"]);
        // A space before a number stays a token of its own.
        let ids = t.encode("in 1999").unwrap();
        let parts: Vec<String> = ids.iter().map(|&i| t.token_text(i)).collect();
        assert_eq!(parts, ["in", " ", "1", "9", "9", "9"]);
    }

    #[test]
    fn decode_round_trips() {
        let t = tok();
        for s in [
            "Zürich – 東京",
            "Hello, world!",
            "  leading and trailing spaces  ",
            "line one\nline two\n\n\ttabbed",
            "emoji 🦀🇮🇹 and digits 3.14159",
            "it's what we'll do, they're sure",
            "<|im_start|>user\nHi<|im_end|>\n",
        ] {
            let ids = t.encode(s).unwrap();
            assert!(!ids.is_empty());
            assert!(ids.iter().all(|&i| (i as usize) < t.vocab_size()));
            assert_eq!(t.decode(&ids), s, "ids {ids:?}");
        }
        // A character this vocabulary has no token for is split into its UTF-8 bytes: each
        // byte token alone decodes lossily, together they decode to the character.
        let ids = t.encode("\u{1F980}").unwrap(); // 🦀, four UTF-8 bytes
        assert!(ids.len() > 1, "{ids:?}");
        assert!(t.token_text(ids[0]).contains('\u{FFFD}'), "{:?}", t.token_text(ids[0]));
        assert_eq!(t.decode(&ids), "\u{1F980}");
    }

    #[test]
    fn control_tokens() {
        let t = tok();
        assert_eq!(t.encode("<|im_start|>").unwrap(), vec![1]);
        assert_eq!(t.encode("<|endoftext|>").unwrap(), vec![0]);
        assert_eq!(t.token_text(1), "<|im_start|>");
        let ids = t.encode("<|im_start|>user\nHi<|im_end|>").unwrap();
        assert_eq!(ids.first(), Some(&1));
        assert_eq!(ids.last(), Some(&2));

        // Without token types the same text is ordinary characters.
        let v = vocab();
        let plain = Tokenizer::from_vocab_merges(v.tokens.clone(), v.merges.clone(), None, Smollm).unwrap();
        let ids = plain.encode("<|im_start|>").unwrap();
        assert!(ids.len() > 1, "{ids:?}");
        assert_eq!(plain.decode(&ids), "<|im_start|>");
        // Ordinary text is unaffected.
        assert_eq!(plain.encode("Rome is in").unwrap(), vec![46292, 314, 281]);
    }

    #[test]
    fn empty_text() {
        assert_eq!(tok().encode("").unwrap(), Vec::<u32>::new());
        assert_eq!(tok().decode(&[]), "");
    }

    #[test]
    fn garbage_vocab_is_an_error() {
        assert_eq!(Tokenizer::from_vocab_merges(vec![], vec![], None, Smollm).unwrap_err(), TokenizerError::EmptyVocab);
        let toks = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Token type count mismatch.
        assert!(matches!(
            Tokenizer::from_vocab_merges(toks(&["a", "b"]), vec![], Some(vec![1]), Smollm),
            Err(TokenizerError::TokenTypeCount { tokens: 2, types: 1 })
        ));
        // Merge with no separator, unknown parts, unknown result (would panic inside the
        // tokenizers builder if not checked: "abc def" is longer than any token).
        for merge in ["ab", "a ", " ", "", "a x", "abc def"] {
            let r =
                Tokenizer::from_vocab_merges(toks(&["a", "b", "abc", "def"]), vec![merge.to_string()], None, Smollm);
            assert!(matches!(r, Err(TokenizerError::BadMerge { .. })), "{merge:?}: {r:?}");
            let msg = r.unwrap_err().to_string();
            assert!(msg.contains("merge"), "{msg}");
        }
        // A tiny vocab without most bytes: building works, text it cannot represent errors.
        let t = Tokenizer::from_vocab_merges(toks(&["a", "b", "ab"]), toks(&["a b"]), None, Smollm).unwrap();
        assert_eq!(t.encode("ab").unwrap(), vec![2]);
        assert_eq!(t.encode("aab").unwrap(), vec![0, 2]);
        assert!(matches!(t.encode("a c"), Err(TokenizerError::Encode(_))));
        // Empty strings and odd characters in the vocab do not panic.
        let t = Tokenizer::from_vocab_merges(
            toks(&["", "\u{0}", "a", "a", " "]),
            vec![],
            Some(vec![3, 4, 1, 3, 3]),
            Smollm,
        )
        .unwrap();
        for s in ["", "a", "aa", " ", "\u{0}", "xyz"] {
            let _ = t.encode(s);
        }
        let _ = t.decode(&[0, 1, 2, 3, 4, 5, u32::MAX]);
    }
}
