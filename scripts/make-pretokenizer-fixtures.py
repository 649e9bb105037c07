#!/usr/bin/env python3
# Regenerate tests/data/pretokenizer-fixtures.json (from the repository root):
#   python3 -m venv /tmp/qv && /tmp/qv/bin/pip install gguf==0.19.0 tokenizers==0.22.2 regex==2024.11.6 && /tmp/qv/bin/python scripts/make-pretokenizer-fixtures.py
"""Writes tests/data/pretokenizer-fixtures.json: token ids of a set of texts under each
`tokenizer.ggml.pre` value that src/model/pretokenizer.rs supports, computed by an independent
tokenizer. tests/pretokenizer.rs compares the crate's tokenizer with them.

The vocabulary and merges are the real SmolLM2 GGUF's (static/models/smollm2-135m-instruct-q4_1.gguf,
read with the PyPI `gguf` package). For each pre-tokenizer this builds a tokenizer of the PyPI
`tokenizers` package (pinned to 0.22.2; its regex engine is Oniguruma, the crate's is
fancy-regex) out of llama.cpp's regex list for that pre-tokenizer (for smollm and gpt-2 the
crate builds them another way, see below, so the fixtures check that too):

    Sequence[Split(regex_1, isolated), ..., Split(regex_n, isolated), ByteLevel(use_regex=False)]

then BPE over the vocab and merges (ignore_merges for llama-bpe, as llama.cpp does), with the
CONTROL tokens registered as added tokens. The regex lists are copied from llama.cpp's
src/llama-vocab.cpp (`llm_tokenizer_bpe`, as vendored in llama-cpp-python 0.3.36).

Checks before writing (the script exits non-zero if one fails):
  * every pre-tokenizer's pieces, as Oniguruma splits them, equal the pieces the `regex` package
    (a third engine) gives for the same regex list applied one after the other, llama.cpp-style;
  * smollm written as llama.cpp's regexes gives the same pieces as the crate's formulation
    (Digits(individual_digits) + ByteLevel(use_regex), as SmolLM2's HF tokenizer.json), and
    gpt-2 the same as ByteLevel(use_regex);
  * both of the above also on 3,000 seeded random texts (letters, digits of two scripts, ASCII
    and Unicode whitespace, punctuation);
  * the model's own pre-tokenizer (smollm) gives llama.cpp's ids for the prompts in
    tests/data/smollm2-llamacpp-logits.json;
  * "12345" splits as expected under each pre-tokenizer, every two pre-tokenizers split at least
    one text differently, and only pairs that differ in nothing but digit grouping give the same
    ids for every text (SmolLM2's vocabulary has no token with a digit and another character).

The output is deterministic for a given gguf/tokenizers/regex and model file.
"""

import hashlib
import json
import pathlib
import random
import sys
from importlib.metadata import version

try:
    import regex
    from gguf import GGUFReader
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
except ImportError:
    sys.exit(
        "needs the `gguf`, `tokenizers` and `regex` packages; run:\n  python3 -m venv /tmp/qv && "
        "/tmp/qv/bin/pip install gguf==0.19.0 tokenizers==0.22.2 regex==2024.11.6"
    )

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = "static/models/smollm2-135m-instruct-q4_1.gguf"
OUT = ROOT / "tests/data/pretokenizer-fixtures.json"
LLAMA_CPP_IDS = ROOT / "tests/data/smollm2-llamacpp-logits.json"
TOKENIZERS_VERSION = "0.22.2"

