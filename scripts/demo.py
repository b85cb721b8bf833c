"""``make demo``: the whole product over HTTP, as a client would drive it.

v1 create (API key) → wait for the source to render → dashboard sign-in → captions → the
final composite → poll → download, then the downloaded file's probe: duration, size, streams
and loudness. Uses the services of a running ``make run`` (found through its
``data/local/run.json``); when none runs, starts the same services itself and stops them at
the end, so it works as one command on a fresh clone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_local import DEFAULT_DATA, ROOT, LocalStack, StackError, free_port, port_in_use

from compositor.ffmpeg_bin import find_ffmpeg
from compositor.probe import probe
from compositor.runner import run_ffmpeg
from compositor.verify import parse_loudness, stream_seconds

PROMPT = "Membership promo showing coaching, equipment, and happy members"


class DemoError(Exception):
    """Raised when a step of the flow does not answer as documented; one line to print."""


def say(text: str) -> None:
    print(text, flush=True)


def running_stack(data_dir: Path) -> dict[str, Any] | None:
    """The services of a live ``make run``, if there is one."""
    try:
        info = json.loads((data_dir / "run.json").read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
        if httpx.get(f"{info['apiUrl']}/api/health", timeout=2).status_code == 200:
            return info
    except (OSError, ValueError, KeyError, httpx.HTTPError):
        pass
    return None


@contextlib.contextmanager
def services(data_dir: Path, resolution: str) -> Iterator[dict[str, Any]]:
    found = running_stack(data_dir)
    if found is not None:
        say(f"using the running services at {found['apiUrl']}")
        yield found
        return
    # make run's ports when they are free; others when something else holds them
    api_port, worker_port = (
        port if not port_in_use(port) else free_port() for port in (8000, 8080)
    )
    stack = LocalStack(
        data_dir=data_dir, api_port=api_port, worker_port=worker_port, resolution=resolution
    )
    say("starting the API and a compositor worker (make run's setup)...")
    stack.start()
    try:
        yield {"apiUrl": stack.api_url, "workerUrl": stack.worker_url, **stack.seed}
    finally:
        say("stopping the services...")
        stack.stop()


def expect(reply: httpx.Response, *statuses: int) -> dict[str, Any]:
    if reply.status_code not in statuses:
        raise DemoError(
            f"{reply.request.method} {reply.request.url.path} answered "
            f"{reply.status_code}: {reply.text[:300]}"
        )
    return reply.json() if reply.content else {}


def wait(what: str, check: Callable[[], dict[str, Any] | None], timeout: float) -> dict[str, Any]:
    """Poll ``check`` until it returns a body; a progress line while waiting."""
    started = time.monotonic()
    while True:
        done = check()
        if done is not None:
            print(flush=True)
            return done
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise DemoError(f"{what} did not finish in {timeout:.0f} s")
        print(f"\r   {what}... {elapsed:4.0f} s", end="", flush=True)
        time.sleep(1)


def measure(path: Path) -> dict[str, Any]:
    """The downloaded file as the engine sees it, and its loudness (EBU R128)."""
    media = probe(path)
    video_sec, audio_sec = stream_seconds(path)
    ffmpeg = find_ffmpeg(None).path
    meter = run_ffmpeg(
        [
            ffmpeg,
            "-hide_banner",
            "-nostdin",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=true:framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        cwd=path.parent,
    )
    lufs, peak = parse_loudness(meter.stderr_tail)
    video, audio = media.video, media.audio
    assert video is not None and audio is not None
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "sizeBytes": media.size_bytes,
        "durationSec": {"video": round(video_sec, 3), "audio": round(audio_sec, 3)},
        "video": {
            "codec": video.codec,
            "profile": video.profile,
            "pixFmt": video.pix_fmt,
            "width": video.width,
            "height": video.height,
            "fps": round(video.fps, 3),
            "frames": video.frames,
        },
        "audio": {
            "codec": audio.codec,
            "sampleRate": audio.sample_rate,
            "channels": audio.channels,
        },
        "loudness": {"integratedLufs": lufs, "truePeakDbfs": peak},
    }


def run_flow(info: dict[str, Any], *, duration: str, aspect: str, out: Path) -> dict[str, Any]:
    base, key = info["apiUrl"], info["key"]
    v1 = httpx.Client(base_url=base, timeout=60, headers={"X-NearIQ-Key": key})
    say(f"1. POST /api/v1/video ({duration} s, {aspect}) with the dev key")
    created = expect(
        v1.post(
            "/api/v1/video", json={"prompt": PROMPT, "duration": duration, "aspectRatio": aspect}
        ),
        200,
    )
    video_id = created["id"]
    say(f"   {video_id}: {created['creditsUsed']} credits, month {created['monthlyUsage']}")

    def generated() -> dict[str, Any] | None:
        videos = expect(v1.get("/api/v1/video", params={"limit": 50}), 200)["videos"]
        row = next((v for v in videos if v["id"] == video_id), None)
        return row if row is not None and row["status"] != "processing" else None

    say("2. wait for the source to render (the local generator, via GET /api/v1/video)")
    row = wait("rendering", generated, timeout=900)
    if row["status"] != "completed":
        raise DemoError(f"the source video {row['status']}")
    say(f"   source completed: {row['videoUrl'].split('?')[0]}")

    dashboard = httpx.Client(base_url=base, timeout=120, headers={"Origin": base})
    say(f"3. POST /api/auth/session as {info['email']}")
    expect(
        dashboard.post(
            "/api/auth/session", json={"email": info["email"], "password": info["password"]}
        ),
        200,
    )
    bundle = expect(dashboard.get("/api/businesses/me/video", params={"id": video_id}), 200)
    say(f"   script: {bundle['video']['script']}")
    say("4. POST /api/businesses/me/video/captions")
    captions = expect(
        dashboard.post("/api/businesses/me/video/captions", json={"videoId": video_id}), 200
    )
    for cue in captions["captionCues"]:
        text = cue["text"].replace("\n", " / ")
        say(f"   {cue['startSec']:6.2f}-{cue['endSec']:6.2f}  {text}")
    say(f"   {captions['creditsUsed']} credit, reused: {captions['reused']}")

    body = dict(captions["compositeBody"])
    body["textOverlays"] = bundle["video"]["compositing"]["textOverlays"]
    say("5. POST /api/businesses/me/video/composite (narration, music, captions, overlays)")
    dispatched = expect(dashboard.post("/api/businesses/me/video/composite", json=body), 200, 202)

    def composited() -> dict[str, Any] | None:
        if dispatched["status"] == "completed":
            return dispatched
        polled = expect(
            dashboard.get(
                "/api/businesses/me/video/composite", params={"jobToken": dispatched["jobToken"]}
            ),
            200,
        )
        return polled if polled["status"] != "processing" else None

    say("6. GET /api/businesses/me/video/composite?jobToken=... until it ends")
    done = wait("compositing", composited, timeout=900)
    if done["status"] != "completed":
        raise DemoError(f"the composite failed: {done.get('error')}")
    composite = done["composite"]
    say(
        f"   {composite['id']}: {composite['width']}x{composite['height']}, "
        f"{composite['durationSec']} s, {done['creditsUsed']} credit charged on output"
    )

    say("7. GET /api/businesses/me/video?id=...&download=1 (302 to a signed link)")
    redirect = dashboard.get(
        "/api/businesses/me/video", params={"id": composite["id"], "download": "1"}
    )
    expect(redirect, 302)
    out.parent.mkdir(parents=True, exist_ok=True)
    with httpx.stream("GET", redirect.headers["location"], timeout=120) as download:
        if download.status_code != 200:
            raise DemoError(f"the download answered {download.status_code}")
        with out.open("wb") as file:
            for chunk in download.iter_bytes(1 << 20):
                file.write(chunk)
    usage = expect(v1.get("/api/v1/video", params={"limit": 1}), 200)["monthlyUsage"]
    report = measure(out)
    report["monthlyUsage"] = usage
    return report


def print_report(report: dict[str, Any]) -> None:
    video, audio, loud = report["video"], report["audio"], report["loudness"]
    say("")
    say(f"{report['file']}")
    say(
        f"  duration  video {report['durationSec']['video']} s, "
        f"audio {report['durationSec']['audio']} s"
    )
    say(f"  size      {report['sizeBytes'] / 1e6:.2f} MB")
    say(
        f"  video     {video['codec']} {video['profile']} {video['pixFmt']} "
        f"{video['width']}x{video['height']} @ {video['fps']} fps ({video['frames']} frames)"
    )
    say(f"  audio     {audio['codec']} {audio['sampleRate']} Hz, {audio['channels']} channels")
    say(
        f"  loudness  {loud['integratedLufs']} LUFS integrated, "
        f"true peak {loud['truePeakDbfs']} dBFS"
    )
    say(
        f"  credits   {report['monthlyUsage']['used']} of {report['monthlyUsage']['limit']} "
        "used this month"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", choices=["5", "15", "30"], default="15")
    parser.add_argument("--aspect", choices=["16:9", "9:16", "1:1"], default="9:16")
    parser.add_argument(
        "--resolution",
        choices=["full", "preview"],
        default="full",
        help="when the demo starts the services itself",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo" / "commercial.mp4")
    parser.add_argument("--json", action="store_true", help="print the probe as JSON")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        with services(args.data.resolve(), args.resolution) as info:
            report = run_flow(
                info, duration=args.duration, aspect=args.aspect, out=args.out.resolve()
            )
    except (DemoError, StackError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nError: interrupted", file=sys.stderr)
        return 130
    report["wallSec"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
        say(f"  took      {report['wallSec']} s end to end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
