"""``compositor captions``: files, JSON, and one ``Error:`` line with exit code 2 on bad input."""

from __future__ import annotations

import json

import pytest
import webvtt

from compositor.cli import ExitCode, main

SCRIPT = "Fresh bread, every morning. Stop by the bakery on Main Street today!"


@pytest.fixture
def script_file(tmp_path):
    path = tmp_path / "script.txt"
    path.write_text(SCRIPT + "\n", encoding="utf-8")
    return path


def test_writes_vtt_and_srt_that_read_back(script_file, tmp_path, capsys):
    vtt, srt = tmp_path / "out.vtt", tmp_path / "out.srt"
    code = main(
        [
            "captions",
            str(script_file),
            "--pace",
            "1.1",
            "--start",
            "0.5",
            "--duration",
            "15",
            "--vtt",
            str(vtt),
            "--srt",
            str(srt),
        ]
    )
    assert code == ExitCode.OK
    from_vtt, from_srt = webvtt.read(str(vtt)), webvtt.from_srt(str(srt))
    assert len(from_vtt) == len(from_srt) == 2
    assert [c.start for c in from_vtt] == [c.start for c in from_srt]
    assert from_vtt[0].start == "00:00:00.500"
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("00:00:00.500 --> ") and printed[0].endswith("every morning.")


def test_json_lists_cues_with_words(script_file, capsys):
    assert main(["captions", str(script_file), "--json", "--voice", "en-gb"]) == ExitCode.OK
    result = json.loads(capsys.readouterr().out)
    assert result["pace"] == 1.0
    assert [c["text"] for c in result["cues"]] == [
        "Fresh bread, every morning.",
        "Stop by the bakery on Main Street today!",
    ]
    assert result["cues"][0]["words"][0] == {
        "text": "Fresh",
        "startSec": 0.5,
        "endSec": result["cues"][0]["words"][0]["endSec"],
    }


def test_fit_raises_the_pace_when_asked(script_file, capsys):
    assert main(["captions", str(script_file), "--duration", "3.5", "--json"]) == 2
    assert "narration_too_long" in capsys.readouterr().err
    assert main(["captions", str(script_file), "--duration", "4.2", "--fit", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pace"] > 1.0


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["--pace", "nan"], "invalid_field"),
        (["--pace", "fast"], "invalid_field"),
        (["--pace", "3"], "invalid_field"),
        (["--start", "20"], "invalid_field"),
        (["--duration", "inf"], "invalid_field"),
        (["--voice", "klingon"], "narration_voice_unknown"),
        (["--duration", "2"], "narration_too_long"),
    ],
)
def test_bad_options_print_one_error_line_and_exit_2(script_file, capsys, arguments, code):
    assert main(["captions", str(script_file), *arguments]) == ExitCode.INVALID_JOB
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and lines[0].endswith(f"({code})")
    assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("", "narration_script_empty"),
        ("  …!? — ", "narration_script_unspeakable"),
        ("🍞🥐🎉", "narration_script_unspeakable"),
    ],
)
def test_bad_scripts_print_one_error_line_and_exit_2(tmp_path, capsys, content, code):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    assert main(["captions", str(path)]) == ExitCode.INVALID_JOB
    assert capsys.readouterr().err.strip().endswith(f"({code})")


def test_an_unreadable_script_file_is_an_invalid_input(tmp_path, capsys):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9".encode("latin-1"))
    assert main(["captions", str(path)]) == ExitCode.INVALID_JOB
    assert main(["captions", str(tmp_path / "missing.txt")]) == ExitCode.INVALID_JOB
    assert capsys.readouterr().err.count("Error: cannot read script file") == 2


def test_premium_without_a_server_is_a_narration_failure(script_file, capsys):
    assert main(["captions", str(script_file), "--engine", "premium"]) == ExitCode.RENDER_FAILED
    assert capsys.readouterr().err.strip().endswith("(narration_unavailable)")
