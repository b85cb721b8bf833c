"""The deployment files, read as Docker would (Docker cannot run here): compose.yaml parses,
wires API + N workers + Redis + MinIO + PostgreSQL, and names only settings that exist."""

from __future__ import annotations

import ipaddress
import re
import shlex
from pathlib import Path

import pytest
import yaml

from compositor.settings import Settings
from compositor.worker.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile.compositor"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def settings_names() -> set[str]:
    return {f"COMPOSITOR_{name.upper()}" for name in
            (*WorkerSettings.model_fields, *Settings.model_fields)}  # fmt: skip


def test_compose_runs_the_api_workers_redis_minio_and_postgres(compose):
    services = compose["services"]
    assert {"api", "compositor", "redis", "minio", "postgres"} <= set(services)
    api = services["api"]
    assert api["build"]["dockerfile"] == "Dockerfile.api"
    assert "exec neariq serve --host 0.0.0.0 --port 8000" in " ".join(api["command"])
    assert "8000:8000" in api["ports"]
    worker = services["compositor"]
    assert worker["build"]["dockerfile"] == "Dockerfile.compositor"
    assert worker["deploy"]["replicas"] >= 2
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"], (name, secret)


def test_build_contexts_and_their_dockerfiles_exist(compose):
    for service in compose["services"].values():
        if "build" in service:
            context = (COMPOSE.parent / service["build"]["context"]).resolve()
            assert context == ROOT
            if service["build"]["dockerfile"] == "Dockerfile.compositor":
                assert (context / "Dockerfile.compositor").is_file()


def test_every_worker_setting_in_compose_is_a_real_setting(compose):
    environment = compose["services"]["compositor"]["environment"]
    known = settings_names()
    for key in environment:
        assert key.removesuffix("_FILE") in known, key
    # and the values validate as the worker would read them
    plain = {k.removeprefix("COMPOSITOR_").lower(): v for k, v in environment.items()
             if not k.endswith("_FILE")}  # fmt: skip
    settings = WorkerSettings(secrets="x", **plain)
    assert settings.queue == "redis" and settings.storage == "s3"
    assert settings.redis_url.startswith("redis://redis:")
    assert settings.s3_endpoint_url == "http://minio:9000"


def test_every_api_setting_in_compose_is_a_real_setting(compose):
    from api.settings import ApiSettings

    environment = compose["services"]["api"]["environment"]
    known = {f"NEARIQ_{name.upper()}" for name in ApiSettings.model_fields}
    for key in environment:
        assert key.removesuffix("_FILE") in known, key
    # and the values validate as the API would read them
    plain = {k.removeprefix("NEARIQ_").lower(): v for k, v in environment.items()
             if not k.endswith("_FILE")}  # fmt: skip
    settings = ApiSettings(compositor_secrets="x", **plain)
    assert settings.compositor_url == "http://compositor:8080"
    callback = ipaddress.ip_address(settings.resolved_callback_url.split("/")[2].split(":")[0])
    api_address = compose["services"]["api"]["networks"]["default"]["ipv4_address"]
    assert callback == ipaddress.ip_address(api_address)  # an address the workers may reach


def test_sources_may_reach_the_api_and_minio_and_nothing_else_private(compose):
    allowed = WorkerSettings(
        fetch_allow_networks=compose["services"]["compositor"]["environment"][
            "COMPOSITOR_FETCH_ALLOW_NETWORKS"
        ]
    ).allow_networks
    subnet = ipaddress.ip_network(compose["networks"]["default"]["ipam"]["config"][0]["subnet"])
    fixed = {name: ipaddress.ip_address(service["networks"]["default"]["ipv4_address"])
             for name, service in compose["services"].items()
             if "ipv4_address" in service.get("networks", {}).get("default", {}) or {}}  # fmt: skip
    assert set(fixed) == {"api", "minio"}
    assert all(address in subnet for address in fixed.values())
    assert sorted(network.num_addresses for network in allowed) == [1, 1]
    assert {next(iter(network)) for network in allowed} == set(fixed.values())


def test_workers_get_longer_to_stop_than_their_drain_grace(compose):
    worker = compose["services"]["compositor"]
    grace = float(worker["environment"]["COMPOSITOR_DRAIN_GRACE_SEC"])
    match = re.fullmatch(r"(\d+)m", worker["stop_grace_period"])
    assert match and int(match.group(1)) * 60 > grace


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_the_worker_image_is_slim_non_root_with_an_init_and_a_healthcheck():
    instructions = dockerfile_instructions()
    bases = [args for op, args in instructions if op == "FROM"]
    assert all(base.startswith("python:3.11-slim") for base in bases)
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "install -y --no-install-recommends tini" in runs
    assert "ffmpeg" not in runs.lower()  # FFmpeg comes from the imageio-ffmpeg wheel
    user = [args for op, args in instructions if op == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert any(op == "HEALTHCHECK" and "/healthz" in args for op, args in instructions)
    entrypoint = [args for op, args in instructions if op == "ENTRYPOINT"][-1]
    assert entrypoint.startswith('["/usr/bin/tini"')
    assert [args for op, args in instructions if op == "CMD"][-1] == '["compositor", "serve"]'
    env = " ".join(args for op, args in instructions if op == "ENV")
    for assignment in shlex.split(env):
        assert assignment.split("=")[0] in settings_names() | {"PYTHONUNBUFFERED"}, assignment


def test_everything_the_image_copies_exists():
    for op, args in dockerfile_instructions():
        if op == "COPY" and "--from" not in args:
            *sources, _destination = args.split()
            for source in sources:
                assert (ROOT / source).exists(), source
