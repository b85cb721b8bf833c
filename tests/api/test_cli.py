"""``neariq``: migrations, admin actions, the key printed once, usage, dev-seed, exit codes."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from api.accounts.keys import hash_key
from api.cli import ExitCode, main
from api.db.engine import Database
from api.db.models import ApiKey


@pytest.fixture
def neariq(monkeypatch, tmp_path, capsys):
    """Run the CLI in-process against a fresh SQLite file; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("NEARIQ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NEARIQ_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_admin_commands_refuse_an_unmigrated_database_with_one_line(neariq):
    code, _, err = neariq("admin", "create-plan", "pro", "--credits", "12")
    assert code == ExitCode.DATABASE_NOT_READY
    assert err.strip().count("\n") == 0 and "neariq db upgrade" in err


def test_full_admin_flow_and_a_key_shown_exactly_once(neariq, tmp_path):
    assert neariq("db", "upgrade")[0] == 0
    assert neariq("admin", "create-plan", "pro", "--credits", "12", "--no-watermark")[0] == 0
    assert neariq("admin", "create-user", "Owner@Example.com", "--password-stdin",
                  stdin="s3cret\n")[0] == 0  # fmt: skip
    code, out, _ = neariq("admin", "create-business", "Gym", "--plan", "pro",
                          "--owner", "owner@example.com", "--json")  # fmt: skip
    business = json.loads(out)["id"]
    code, out, _ = neariq("admin", "create-key", "owner@example.com", business, "--json")
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith("niq_") and len(created["key"]) == 36
    assert created["prefix"] == created["key"][:12]
    database = Database(f"sqlite:///{tmp_path / 'data' / 'neariq.db'}")
    with database.session() as session:
        stored = session.query(ApiKey).one()
        assert stored.key_hash == hash_key(created["key"])
        assert created["key"] not in json.dumps(
            {c.name: str(getattr(stored, c.name)) for c in ApiKey.__table__.columns}
        )
    code, out, _ = neariq("admin", "usage", business, "--json")
    assert json.loads(out) == {"business": business, "plan": "pro", "used": 0, "held": 0,
                               "limit": 12}  # fmt: skip
    code, out, _ = neariq("admin", "revoke-key", created["prefix"])
    assert code == 0 and created["id"] in out
    with database.session() as session:
        assert session.query(ApiKey).one().revoked_at is not None
    database.dispose()


def test_team_commands_and_refusals_exit_2_with_one_error_line(neariq):
    neariq("db", "upgrade")
    neariq("admin", "create-plan", "team", "--credits", "30")
    neariq("admin", "create-user", "lead@example.com", "--password-stdin", stdin="pw\n")
    neariq("admin", "create-user", "member@example.com", "--password-stdin", stdin="pw\n")
    assert neariq("admin", "create-team", "Crew", "--owner", "lead@example.com")[0] == 0
    code, out, _ = neariq("admin", "add-member", "Crew", "member@example.com", "--permissions", "")
    assert code == 0 and "no permissions" in out
    code, _, err = neariq("admin", "add-member", "Crew", "member@example.com",
                          "--permissions", "fly")  # fmt: skip
    assert code == ExitCode.REFUSED and err.startswith("Error: unknown permissions")
    code, _, err = neariq("admin", "create-plan", "team", "--credits", "1")
    assert code == ExitCode.REFUSED and err == "Error: a plan named 'team' exists\n"
    code, _, err = neariq("admin", "create-key", "nobody@example.com", "biz_x")
    assert code == ExitCode.REFUSED and "no user" in err


def test_dev_seed_prints_a_working_account(neariq, tmp_path):
    neariq("db", "upgrade")
    code, out, _ = neariq("dev-seed", "--json")
    assert code == 0
    seeded = json.loads(out)
    assert seeded["key"].startswith("niq_") and seeded["email"] == "dev@neariq.local"
    again = json.loads(neariq("dev-seed", "--json")[1])
    assert again["businessId"] == seeded["businessId"] and again["key"] != seeded["key"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_admin_write_survives_another_process_writing_after_its_reads(
    backend, world, monkeypatch
):
    """A read-then-write admin action (here create-key) while another process (here another
    engine on the file) commits in between: SQLite would refuse a deferred transaction's
    write at once ("database is locked"); the action holds the write lock from its start, so
    the other writer waits instead (as the API server does while an operator runs neariq)."""
    from api.accounts.admin import Admin
    from api.db.models import Plan

    account = world.account()
    other = Database(backend.url)

    def plans() -> int:
        with other.engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM plans").scalar() or 0)

    plans_before = plans()
    may_use = Admin._may_use

    def write_from_elsewhere(session, user_id, business):
        def insert_plan() -> None:
            with other.session() as elsewhere:
                elsewhere.add(
                    Plan(name="elsewhere", monthly_video_credits=1, created_at=world.clock.now())
                )

        writer = threading.Thread(target=insert_plan)
        writer.start()
        writer.join(timeout=1.0)  # done at once unless this transaction holds the write lock
        return may_use(session, user_id, business)

    monkeypatch.setattr(Admin, "_may_use", staticmethod(write_from_elsewhere))
    created = world.admin.create_key(account.user_email, account.business_id)
    assert created.key.startswith("niq_")
    deadline = time.monotonic() + 10
    while plans() != plans_before + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert plans() == plans_before + 1  # the other writer waited, then committed
    other.dispose()
