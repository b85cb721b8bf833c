"""Sources over HTTP: address checks, redirects, size and time limits, the cache, playlists."""

from __future__ import annotations

import errno
import ipaddress
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from compositor.errors import SourceUnavailable
from compositor.worker.addresses import is_refused
from compositor.worker.cache import SourceCache
from compositor.worker.fetch import Fetcher, FetchLimits
from compositor.worker.resolver import WorkerResolver, refuse_playlists
from compositor.worker.settings import WorkerSettings
from tests.worker.helpers import preview_job

LOOPBACK = WorkerSettings(fetch_allow_networks="127.0.0.0/8,::1/128").allow_networks
# Never contacted: each is refused before a socket opens (this machine may reach no such
# address, and must not try).
FORBIDDEN = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/video.mp4",
    "http://192.168.1.10/video.mp4",
    "http://172.16.0.5/video.mp4",
    "http://[::ffff:10.0.0.1]/video.mp4",
    "http://[fe80::1]/video.mp4",
    "http://224.0.0.1/video.mp4",
    "http://0.0.0.0/video.mp4",
    "http://100.64.0.1/video.mp4",
]


@pytest.fixture
def fetcher_for(tmp_path):
    made: list[Fetcher] = []

    def make(allow=LOOPBACK, **limits) -> Fetcher:
        fetcher = Fetcher(SourceCache(tmp_path / f"cache{len(made)}", ttl_sec=3600),
                          allow=allow, limits=FetchLimits(**limits))  # fmt: skip
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        fetcher.close()


def refused_code(fetcher: Fetcher, url: str) -> str:
    with pytest.raises(SourceUnavailable) as caught:
        fetcher.fetch(url, "clips[0].source")
    assert caught.value.field == "clips[0].source"
    return caught.value.code


@pytest.mark.parametrize(
    ("address", "refused"),
    [("127.0.0.1", True), ("::1", True), ("169.254.169.254", True), ("10.0.0.1", True),
     ("::ffff:10.0.0.1", True), ("224.0.0.1", True), ("0.0.0.0", True), ("fc00::1", True),
     ("8.8.8.8", False), ("2001:4860:4860::8888", False)],
)  # fmt: skip
def test_only_public_unicast_addresses_are_reachable_by_default(address, refused):
    assert is_refused(ipaddress.ip_address(address), ()) is refused


def test_an_allow_list_opens_exactly_its_networks():
    assert not is_refused(ipaddress.ip_address("127.0.0.1"), LOOPBACK)
    assert is_refused(ipaddress.ip_address("10.0.0.1"), LOOPBACK)


def test_loopback_is_refused_unless_allow_listed(fetcher_for, media_server):
    url = media_server.url("/media/red.mp4?loopback-refused")
    assert refused_code(fetcher_for(allow=()), url) == "source_address_refused"
    name = url.replace("127.0.0.1", "localhost")  # a name resolving to loopback, likewise
    assert refused_code(fetcher_for(allow=()), name) == "source_address_refused"
    assert not any("loopback-refused" in seen for seen in media_server.requests)
    path = fetcher_for().fetch(url, "clips[0].source")
    assert path.read_bytes() == (media_server.root / "red.mp4").read_bytes()


@pytest.mark.parametrize("url", FORBIDDEN)
def test_metadata_private_link_local_and_multicast_addresses_are_refused(fetcher_for, url):
    assert refused_code(fetcher_for(), url) == "source_address_refused"


@pytest.mark.parametrize("target", FORBIDDEN[:2])
def test_a_redirect_to_a_refused_address_is_refused(fetcher_for, media_server, target):
    # the first hop is allowed (loopback is allow-listed), the second is not
    redirect = media_server.url("/redirect?to=" + quote(target, safe=""))
    assert refused_code(fetcher_for(), redirect) == "source_address_refused"


def test_a_redirect_to_loopback_is_refused_without_the_allow_list(fetcher_for, media_server):
    """The allow list is what permits loopback, whichever hop reaches it: with an allow list
    of the media server's address only as a /32, a redirect to another loopback address is
    refused."""
    only_server = WorkerSettings(fetch_allow_networks="127.0.0.1/32").allow_networks
    inner = f"http://127.0.0.2:{media_server.port}/media/red.mp4"
    redirect = media_server.url("/redirect?to=" + quote(inner, safe=""))
    assert refused_code(fetcher_for(allow=only_server), redirect) == "source_address_refused"


def test_three_redirects_are_followed_and_a_fourth_is_refused(fetcher_for, media_server):
    url = media_server.url("/media/red.mp4")
    for _ in range(3):
        url = media_server.url("/redirect?to=" + quote(url, safe=""))
    assert fetcher_for().fetch(url, "clips[0].source").stat().st_size > 0
    four = media_server.url("/redirect?to=" + quote(url, safe=""))
    assert refused_code(fetcher_for(), four) == "source_too_many_redirects"


