"""Scripts become words and sentences; bad scripts are refused with a code and the field."""

from __future__ import annotations

import pytest

from compositor.errors import InvalidJob
from compositor.narration.script import Break, normalize, parse_script


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Fresh   bread\n\nevery\tday ", "Fresh bread every day"),
        ("Caf\u0065\u0301 open", "Café open"),  # NFC: e + combining acute -> é
        ("no\x00 nul\x07 bell", "no nul bell"),
        ("line\r\nbreaks", "line breaks"),
    ],
)
def test_normalize_collapses_whitespace_and_drops_control_characters(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words", "breaks"),
    [
        ("Fresh bread, every day.", ["Fresh", "bread,", "every", "day."], [0, 1, 0, 2]),
        ("Buy now! Or later?", ["Buy", "now!", "Or", "later?"], [0, 2, 0, 2]),
        ("Bread — warm", ["Bread —", "warm"], [1, 2]),  # a dash rides on the word before
        ("🍞 Fresh bread 🎉", ["🍞 Fresh", "bread 🎉"], [0, 2]),  # emoji ride along
        ('He said "hi." Then left', ["He", "said", '"hi."', "Then", "left"], [0, 0, 2, 0, 2]),
        ("Ask Dr. Smith today", ["Ask", "Dr.", "Smith", "today"], [0, 0, 0, 2]),
        ("no punctuation at the end", ["no", "punctuation", "at", "the", "end"], [0, 0, 0, 0, 2]),
        ("Preis: 5 €; jetzt", ["Preis:", "5 €;", "jetzt"], [1, 1, 2]),
    ],
)
def test_words_carry_their_punctuation_and_the_break_after_them(raw, words, breaks):
    script = parse_script(raw)
    assert [w.text for w in script.words] == words
    assert [int(w.brk) for w in script.words] == breaks
    for word in script.words:  # offsets index the normalized text exactly
        assert script.text[word.start : word.end] == word.text


def test_sentences_split_at_sentence_ends():
    script = parse_script("One two. Three! Four five six")
    assert [s.text(script) for s in script.sentences] == ["One two.", "Three!", "Four five six"]
    assert script.words[-1].brk == Break.SENTENCE


@pytest.mark.parametrize("raw", ["", "   ", "\n\t\n"])
def test_an_empty_script_is_refused(raw):
    with pytest.raises(InvalidJob) as caught:
        parse_script(raw)
    assert caught.value.code == "narration_script_empty"
    assert caught.value.field == "audio.narration.script"


@pytest.mark.parametrize("raw", ["...", "?! — …", "🍞🎉✨", "🍞 🎉 !!", "*** ### ---"])
def test_a_script_of_only_punctuation_or_emoji_is_refused(raw):
    with pytest.raises(InvalidJob) as caught:
        parse_script(raw)
    assert caught.value.code == "narration_script_unspeakable"
    assert caught.value.field == "audio.narration.script"


def test_a_script_over_the_job_limit_is_refused():
    with pytest.raises(InvalidJob) as caught:
        parse_script("word " * 4001)  # 20 005 characters
    assert caught.value.code == "invalid_field"
    assert caught.value.field == "audio.narration.script"
    assert "20000" in caught.value.message


def test_other_scripts_count_as_words():
    script = parse_script("Привет мир. مرحبا")
    assert [w.text for w in script.words] == ["Привет", "мир.", "مرحبا"]
