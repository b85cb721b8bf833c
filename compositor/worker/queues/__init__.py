"""Where accepted jobs wait for a render slot: in this process (one machine, the default) or
in Redis through Dramatiq (a farm). Both hand job ids to the same ``JobExecutor``."""

from __future__ import annotations

from typing import Protocol


class QueueFull(Exception):
    """Raised when a job is submitted while ``max_queued`` jobs already wait."""


class JobQueue(Protocol):
    slots: int

    def start(self) -> None:
        """Start the render slots (and recover jobs a previous process left)."""
        ...

    def full(self) -> bool: ...

    def submit(self, job_id: str) -> None:
        """Queue a job that the store holds as queued; may pass ``max_queued`` by the few
        requests racing the ``full`` check."""
        ...

    def depth(self) -> int:
        """Jobs waiting (not running)."""
        ...

    def check(self) -> None:
        """Raise unless the queue is reachable (readiness)."""
        ...

    def drain(self, grace_sec: float) -> None:
        """Stop taking jobs, let running renders finish for up to ``grace_sec``, then cancel
        the rest and give them back to the queue. Blocks until done."""
        ...

    def close(self) -> None: ...
