"""``compositor serve``: the worker's HTTP service under uvicorn, with a graceful drain.

SIGTERM (or Ctrl-C) drains: new jobs get 503 and /readyz turns 503 while the process still
answers status polls and serves files; running renders finish within the grace period
(``COMPOSITOR_DRAIN_GRACE_SEC``), the rest go back to the queue; then the server stops.
A second signal stops at once.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType
from typing import Any

import uvicorn
from pydantic import ValidationError

from compositor.settings import load_settings
from compositor.worker.app import create_app
from compositor.worker.service import Services, WorkerConfigError, build_services
from compositor.worker.settings import load_worker_settings

log = logging.getLogger("compositor.serve")


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the worker's HTTP service (/compose)")
    parser.add_argument("--host", help="address to listen on (default COMPOSITOR_HOST)")
    parser.add_argument("--port", type=int, help="port (default COMPOSITOR_PORT)")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.set_defaults(handler=run)


class DrainingServer(uvicorn.Server):
    """uvicorn stops listening on the first signal; we keep answering while we drain."""

    def __init__(self, config: uvicorn.Config, services: Services) -> None:
        super().__init__(config)
        self.services = services
        self.drainer: threading.Thread | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.drainer is not None:  # second signal: stop now
            log.warning("second signal: stopping without waiting")
            self.should_exit = True
            self.force_exit = True
            return
        log.info("signal %s: draining", signal.Signals(sig).name)
        self.drainer = threading.Thread(target=self._drain, name="drain", daemon=True)
        self.drainer.start()

    def _drain(self) -> None:
        try:
            self.services.drain()
        finally:
            self.should_exit = True


def run(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        worker_settings = load_worker_settings(**overrides)
        settings = load_settings()
        worker_settings.allow_networks  # noqa: B018 (parse the CIDRs now, not at the first fetch)
    except (ValidationError, ValueError) as error:
        raise WorkerConfigError(f"invalid settings: {_first_line(error)}") from None
    logging.getLogger("compositor").setLevel(args.log_level.upper())
    services = build_services(worker_settings, settings)
    config = uvicorn.Config(
        create_app(services),
        host=worker_settings.host,
        port=worker_settings.port,
        log_level=args.log_level,
        access_log=False,  # /metrics counts requests; a line per status poll is noise
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    log.info(
        "worker %s: queue=%s storage=%s slots=%d",
        services.worker_id,
        worker_settings.queue,
        worker_settings.storage,
        worker_settings.render_slots,
    )
    DrainingServer(config, services).run()
    return 0


def _first_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        name = "COMPOSITOR_" + "_".join(str(part) for part in first["loc"]).upper()
        return f"{name}: {first['msg']}"
    return str(error).splitlines()[0]
