"""Job stores (SQLite, Redis): the claim that makes a job render once, whatever is delivered."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from compositor.job import parse_job
from compositor.worker.records import Stage, new_record
from compositor.worker.store import Claim
from compositor.worker.store.redis import RedisJobStore
from compositor.worker.store.sqlite import SQLiteJobStore
from tests.worker.conftest import REDIS_URL

JOB = parse_job({"clips": [{"source": "builtin:x"}]})


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path, redis_prefix):
    if request.param == "sqlite":
        made = SQLiteJobStore(tmp_path / "jobs.sqlite3")
    else:
        made = RedisJobStore.from_url(REDIS_URL, redis_prefix)
    yield made
    made.close()


def create(store, job_id: str = "j1"):
    record, created = store.create(new_record(JOB, job_id, now=time.time()))
    assert created
    return record


def test_a_second_create_of_an_id_returns_the_first_record(store):
    first = create(store)
    again, created = store.create(new_record(JOB, "j1", now=time.time()))
    assert not created and again.output_name == first.output_name
    assert store.get_by_output(first.output_name).job_id == "j1"


def test_concurrent_claims_let_exactly_one_attempt_render(store):
    create(store)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda i: store.claim("j1", f"w{i}", 30), range(8)))
    assert claims.count(Claim.CLAIMED) == 1 and claims.count(Claim.BUSY) == 7
    assert store.get("j1").attempts == 1 and store.get("j1").stage is Stage.FETCHING


def test_a_finished_job_is_a_no_op_for_every_later_delivery(store):
    create(store)
    assert store.claim("j1", "w1", 30) is Claim.CLAIMED
    assert store.finish("j1", "w1", Stage.COMPLETED, result={"durationSec": 5}, error=None,
                        now=time.time(), expires_at=time.time() + 60)  # fmt: skip
    assert store.claim("j1", "w2", 30) is Claim.DONE
    assert store.get("j1").attempts == 1 and store.get("j1").result == {"durationSec": 5}


def test_an_attempt_that_lost_its_lease_can_neither_move_nor_finish_the_job(store):
    create(store)
    assert store.claim("j1", "w1", 0.2) is Claim.CLAIMED
    time.sleep(0.3)  # w1 stalls past its lease: w2 takes the job over
    assert store.claim("j1", "w2", 30) is Claim.CLAIMED
    assert not store.set_stage("j1", "w1", Stage.VERIFYING, 0.95)
    assert not store.renew("j1", "w1", 30)
    assert not store.finish("j1", "w1", Stage.COMPLETED, result={}, error=None,
                            now=time.time(), expires_at=time.time() + 60)  # fmt: skip
    assert store.get("j1").attempts == 2 and store.get("j1").stage is Stage.FETCHING


def test_a_released_job_is_queued_again_and_claimable(store):
    create(store)
    store.claim("j1", "w1", 30)
    assert store.release("j1", "w1")
    assert store.get("j1").stage is Stage.QUEUED
    assert store.claim("j1", "w2", 30) is Claim.CLAIMED


def test_counts_follow_every_transition(store):
    create(store, "a")
    create(store, "b")
    store.claim("a", "w", 30)
    store.set_stage("a", "w", Stage.RENDERING, 0.5)
    counts = store.counts()
    assert (counts["queued"], counts["rendering"], counts["completed"]) == (1, 1, 0)
    store.finish("a", "w", Stage.FAILED, result=None, error={"code": "x"}, now=time.time(),
                 expires_at=time.time() - 1)  # fmt: skip
    assert store.counts()["failed"] == 1 and store.counts()["rendering"] == 0
    expired = store.expired(time.time())
    assert [record.job_id for record in expired] == ["a"]
    store.delete("a")
    assert store.get("a") is None and store.counts()["failed"] == 0


def test_an_expired_job_is_handed_to_one_sweeper_of_a_farm_only(redis_prefix):
    stores = [RedisJobStore.from_url(REDIS_URL, redis_prefix) for _ in range(4)]
    for number in range(20):
        create(stores[0], f"e{number}")
        stores[0].claim(f"e{number}", "w", 30)
        stores[0].finish(f"e{number}", "w", Stage.COMPLETED, result={}, error=None,
                         now=time.time(), expires_at=time.time() - 1)  # fmt: skip
    with ThreadPoolExecutor(4) as pool:
        taken = list(pool.map(lambda s: [r.job_id for r in s.expired(time.time())], stores))
    everything = [job_id for batch in taken for job_id in batch]
    assert sorted(everything) == sorted(f"e{number}" for number in range(20))
    for made in stores:
        made.close()
