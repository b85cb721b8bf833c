"""Cue splitting and timing: the rules hold for many scripts, and breaks go where they should.

Pure: words with synthetic timings (a speaking rate, pauses after punctuation), no audio.
"""

from __future__ import annotations

import random

import pytest

from compositor.captions.cues import CueRules, TimedCue, TimedWord, split_cues, wrap_lines
from compositor.errors import InvalidJob
from compositor.narration.script import Break, parse_script

RULES = CueRules()


def speak(
    text: str,
    *,
    ms_per_char: int = 65,
    start_ms: int = 500,
    pace: float = 1.0,
    clause_pause: int = 150,
    sentence_pause: int = 350,
) -> list[TimedWord]:
    """Timed words as an engine would report them, placed at ``start_ms`` with ``pace``."""
    words = []
    at = 0
    for word in parse_script(text).words:
        length = ms_per_char * (sum(ch.isalnum() for ch in word.text) + 1)
        start, end = at, at + length
        at = end + {Break.SENTENCE: sentence_pause, Break.CLAUSE: clause_pause}.get(word.brk, 0)
        words.append(
            TimedWord(
                word.text, start_ms + round(start / pace), start_ms + round(end / pace), word.brk
            )
        )
    return words


def assert_rules_hold(cues: tuple[TimedCue, ...], words: list[TimedWord], slot_ms: int) -> None:
    assert [w for cue in cues for w in cue.words] == words  # every word once, in order
    previous_end = 0
    for cue in cues:
        assert 1 <= len(cue.lines) <= RULES.max_lines
        assert all(0 < len(line) <= RULES.max_line_chars for line in cue.lines)
        # Never inside a word: the lines are the words, joined by spaces or a line break.
        assert " ".join(cue.lines) == " ".join(w.text for w in cue.words)
        assert RULES.min_ms <= cue.end_ms - cue.start_ms <= RULES.max_ms
        assert cue.start_ms == cue.words[0].start_ms  # shown when its first word is heard
        assert previous_end <= cue.start_ms  # no overlap
        assert cue.end_ms <= slot_ms  # inside the slot
        assert all(cue.start_ms <= w.start_ms and w.end_ms <= cue.end_ms for w in cue.words)
        previous_end = cue.end_ms


VOCABULARY = [
    "bread",
    "fresh",
    "every",
    "morning",
    "bakery",
    "street",
    "open",
    "late",
    "neighbours",
    "know",
    "secret",
    "coffee",
    "warm",
    "croissant",
    "butter",
    "golden",
    "crust",
    "sourdough",
    "rye",
    "flour",
    "ovens",
    "since",
    "family",
    "recipe",
    "delivered",
    "to",
    "your",
    "door",
    "order",
    "online",
    "today",
    "tomorrow",
    "weekend",
    "special",
    "discount",
    "loyal",
    "customers",
    "extraordinarily",
    "handcrafted",
    "artisanal",
    "1,500",
    "2024",
    "café",
    "naïve",
    "🍞",
]


def random_script(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(1, 6)):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(1, 24))]
        for index in range(len(words) - 1):
            if rng.random() < 0.12:
                words[index] += rng.choice([",", ";", ":", " —"])
        sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?", "…"]))
    return " ".join(sentences)


@pytest.mark.parametrize("seed", range(40))
def test_cue_rules_hold_for_many_scripts(seed):
    rng = random.Random(seed)
    for _ in range(10):
        pace = rng.choice([0.5, 0.8, 1.0, 1.25, 1.6, 2.0])
        words = speak(
            random_script(rng),
            ms_per_char=rng.randint(50, 90),
            start_ms=rng.randint(0, 3000),
            pace=pace,
        )
        slot_ms = words[-1].end_ms + rng.randint(0, 2000)
        cues = split_cues(words, slot_ms)
        assert_rules_hold(cues, words, slot_ms)


def test_each_sentence_gets_its_own_cue_when_there_is_time():
    words = speak("Fresh bread every morning. Open late tonight!")
    cues = split_cues(words, 10_000)
    assert [c.text for c in cues] == ["Fresh bread every morning.", "Open late tonight!"]


