"""Against real ``neariq serve`` processes (uvicorn, two workers) on loopback, both databases:
the seed's curl requests replayed verbatim, and parallel creates that never overspend."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from compositor.settings import REPO_ROOT
from tests.api.contract import assert_documented
from tests.api.support import SEED_PROMPT, server_env, uvicorn_server

# The original API description, kept in the suite so the replay runs on any clone; when the
# shared folder sits beside the repository, the copy is checked against it.
SEED = Path(__file__).parent / "data" / "seed_api_description.txt"
SHARED_SEED = REPO_ROOT.parent / "shared" / "seed"
SEED_KEY = "niq_your_key_here"


def seed_curl_commands(text: str) -> list[str]:
    """The distinct curl commands of the seed, each with its continuation lines."""
    commands: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("curl "):
            index += 1
            continue
        block = [lines[index]]
        while block[-1].endswith("\\") or "".join(block).count("'") % 2:
            index += 1
            block.append(lines[index])
        command = "\n".join(block)
        if command not in commands:
            commands.append(command)
        index += 1
    return commands


@pytest.fixture
def server(backend, world, bg_assets, tmp_path, clock):
    clock.set(datetime.now(UTC))  # the server runs on the wall clock
    env = server_env(backend, tmp_path / "data", bg_assets)

    def start(workers: int = 2):
        return uvicorn_server(env, workers=workers)

    return start


@pytest.mark.skipif(not SHARED_SEED.is_dir(), reason="shared/seed is not beside the repository")
def test_the_suites_copy_of_the_seed_is_the_original():
    originals = [path.read_bytes() for path in SHARED_SEED.glob("*.txt")]
    assert SEED.read_bytes() in originals


def test_the_seeds_two_curl_requests_answer_the_documented_shapes(server, world):
    commands = seed_curl_commands(SEED.read_text(encoding="utf-8"))
    assert len(commands) == 2 and "-X POST" in commands[0] and "limit=20" in commands[1]
    account = world.account(credits=12, raw_key=SEED_KEY)
    with server() as base:
        outputs = []
        for command in commands:
            replay = command.replace("https://app.neariq.io", base)
            assert replay.count(base) == 1
            done = subprocess.run(["bash", "-c", replay], capture_output=True, timeout=30)
            assert done.returncode == 0, done.stderr
            outputs.append(json.loads(done.stdout))
    created, listed = outputs
    assert set(created) == {"id", "status", "prompt", "duration", "aspectRatio", "creditsUsed",
                            "monthlyUsage", "_receipt"}  # fmt: skip
    assert (created["status"], created["prompt"], created["duration"]) == (
        "processing", SEED_PROMPT, "15"
    )  # fmt: skip
    assert (created["aspectRatio"], created["creditsUsed"]) == ("9:16", 2)
    assert created["monthlyUsage"] == {"used": 2, "limit": 12}
    assert listed["total"] == 1 and listed["videos"][0]["id"] == created["id"]
    assert listed["videos"][0]["durationSeconds"] == 15
    assert listed["monthlyUsage"] == {"used": 2, "limit": 12}
    assert account.business_id


def test_twenty_parallel_creates_on_two_processes_charge_exactly_the_limit(server, world):
    account = world.account(credits=12)

    async def burst(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            send = [
                client.post(
                    "/api/v1/video",
                    json={"prompt": SEED_PROMPT, "duration": "15"},
                    headers={"X-NearIQ-Key": account.key},
                )
                for _ in range(20)
            ]
            return await asyncio.gather(*send)

    with server(workers=2) as base:
        responses = asyncio.run(burst(base))
        listed = httpx.get(
            f"{base}/api/v1/video?limit=50", headers={"X-NearIQ-Key": account.key}, timeout=10
        )
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 6 and statuses.count(429) == 14, statuses
    for response in responses:
        assert_documented(response, "POST", "/api/v1/video")
    body = listed.json()
    assert body["monthlyUsage"] == {"used": 12, "limit": 12} and body["total"] == 6


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_request_head_over_the_servers_limit_is_refused_and_the_server_lives(server, world):
    account = world.account()
    with server(workers=1) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(
                b"GET /api/v1/video HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
            )
            answer = raw.recv(200)
        assert answer.startswith(b"HTTP/1.1 4"), answer
        ok = httpx.get(f"{base}/api/v1/video", headers={"X-NearIQ-Key": account.key})
        assert ok.status_code == 200
