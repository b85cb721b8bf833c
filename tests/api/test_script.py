"""The template writer and the shot jobs: pure, table-tested."""

from __future__ import annotations

import pytest

from api.generation import GenerationRequest
from api.generation.local import preview_job, shot_job
from api.generation.script import phrases_of, plan_source, split_duration_ms
from compositor.job import parse_job
from tests.api.support import SEED_PROMPT


def test_phrases_come_from_the_prompt_in_order():
    assert phrases_of(SEED_PROMPT) == ["Membership promo", "coaching", "equipment", "happy members"]


@pytest.mark.parametrize("duration", [5, 15, 30])
@pytest.mark.parametrize(
    "prompt", [SEED_PROMPT, "Hello world", "a, b, c, d, e, f, g, h, i", "🎬" * 500]
)
def test_three_to_five_shots_sum_exactly_to_the_slot(prompt, duration):
    plan = plan_source(GenerationRequest(prompt, duration, "9:16"))
    assert 3 <= len(plan.shots) <= 5
    assert sum(shot.duration_ms for shot in plan.shots) == duration * 1000
    starts = [shot.start_ms for shot in plan.shots]
    assert starts == [sum(s.duration_ms for s in plan.shots[:i]) for i in range(len(plan.shots))]
    assert all(shot.duration_ms % 500 == 0 and shot.duration_ms >= 1000 for shot in plan.shots)
    assert plan.script.endswith("Visit us today.")


def test_shot_titles_and_descriptions_use_the_prompts_phrases():
    plan = plan_source(GenerationRequest(SEED_PROMPT, 15, "9:16"))
    assert [shot.title for shot in plan.shots] == [
        "Membership Promo", "Coaching", "Equipment", "Happy Members"
    ]  # fmt: skip
    assert "coaching" in plan.shots[1].description
    assert "coaching, equipment and happy members" in plan.script.lower()


def test_script_fits_the_slot_at_an_unhurried_pace():
    for duration in (5, 15, 30):
        script = plan_source(GenerationRequest(SEED_PROMPT, duration, "1:1")).script
        assert len(script.split()) <= max(int(duration * 2.3), 6)


def test_split_duration_prefers_longer_shots_first():
    assert split_duration_ms(15, 4) == [4000, 4000, 3500, 3500]
    assert split_duration_ms(5, 3) == [2000, 1500, 1500]


def test_a_shot_longer_than_the_loop_repeats_the_background_and_titles_it():
    job = parse_job(
        shot_job({"durationSec": 10.0, "background": "bg-ocean", "title": "Coaching"},
                 "9:16", "preview")
    )  # fmt: skip
    assert [(clip.source, clip.out_sec) for clip in job.clips] == [
        ("builtin:bg-ocean", 8.0), ("builtin:bg-ocean", 2.0)
    ]  # fmt: skip
    assert job.output.duration_sec == 10.0 and job.output.aspect == "9:16"
    assert job.text_overlays[0].text == "Coaching"


def test_preview_cuts_the_shots_together_at_the_slot():
    job = parse_job(preview_job([__import__("pathlib").Path("/a.mp4")], "1:1", 5, "full"))
    assert job.transition.type == "cut" and job.output.duration_sec == 5