def test_a_long_sentence_breaks_at_its_comma():
    text = "Our bakers start before sunrise every single day, so the bread on your table is warm."
    cues = split_cues(speak(text), 20_000)
    assert [c.text for c in cues] == [
        "Our bakers start before\nsunrise every single day,",
        "so the bread on your table is warm.",
    ]


def test_without_punctuation_a_long_sentence_splits_into_balanced_cues():
    text = " ".join(["golden"] * 20) + "."
    cues = split_cues(speak(text), 30_000)
    sizes = [len(c.words) for c in cues]
    assert len(cues) == 2 and abs(sizes[0] - sizes[1]) <= 2, sizes


def test_a_sentence_too_short_to_read_joins_the_next():
    words = speak("Hi. We bake bread daily.", ms_per_char=40, sentence_pause=100)
    assert words[1].start_ms - words[0].start_ms < RULES.min_ms  # "Hi." alone would flash
    cues = split_cues(words, 10_000)
    assert [c.text for c in cues] == ["Hi. We bake bread daily."]


def test_slow_speech_splits_on_time_even_when_the_text_fits():
    words = speak("Fresh bread and warm coffee every morning.", ms_per_char=220)
    assert words[-1].end_ms - words[0].start_ms > RULES.max_ms
    cues = split_cues(words, 30_000)
    assert len(cues) == 2
    assert all(c.end_ms - c.start_ms <= RULES.max_ms for c in cues)


def test_a_cue_lingers_after_its_last_word_but_not_into_the_next():
    words = speak("Fresh bread. Warm coffee.", sentence_pause=1000)
    first, second = split_cues(words, 10_000)
    assert first.end_ms == words[1].end_ms + RULES.linger_ms
    assert second.end_ms == words[3].end_ms + RULES.linger_ms
    close = speak("Fresh bread. Warm coffee.", sentence_pause=100)
    first, second = split_cues(close, 10_000)
    assert first.end_ms == second.start_ms  # abutting, never overlapping


def test_the_last_cue_ends_at_the_slot_when_the_voice_ends_there():
    words = speak("Fresh bread every morning.")
    cues = split_cues(words, words[-1].end_ms + 100)
    assert cues[-1].end_ms == words[-1].end_ms + 100


def test_a_word_longer_than_a_line_is_refused():
    words = speak("Visit https://example.com/a-very-long-path/to/our/bakery today.")
    with pytest.raises(InvalidJob) as caught:
        split_cues(words, 20_000)
    assert caught.value.code == "caption_word_too_long"
    assert caught.value.field == "audio.narration.script"


def test_a_voice_starting_too_close_to_the_end_cannot_be_captioned():
    words = [TimedWord("Hi.", 14_600, 14_900, Break.SENTENCE)]
    with pytest.raises(InvalidJob) as caught:
        split_cues(words, 15_000)
    assert caught.value.code == "captions_unfit"


def test_no_words_no_cues():
    assert split_cues([], 15_000) == ()


def test_the_split_is_deterministic():
    words = speak(random_script(random.Random(7)))
    assert split_cues(words, 60_000) == split_cues(list(words), 60_000)


@pytest.mark.parametrize(
    ("words", "lines"),
    [
        ("Fresh bread.", ("Fresh bread.",)),
        # 42 characters exactly stay on one line.
        (
            "Fresh bread and coffee every morning here.",
            ("Fresh bread and coffee every morning here.",),
        ),
        # Longer: two lines, as even as possible...
        (
            "Fresh bread and warm coffee every single morning",
            ("Fresh bread and warm", "coffee every single morning"),
        ),
        # ...and a line ends at punctuation when that is nearly as even.
        (
            "Fresh bread and warm coffee, pastries every single morning here",
            ("Fresh bread and warm coffee,", "pastries every single morning here"),
        ),
        (
            "Fresh bread, warm coffee, pastries and cakes every single morning!",
            ("Fresh bread, warm coffee, pastries", "and cakes every single morning!"),
        ),
        # More than two lines' worth, or one word too long for a line: does not fit.
        (" ".join(["bread"] * 16), None),
        ("x" * 43, None),
    ],
)
def test_wrap_lines(words, lines):
    assert wrap_lines(words.split()) == lines