def test_a_redirect_to_a_file_url_is_refused(fetcher_for, media_server):
    url = media_server.url("/redirect?to=" + quote("file:///etc/passwd", safe=""))
    assert refused_code(fetcher_for(), url) == "source_scheme_not_allowed"


@pytest.mark.parametrize("path", ["/media/red.mp4", "/endless", "/huge"])
def test_a_source_over_the_size_limit_fails_with_source_too_large(
    fetcher_for, media_server, path, tmp_path
):
    fetcher = fetcher_for(max_bytes=10_000)
    assert refused_code(fetcher, media_server.url(path)) == "source_too_large"
    assert list((fetcher.cache.root / "tmp").iterdir()) == []  # nothing half-written is left
    assert list((fetcher.cache.root / "blobs").iterdir()) == []


def test_a_slow_source_times_out(fetcher_for, media_server):
    fetcher = fetcher_for(read_timeout_sec=0.5)
    assert refused_code(fetcher, media_server.url("/slow?sec=5")) == "source_timeout"


def test_a_source_used_by_many_jobs_at_once_is_fetched_once(fetcher_for, media_server):
    fetcher = fetcher_for()
    url = media_server.url("/media/blue.mp4?shared=1")
    with ThreadPoolExecutor(6) as pool:
        paths = set(pool.map(lambda _i: fetcher.fetch(url, "clips[0].source"), range(6)))
    assert len(paths) == 1
    assert sum(1 for seen in media_server.requests if seen.endswith("shared=1")) == 1
    # content-addressed: another URL of the same bytes is stored once
    other = fetcher.fetch(media_server.url("/media/blue.mp4?shared=2"), "clips[0].source")
    assert paths == {other}


def test_the_worker_takes_only_http_and_builtin_sources(fetcher_for, tmp_path):
    resolver = WorkerResolver(fetcher_for(), tmp_path)
    for source in ("/etc/passwd", "file:///etc/passwd", "ftp://host/x.mp4", "red.mp4",
                   "data:video/mp4;base64,AAAA"):  # fmt: skip
        with pytest.raises(SourceUnavailable) as caught:
            resolver.resolve(source, "clips[0].source")
        assert caught.value.code == "source_scheme_not_allowed", source
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "theme.m4a").write_bytes(b"x")
    assert resolver.resolve("builtin:theme", "audio.music.source") == tmp_path / "music/theme.m4a"
    with pytest.raises(SourceUnavailable) as caught:
        resolver.resolve("builtin:../../etc/passwd", "audio.music.source")
    assert caught.value.code == "source_not_found"


def make_fifo(folder: Path) -> Path:
    fifo = folder / "secret.ts"
    os.mkfifo(fifo)
    return fifo


def fifo_was_never_opened_for_reading(fifo: Path) -> bool:
    """Opening a FIFO to write without blocking fails with ENXIO while no reader has it open;
    a reader that had tried would still be blocked in open() waiting for a writer."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        return exc.errno == errno.ENXIO
    return False


def test_a_local_playlist_is_refused_without_opening_what_it_names(tmp_path):
    fifo = make_fifo(tmp_path)
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nfile://{fifo}\n"
        f"#EXTINF:2.0,\nsecret.ts\n#EXT-X-ENDLIST\n"
    )
    with pytest.raises(SourceUnavailable) as caught:
        refuse_playlists(playlist, "clips[0].source")
    assert caught.value.code == "source_unsupported"
    assert fifo_was_never_opened_for_reading(fifo)


def test_an_hls_playlist_source_fails_the_job_and_nothing_it_names_is_read(
    live_worker, media_server, tmp_path
):
    fifo = make_fifo(tmp_path)
    media_server.playlist = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
        f"#EXTINF:2.0,\nfile://{fifo}\n"
        f"#EXTINF:2.0,\n{media_server.url('/media/hls-segment.ts')}\n#EXT-X-ENDLIST\n"
    )
    worker = live_worker()
    for number, path in enumerate(("/hls.m3u8", "/hls")):
        job = preview_job(f"hls-{number}", media_server.url(path), waitSec=30)
        body = worker.client.post(job).json()
        assert body["status"] == "failed", body
        assert body["error"]["field"] == "clips[0].source"
        assert body["error"]["code"] in ("source_unsupported", "source_unreadable")
    assert fifo_was_never_opened_for_reading(fifo)
    assert media_server.count("/media/hls-segment.ts") == 0


def test_a_job_with_a_loopback_source_fails_unless_the_worker_allows_loopback(
    live_worker, media_server
):
    worker = live_worker(fetch_allow_networks="")
    job = preview_job("ssrf-1", media_server.url("/media/red.mp4?ssrf"), waitSec=30)
    body = worker.client.post(job).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "source_address_refused"
    assert body["error"]["field"] == "clips[0].source"
    assert not any("ssrf" in seen for seen in media_server.requests)
