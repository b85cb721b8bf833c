"""Make the demo's source clips (out/media by default): three 1280x720 30 fps clips with sound.

They stand in for a business's footage in `examples/promo.json` and are the reference clips of
`scripts/bench.py`: 6, 6 and 5 seconds, each a different moving picture and tone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

CLIPS = {
    "coaching.mp4": ("testsrc2=s=1280x720:r=30", 6, 220),
    "equipment.mp4": (
        "gradients=s=1280x720:r=30:n=3:c0=0x1e3a8a:c1=0xf59e0b:c2=0x10b981:speed=0.05:seed=1",
        6,
        330,
    ),
    "members.mp4": ("life=s=1280x720:r=30:mold=10:ratio=0.1:death_color=#203040:seed=5", 5, 440),
}


def make_clip(path: Path, source: str, seconds: int, tone: int) -> None:
    audio = (
        f"sine=f={tone}:r=48000:d={seconds},volume=0.6[t];"
        f"anoisesrc=color=pink:amplitude=0.05:r=48000:d={seconds}:seed=2[n];"
        "[t][n]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo"
    )
    subprocess.run(
        [
            FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"{source},format=yuv420p", "-filter_complex", audio,
            "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
            "-c:a", "aac", "-b:a", "128k", str(path),
        ],
        check=True,
    )  # fmt: skip


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "out/media")
    folder.mkdir(parents=True, exist_ok=True)
    for name, (source, seconds, tone) in CLIPS.items():
        path = folder / name
        if not path.exists():
            make_clip(path, source, seconds, tone)
        print(f"sample: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
