"""The template script writer: a prompt becomes a narration script and 3-5 shots. Pure.

It uses the prompt's own phrases (split at commas, "and", "with", "showing"...), so
"Membership promo showing coaching, equipment, and happy members" gives shots about the
membership promo, coaching, equipment and happy members. Shot lengths are whole half-seconds
(15 frames at 30 fps) that sum exactly to the slot.
"""

from __future__ import annotations

import hashlib
import re

from api.generation import GenerationRequest, ShotPlan, SourcePlan

BACKGROUNDS = ("bg-aurora", "bg-sunset", "bg-ocean", "bg-grid", "bg-pulse")
MIN_SHOTS, MAX_SHOTS = 3, 5
HALF_SECOND_MS = 500
WORDS_PER_SECOND = 2.3  # an unhurried voice-over
TITLE_CHARS = 40

_SPLIT = re.compile(
    r"\s*(?:[,;:.!?\n\u2014\u2013]|\s-\s|\band\b|&|\bwith\b|\bshowing\b|\bfeaturing\b|"
    r"\bincluding\b|\bplus\b|\bthen\b)\s*",
    re.IGNORECASE,
)
_WORDY = re.compile(r"\w")
_TOPIC_LINES = ("See {} up close.", "{} you can count on.", "Enjoy {}.", "Made for {}.")
_FILLER = {"", "a", "an", "the", "our", "your", "of", "for", "to", "in", "on"}


def phrases_of(prompt: str) -> list[str]:
    """The prompt's phrases in order, without duplicates or bare filler words."""
    seen: set[str] = set()
    phrases: list[str] = []
    for piece in _SPLIT.split(prompt):
        phrase = " ".join(piece.split()).strip(" \"'()[]")
        if phrase.lower() in _FILLER or phrase.lower() in seen or not _WORDY.search(phrase):
            continue
        seen.add(phrase.lower())
        phrases.append(phrase)
    return phrases or [" ".join(prompt.split())]


def shot_count(phrase_count: int, duration_sec: int) -> int:
    """3-5 shots, one per phrase where possible, none shorter than one second."""
    return max(MIN_SHOTS, min(MAX_SHOTS, phrase_count, duration_sec))


def split_duration_ms(duration_sec: int, count: int) -> list[int]:
    """``count`` lengths in whole half-seconds summing to the slot (longer ones first)."""
    units = duration_sec * 1000 // HALF_SECOND_MS
    base, extra = divmod(units, count)
    return [(base + (1 if i < extra else 0)) * HALF_SECOND_MS for i in range(count)]


def title_of(phrase: str) -> str:
    words = phrase.split()
    title = " ".join(word[:1].upper() + word[1:] for word in words)
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    return title


def describe(index: int, count: int, phrase: str, subject: str) -> str:
    if index == 0:
        return f"Opening shot introducing {phrase}"
    if index == count - 1:
        return f"Closing shot on {phrase}, ending on {subject} with a call to action"
    return f"Shot of {phrase} for {subject}"


def write_script(subject: str, topics: list[str], duration_sec: int) -> str:
    """A voice-over that fits the slot: an opener, the topics, a call to action."""
    budget = max(int(duration_sec * WORDS_PER_SECOND), 6)
    sentences = [f"Discover {subject}."]
    if topics:
        listed = ", ".join(topics[:-1]) + (" and " if len(topics) > 1 else "") + topics[-1]
        sentences.append(_sentence(f"{listed}, all in one place."))
        sentences += [
            _sentence(_TOPIC_LINES[i % len(_TOPIC_LINES)].format(topic))
            for i, topic in enumerate(topics)
        ]
    sentences.append("Visit us today.")
    closing = sentences[-1]
    chosen: list[str] = []
    used = len(closing.split())
    for sentence in sentences[:-1]:
        words = len(sentence.split())
        if used + words > budget:
            break
        chosen.append(sentence)
        used += words
    if not chosen:  # the opener alone is over budget: keep its first words
        chosen = [" ".join(sentences[0].split()[: max(budget - len(closing.split()), 2)])]
        if not chosen[0].endswith("."):
            chosen[0] += "."
    return " ".join([*chosen, closing])


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def plan_source(request: GenerationRequest) -> SourcePlan:
    phrases = phrases_of(request.prompt)
    subject, topics = phrases[0], phrases[1:]
    count = shot_count(len(phrases), request.duration_sec)
    # More shots than phrases: revisit the subject and topics; fewer: the extra topics are
    # still spoken in the script.
    shot_phrases = [phrases[i % len(phrases)] for i in range(count)]
    if len(phrases) > count:
        shot_phrases[-1] = phrases[-1]
    digest = int(hashlib.sha256(request.prompt.encode("utf-8", "surrogatepass")).hexdigest(), 16)
    first_background = digest % len(BACKGROUNDS)
    shots: list[ShotPlan] = []
    start = 0
    for index, length in enumerate(split_duration_ms(request.duration_sec, count)):
        phrase = shot_phrases[index]
        shots.append(
            ShotPlan(
                index=index,
                title=title_of(phrase),
                description=describe(index, count, phrase, subject),
                start_ms=start,
                duration_ms=length,
                background=BACKGROUNDS[(first_background + index) % len(BACKGROUNDS)],
            )
        )
        start += length
    return SourcePlan(write_script(subject, topics, request.duration_sec), tuple(shots))
