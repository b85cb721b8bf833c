"""Load check of the worker: status latency while renders run, and throughput against the CLI.

1. Renders ``--jobs`` copies of one job back to back with ``compositor render`` (the baseline,
   run before and again after step 2).
2. Starts ``compositor serve`` (in-process queue, default settings unless given), submits the
   same jobs at once, and while they render has ``--clients`` clients poll
   ``GET /compose/{id}`` (signed) every ``--interval`` s for ``--poll-sec`` s.
3. Reports p50/p99 status latency, renders per minute of both, and the realtime factor.

Targets: status p99 < 50 ms while rendering; worker throughput within 10 % of the CLI's.
Everything runs on loopback; media is generated with the bundled FFmpeg.

    .venv/bin/python scripts/load_worker.py [--jobs 4] [--clients 20] [--poll-sec 30]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import imageio_ffmpeg

from compositor.signing import sign_request

SECRET = "load-test-secret"
BIN = Path(sys.executable).parent


def make_media(folder: Path) -> None:
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for name, tone in (("a.mp4", 440), ("b.mp4", 660)):
        subprocess.run(
            [ffmpeg, "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             "testsrc2=s=1280x720:r=30:d=10", "-f", "lavfi", "-i", f"sine=f={tone}:r=48000:d=10",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
             "-shortest", str(folder / name)],
            check=True,
        )  # fmt: skip


def job_body(sources: tuple[str, str], args: argparse.Namespace) -> dict:
    return {
        "output": {"durationSec": args.duration, "resolution": args.resolution},
        "clips": [{"source": sources[0]}, {"source": sources[1]}],
        "transition": {"type": "fade", "durationSec": 0.5},
        "captions": {"cues": [{"startSec": 1, "endSec": 4, "text": "Load test caption"}]},
    }


def serve_media(folder: Path) -> ThreadingHTTPServer:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def cpu_busy() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def run_cli(folder: Path, args: argparse.Namespace, env: dict[str, str]) -> dict:
    job = folder / "cli-job.json"
    job.write_text(json.dumps(job_body(("a.mp4", "b.mp4"), args)))
    factors = []
    started = time.monotonic()
    for number in range(args.jobs):
        out = subprocess.run(
            [str(BIN / "compositor"), "render", str(job), "-o", str(folder / f"cli{number}.mp4"),
             "--json", "--quiet"],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip
        factors.append(json.loads(out.stdout)["realtimeFactor"])
    elapsed = time.monotonic() - started
    return {"elapsed": elapsed, "per_min": args.jobs / elapsed * 60, "factors": factors}


def signed(method: str, path: str, body: bytes = b"") -> dict[str, str]:
    return sign_request(SECRET, int(time.time()), method, path, body)


class RawClient:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a client this thin measures the
    server, not the client library (httpx's async pool adds milliseconds of its own at 20
    concurrent requests)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status = int(head.split()[1])
        length = next(int(line.split(":", 1)[1]) for line in head.split("\r\n")
                      if line.lower().startswith("content-length:"))  # fmt: skip
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def poll(base: str, ids: list[str], offset: int, until: float, interval: float,
               latencies: list[float], stages: list[str]) -> None:  # fmt: skip
    parts = httpx.URL(base)
    client = RawClient(parts.host, parts.port or 80)
    turn = offset
    # clients do not start in lockstep
    await asyncio.sleep(interval * offset / 20)
    try:
        while time.monotonic() < until:
            job_id = ids[turn % len(ids)]
            turn += 1
            path = f"/compose/{job_id}"
            began = time.perf_counter()
            status, body = await client.get(path, signed("GET", path))
            latencies.append(time.perf_counter() - began)
            if status != 200:
                raise SystemExit(f"status poll answered {status}: {body[:200]!r}")
            stages.append(json.loads(body)["stage"])
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))
    finally:
        await client.close()


async def run_worker_load(base: str, sources: tuple[str, str], args: argparse.Namespace) -> dict:
    ids = [f"load-{int(time.time())}-{number}" for number in range(args.jobs)]
    limits = httpx.Limits(max_connections=args.clients + 4)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        submitted = time.monotonic()
        for job_id in ids:
            body = json.dumps({**job_body(sources, args), "jobId": job_id}).encode()
            reply = await client.post("/compose", content=body, headers=signed("POST", "/compose",
                                                                               body))  # fmt: skip
            assert reply.status_code == 202, reply.text
        # let the first render get going before measuring "while rendering"
        while (await client.get(f"/compose/{ids[0]}", headers=signed(
                "GET", f"/compose/{ids[0]}"))).json()["stage"] != "rendering":  # fmt: skip
            await asyncio.sleep(0.05)
        latencies: list[float] = []
        stages: list[str] = []
        busy0, total0 = cpu_busy()
        until = time.monotonic() + args.poll_sec
        await asyncio.gather(*(poll(base, ids, n, until, args.interval, latencies, stages)
                               for n in range(args.clients)))  # fmt: skip
        busy1, total1 = cpu_busy()
        results = {}
        while len(results) < len(ids):
            for job_id in ids:
                path = f"/compose/{job_id}"
                body = (await client.get(path, headers=signed("GET", path))).json()
                if body["status"] == "failed":
                    raise SystemExit(f"{job_id} failed: {body['error']}")
                if body["status"] == "completed":
                    results[job_id] = body
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - submitted
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "max": ordered[-1] * 1000,
        "rendering_share": stages.count("rendering") / len(stages),
        "cpu_busy": (busy1 - busy0) / max(total1 - total0, 1),
        "elapsed": elapsed,
        "per_min": args.jobs / elapsed * 60,
        "factors": [body["realtimeFactor"] for body in results.values()],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--poll-sec", type=float, default=30)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between a "
                        "client's polls")  # fmt: skip
    parser.add_argument("--duration", type=float, default=15, help="output seconds per job")
    parser.add_argument("--resolution", default="full", choices=["full", "preview"])
    parser.add_argument("--slots", type=int, help="render slots (default: the worker's)")
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()

    env = {**os.environ, "COMPOSITOR_PRESET": os.environ.get("COMPOSITOR_PRESET", "veryfast")}
    # The CLI renders at the worker's FFmpeg priority, so that a machine shared with other
    # work compares like with like (on an idle machine niceness changes nothing).
    nice = os.environ.get("COMPOSITOR_RENDER_NICE", "10")
    cli_env = {**env, "COMPOSITOR_NICE": nice}
    with tempfile.TemporaryDirectory(prefix="load-worker-") as tmp:
        folder = Path(tmp)
        make_media(folder)
        # CLI, worker, CLI again: load from elsewhere on a shared machine that changes over
        # the run weighs on both sides alike
        before = None if args.skip_cli else run_cli(folder, args, cli_env)
        media = serve_media(folder)
        port = free_port()
        worker_env = {**env, "COMPOSITOR_SECRETS": SECRET, "COMPOSITOR_PORT": str(port),
                      "COMPOSITOR_DATA_DIR": str(folder / "data"),
                      "COMPOSITOR_FETCH_ALLOW_NETWORKS": "127.0.0.0/8"}  # fmt: skip
        if args.slots is not None:
            worker_env["COMPOSITOR_RENDER_SLOTS"] = str(args.slots)
        worker = subprocess.Popen([str(BIN / "compositor"), "serve", "--log-level", "warning"],
                                  env=worker_env)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the worker did not become ready")
                time.sleep(0.2)
            host = f"http://127.0.0.1:{media.server_address[1]}"
            load = asyncio.run(run_worker_load(base, (f"{host}/a.mp4", f"{host}/b.mp4"), args))
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
            media.shutdown()
        after = None if args.skip_cli else run_cli(folder, args, cli_env)

    preset = env["COMPOSITOR_PRESET"]
    slots = args.slots or "default"
    print(f"jobs: {args.jobs} x {args.duration:g}s {args.resolution}, preset {preset}, "
          f"{os.cpu_count()} cores, slots {slots}, FFmpeg nice {nice}")  # fmt: skip
    print(f"status polls: {load['requests']} by {args.clients} clients in {args.poll_sec:g}s "
          f"(every {args.interval:g}s each), {load['rendering_share']:.0%} saw a render running, "
          f"CPU busy {load['cpu_busy']:.0%}")  # fmt: skip
    print(f"status latency: p50 {load['p50']:.1f} ms, p99 {load['p99']:.1f} ms, "
          f"max {load['max']:.1f} ms  (target p99 < 50 ms: "
          f"{'met' if load['p99'] < 50 else 'MISSED'})")  # fmt: skip
    print(f"worker: {load['per_min']:.2f} renders/min ({load['elapsed']:.1f}s), realtime factor "
          f"{statistics.mean(load['factors']):.2f}")  # fmt: skip
    if before is not None and after is not None:
        elapsed = before["elapsed"] + after["elapsed"]
        cli_per_min = 2 * args.jobs / elapsed * 60
        ratio = load["per_min"] / cli_per_min
        print(f"CLI back to back: {cli_per_min:.2f} renders/min (before the worker "
              f"{before['per_min']:.2f}, after {after['per_min']:.2f}), realtime factor "
              f"{statistics.mean(before['factors'] + after['factors']):.2f}")  # fmt: skip
        print(f"worker/CLI throughput: {ratio:.1%} (target >= 90%: "
              f"{'met' if ratio >= 0.9 else 'MISSED'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
