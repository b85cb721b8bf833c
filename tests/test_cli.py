"""The CLI as a user runs it: real processes, exit codes, one Error line, JSON results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mediatools import stream_durations

COMPOSITOR = [sys.executable, "-m", "compositor.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMPOSITOR, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)  # fmt: skip


def write_job(path: Path, job: dict | str) -> Path:
    path.write_text(job if isinstance(job, str) else json.dumps(job))
    return path


def test_render_prints_the_verified_result_as_json(tmp_path, media):
    job = write_job(tmp_path / "job.json", {
        "output": {"durationSec": 2, "resolution": "preview"},
        "clips": [{"source": str(media.red)}],
    })  # fmt: skip
    done = run("render", str(job), "-o", str(tmp_path / "out.mp4"), "--json", "--preset",
               "ultrafast")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["durationSec"] == pytest.approx(2, abs=0.1)
    assert (result["width"], result["height"], result["fps"]) == (960, 540, 30)
    assert set(result["verification"]) >= {"targetSec", "durationErrorSec", "audioVideoGapSec",
                                           "integratedLufs"}  # fmt: skip
    assert result["renderSec"] > 0 and result["realtimeFactor"] > 0
    assert Path(result["posterPath"]).stat().st_size > 0
    assert abs(stream_durations(Path(result["path"]))[0] - 2) <= 0.1


def test_sources_are_relative_to_the_job_file(tmp_path, media):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "red.mp4").write_bytes(media.red.read_bytes())
    job = write_job(tmp_path / "job.json", {"output": {"durationSec": 1, "resolution": "preview"},
                                            "clips": [{"source": "clips/red.mp4"}]})  # fmt: skip
    done = run("render", str(job), "-o", "out.mp4", "--quiet", "--preset", "ultrafast",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    ("job", "exit_code", "needle"),
    [
        ("{not json", 2, "invalid_json"),
        ({"clips": [{"source": "x.mp4", "inSec": -1}]}, 2, "clips[0].inSec"),
        ({"clips": [{"source": "x.mp4"}], "colour": 1}, 2, "unknown_field"),
        ('{"clips": [{"source": "x.mp4", "inSec": NaN}]}', 2, "clips[0].inSec"),
        ({"clips": [{"source": "missing.mp4"}]}, 3, "source_not_found"),
        ({"clips": [{"source": "https://example.com/a.mp4"}]}, 3, "source_scheme_not_allowed"),
        ({"clips": [{"source": "text.mp4"}]}, 3, "source_unreadable"),
        ({"clips": [{"source": "empty.mp4"}]}, 3, "source_empty"),
        ({"clips": [{"source": "truncated.mp4"}]}, 3, "source_truncated"),
        ({"clips": [{"source": "audio_only.m4a"}]}, 3, "source_has_no_video"),
        ({"clips": [{"source": "red.mp4", "inSec": 5}]}, 2, "in_sec_past_end"),
        ({"clips": [{"source": "red.mp4"}, {"source": "blue.mp4", "outSec": 0.8}],
          "transition": {"type": "fade", "durationSec": 0.5}}, 2, "clips[1]"),
    ],
)  # fmt: skip
def test_bad_input_prints_one_error_line_and_a_named_exit_code(media, job, exit_code, needle):
    job_path = write_job(media.root / "bad-job.json", job)
    done = run("render", str(job_path), "-o", str(media.root / "never.mp4"))
    assert done.returncode == exit_code
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (media.root / "never.mp4").exists()


def test_json_mode_reports_errors_as_json_too(media):
    job_path = write_job(media.root / "bad2.json", {"clips": [{"source": "missing.mp4"}]})
    done = run("render", str(job_path), "-o", str(media.root / "n.mp4"), "--json")
    assert done.returncode == 3
    assert json.loads(done.stdout)["error"] == {
        "code": "source_not_found",
        "message": "clips[0].source: missing.mp4: file not found",
        "field": "clips[0].source",
    }


def test_debug_shows_the_traceback(media):
    job_path = write_job(media.root / "bad3.json", {"clips": [{"source": "missing.mp4"}]})
    done = run("--debug", "render", str(job_path), "-o", str(media.root / "n.mp4"))
    assert done.returncode == 3 and "Traceback" in done.stderr


def test_schema_and_probe(media):
    schema = run("schema")
    assert schema.returncode == 0 and "clips" in json.loads(schema.stdout)["properties"]
    probe = run("probe", str(media.rotated))
    info = json.loads(probe.stdout)
    assert info["video"]["rotation"] in (90, 270)
    assert (info["video"]["displayWidth"], info["video"]["displayHeight"]) == (180, 320)
    bad = run("probe", str(media.text_as_mp4))
    assert bad.returncode == 3 and bad.stderr.startswith("Error: ")


def test_a_local_playlist_is_never_followed(tmp_path, media):
    # An HLS playlist naming a real, readable clip: were the playlist demuxer allowed, probing
    # would open red.mp4 through it and succeed. It must be refused as unreadable instead.
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{media.red}\n"
                        "#EXT-X-ENDLIST\n")  # fmt: skip
    done = run("probe", str(playlist))
    assert done.returncode == 3 and "source_unreadable" in done.stderr
    job = write_job(tmp_path / "job.json", {"clips": [{"source": str(playlist)}]})
    rendered = run("render", str(job), "-o", str(tmp_path / "out.mp4"))
    assert rendered.returncode == 3 and not (tmp_path / "out.mp4").exists()
