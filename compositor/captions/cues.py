"""Split timed words into caption cues: pure, integer milliseconds, deterministic.

Rules (CONTRACT §5): at most 2 lines of 42 characters, 0.7-6 s on screen, no overlap, inside
the slot, never broken inside a word. A cue starts exactly when its first word is heard.

Choosing the breaks is a shortest path over word boundaries (dynamic programming), so the
split is the best one under a few integer costs rather than the first one that fits:

- every cue costs ``CUE``: fewer, fuller cues are preferred;
- a break after a sentence end is free, after a clause (``, ; : —``) costs ``CLAUSE_BREAK``,
  elsewhere ``WORD_BREAK``: cues break at punctuation whenever the rules allow;
- a sentence end inside a cue costs ``JOINED_SENTENCE``: a new sentence starts a new cue
  unless that would leave a cue too short to read;
- unused room costs ``FILL * (slack / room)²``: a long sentence splits into balanced cues.

Hard constraints: the text wraps into the lines; the words are heard within ``max_ms``; and
the cue can stay ``min_ms`` on screen before the next one starts (or the slot ends). A cue
then shows from its first word until ``linger_ms`` after its last, at least ``min_ms``, at
most ``max_ms``, and never past the next cue's start or the slot's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compositor.errors import InvalidJob
from compositor.narration.script import CLAUSE_END, CLOSERS, SENTENCE_END, Break

CUE = 100
CLAUSE_BREAK = 40
WORD_BREAK = 300
JOINED_SENTENCE = 200
FILL = 60
INFEASIBLE = 1 << 60
SCRIPT_FIELD = "audio.narration.script"


@dataclass(frozen=True)
class CueRules:
    max_line_chars: int = 42
    max_lines: int = 2
    min_ms: int = 700
    max_ms: int = 6000
    linger_ms: int = 300  # how long a cue stays after its last word, when there is room


RULES = CueRules()  # the contract's rules (CONTRACT §5)


@dataclass(frozen=True)
class TimedWord:
    text: str
    start_ms: int
    end_ms: int
    brk: Break = Break.NONE


@dataclass(frozen=True)
class TimedCue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    words: tuple[TimedWord, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def ends_with_punctuation(word: str) -> bool:
    stripped = word.rstrip(CLOSERS)
    return bool(stripped) and (stripped[-1] in SENTENCE_END or stripped[-1] in CLAUSE_END)


def wrap_lines(words: Sequence[str], rules: CueRules = RULES) -> tuple[str, ...] | None:
    """The words on at most ``max_lines`` lines of ``max_line_chars``, or None if they don't fit.

    One line when it fits; otherwise the split with the most even lines, preferring a line
    that ends at punctuation (by up to 8 characters of evenness). Longer lists recurse, so
    ``max_lines`` > 2 works too.
    """
    text = " ".join(words)
    if len(text) <= rules.max_line_chars:
        return (text,)
    if rules.max_lines <= 1 or len(words) < 2:
        return None
    best: tuple[int, int, tuple[str, ...]] | None = None
    rest_rules = CueRules(rules.max_line_chars, rules.max_lines - 1)
    for split in range(1, len(words)):
        head = " ".join(words[:split])
        if len(head) > rules.max_line_chars:
            break
        tail = wrap_lines(words[split:], rest_rules)
        if tail is None:
            continue
        unevenness = max(len(head), *map(len, tail)) - min(len(head), *map(len, tail))
        cost = unevenness - (8 if ends_with_punctuation(words[split - 1]) else 0)
        if best is None or cost < best[0]:
            best = (cost, split, (head, *tail))
    return None if best is None else best[2]


def _break_cost(brk: Break) -> int:
    return {Break.SENTENCE: 0, Break.CLAUSE: CLAUSE_BREAK, Break.NONE: WORD_BREAK}[brk]


def split_cues(
    words: Sequence[TimedWord], slot_ms: int, rules: CueRules = RULES
) -> tuple[TimedCue, ...]:
    """Group ``words`` (output timeline, in order) into cues; see the module docstring."""
    count = len(words)
    if count == 0:
        return ()
    room = rules.max_line_chars * rules.max_lines
    too_long = [w.text for w in words if len(w.text) > rules.max_line_chars]
    if too_long:
        raise InvalidJob(
            f"{SCRIPT_FIELD}: {too_long[0][:60]!r} is longer than a caption line "
            f"({rules.max_line_chars} characters) and captions never break inside a word",
            field=SCRIPT_FIELD,
            code="caption_word_too_long",
        )
    # best[i]: cheapest captioning of words[i:]; choice[i]: where the cue starting at i stops.
    best = [INFEASIBLE] * count + [0]
    choice = [0] * (count + 1)
    wraps: dict[tuple[int, int], tuple[str, ...]] = {}
    for first in range(count - 1, -1, -1):
        start = words[first].start_ms
        chars = -1
        heard_until = start
        inner_sentences = 0
        for stop in range(first + 1, count + 1):
            word = words[stop - 1]
            chars += len(word.text) + 1
            heard_until = max(heard_until, word.end_ms)
            if chars > room + rules.max_lines - 1 or heard_until - start > rules.max_ms:
                break
            if stop - 1 > first and words[stop - 2].brk == Break.SENTENCE:
                inner_sentences += 1
            next_start = min(words[stop].start_ms, slot_ms) if stop < count else slot_ms
            if next_start - start < rules.min_ms or best[stop] >= INFEASIBLE:
                continue
            lines = wrap_lines([w.text for w in words[first:stop]], rules)
            if lines is None:
                continue
            slack = max(room - chars, 0)
            cost = (
                CUE
                + (_break_cost(word.brk) if stop < count else 0)
                + JOINED_SENTENCE * inner_sentences
                + FILL * slack * slack // (room * room)
                + best[stop]
            )
            if cost < best[first]:
                best[first], choice[first] = cost, stop
                wraps[first, stop] = lines
    if best[0] >= INFEASIBLE:
        raise InvalidJob(
            f"{SCRIPT_FIELD}: the narration cannot be captioned inside the slot "
            f"({rules.min_ms / 1000:g}-{rules.max_ms / 1000:g}s per cue, at most "
            f"{rules.max_lines} lines of {rules.max_line_chars} characters)",
            field=SCRIPT_FIELD,
            code="captions_unfit",
        )
    cues = []
    first = 0
    while first < count:
        stop = choice[first]
        start = words[first].start_ms
        heard_until = max(w.end_ms for w in words[first:stop])
        next_start = min(words[stop].start_ms, slot_ms) if stop < count else slot_ms
        end = min(
            max(heard_until + rules.linger_ms, start + rules.min_ms),
            next_start,
            start + rules.max_ms,
        )
        cues.append(TimedCue(start, end, wraps[first, stop], tuple(words[first:stop])))
        first = stop
    return tuple(cues)
