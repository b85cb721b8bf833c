"""Idempotency-Key (CONTRACT §3): the same key and body within 24 h returns the first response.

Only successful creates are recorded (in the transaction that charges), so a request refused
with 400/429/503 can be retried with the same key once the cause is gone.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.db.models import IdempotencyRecord
from api.errors import Conflict, InvalidRequest

TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


@dataclass(frozen=True)
class IdempotencyRequest:
    key: str
    route: str
    request_hash: str


def parse_key(value: str | None, route: str, body: Any) -> IdempotencyRequest | None:
    if value is None:
        return None
    if not VALID_KEY.match(value):
        raise InvalidRequest(
            "Idempotency-Key must be 1-255 printable ASCII characters without spaces",
            field=f"headers.{HEADER}",
        )
    return IdempotencyRequest(value, route, body_hash(body))


def body_hash(body: Any) -> str:
    """The same JSON value hashes alike whatever its key order or whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def find_replay(
    session: Session, business_id: str, request: IdempotencyRequest, now: datetime
) -> dict[str, Any] | None:
    """The stored response for a repeat, None for a new request; 409 for another body."""
    record = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.business_id == business_id,
            IdempotencyRecord.route == request.route,
            IdempotencyRecord.key == request.key,
        )
    ).one_or_none()
    if record is None:
        return None
    if record.created_at <= now - TTL:
        session.delete(record)
        session.flush()
        return None
    if record.request_hash != request.request_hash:
        raise Conflict(
            "this Idempotency-Key was used with a different request body",
            field=f"headers.{HEADER}",
        )
    return dict(record.response_body)


def store_response(
    session: Session,
    business_id: str,
    request: IdempotencyRequest,
    body: dict[str, Any],
    generation_pk: int | None,
    now: datetime,
) -> None:
    session.add(
        IdempotencyRecord(
            business_id=business_id,
            key=request.key,
            route=request.route,
            request_hash=request.request_hash,
            status_code=200,
            response_body=body,
            generation_pk=generation_pk,
            created_at=now,
        )
    )


def purge_expired(session: Session, now: datetime) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= now - TTL)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
