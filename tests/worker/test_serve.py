"""`compositor serve` refuses settings that cannot work with one `Error:` line, no traceback."""

from __future__ import annotations

import pytest

from compositor.cli import main
from compositor.settings import Settings
from compositor.worker.service import WorkerConfigError, build_services
from compositor.worker.settings import WorkerSettings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "COMPOSITOR_SECRETS (or COMPOSITOR_SECRETS_FILE) is required"),
        ({"COMPOSITOR_SECRETS": "x", "COMPOSITOR_QUEUE": "kafka"}, "COMPOSITOR_QUEUE"),
        ({"COMPOSITOR_SECRETS": "x", "COMPOSITOR_FETCH_ALLOW_NETWORKS": "10.0.0.0/33"},
         "10.0.0.0/33"),
        ({"COMPOSITOR_SECRETS": "x", "COMPOSITOR_STORAGE": "s3"}, "COMPOSITOR_S3_BUCKET"),
    ],
)  # fmt: skip
def test_unusable_settings_stop_serve_with_one_error_line(
    env, message, monkeypatch, capsys, tmp_path
):
    monkeypatch.delenv("COMPOSITOR_SECRETS", raising=False)
    monkeypatch.setenv("COMPOSITOR_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ") and message in err[0], err
    assert "(invalid_config)" in err[0]


def test_a_data_folder_serves_one_process_only(live_worker, tmp_path):
    live_worker(data_dir=tmp_path / "shared", render_slots=0)
    second = WorkerSettings(secrets="x", data_dir=tmp_path / "shared")
    with pytest.raises(WorkerConfigError, match="in use by another worker"):
        build_services(second, Settings())
