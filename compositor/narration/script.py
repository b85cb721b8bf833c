"""A narration script as the engines read it and captions show it: words and sentences.

Pure text handling. The script is normalized once (NFC, control characters dropped, runs of
whitespace collapsed to one space) and that exact text is what an engine speaks, so the
character positions an engine reports (eSpeak's word events) index the same words captions
show. A word is a whitespace-separated token holding at least one letter or digit; tokens of
only punctuation, symbols or emoji ride along with the word before them (or after, at the
start), so they still appear in captions but are never timed on their own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum

from compositor.errors import InvalidJob

MAX_SCRIPT_CHARS = 20_000  # the job model's limit (CONTRACT §7 audio.narration.script)
SCRIPT_FIELD = "audio.narration.script"

SENTENCE_END = frozenset(".!?…。！？")
CLAUSE_END = frozenset(",;:–—-、，；：")
CLOSERS = "\"')]}»”’"
# A full stop after these is not a sentence end ("Dr. Smith", "e.g. bread").
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "e.g.", "i.e.", "jr.", "sr."})


class Break(IntEnum):
    """How strongly the text pauses after a word: where captions prefer to break."""

    NONE = 0
    CLAUSE = 1
    SENTENCE = 2


@dataclass(frozen=True)
class ScriptWord:
    text: str  # as written, punctuation attached
    start: int  # code-point offsets into Script.text, end exclusive
    end: int
    brk: Break


@dataclass(frozen=True)
class Sentence:
    first: int  # index of its first word
    stop: int  # index after its last word

    def text(self, script: Script) -> str:
        words = script.words[self.first : self.stop]
        return script.text[words[0].start : words[-1].end]


@dataclass(frozen=True)
class Script:
    text: str
    words: tuple[ScriptWord, ...]
    sentences: tuple[Sentence, ...]


def normalize(raw: str) -> str:
    """NFC, control characters out, whitespace collapsed: the text every engine speaks."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) != "Cc"
    )
    return re.sub(r" +", " ", text).strip()


def is_speakable(token: str) -> bool:
    """Has a letter or a digit (any script): something a voice says as a word."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def break_after(token: str, *, last: bool) -> Break:
    if last:
        return Break.SENTENCE
    stripped = token.rstrip(CLOSERS)
    if not stripped:
        return Break.NONE
    if stripped[-1] in SENTENCE_END:
        return Break.NONE if stripped.lower() in ABBREVIATIONS else Break.SENTENCE
    if stripped[-1] in CLAUSE_END:
        return Break.CLAUSE
    return Break.NONE


def parse_script(
    raw: str, *, field: str = SCRIPT_FIELD, max_chars: int = MAX_SCRIPT_CHARS
) -> Script:
    """Normalize and split a script; refuse one that is empty, too long or has no words."""
    if len(raw) > max_chars:
        raise InvalidJob(f"{field}: at most {max_chars} characters ({len(raw)} given)", field=field)
    text = normalize(raw)
    if not text:
        raise InvalidJob(
            f"{field}: the script is empty", field=field, code="narration_script_empty"
        )
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    merged: list[list[int]] = []  # [start, end] of each word, riders included
    leading: int | None = None  # start of riders before the first word
    for start, end in spans:
        if is_speakable(text[start:end]):
            merged.append([leading if leading is not None and not merged else start, end])
            leading = None
        elif merged:
            merged[-1][1] = end
        elif leading is None:
            leading = start
    if not merged:
        raise InvalidJob(
            f"{field}: the script has no words to speak (only punctuation, symbols or emoji)",
            field=field,
            code="narration_script_unspeakable",
        )
    words = tuple(
        ScriptWord(text[s:e], s, e, break_after(text[s:e], last=i == len(merged) - 1))
        for i, (s, e) in enumerate(merged)
    )
    sentences: list[Sentence] = []
    first = 0
    for index, word in enumerate(words):
        if word.brk == Break.SENTENCE:
            sentences.append(Sentence(first, index + 1))
            first = index + 1
    return Script(text=text, words=words, sentences=tuple(sentences))
