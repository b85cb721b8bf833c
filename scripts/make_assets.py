"""Make the builtin assets we ship: the watermark and the background loops.

Everything is generated here from FFmpeg's own sources (gradients, noise, tones) and our fonts,
so the project owns every asset outright (GPL-3.0-or-later with the code; see
assets/LICENSE.md). Run from the repository root: `python scripts/make_assets.py`. The outputs
are committed; re-running reproduces them (fixed seeds).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

# name: (colours, gradient type, ambient tone Hz). 720x720 so both 16:9 and 9:16 crops are sharp
# enough after scaling; 8 s, 30 fps; loop-friendly slow motion.
BACKGROUNDS = {
    "bg-aurora": ("0x0b3d2e 0x1f8a70 0x6c3fc5 0x0f172a", "radial", 110),
    "bg-sunset": ("0xff7e5f 0xfeb47b 0x86377b 0x2b1055", "linear", 146),
    "bg-ocean": ("0x021b79 0x0575e6 0x00c9a7 0x0b132b", "circular", 98),
    "bg-grid": ("0x111827 0x374151 0x2563eb 0x111827", "spiral", 130),
    "bg-pulse": ("0x7f1d1d 0xdc2626 0xf59e0b 0x1c1917", "radial", 123),
}


def run(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_watermark() -> None:
    out = ASSETS / "watermark" / "watermark.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    font = ASSETS / "fonts" / "NotoSans-Bold.ttf"
    run(
        "-f", "lavfi", "-i", "color=c=black@0.0:s=640x160,format=rgba",
        "-vf", f"drawtext=fontfile={font}:text=NearIQ:fontcolor=white:fontsize=112"
        ":borderw=5:bordercolor=black@0.55:x=(w-tw)/2:y=(h-th)/2",
        "-frames:v", "1", str(out),
    )  # fmt: skip


def make_background(name: str, colours: str, kind: str, tone: int) -> None:
    out = ASSETS / "media" / f"{name}.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    c = colours.split()
    video = (
        f"gradients=s=720x720:r=30:d=8:n=4:c0={c[0]}:c1={c[1]}:c2={c[2]}:c3={c[3]}"
        f":type={kind}:speed=0.015:seed=7"
    )
    if kind == "radial":  # anchor the centre and a wide radius (the default is a small blob)
        video += ":x0=240:y0=260:x1=980:y1=1000"
    # Ambient bed: brown noise, low-passed, with a quiet fifth-apart drone; fades at the ends.
    audio = (
        f"anoisesrc=color=brown:amplitude=0.12:seed=3:d=8,lowpass=f=500[n];"
        f"sine=f={tone}:d=8,volume=0.05[a];sine=f={tone * 3 // 2}:d=8,volume=0.03[b];"
        "[n][a][b]amix=inputs=3:normalize=0,afade=t=in:d=0.5,afade=t=out:st=7.5:d=0.5,"
        "aformat=sample_rates=48000:channel_layouts=stereo"
    )
    run(
        "-f", "lavfi", "-i", video, "-filter_complex", audio,
        "-c:v", "libx264", "-preset", "slow", "-crf", "30", "-profile:v", "high",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart",
        "-map_metadata", "-1", str(out),
    )  # fmt: skip


def main() -> int:
    make_watermark()
    for name, (colours, kind, tone) in BACKGROUNDS.items():
        make_background(name, colours, kind, tone)
    for path in sorted((ASSETS / "media").glob("*.mp4")):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
