"""Benchmark the engine against the encoder floor and MoviePy, measured in the same run.

Reference job: three 1280x720 30 fps clips of 6, 6 and 5 s with audio, 0.5 s fades, three
caption cues, a text watermark, native audio at 0.3, into 15 s of 1080x1920. Cases:

  floor     bare encode of 15 s of 1080x1920 testsrc2 + sine, same encoder settings
  engine    compositor.render of the reference job (one FFmpeg process; no loudness stage)
  commercial  the reference job plus narration of a 40-word script, music, ducking and
            two-pass loudness normalization: what the audio stages add
  filters   the engine's graph into `-f null` (decode + filters, no encode): the filter share
            (its memory is not comparable: a null sink queues raw frames while interleaving)
  moviepy   the same job written with MoviePy's ordinary API (the slow peer)

Each case runs in its own subprocess; peak memory is the largest resident set of that process
or any child (FFmpeg), from getrusage. Usage:
  python scripts/bench.py [--repeat N] [--skip-moviepy] [--preset P] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CAPTIONS = [
    (0.5, 4.5, "Coaching that meets you where you are"),
    (5.0, 9.5, "Equipment for every goal"),
    (10.0, 14.5, "Join our happy members today"),
]
SLOT = 15.0


def reference_job(media: Path) -> dict[str, Any]:
    return {
        "output": {"aspect": "9:16", "durationSec": SLOT},
        "clips": [
            {"source": str(media / "coaching.mp4")},
            {"source": str(media / "equipment.mp4")},
            {"source": str(media / "members.mp4")},
        ],
        "transition": {"type": "fade", "durationSec": 0.5},
        "captions": {
            "style": "clean",
            "cues": [{"startSec": s, "endSec": e, "text": t} for s, e, t in CAPTIONS],
        },
        "watermark": {"text": "NearIQ", "position": "bottom-right", "opacity": 0.6},
        "audio": {"nativeVolume": 0.3, "loudnessLufs": None},
    }


SCRIPT_40_WORDS = (
    "Meet your new favorite gym. Our coaches build a plan around your goals, our equipment is "
    "ready for every workout, and our members cheer each other on. Join this week and your "
    "first month of coaching is on us."
)


def commercial_job(media: Path) -> dict[str, Any]:
    job = reference_job(media)
    job["audio"] = {
        "nativeVolume": 0.3,
        "narration": {"script": SCRIPT_40_WORDS},
        "speechPace": 1.1,
        "music": {"source": "builtin:upbeat"},
        "musicVolume": 0.35,
        "ducking": True,
        "loudnessLufs": -14,
    }
    return job


# ---- cases (each runs in a child process: `bench.py --case NAME --media DIR --out DIR`) ----


def case_floor(media: Path, out: Path, preset: str) -> None:
    from compositor.ffmpeg_bin import find_ffmpeg
    from compositor.plan.build import EncodeOptions, _encoder_args

    encoder = _encoder_args(EncodeOptions(preset=preset))
    args = [find_ffmpeg().path, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", f"testsrc2=s=1080x1920:r=30:d={SLOT}",
            "-f", "lavfi", "-i", f"sine=f=440:r=48000:d={SLOT}"]  # fmt: skip
    for key, value in encoder.items():
        args += [f"-{key}", str(value)]
    subprocess.run([*args, str(out / "floor.mp4")], check=True)


def _engine_plan(media: Path, preset: str, work: Path) -> Any:
    from compositor.job import parse_job
    from compositor.plan.build import build_plan
    from compositor.render import encode_options, prepare
    from compositor.settings import Settings
    from compositor.sources import LocalResolver

    settings = Settings(preset=preset)
    job = parse_job(reference_job(media))
    prepared = prepare(job, LocalResolver(media, settings.assets_dir), settings, work)
    plan = build_plan(prepared.job, prepared.clips, encode=encode_options(settings, preset),
                      mix_plan=prepared.mix_plan)  # fmt: skip
    return plan, settings


def case_engine(media: Path, out: Path, preset: str, job: dict[str, Any] | None = None) -> None:
    """Also records the output's size (for --presets)."""
    from compositor.job import parse_job
    from compositor.render import render
    from compositor.settings import Settings
    from compositor.sources import LocalResolver

    settings = Settings(preset=preset)
    result = render(
        parse_job(job or reference_job(media)),
        out / "engine.mp4",
        resolver=LocalResolver(media, settings.assets_dir),
        settings=settings,
    )
    assert abs(result.duration_sec - SLOT) <= 0.1
    (out / "size.json").write_text(json.dumps(result.path.stat().st_size))


