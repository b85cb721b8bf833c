"""S3 media storage: files land in a bucket and the list hands out presigned S3 links.

The S3 side is moto's server on loopback (real HTTP, real presigned-URL checks)."""

from __future__ import annotations

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from starlette.testclient import TestClient

from api.app import create_app
from api.media import build_storage
from api.settings import ApiSettings
from tests.api.support import ApiClient, free_port

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def s3_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="media")
    yield endpoint
    server.stop()


def test_completed_videos_are_served_by_presigned_s3_links(make_services, provider, world,
                                                           s3_endpoint, tmp_path):  # fmt: skip
    settings = ApiSettings(
        data_dir=tmp_path, storage="s3", s3_bucket="media", s3_prefix="neariq",
        s3_endpoint_url=s3_endpoint, s3_region="us-east-1", s3_access_key_id="testing",
        s3_secret_access_key="testing",
    )  # fmt: skip
    storage = build_storage(settings, secret="unused")
    account = world.account()
    services = make_services(provider)
    services.storage = storage
    services.worker.storage = storage
    with TestClient(create_app(services, run_worker=False)) as client:
        api = ApiClient(client, services)
        created = api.create(account.key).json()
        assert services.worker.run_next()
        video = api.list(account.key).json()["videos"][0]
        # Local media route does not serve S3 keys.
        assert client.get(f"/api/media/generations/{created['id']}/preview.mp4").status_code in (
            401, 404,
        )  # fmt: skip
    assert video["videoUrl"].startswith(f"{s3_endpoint}/media/neariq/generations/")
    assert "X-Amz-Signature=" in video["videoUrl"]
    fetched = httpx.get(video["videoUrl"])
    assert fetched.status_code == 200 and created["id"].encode() in fetched.content
    # Short-lived: the configured media TTL (moto does not check signatures, S3 does).
    assert "X-Amz-Expires=900" in video["videoUrl"]
