"""Job validation: bad input fails before anything runs, naming the failing field."""

from __future__ import annotations

import json

import jsonschema
import pytest

from compositor.errors import InvalidJob
from compositor.job import job_schema, parse_job, parse_job_json

CLIP = {"source": "a.mp4"}


@pytest.mark.parametrize(
    ("job", "code", "field"),
    [
        ({"clips": []}, "invalid_field", "clips"),
        ({}, "missing_field", "clips"),
        ({"clips": [{"source": "a", "inSec": -1}]}, "invalid_field", "clips[0].inSec"),
        ({"clips": [{"source": "a", "outSec": 0}]}, "invalid_field", "clips[0].outSec"),
        ({"clips": [{"source": "a", "inSec": 3, "outSec": 2}]}, "invalid_field", "clips[0].outSec"),
        ({"clips": [CLIP], "colour": "red"}, "unknown_field", "colour"),
        ({"clips": [{"source": "a", "speed": 2}]}, "unknown_field", "clips[0].speed"),
        ({"clips": [CLIP], "output": {"aspect": "4:3"}}, "invalid_field", "output.aspect"),
        ({"clips": [CLIP], "output": {"durationSec": 0}}, "invalid_field", "output.durationSec"),
        ({"clips": [CLIP], "output": {"durationSec": 121}}, "invalid_field", "output.durationSec"),
        ({"clips": [CLIP], "output": {"fps": 29.97}}, "invalid_field", "output.fps"),
        ({"clips": [CLIP], "transition": {"type": "fade", "durationSec": 3}}, "invalid_field",
         "transition.durationSec"),
        ({"clips": [CLIP], "audio": {"speechPace": 3}}, "invalid_field", "audio.speechPace"),
        ({"clips": [CLIP], "audio": {"pitch": -13}}, "invalid_field", "audio.pitch"),
        ({"clips": [CLIP], "audio": {"voiceStartSec": 16}}, "invalid_field", "audio.voiceStartSec"),
        ({"clips": [CLIP], "audio": {"narration": {"script": ""}}}, "invalid_field",
         "audio.narration.script"),
        ({"clips": [CLIP], "watermark": {"text": "a", "image": "b"}}, "invalid_field", "watermark"),
        ({"clips": [CLIP], "watermark": {"text": "a", "opacity": 2}}, "invalid_field",
         "watermark.opacity"),
        ({"clips": [CLIP], "captions": {"cues": [{"startSec": 2, "endSec": 1, "text": "x"}]}},
         "invalid_field", "captions.cues[0].endSec"),
        ({"clips": [CLIP], "captions": {"cues": [{"startSec": 20, "endSec": 21, "text": "x"}]}},
         "invalid_field", "captions.cues[0].startSec"),
        ({"clips": [CLIP], "captions": {"cues": [{"startSec": 0, "endSec": 1, "text": ""}]}},
         "invalid_field", "captions.cues[0].text"),
        ({"clips": [CLIP], "jobId": "../etc"}, "invalid_field", "jobId"),
        ({"clips": [CLIP] * 101}, "invalid_field", "clips"),
    ],
)  # fmt: skip
def test_invalid_jobs_name_the_failing_field(job, code, field):
    with pytest.raises(InvalidJob) as caught:
        parse_job(job)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.message.startswith(field)


def test_ten_thousand_cues_are_refused_with_a_clear_limit():
    cues = [{"startSec": i / 1000, "endSec": i / 1000 + 0.5, "text": "x"} for i in range(10_000)]
    with pytest.raises(InvalidJob) as caught:
        parse_job({"clips": [CLIP], "captions": {"cues": cues}})
    assert caught.value.field == "captions.cues" and "1000" in caught.value.message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(literal):
    with pytest.raises(InvalidJob) as caught:
        parse_job_json(f'{{"clips": [{{"source": "a", "inSec": {literal}}}]}}')
    assert caught.value.field == "clips[0].inSec"


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", '"job"', "\xff"])
def test_non_json_or_non_object_is_invalid_json(text):
    with pytest.raises(InvalidJob) as caught:
        parse_job_json(text)
    assert caught.value.code == "invalid_json"


def test_defaults_follow_the_contract():
    job = parse_job({"clips": [CLIP]})
    assert (job.output.aspect, job.output.duration_sec, job.output.fps) == ("16:9", 15, 30)
    assert (job.output.tolerance_sec, job.output.fit, job.output.duration_mode) == (
        0.1, "cover", "trim-pad")  # fmt: skip
    assert (job.transition.type, job.transition.duration_sec) == ("cut", 0.5)
    audio = job.audio
    assert (audio.native_volume, audio.voice_volume, audio.music_volume) == (0.5, 1.0, 0.3)
    assert (audio.speech_pace, audio.pitch, audio.voice_start_sec, audio.music_start_sec) == (
        1.0, 0, 0.5, 0)  # fmt: skip
    assert (audio.ducking, audio.loudness_lufs, audio.narration_engine) == (True, -14, "local")
    assert job.output.size == (1920, 1080)


def test_schema_accepts_the_example_and_rejects_unknown_fields():
    schema = job_schema()
    with open("examples/promo.json", encoding="utf-8") as handle:
        example = json.load(handle)
    jsonschema.validate(example, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "colour": "red"}, schema)