def case_commercial(media: Path, out: Path, preset: str) -> None:
    case_engine(media, out, preset, commercial_job(media))


def case_filters(media: Path, out: Path, preset: str) -> None:
    """The engine's own graph, outputs replaced by a null sink: decode + filter cost only."""
    from compositor.ffmpeg_bin import find_ffmpeg
    from compositor.plan.build import OUTPUT_NAME
    from compositor.runner import run_ffmpeg

    plan, settings = _engine_plan(media, preset, out)
    args = list(plan.args)
    main_end = args.index(OUTPUT_NAME)
    maps_end = max(i for i in range(main_end) if args[i] == "-map") + 2
    args = [*args[:maps_end], "-f", "null", "-"]
    for name, text in plan.work_files:
        (out / name).write_text(text)
    run_ffmpeg([find_ffmpeg().path, *args], cwd=out, fonts_dir=settings.fonts_dir)


def case_moviepy(media: Path, out: Path, preset: str) -> None:
    from moviepy import (
        ColorClip,
        CompositeVideoClip,
        TextClip,
        VideoFileClip,
        concatenate_videoclips,
        vfx,
    )
    from moviepy.audio.fx import MultiplyVolume

    width, height, fade = 1080, 1920, 0.5
    font = str(ROOT / "assets" / "fonts" / "NotoSans-Bold.ttf")
    clips = []
    for index, name in enumerate(("coaching.mp4", "equipment.mp4", "members.mp4")):
        clip = VideoFileClip(str(media / name))
        # cover: scale to fill, centre-crop
        scale = max(width / clip.w, height / clip.h)
        clip = clip.resized(scale).cropped(
            x_center=clip.w * scale / 2, y_center=clip.h * scale / 2, width=width, height=height
        )
        if index > 0:
            clip = clip.with_effects([vfx.CrossFadeIn(fade)])
        clips.append(clip)
    video = concatenate_videoclips(clips, method="compose", padding=-fade)
    video = video.with_audio(video.audio.with_effects([MultiplyVolume(0.3)]))
    layers = [video]
    for start, end, text in CAPTIONS:
        caption = (
            TextClip(
                font=font,
                text=text,
                font_size=54,
                color="white",
                bg_color="black",
                method="caption",
                size=(width - 172, None),
            )
            .with_opacity(0.7)
            .with_start(start)
            .with_duration(end - start)
            .with_position(("center", height - 422))
        )
        layers.append(caption)
    mark = (
        TextClip(font=font, text="NearIQ", font_size=60, color="white")
        .with_opacity(0.6)
        .with_duration(SLOT)
        .with_position((width - 260, height - 110))
    )
    layers.append(mark)
    final = CompositeVideoClip(layers, size=(width, height)).with_duration(SLOT)
    if final.duration < SLOT:  # pragma: no cover - the reference content is longer than the slot
        final = CompositeVideoClip([ColorClip((width, height), (0, 0, 0), duration=SLOT), final])
    final.write_videofile(
        str(out / "moviepy.mp4"), fps=30, codec="libx264", preset=preset,
        audio_codec="aac", audio_fps=48000, ffmpeg_params=["-crf", "20", "-profile:v", "high",
                                                           "-pix_fmt", "yuv420p"],
        logger=None, temp_audiofile_path=str(out),  # not the working directory
    )  # fmt: skip


CASES = {
    "floor": case_floor,
    "engine": case_engine,
    "commercial": case_commercial,
    "filters": case_filters,
    "moviepy": case_moviepy,
}


