"""Force alignment for engines that report no word timings (premium servers, mostly).

The script is spoken one sentence per request, so every sentence's audio is measured on its
own: trimmed to its voice and placed after the previous one with a fixed pause. Sentence
starts are then exact (they are where we put them); inside a sentence, words share its
length in proportion to their letters and digits, plus one for the gap after each word.
Captions break at sentences first, so they stay on time to the sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

from compositor.narration.script import Script, ScriptWord

SENTENCE_PAUSE_MS = 300  # about eSpeak's own pause after a full stop at 175 wpm
MAX_REQUEST_CHARS = 4000  # OpenAI's speech endpoint takes at most 4096 characters


def word_weight(word: ScriptWord) -> int:
    return sum(ch.isalnum() for ch in word.text) + 1


def spread_words(words: Sequence[ScriptWord], start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """(start, end) per word tiling [start_ms, end_ms] by weight, in integer ms (no drift)."""
    weights = [word_weight(word) for word in words]
    total = sum(weights)
    span = end_ms - start_ms
    bounds = [start_ms]
    running = 0
    for weight in weights:
        running += weight
        bounds.append(start_ms + span * running // total)
    return [(bounds[i], bounds[i + 1]) for i in range(len(words))]


def chunks(script: Script, max_chars: int = MAX_REQUEST_CHARS) -> list[tuple[int, int]]:
    """Word ranges [first, stop) to request one by one: sentences, long ones cut at words."""
    ranges: list[tuple[int, int]] = []
    for sentence in script.sentences:
        first = sentence.first
        for index in range(sentence.first, sentence.stop):
            if script.words[index].end - script.words[first].start > max_chars and index > first:
                ranges.append((first, index))
                first = index
        ranges.append((first, sentence.stop))
    return ranges
