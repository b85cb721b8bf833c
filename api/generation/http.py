"""The ``http`` provider: an adapter for an external generation service (submit, then poll).

Protocol (JSON over HTTP; ``Authorization: Bearer <NEARIQ_GENERATION_HTTP_KEY>`` on every
request; ``<base>`` is ``NEARIQ_GENERATION_HTTP_URL``):

- ``GET <base>/health`` -> 200 when the service takes work (anything else: 503 to our clients).
- ``POST <base>/generations`` with ``{"requestId", "prompt", "durationSec", "aspectRatio",
  "script", "shots": [{"index", "title", "description", "startSec", "durationSec"}]}``
  -> 200/201/202 ``{"id": "<their job id>"}``. ``requestId`` is our ``vg_`` id: a service that
  sees it twice should return the same job (we resubmit only if we never learnt their id).
- ``GET <base>/generations/<id>`` -> ``{"status": "processing" | "completed" | "failed",
  "videoUrl"?, "thumbnailUrl"?, "error"?: {"code", "message"}}``.
- ``videoUrl`` (MP4) and ``thumbnailUrl`` (JPEG) are fetched once the job completes and stored
  in our media storage (size-limited), so clients always get our own signed links.

We write the script and the shots (the same template writer as ``local``); the service renders
them. Their job id is saved on the row before polling, so a restarted API polls the same job.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from api.generation import (
    GenerationFailed,
    GenerationJob,
    GenerationOutput,
    GenerationRequest,
    GenerationUnavailable,
    RunContext,
    SourcePlan,
    media_key,
)
from api.generation.script import plan_source

HEALTH_CACHE_SEC = 5.0  # a burst of creates costs one health request, not one each


class HttpProvider:
    name = "http"

    def __init__(
        self,
        base_url: str | None,
        *,
        api_key: str | None = None,
        poll_sec: float = 2.0,
        timeout_sec: float = 10.0,
        max_bytes: int = 500 * 1024 * 1024,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or "").rstrip("/")
        self.poll_sec = poll_sec
        self.max_bytes = max_bytes
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(
            base_url=self.base_url or "http://unconfigured.invalid",
            headers=headers,
            timeout=timeout_sec,
            transport=transport,
            follow_redirects=False,
        )
        self._healthy_until = 0.0
        self._lock = threading.Lock()

    def check(self) -> None:
        if not self.base_url:
            raise GenerationUnavailable("the generation service URL is not configured")
        with self._lock:
            if time.monotonic() < self._healthy_until:
                return
        try:
            response = self.client.get("/health", timeout=min(self.client.timeout.read or 3, 3))
        except httpx.HTTPError as error:
            raise GenerationUnavailable(f"the generation service is unreachable: {error}") from None
        if response.status_code != 200:
            raise GenerationUnavailable(
                f"the generation service is unhealthy (HTTP {response.status_code})"
            )
        with self._lock:
            self._healthy_until = time.monotonic() + HEALTH_CACHE_SEC

    def plan(self, request: GenerationRequest) -> SourcePlan:
        return plan_source(request)

    def run(self, job: GenerationJob, context: RunContext) -> GenerationOutput:
        remote_id = job.provider_job_id or self._submit(job)
        if job.provider_job_id is None:
            context.remember_provider_job(remote_id)
        state = self._wait(remote_id, context.cancel)
        work = Path(tempfile.mkdtemp(prefix="neariq-http-"))
        try:
            video = self._download(state.get("videoUrl"), work / "preview.mp4", "videoUrl")
            thumbnail = self._download(
                state.get("thumbnailUrl"), work / "thumb.jpg", "thumbnailUrl"
            )
            video_key = media_key(job.generation_id, "preview.mp4")
            thumbnail_key = media_key(job.generation_id, "thumbnail.jpg")
            context.storage.put(thumbnail_key, thumbnail, "image/jpeg")
            context.storage.put(video_key, video, "video/mp4")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        shots = [{**shot, "status": "completed"} for shot in job.shots]
        return GenerationOutput(video_key=video_key, thumbnail_key=thumbnail_key, shots=shots)

    def _submit(self, job: GenerationJob) -> str:
        body = {
            "requestId": job.generation_id,
            "prompt": job.prompt,
            "durationSec": job.duration_sec,
            "aspectRatio": job.aspect_ratio,
            "script": job.script,
            "shots": [
                {
                    key: shot[key]
                    for key in ("index", "title", "description", "startSec", "durationSec")
                }
                for shot in job.shots
            ],
        }
        data = self._json("POST", "/generations", json=body)
        remote_id = data.get("id")
        if not isinstance(remote_id, str) or not remote_id or len(remote_id) > 200:
            raise GenerationFailed(
                "the generation service returned no job id", code="provider_error"
            )
        return remote_id

    def _wait(self, remote_id: str, cancel: threading.Event) -> dict[str, Any]:
        while True:
            state = self._json("GET", f"/generations/{remote_id}")
            status = state.get("status")
            if status == "completed":
                return state
            if status == "failed":
                reported = state.get("error")
                error: dict[str, Any] = reported if isinstance(reported, dict) else {}
                raise GenerationFailed(
                    str(error.get("message") or "the generation service failed the job")[:500],
                    code="provider_failed",
                )
            if status != "processing":
                raise GenerationFailed(f"unknown job status {status!r}", code="provider_error")
            if cancel.wait(self.poll_sec):
                raise GenerationFailed("generation cancelled", code="generation_cancelled")

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise GenerationFailed(f"generation service: {error}", code="provider_error") from None
        if response.status_code >= 400:
            raise GenerationFailed(
                f"generation service answered HTTP {response.status_code}", code="provider_error"
            )
        try:
            data = response.json()
        except ValueError:
            raise GenerationFailed(
                "generation service sent invalid JSON", code="provider_error"
            ) from None
        if not isinstance(data, dict):
            raise GenerationFailed("generation service sent a non-object", code="provider_error")
        return data

    def _download(self, url: object, destination: Path, name: str) -> Path:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise GenerationFailed(f"the completed job has no {name}", code="provider_error")
        written = 0
        try:
            with self.client.stream("GET", url) as response, destination.open("wb") as out:
                if response.status_code != 200:
                    raise GenerationFailed(
                        f"{name}: HTTP {response.status_code}", code="provider_error"
                    )
                for chunk in response.iter_bytes():
                    written += len(chunk)
                    if written > self.max_bytes:
                        raise GenerationFailed(f"{name} is too large", code="provider_error")
                    out.write(chunk)
        except httpx.HTTPError as error:
            raise GenerationFailed(f"{name}: {error}", code="provider_error") from None
        if written == 0:
            raise GenerationFailed(f"{name} is empty", code="provider_error")
        return destination

    def close(self) -> None:
        self.client.close()
