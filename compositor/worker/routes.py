"""The worker's HTTP routes (CONTRACT §6). Handlers stay on the event loop only for parsing and
answering; every store, queue and storage call runs in the thread pool, so renders, Redis or a
slow disk never hold up the loop that answers status polls."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from compositor.errors import CompositorError
from compositor.ffmpeg_bin import find_ffmpeg
from compositor.job import parse_job_json
from compositor.signing import BadSignature, verify_request
from compositor.storage.local import LocalStorage
from compositor.worker.backoff import retry_after_sec
from compositor.worker.links import CONTENT_TYPES, parse_name
from compositor.worker.records import JobRecord, canonical_body, fingerprint, new_record
from compositor.worker.resolver import check_source_scheme, job_sources
from compositor.worker.responses import (
    HTTPError,
    error_response,
    from_compositor_error,
    request_id_of,
)
from compositor.worker.service import Services

log = logging.getLogger(__name__)

WAIT_POLL_SEC = 0.1
PRESIGNED_TTL_SEC = 300

Endpoint = Callable[[Request], Awaitable[Response]]


def endpoint(handler: Endpoint) -> Endpoint:
    """Every failure becomes one JSON error body (with the request id), never a traceback."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except HTTPError as error:
            return error_response(error, request_id_of(request.scope))
        except CompositorError as error:
            return error_response(from_compositor_error(error), request_id_of(request.scope))
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            failure = HTTPError(500, "internal_error", "the worker failed to answer")
            return error_response(failure, request_id_of(request.scope))

    return wrapped


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def base_url_of(request: Request) -> str:
    return services_of(request).base_url(str(request.base_url))


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPError(413, "payload_too_large", f"the body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPError(413, "payload_too_large", f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_signature(request: Request, body: bytes) -> None:
    """§6: the signature covers the path exactly as sent (raw, with its query) and the body."""
    scope = request.scope
    path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    path_with_query = f"{path}?{query}" if query else path
    try:
        verify_request(services_of(request).ws.secret_list, request.headers, request.method,
                       path_with_query, body, now=time.time())  # fmt: skip
    except BadSignature as error:
        raise HTTPError(401, "bad_signature", str(error)) from None


def unavailable(message: str) -> HTTPError:
    return HTTPError(503, "compositor_unavailable", message, headers={"Retry-After": "30"})


def answer(
    services: Services, record: JobRecord, base_url: str, *, pending_status: int = 202
) -> JSONResponse:
    body = services.status_body(record, base_url, now=time.time())
    return JSONResponse(body, status_code=200 if record.stage.terminal else pending_status)


@endpoint
async def post_compose(request: Request) -> Response:
    services = services_of(request)
    if services.draining.is_set():
        raise unavailable("the worker is draining; send the job to another worker")
    body = await read_body(request, services.ws.max_body_bytes)
    check_signature(request, body)
    job = parse_job_json(body)
    if job.job_id is None:
        raise HTTPError(400, "missing_field", "jobId: required by the worker", field="jobId")
    for field, source in job_sources(job):
        check_source_scheme(source, field)
    job_id = job.job_id
    now = time.time()
    record = await run_in_threadpool(services.store.get, job_id)
    if record is not None and record.expired(now):
        await run_in_threadpool(services.sweeper.sweep_once, now=now)
        record = None
    if record is None:
        if await run_in_threadpool(services.queue.full):
            retry = retry_after_sec(services.queue.slots, services.mean_render_sec())
            raise HTTPError(429, "queue_full", "the render queue is full; retry later",
                            headers={"Retry-After": str(retry)})  # fmt: skip
        record, created = await run_in_threadpool(
            services.store.create, new_record(job, job_id, now=now)
        )
        if created:
            try:
                await run_in_threadpool(services.queue.submit, job_id)
            except Exception as exc:
                await run_in_threadpool(services.store.delete, job_id)
                log.warning("%s: cannot queue: %s", job_id, exc)
                raise unavailable("the render queue cannot be reached") from None
    assert record is not None  # found, or created just above
    if record.fingerprint != fingerprint(canonical_body(job)):
        raise HTTPError(409, "idempotency_conflict",
                        f"jobId {job_id} was used for another job", field="jobId")  # fmt: skip
    if job.wait_sec and not record.stage.terminal:
        record = await wait_for(services, job_id, job.wait_sec) or record
    return answer(services, record, base_url_of(request))


async def wait_for(services: Services, job_id: str, wait_sec: float) -> JobRecord | None:
    """Poll the store (any container may be rendering it) until the job ends or time is up."""
    deadline = time.monotonic() + wait_sec
    record = None
    while time.monotonic() < deadline:
        await asyncio.sleep(min(WAIT_POLL_SEC, max(deadline - time.monotonic(), 0)))
        record = await run_in_threadpool(services.store.get, job_id)
        if record is None or record.stage.terminal:
            break
    return record


@endpoint
async def get_compose(request: Request) -> Response:
    services = services_of(request)
    check_signature(request, b"")
    job_id = request.path_params["job_id"]
    record = await run_in_threadpool(services.store.get, job_id)
    if record is None or record.expired(time.time()):
        raise HTTPError(404, "not_found", f"no job {job_id}")
    return answer(services, record, base_url_of(request), pending_status=200)


@endpoint
async def get_composite(request: Request) -> Response:
    services = services_of(request)
    name = request.path_params["name"]
    parsed = parse_name(name)
    if parsed is None:
        raise HTTPError(404, "not_found", "no such file")
    output_name, kind = parsed
    try:
        services.links.verify(name, request.query_params.get("exp"),
                              request.query_params.get("sig"), now=time.time())  # fmt: skip
    except BadSignature as error:
        raise HTTPError(403, "permission_denied", str(error)) from None
    record = await run_in_threadpool(services.store.get_by_output, output_name)
    if record is None or record.expired(time.time()) or not record.stage.terminal:
        raise HTTPError(404, "not_found", "no such file")
    storage = services.storage
    if isinstance(storage, LocalStorage):
        path = storage.path(name)
        try:
            stat = path.stat()
        except OSError:
            raise HTTPError(404, "not_found", "no such file") from None
        # with the stat given, FileResponse sets ETag now (not when sending), so it can be
        # compared with If-None-Match here; Range and HEAD it handles itself
        response = FileResponse(path, media_type=CONTENT_TYPES[kind], stat_result=stat,
                                headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip
        if_none_match = request.headers.get("if-none-match")
        etag = response.headers.get("etag", "")
        if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
            return Response(status_code=304, headers={"ETag": response.headers["etag"]})
        return response
    url = await run_in_threadpool(storage.url, name, expires_in=PRESIGNED_TTL_SEC)
    return RedirectResponse(url, status_code=307)


@endpoint
async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@endpoint
async def readyz(request: Request) -> Response:
    services = services_of(request)
    checks: dict[str, str] = {}

    def run_checks() -> None:
        probes: dict[str, Callable[[], Any]] = {
            "ffmpeg": lambda: find_ffmpeg(services.settings.ffmpeg_path),
            "storage": services.storage.check,
            "store": services.store.check,
            "queue": services.queue.check,
        }
        for name, probe in probes.items():
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"failed: {exc}"

    await run_in_threadpool(run_checks)
    if services.draining.is_set():
        checks["draining"] = "yes"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503)  # fmt: skip


@endpoint
async def metrics(request: Request) -> Response:
    registry = services_of(request).metrics.registry
    text = await run_in_threadpool(generate_latest, registry)
    return Response(text, media_type=CONTENT_TYPE_LATEST)
