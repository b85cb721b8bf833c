"""The whole flow through real servers (SQLite): a v1 create rendered by the local provider,
a session, captions, the final composite, the poll and the download. The output is a verified
MP4 of the slot; the free plan's carries the watermark in its corner and the pro plan's does
not; the captions show where the cues say and nowhere else."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.api.contract import assert_documented
from tests.api.dashboard.conftest import make_stack
from tests.api.dashboard.helpers import month_totals, poll_until_done
from tests.mediatools import frame_at, stream_durations, video_info
from tests.worker.helpers import wait_until

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

PROMPT = "Membership promo showing coaching, equipment, and happy members"
WATERMARK_CORNER = (0.80, 0.03, 0.97, 0.13)  # top right, where the plan's watermark goes
CAPTION_BAND = (0.15, 0.78, 0.85, 0.95)  # bottom centre, where clean captions sit
MIDDLE = (0.3, 0.3, 0.7, 0.6)


def changed_share(a: np.ndarray, b: np.ndarray, box: tuple[float, ...]) -> float:
    """Share of the pixels inside a box (fractions of the frame) that differ clearly between
    two frames (a channel off by more than 40 levels): re-encoding moves a few levels, drawn
    text or a watermark moves many."""
    height, width = a.shape[:2]
    x0, y0, x1, y1 = box
    ys, xs = slice(int(y0 * height), int(y1 * height)), slice(int(x0 * width), int(x1 * width))
    difference = np.abs(a[ys, xs].astype(int) - b[ys, xs].astype(int)).max(axis=2)
    return float((difference > 40).mean())


@pytest.fixture(scope="module")
def flow_stack(backend, tmp_path_factory, bg_assets):
    root = tmp_path_factory.mktemp("flow")
    with make_stack(backend, root, bg_assets, NEARIQ_GENERATION_WORKERS="1") as stack:
        yield stack


def run_flow(stack, account, workdir) -> dict:
    """v1 create → completion → session → captions → composite → poll → download."""
    key = {"X-NearIQ-Key": account.key}
    created = httpx.post(
        f"{stack.base}/api/v1/video",
        headers=key,
        json={"prompt": PROMPT, "duration": "5", "aspectRatio": "16:9"},
    )
    assert created.status_code == 200, created.text
    video_id = created.json()["id"]

    def generated() -> dict | None:
        listed = httpx.get(f"{stack.base}/api/v1/video", headers=key).json()["videos"]
        row = next(video for video in listed if video["id"] == video_id)
        return row if row["status"] != "processing" else None

    assert wait_until(generated, timeout=120, every=0.3)["status"] == "completed"
    client = stack.signed_in(account)
    captions = client.post("/api/businesses/me/video/captions", json={"videoId": video_id})
    captions = assert_documented(captions, "POST", "/api/businesses/me/video/captions")
    composite = client.post("/api/businesses/me/video/composite", json=captions["compositeBody"])
    assert composite.status_code == 202, composite.text
    done = poll_until_done(client, composite.json()["jobToken"])
    assert (done["status"], done["creditsUsed"]) == ("completed", 1), done
    files = {}
    for name, wanted in (("source", video_id), ("composite", done["composite"]["id"])):
        redirect = client.get("/api/businesses/me/video", params={"id": wanted, "download": 1})
        assert redirect.status_code == 302
        files[name] = workdir / f"{account.business_id}-{name}.mp4"
        files[name].write_bytes(httpx.get(redirect.headers["location"]).content)
    listed = httpx.get(f"{stack.base}/api/v1/video", headers=key).json()
    return {"cues": captions["captionCues"], "done": done, "listed": listed, **files}


def test_the_whole_flow_makes_a_verified_commercial_watermarked_by_plan(
    flow_stack, world, tmp_path
):
    free = world.account(credits=12, watermark=True)
    pro = world.account(credits=12, watermark=False)
    results = {
        "free": run_flow(flow_stack, free, tmp_path),
        "pro": run_flow(flow_stack, pro, tmp_path),
    }

    for plan, result in results.items():
        composite = result["composite"]
        video_sec, audio_sec = stream_durations(composite)
        assert abs(video_sec - 5) <= 0.1 and abs(audio_sec - 5) <= 0.1, plan
        info = video_info(composite)
        assert (info["codec"], info["profile"], info["width"], info["height"]) == (
            "h264",
            "High",
            960,
            540,
        )
        assert (info["audio_codec"], info["sample_rate"], info["channels"]) == ("aac", 48000, 2)
        assert result["done"]["composite"]["durationSec"] == pytest.approx(5, abs=0.1)
        # generation 1 + captions 1 + composite 1, and the composite is a row of the v1 list
        assert result["listed"]["monthlyUsage"]["used"] == 3
        assert {v["id"]: v["creditsUsed"] for v in result["listed"]["videos"]}[
            result["done"]["composite"]["id"]
        ] == 1

        cues = result["cues"]
        assert cues and cues[0]["startSec"] >= 0.5
        before_voice = 0.2
        in_cue = (cues[0]["startSec"] + cues[0]["endSec"]) / 2
        source_quiet, output_quiet = (
            frame_at(result[n], before_voice) for n in ("source", "composite")
        )
        source_cue, output_cue = (frame_at(result[n], in_cue) for n in ("source", "composite"))
        # captions: drawn in their band while the cue is on, absent before it
        assert changed_share(source_cue, output_cue, CAPTION_BAND) > 0.01, plan
        assert changed_share(source_quiet, output_quiet, CAPTION_BAND) < 0.002, plan
        # the picture itself is the source's everywhere else
        assert changed_share(source_cue, output_cue, MIDDLE) < 0.002, plan
        corner = changed_share(source_quiet, output_quiet, WATERMARK_CORNER)
        if plan == "free":
            assert corner > 0.03, f"no watermark in the free plan's corner ({corner:.3f})"
        else:
            assert corner < 0.002, f"something in the pro plan's corner ({corner:.3f})"
    for account in (free, pro):
        assert month_totals(flow_stack.db, account.business_id) == (3, 0)