def run_case(name: str, media: Path, preset: str) -> dict[str, float]:
    """Run one case in a child process; wall seconds, peak RSS (MB) of it and its children,
    and the output size when the case records one."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as out:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, __file__, "--case", name, "--media",
                                    str(media), "--out", out, "--preset", preset])  # fmt: skip
        _, status, usage = __import__("os").wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"case {name} failed ({status})")
        report = json.loads((Path(out) / "rss.json").read_text())
        size_file = Path(out) / "size.json"
        size = json.loads(size_file.read_text()) if size_file.exists() else 0
    # ru_maxrss is in KiB on Linux
    peak = max(report["self"], report["children"], usage.ru_maxrss) / 1024
    # CPU seconds of the case and everything it ran: steadier than wall time on a shared host.
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "peak_mb": peak, "size_mb": size / 1e6}


PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")


def compare_presets(media: Path, repeat: int) -> None:
    """The reference job at each x264 preset (same CRF): wall time against file size."""
    print(f"\n{'preset':10s} {'wall s':>8s} {'x realtime':>10s} {'cpu s':>7s} {'size MB':>8s}"
          f" {'Mbit/s':>7s}")  # fmt: skip
    for preset in PRESETS:
        runs = [run_case("engine", media, preset) for _ in range(repeat)]
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        size = runs[0]["size_mb"]
        print(f"{preset:10s} {wall:8.2f} {SLOT / wall:10.2f} {cpu:7.2f} {size:8.2f}"
              f" {size * 8 / SLOT:7.2f}", flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=CASES)
    parser.add_argument("--media", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--preset", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--presets", action="store_true", help="compare x264 presets only")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from compositor.settings import Settings

    preset = args.preset or Settings().preset
    if args.case:
        CASES[args.case](args.media, args.out, preset)
        (args.out / "rss.json").write_text(json.dumps({
            "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        }))  # fmt: skip
        return 0

    media = ROOT / "out" / "bench-media"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_media.py"), str(media)],
                   check=True)  # fmt: skip
    if args.presets:
        compare_presets(media, args.repeat)
        return 0
    names = ["floor", "engine", "commercial", "filters"]
    names += [] if args.skip_moviepy else ["moviepy"]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for round_ in range(args.repeat):
        for name in names:
            if name == "moviepy" and round_ > 0:
                continue  # minutes per run: once is enough for a ratio this large
            results[name].append(run_case(name, media, preset))
            print(f"round {round_ + 1} {name:8s} {results[name][-1]['wall']:7.2f}s", flush=True)

    summary = {
        name: {
            "wall_s": statistics.median(r["wall"] for r in runs),
            "cpu_s": statistics.median(r["cpu"] for r in runs),
            "peak_mb": max(r["peak_mb"] for r in runs),
            "realtime_factor": SLOT / statistics.median(r["wall"] for r in runs),
        }
        for name, runs in results.items()
    }
    floor, engine = summary["floor"], summary["engine"]
    print(f"\npreset {preset}, 15 s of 1080x1920, median of {args.repeat} (moviepy: 1 run)\n")
    print(f"{'case':10s} {'wall s':>8s} {'x realtime':>10s} {'peak MB':>8s} {'vs floor':>9s}"
          f" {'cpu s':>7s} {'cpu vs floor':>12s}")  # fmt: skip
    for name, row in summary.items():
        print(f"{name:10s} {row['wall_s']:8.2f} {row['realtime_factor']:10.2f} "
              f"{row['peak_mb']:8.0f} {row['wall_s'] / floor['wall_s']:8.2f}x "
              f"{row['cpu_s']:7.2f} {row['cpu_s'] / floor['cpu_s']:11.2f}x")  # fmt: skip
    print(
        f"\nload average at the end: {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())}"
    )

    def paired(name: str) -> float:
        """Median over rounds of (case / floor) within the same round: a shared host drifts
        between rounds, a round's cases run back to back."""
        pairs = zip(results[name], results["floor"], strict=False)
        return statistics.median(case["wall"] / base["wall"] for case, base in pairs)

    ratios = {
        "engine_vs_floor_wall_paired": paired("engine"),
        "commercial_vs_floor_wall_paired": paired("commercial"),
        "engine_vs_floor_wall": engine["wall_s"] / floor["wall_s"],
        "engine_vs_floor_cpu": engine["cpu_s"] / floor["cpu_s"],
        "engine_vs_floor_memory": engine["peak_mb"] / floor["peak_mb"],
        "filters_share_of_engine": summary["filters"]["wall_s"] / engine["wall_s"],
        "commercial_vs_floor_wall": summary["commercial"]["wall_s"] / floor["wall_s"],
        "commercial_vs_floor_cpu": summary["commercial"]["cpu_s"] / floor["cpu_s"],
        "audio_stages_added_s": summary["commercial"]["wall_s"] - engine["wall_s"],
    }
    if "moviepy" in summary:
        ratios["moviepy_vs_engine_wall"] = summary["moviepy"]["wall_s"] / engine["wall_s"]
        ratios["moviepy_vs_engine_cpu"] = summary["moviepy"]["cpu_s"] / engine["cpu_s"]
    print()
    for key, value in ratios.items():
        print(f"{key:28s} {value:6.2f}")
    print("\ntargets: engine/floor wall <= 1.25, moviepy/engine >= 15, engine/floor memory <= 1.5,"
          " commercial/floor wall <= 1.4")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"preset": preset, "cases": summary, "ratios": ratios},
                                        indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
