"""Job records in Redis (a farm): any container answers for any job.

One hash per job, a key per output name (for ``/composites/``), a sorted set of retention
deadlines and a hash of counts per stage (metrics without a scan). Every transition is one Lua
script, so checking the owner and changing the job are one atomic step, and lease times come
from Redis's clock (the same for every container).
"""

from __future__ import annotations

import json
from typing import Any

import redis

from compositor.worker.records import JobRecord, Stage
from compositor.worker.store import Claim

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000\n"
_MOVE = (  # keep the per-stage counts in step: move(from, to)
    "local function move(from, to) if from == to then return end "
    "redis.call('HINCRBY', KEYS[2], from, -1) redis.call('HINCRBY', KEYS[2], to, 1) end\n"
)

# KEYS: job, stages, output ARGV: name/value pairs
CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
redis.call('SET', KEYS[3], redis.call('HGET', KEYS[1], 'job_id'))
redis.call('HINCRBY', KEYS[2], 'queued', 1)
return 1
"""
# KEYS: job, stages ARGV: owner, lease_sec
CLAIM = (
    _NOW
    + _MOVE
    + """
local stage = redis.call('HGET', KEYS[1], 'stage')
if not stage then return 'missing' end
if stage == 'completed' or stage == 'failed' then return 'done' end
local owner = redis.call('HGET', KEYS[1], 'owner')
local lease = tonumber(redis.call('HGET', KEYS[1], 'lease_until') or '0') or 0
if owner and owner ~= '' and lease > now then return 'busy' end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'lease_until', now + tonumber(ARGV[2]),
           'stage', 'fetching', 'progress', 0, 'updated_at', now)
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
move(stage, 'fetching')
return 'claimed'
"""
)
# KEYS: job ARGV: owner, lease_sec
RENEW = (
    _NOW
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', now + tonumber(ARGV[2]))
return 1
"""
)
# KEYS: job, stages ARGV: owner, stage, progress
SET_STAGE = (
    _NOW
    + _MOVE
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
move(redis.call('HGET', KEYS[1], 'stage'), ARGV[2])
redis.call('HSET', KEYS[1], 'stage', ARGV[2], 'progress', ARGV[3], 'updated_at', now)
return 1
"""
)
# KEYS: job, stages, expiry ARGV: owner, stage, progress, result, error, now, expires_at
FINISH = (
    _MOVE
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
move(redis.call('HGET', KEYS[1], 'stage'), ARGV[2])
redis.call('HSET', KEYS[1], 'stage', ARGV[2], 'progress', ARGV[3], 'result', ARGV[4],
           'error', ARGV[5], 'finished_at', ARGV[6], 'updated_at', ARGV[6],
           'expires_at', ARGV[7], 'owner', '', 'lease_until', 0)
redis.call('ZADD', KEYS[3], ARGV[7], redis.call('HGET', KEYS[1], 'job_id'))
return 1
"""
)
# KEYS: job, stages ARGV: owner
RELEASE = (
    _NOW
    + _MOVE
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
move(redis.call('HGET', KEYS[1], 'stage'), 'queued')
redis.call('HSET', KEYS[1], 'stage', 'queued', 'progress', 0, 'owner', '', 'lease_until', 0,
           'updated_at', now)
return 1
"""
)
# KEYS: job, stages, expiry, output ARGV: job_id
DELETE = """
local stage = redis.call('HGET', KEYS[1], 'stage')
if stage then redis.call('HINCRBY', KEYS[2], stage, -1) end
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""


def _float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


def _record(data: dict[str, str]) -> JobRecord:
    return JobRecord(
        job_id=data["job_id"],
        fingerprint=data["fingerprint"],
        body=data["body"],
        output_name=data["output_name"],
        stage=Stage(data["stage"]),
        progress=float(data.get("progress") or 0),
        created_at=float(data["created_at"]),
        updated_at=float(data.get("updated_at") or data["created_at"]),
        attempts=int(data.get("attempts") or 0),
        owner=data.get("owner") or None,
        finished_at=_float(data.get("finished_at")),
        expires_at=_float(data.get("expires_at")),
        result=json.loads(data["result"]) if data.get("result") else None,
        error=json.loads(data["error"]) if data.get("error") else None,
        callback_url=data.get("callback_url") or None,
        callback_state=data.get("callback_state") or None,
    )


class RedisJobStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis = client
        self.prefix = prefix
        self.stages = f"{prefix}:stages"
        self.expiry = f"{prefix}:expiry"
        scripts = {"create": CREATE, "claim": CLAIM, "renew": RENEW, "set_stage": SET_STAGE,
                   "finish": FINISH, "release": RELEASE, "delete": DELETE}  # fmt: skip
        self.scripts = {name: client.register_script(text) for name, text in scripts.items()}

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisJobStore:
        return cls(redis.Redis.from_url(url, decode_responses=True), prefix)

    def _job(self, job_id: str) -> str:
        return f"{self.prefix}:job:{job_id}"

    def _output(self, name: str) -> str:
        return f"{self.prefix}:out:{name}"

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        fields: dict[str, Any] = {
            "job_id": record.job_id, "fingerprint": record.fingerprint, "body": record.body,
            "output_name": record.output_name, "stage": record.stage.value,
            "progress": record.progress, "created_at": record.created_at,
            "updated_at": record.updated_at, "attempts": 0,
            "callback_url": record.callback_url or "",
            "callback_state": record.callback_state or "",
        }  # fmt: skip
        argv = [str(item) for pair in fields.items() for item in pair]
        keys = [self._job(record.job_id), self.stages, self._output(record.output_name)]
        if self.scripts["create"](keys=keys, args=argv):
            return record, True
        existing = self.get(record.job_id)
        if existing is None:  # deleted between the two calls by retention: try once more
            return self.create(record)
        return existing, False

    def get(self, job_id: str) -> JobRecord | None:
        data = self.redis.hgetall(self._job(job_id))
        return _record(data) if data else None  # type: ignore[arg-type]

    def get_by_output(self, output_name: str) -> JobRecord | None:
        job_id = self.redis.get(self._output(output_name))
        return self.get(str(job_id)) if job_id else None

    def claim(self, job_id: str, owner: str, lease_sec: float) -> Claim:
        answer = self.scripts["claim"](keys=[self._job(job_id), self.stages],
                                       args=[owner, lease_sec])  # fmt: skip
        return Claim(answer)

    def renew(self, job_id: str, owner: str, lease_sec: float) -> bool:
        return bool(self.scripts["renew"](keys=[self._job(job_id)], args=[owner, lease_sec]))

    def set_stage(self, job_id: str, owner: str, stage: Stage, progress: float) -> bool:
        return bool(self.scripts["set_stage"](
            keys=[self._job(job_id), self.stages], args=[owner, stage.value, progress]
        ))  # fmt: skip

    def finish(
        self,
        job_id: str,
        owner: str,
        stage: Stage,
        *,
        result: dict[str, Any] | None,
        error: dict[str, Any] | None,
        now: float,
        expires_at: float,
    ) -> bool:
        progress = 1.0 if stage is Stage.COMPLETED else 0.0
        args = [owner, stage.value, progress, json.dumps(result) if result is not None else "",
                json.dumps(error) if error is not None else "", now, expires_at]  # fmt: skip
        keys = [self._job(job_id), self.stages, self.expiry]
        return bool(self.scripts["finish"](keys=keys, args=args))

    def release(self, job_id: str, owner: str) -> bool:
        return bool(self.scripts["release"](keys=[self._job(job_id), self.stages], args=[owner]))

    def expired(self, now: float, limit: int = 100) -> list[JobRecord]:
        due = self.redis.zrangebyscore(self.expiry, 0, now, start=0, num=limit)
        taken: list[JobRecord] = []
        for job_id in due:  # type: ignore[union-attr]
            # ZREM answers 1 to one caller only: each expired job is swept by one container
            name = job_id.decode() if isinstance(job_id, bytes) else str(job_id)
            if self.redis.zrem(self.expiry, name) and (record := self.get(name)):
                taken.append(record)
        return taken

    def delete(self, job_id: str) -> None:
        record = self.get(job_id)
        output = self._output(record.output_name) if record else f"{self.prefix}:out:-"
        keys = [self._job(job_id), self.stages, self.expiry, output]
        self.scripts["delete"](keys=keys, args=[job_id])

    def counts(self) -> dict[str, int]:
        stored = self.redis.hgetall(self.stages)
        return {stage.value: max(int(stored.get(stage.value, 0)), 0) for stage in Stage}  # type: ignore[union-attr]

    def set_callback_state(self, job_id: str, state: str) -> None:
        key = self._job(job_id)
        if self.redis.exists(key):
            self.redis.hset(key, "callback_state", state)

    def check(self) -> None:
        self.redis.ping()

    def close(self) -> None:
        self.redis.close()

    def remove_all(self) -> None:
        """Delete every key under the prefix (tests, and operators retiring a namespace)."""
        for key in self.redis.scan_iter(match=f"{self.prefix}:*", count=500):
            self.redis.delete(key)