# llama.cpp src/llama-vocab.cpp, llm_tokenizer_bpe (C++ string escapes undone).
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
LLAMA3 = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2 = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# name -> (regex list, ignore_merges). "default" is what llama.cpp uses when the key is missing.
PRETOKENIZERS = {
    "smollm": ([r"\p{N}", GPT2], False),
    "gpt-2": ([GPT2], False),
    "llama-bpe": ([LLAMA3], True),
    "qwen2": ([QWEN2], False),
    "default": ([r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"], False),
}

TEXTS = [
    "12345 items in 2024",
    "a\n\n  b",
    "end.\n\nNext:\n    return x;\n",
    "I'm sure they'll've",
    "WE'LL DON'T",
    "Hello,   world!!! ...?? (ok) $100.50+x==y\t\tz  ",
    "Привет мир",
    "日本語のテキスト",
    "مرحبا",
    "emoji 🦀🇮🇹 ok 🙂",
    "nbsp\u00a0\u00a0x ideographic\u3000\u3000y\u2009z",
    "<|im_start|>user\nHi 42<|im_end|>\n",
]

# SmolLM2's vocabulary has no token that holds a digit together with any other character, so
# ids cannot tell digit grouping apart: these pairs differ only in how they group digits and give
# the same ids for every text with this vocabulary (their pieces, compared too, differ).
SAME_IDS_EXPECTED = {("smollm", "gpt-2"), ("llama-bpe", "qwen2")}

# Random texts for the equivalence checks (not written to the fixtures): letters, digits of two
# scripts, ASCII and other whitespace, punctuation and the characters of the default regex.
RANDOM_ALPHABET = "aZé日ж1٣ \t\n\r\u00a0\u3000'sSlLvVdD.,!?$+<=>^~|`-_()\"🦀"
RANDOM_SEED = 20250116
RANDOM_TEXTS = 3000

# How "12345" must split (as text pieces) under each pre-tokenizer.
EXPECTED_12345 = {
    "smollm": ["1", "2", "3", "4", "5"],
    "gpt-2": ["12345"],
    "llama-bpe": ["123", "45"],
    "qwen2": ["1", "2", "3", "4", "5"],
    "default": ["123", "45"],
}


def gguf_vocab(path):
    r = GGUFReader(path)
    f = r.fields

    def strings(key):
        field = f[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    field = f["tokenizer.ggml.token_type"]
    types = [int(field.parts[i][0]) for i in field.data]
    pre_field = f.get("tokenizer.ggml.pre")
    pre = bytes(pre_field.parts[pre_field.data[0]]).decode() if pre_field else None
    return strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges"), types, pre


def byte_decoder():
    """GPT-2 bytes_to_unicode, inverted: vocab character -> byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


BYTE_DECODER = byte_decoder()


def bytes_text(token):
    """The text a byte-level vocab string stands for, or None if it is not valid UTF-8 alone."""
    try:
        return bytes(BYTE_DECODER[c] for c in token).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None


def parse_merges(merges):
    """As src/model/tokenizer.rs: split at the first space after the first character, keep the
    first rank of a repeated rule."""
    out, seen = [], set()
    for m in merges:
        pos = m.find(" ", 1)
        assert pos > 0, m
        pair = (m[:pos], m[pos + 1 :])
        if pair not in seen:
            seen.add(pair)
            out.append(pair)
    return out


def build(tokens, merges, types, pre_tokenizer, ignore_merges):
    vocab = {t: i for i, t in enumerate(tokens)}  # last id wins, as in the crate
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore_merges))
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    # CONTROL (3) and UNKNOWN (2) tokens as special added tokens, USER_DEFINED (4) as normal ones.
    extra = [
        AddedToken(t, special=(ty in (2, 3)), normalized=False)
        for i, (t, ty) in enumerate(zip(tokens, types))
        if t and ty in (2, 3, 4) and vocab[t] == i
    ]
    tok.add_tokens(extra)
    return tok


def splits(regexes):
    return [pre_tokenizers.Split(Regex(r), behavior="isolated") for r in regexes]


def llama_cpp_pieces(text, regexes):
    """llama.cpp's unicode_regex_split, with the `regex` package: each regex splits every piece
    of the previous one into its matches and the text between them."""
    pieces = [text]
    for r in regexes:
        rx = regex.compile(r)
        out = []
        for p in pieces:
            prev = 0
            for m in rx.finditer(p):
                if m.start() == m.end():
                    continue
                if m.start() > prev:
                    out.append(p[prev : m.start()])
                out.append(m.group())
                prev = m.end()
            if prev < len(p):
                out.append(p[prev:])
        pieces = out
    return pieces


def main():
    if version("tokenizers") != TOKENIZERS_VERSION:
        sys.exit(f"needs tokenizers=={TOKENIZERS_VERSION}, found {version('tokenizers')}")
    model_path = ROOT / MODEL
    tokens, raw_merges, types, file_pre = gguf_vocab(str(model_path))
    merges = parse_merges(raw_merges)
    sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    failures = []

    results = {}
    for name, (regexes, ignore_merges) in PRETOKENIZERS.items():
        pre = pre_tokenizers.Sequence(splits(regexes) + [byte_level])
        tok = build(tokens, merges, types, pre, ignore_merges)
        text_only = pre_tokenizers.Sequence(splits(regexes))
        cases = []
        for text in TEXTS:
            ids = tok.encode(text, add_special_tokens=False).ids
            assert tok.decode(ids, skip_special_tokens=False) == text, (name, text)
            # Added tokens are cut out before pre-tokenisation; compare pieces on the rest.
            for part in regex.split(r"(<\|im_start\|>|<\|im_end\|>)", text):
                if not part or part in ("<|im_start|>", "<|im_end|>"):
                    continue
                onig = [p for p, _ in text_only.pre_tokenize_str(part)]
                other = llama_cpp_pieces(part, regexes)
                if onig != other:
                    failures.append(f"{name} {part!r}: Oniguruma {onig} != regex {other}")
            pieces = [p for p, _ in text_only.pre_tokenize_str(text)]
            pretokens = [p for p, _ in pre.pre_tokenize_str(text)]
            cases.append({"text": text, "pieces": pieces, "pretokens": pretokens, "ids": ids})
        got = [p for p, _ in text_only.pre_tokenize_str("12345")]
        if got != EXPECTED_12345[name]:
            failures.append(f"{name}: '12345' splits as {got}, expected {EXPECTED_12345[name]}")
        results[name] = {"regexes": regexes, "ignore_merges": ignore_merges, "cases": cases}
        if name == file_pre:
            # Anchor: llama.cpp's own ids for the prompts of tests/data/smollm2-llamacpp-logits.json.
            for r in json.loads(LLAMA_CPP_IDS.read_text(encoding="utf-8"))["results"]:
                got = tok.encode(r["prompt"], add_special_tokens=False).ids
                if got != r["ids_nobos"]:
                    failures.append(f"{name} {r['prompt']!r}: {got} != llama.cpp's {r['ids_nobos']}")

    rng = random.Random(RANDOM_SEED)
    random_texts = [
        "".join(rng.choice(RANDOM_ALPHABET) for _ in range(rng.randint(1, 24))) for _ in range(RANDOM_TEXTS)
    ]
    # Oniguruma against the `regex` package on random texts, every pre-tokenizer.
    for name, (regexes, _) in PRETOKENIZERS.items():
        text_only = pre_tokenizers.Sequence(splits(regexes))
        for text in random_texts:
            onig = [p for p, _ in text_only.pre_tokenize_str(text)]
            other = llama_cpp_pieces(text, regexes)
            if onig != other:
                failures.append(f"{name} {text!r}: Oniguruma {onig} != regex {other}")

    # The crate's own formulations of smollm and gpt-2 (the HF tokenizer.json ones) give the same
    # pieces as llama.cpp's regex lists.
    crate_forms = {
        "smollm": pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
        ),
        "gpt-2": pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    }
    extra_texts = ["in 1999", "  leading and trailing spaces  ", "line one\nline two\n\n\ttabbed", "x \n y\u3000z"]
    for name, crate_form in crate_forms.items():
        llama_cpp_form = pre_tokenizers.Sequence(splits(PRETOKENIZERS[name][0]) + [byte_level])
        for text in TEXTS + extra_texts + random_texts:
            a = [p for p, _ in crate_form.pre_tokenize_str(text)]
            b = [p for p, _ in llama_cpp_form.pre_tokenize_str(text)]
            if a != b:
                failures.append(f"{name} {text!r}: crate formulation {a} != llama.cpp regexes {b}")

    names = list(PRETOKENIZERS)
    same_ids = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            pairs = list(zip(results[a]["cases"], results[b]["cases"]))
            if all(x["pieces"] == y["pieces"] for x, y in pairs):
                failures.append(f"{a} and {b} give the same pieces for every text")
            if all(x["ids"] == y["ids"] for x, y in pairs):
                same_ids.append((a, b))
    if not set(same_ids) <= SAME_IDS_EXPECTED:
        failures.append(f"pre-tokenizers with the same ids for every text: {same_ids}")

    texts = [bytes_text(t) for t in tokens]
    digit_merges = any(t is not None and len(t) > 1 and regex.search(r"\p{N}", t) for t in texts)
    if digit_merges and same_ids:
        failures.append(f"the vocabulary has tokens with digits and more, yet {same_ids} give the same ids")
    print(f"model {MODEL} (tokenizer.ggml.pre = {file_pre!r}), sha256 {sha}")
    print(f"same ids for every text (expected with this vocabulary): {same_ids}")
    print(f"{RANDOM_TEXTS} random texts: Oniguruma = regex package for every pre-tokenizer, crate forms checked")
    for text in TEXTS:
        print(f"\n{text!r}")
        for name in names:
            case = next(c for c in results[name]["cases"] if c["text"] == text)
            print(f"  {name:10} {case['pieces']}\n  {'':10} {case['ids']}")
    if failures:
        sys.exit("refusing to write fixtures:\n  " + "\n  ".join(failures))

    def dump(x):
        return json.dumps(x, ensure_ascii=False)

    head = {
        "generator": "scripts/make-pretokenizer-fixtures.py",
        "tokenizers_version": version("tokenizers"),
        "gguf_version": version("gguf"),
        "regex_version": version("regex"),
        "model": MODEL,
        "model_sha256": sha,
    }
    # One case per line, so that a diff of a regenerated file shows which texts changed.
    blocks = []
    for name in names:
        r = results[name]
        cases = ",\n".join("    " + dump(c) for c in r["cases"])
        blocks.append(
            f'  {{"name": {dump(name)}, "regexes": {dump(r["regexes"])}, '
            f'"ignore_merges": {dump(r["ignore_merges"])}, "cases": [\n{cases}\n  ]}}'
        )
    text = dump(head)[:-1] + ', "pretokenizers": [\n' + ",\n".join(blocks) + "\n]}\n"
    assert json.loads(text) == {**head, "pretokenizers": [{"name": n, **results[n]} for n in names]}
    OUT.write_text(text, encoding="utf-8")
    print(f"\nwrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
