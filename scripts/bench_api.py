"""Benchmark the v1 API on SQLite and PostgreSQL through a real `neariq serve` on loopback.

For each database: a business with 10,000 rows; `GET /api/v1/video?limit=50` latency
(p50/p99, one client, keep-alive); `POST /api/v1/video` throughput with 20 concurrent clients;
then 20 parallel 2-credit creates against a limit of 12 (must be exactly 6 x 200, used = 12).
Targets: list p99 < 25 ms, no 5xx, no overspent credits. Prints figures; asserts nothing timed.

    .venv/bin/python scripts/bench_api.py [--rows 10000] [--list-requests 500] [--posts 400]
        [--workers 2] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.accounts.admin import Admin
from api.clock import SystemClock
from api.credits.ledger import Ledger
from api.credits.rules import month_key
from api.db import migrate
from api.db.engine import Database
from api.db.models import CreditEntry, CreditMonth, VideoGeneration
from api.ids import new_id

# The suite's helpers import Starlette's TestClient, which nudges towards httpx2 (pytest's
# configuration silences the same warning).
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from tests.api.support import uvicorn_server  # noqa: E402

PG_URL = os.environ.get("NEARIQ_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PROMPT = "Membership promo showing coaching, equipment, and happy members"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def seed_rows(db: Database, business_id: str, rows: int) -> None:
    """``rows`` generations spread over this month: 70 % completed, 20 % processing, 10 % failed."""
    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = (now - start).total_seconds() or 1.0
    rng = random.Random(7)
    generations, entries = [], []
    for index in range(rows):
        created = start + timedelta(seconds=span * index / rows)
        status = rng.choices(("completed", "processing", "failed"), (7, 2, 1))[0]
        row_id = new_id("vg")
        generations.append(
            {
                "id": row_id, "business_id": business_id, "kind": "generation", "status": status,
                "prompt": f"{PROMPT} #{index}", "duration_sec": 15, "aspect_ratio": "9:16",
                "script": "Discover...", "shots": [], "attempts": 1,
                "video_key": f"generations/{row_id}/preview.mp4" if status == "completed" else None,
                "thumbnail_key": f"generations/{row_id}/thumbnail.jpg"
                if status == "completed" else None,
                "created_at": created, "updated_at": created,
                "completed_at": created if status != "processing" else None,
            }
        )  # fmt: skip
    with db.session() as session:
        for chunk in range(0, rows, 2000):
            session.execute(insert(VideoGeneration), generations[chunk : chunk + 2000])
        pks = session.execute(
            select(VideoGeneration.pk, VideoGeneration.status, VideoGeneration.created_at).where(
                VideoGeneration.business_id == business_id
            )
        ).all()
        for pk, status, created in pks:
            entries.append(
                {
                    "business_id": business_id, "generation_pk": pk, "reason": "generation",
                    "amount": 2, "state": "released" if status == "failed" else "charged",
                    "created_at": created, "updated_at": created,
                }
            )  # fmt: skip
        for chunk in range(0, len(entries), 2000):
            session.execute(insert(CreditEntry), entries[chunk : chunk + 2000])
        # The ledger's running total, as the ledger service would have kept it.
        charged = sum(entry["amount"] for entry in entries if entry["state"] == "charged")
        session.add(CreditMonth(business_id=business_id, month=month_key(now), charged=charged,
                                held=0))  # fmt: skip


def bench_list(base: str, key: str, requests: int) -> dict[str, float]:
    timings: list[float] = []
    statuses: list[int] = []
    with httpx.Client(base_url=base, headers={"X-NearIQ-Key": key}, timeout=30) as client:
        for _ in range(50):  # warm-up: connections, caches, the key's last_used write
            client.get("/api/v1/video", params={"limit": 50})
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/api/v1/video", params={"limit": 50})
            timings.append((time.perf_counter() - started) * 1000)
            statuses.append(response.status_code)
        body = response.json()
    assert len(body["videos"]) == 50, body
    return {
        "p50": statistics.median(timings),
        "p99": percentile(timings, 99),
        "max": max(timings),
        "5xx": sum(status >= 500 for status in statuses),
        "total": body["total"],
    }


async def bench_posts(base: str, key: str, posts: int, clients: int = 20) -> dict[str, float]:
    statuses: list[int] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(posts):
        queue.put_nowait(index)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            response = await client.post(
                "/api/v1/video",
                json={"prompt": f"{PROMPT} {index}", "duration": "5"},
                headers={"X-NearIQ-Key": key},
            )
            statuses.append(response.status_code)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "per_sec": posts / elapsed,
        "ok": statuses.count(200),
        "5xx": sum(status >= 500 for status in statuses),
        "other": sum(status not in (200,) and status < 500 for status in statuses),
    }


async def burst(base: str, key: str) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post("/api/v1/video", json={"prompt": PROMPT, "duration": "15"},
                            headers={"X-NearIQ-Key": key})
                for _ in range(20)
            )
        )  # fmt: skip
    return [response.status_code for response in responses]


def run_backend(name: str, url: str, args: argparse.Namespace, assets: Path) -> dict:
    db = Database(url)
    migrate.upgrade(db)
    admin = Admin(db, SystemClock())
    admin.create_plan("bench", 10_000_000)
    admin.create_plan("bench-12", 12)
    admin.create_user("bench@example.com", "bench")
    big = admin.create_business("Bench Gym", plan="bench", owner_email="bench@example.com")
    small = admin.create_business("Small Gym", plan="bench-12", owner_email="bench@example.com")
    big_key = admin.create_key("bench@example.com", big).key
    small_key = admin.create_key("bench@example.com", small).key
    started = time.perf_counter()
    seed_rows(db, big, args.rows)
    # Statistics as a live database has them (autovacuum / a periodic ANALYZE), not the
    # empty-table estimates right after a bulk insert.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE" if db.is_sqlite else "VACUUM ANALYZE")
    seeded = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as data:
        env = {
            "NEARIQ_DATABASE_URL": url,
            "NEARIQ_DATA_DIR": data,
            "NEARIQ_SECRET_KEY": "bench",
            "NEARIQ_GENERATION_WORKERS": "0",
            "COMPOSITOR_ASSETS_DIR": str(assets),
        }
        with uvicorn_server(env, workers=args.workers) as base:
            listing = bench_list(base, big_key, args.list_requests)
            posting = asyncio.run(bench_posts(base, big_key, args.posts))
            statuses = asyncio.run(burst(base, small_key))
    usage = Ledger(db, SystemClock()).usage(small, 12)
    db.dispose()
    return {
        "name": name, "seeded_sec": seeded, "list": listing, "post": posting,
        "burst_ok": statuses.count(200), "burst_429": statuses.count(429),
        "burst_5xx": sum(s >= 500 for s in statuses), "burst_used": usage.used,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--list-requests", type=int, default=500)
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--assets", type=Path, default=Path(__file__).resolve().parent.parent / "assets"
    )
    args = parser.parse_args()
    results = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "sqlite"):
            results.append(run_backend("sqlite", f"sqlite:///{folder}/bench.db", args, args.assets))
        if args.only in (None, "postgresql"):
            schema = f"bench_{secrets.token_hex(4)}"
            admin_db = Database(PG_URL)
            with admin_db.engine.begin() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
            url = url.render_as_string(hide_password=False)
            try:
                results.append(run_backend("postgresql", url, args, args.assets))
            finally:
                with admin_db.engine.begin() as connection:
                    connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
                admin_db.dispose()
    print(f"\nload average (1 min) before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores (other work on the machine widens the tail)")  # fmt: skip
    print(f"rows per business: {args.rows}; uvicorn workers: {args.workers}; "
          f"list requests: {args.list_requests}; posts: {args.posts} (20 clients)\n")  # fmt: skip
    header = (
        f"{'database':<11} {'list p50':>9} {'list p99':>9} {'list max':>9} "
        f"{'POST/s':>8} {'5xx':>4} {'burst 200/429':>14} {'used/12':>8}  verdict"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for r in results:
        five = r["list"]["5xx"] + r["post"]["5xx"] + r["burst_5xx"]
        ok = (r["list"]["p99"] < 25 and five == 0 and r["burst_ok"] == 6 and r["burst_used"] == 12
              and r["post"]["ok"] == args.posts)  # fmt: skip
        failed |= not ok
        print(
            f"{r['name']:<11} {r['list']['p50']:>7.2f}ms {r['list']['p99']:>7.2f}ms "
            f"{r['list']['max']:>7.2f}ms {r['post']['per_sec']:>8.1f} {five:>4} "
            f"{r['burst_ok']:>6}/{r['burst_429']:<7} {r['burst_used']:>5}/12  "
            f"{'meets targets' if ok else 'MISSES TARGETS'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
