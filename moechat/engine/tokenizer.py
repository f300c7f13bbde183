"""o200k_harmony: gpt-oss's tokenizer, built offline from the vocabulary shipped in the package."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

import tiktoken
from tiktoken.load import load_tiktoken_bpe

from moechat.errors import MoechatError

VOCAB_FILE = "o200k_base.tiktoken"
VOCAB_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

# o200k_base's pre-tokenizer pattern (tiktoken_ext.openai_public), repeated so that nothing is fetched.
PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

NAMED_SPECIAL = {
    "<|startoftext|>": 199998,
    "<|endoftext|>": 199999,
    "<|return|>": 200002,
    "<|constrain|>": 200003,
    "<|channel|>": 200005,
    "<|start|>": 200006,
    "<|end|>": 200007,
    "<|message|>": 200008,
    "<|call|>": 200012,
}
VOCAB_SIZE = 201088  # ids past the last named token are <|reserved_N|>

ENDOFTEXT = NAMED_SPECIAL["<|endoftext|>"]
RETURN = NAMED_SPECIAL["<|return|>"]
CHANNEL = NAMED_SPECIAL["<|channel|>"]
START = NAMED_SPECIAL["<|start|>"]
END = NAMED_SPECIAL["<|end|>"]
MESSAGE = NAMED_SPECIAL["<|message|>"]
CALL = NAMED_SPECIAL["<|call|>"]


def vocab_path() -> str:
    return str(resources.files("moechat.assets").joinpath(VOCAB_FILE))


def check_vocab_file(path: str) -> None:
    """Raise MoechatError unless the file's sha256 is o200k_base's."""
    try:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    except OSError as e:
        raise MoechatError(f"cannot read tokenizer vocabulary {path}: {e.strerror}") from None
    if digest != VOCAB_SHA256:
        raise MoechatError(f"tokenizer vocabulary {path} is corrupt: sha256 {digest[:12]}..., expected {VOCAB_SHA256[:12]}...")


@lru_cache(maxsize=1)
def get_encoding(path: str | None = None) -> tiktoken.Encoding:
    """The o200k_harmony encoding; the vocabulary's hash is checked before use."""
    path = path or vocab_path()
    check_vocab_file(path)
    ranks = load_tiktoken_bpe(path)
    specials = {f"<|reserved_{i}|>": i for i in range(199998, VOCAB_SIZE)}
    for name, i in NAMED_SPECIAL.items():
        del specials[f"<|reserved_{i}|>"]
        specials[name] = i
    # o200k_base's <|endofprompt|> slot is 200018 in the base encoding; harmony renames it to a reserved token.
    return tiktoken.Encoding(name="o200k_harmony", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens=specials)


class Tokenizer:
    """Text <-> token ids. Plain text is always encoded as text, never as control tokens."""

    def __init__(self, path: str | None = None):
        self.enc = get_encoding(path)
        self.vocab_size = VOCAB_SIZE

    def encode(self, text: str) -> list[int]:
        return self.enc.encode(text, disallowed_special=())

    def special(self, name: str) -> int:
        return self.enc.encode_single_token(name)

    def token_bytes(self, token: int) -> bytes:
        try:
            return self.enc.decode_single_token_bytes(token)
        except KeyError:
            return f"<|reserved_{token}|>".encode()

    def decode(self, tokens: list[int]) -> str:
        return b"".join(self.token_bytes(t) for t in tokens).decode("utf-8", errors="replace")


class IncrementalDetokenizer:
    """Turns a stream of tokens into text without ever splitting a UTF-8 character."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.pending = b""

    def push(self, token: int) -> str:
        self.pending += self.tokenizer.token_bytes(token)
        return self._take(final=False)

    def flush(self) -> str:
        return self._take(final=True)

    def _take(self, final: bool) -> str:
        data, self.pending = self.pending, b""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            # Keep an incomplete trailing sequence (at most 3 bytes) for the next token.
            if not final and e.start >= len(data) - 3 and e.reason == "unexpected end of data":
                self.pending = data[e.start:]
                return data[: e.start].decode("utf-8", errors="replace")
            return data.decode("utf-8", errors="replace")
