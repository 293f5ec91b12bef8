"""Signals and store faults: each stops the run with what was done recorded and one clear error."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from target_dust.store import Store, StoreError
from target_dust.store import database as store_database

from sandbox.dust import DustSandbox
from sandbox.generator import generate_tenant
from tests.target.support import dust_config, run_target, singer_lines

if TYPE_CHECKING:
    from collections.abc import Iterator

TARGET = str(Path(sys.executable).with_name("target-dust"))
SUMMARY = re.compile(r"Dust sync summary: (\d+) upserted, \d+ unchanged, \d+ failed, (\d+) pending")


def start(config: dict[str, Any], tmp_path: Path, name: str, text: str | None) -> subprocess.Popen:
    """The target as Meltano runs it; with `text=None` its stdin stays open (a live tap)."""
    config_path = tmp_path / f"{name}-config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    stdin: Any = subprocess.PIPE
    if text is not None:
        (tmp_path / f"{name}.singer").write_text(text, encoding="utf-8")
        stdin = (tmp_path / f"{name}.singer").open("rb")
    process = subprocess.Popen(
        [TARGET, "--config", str(config_path)],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if text is not None:
        stdin.close()
    return process


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def lock_holder(store_path: Path) -> str:
    """Who holds the store's lock file, once the target has opened the store."""
    path = Path(f"{store_path}.lock")
    return path.read_text() if path.exists() else ""


def summary(stderr: str) -> tuple[int, int]:
    """(upserted, pending) from the run's summary line."""
    found = SUMMARY.findall(stderr)
    assert len(found) == 1, stderr[-3000:]
    return int(found[0][0]), int(found[0][1])


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "ERROR" in line]


def upserted_in_store(store_path: Path) -> int:
    with sqlite3.connect(store_path) as connection:
        return connection.execute(
            "SELECT COUNT(*) FROM companies WHERE document_id IS NOT NULL"
        ).fetchone()[0]


# -- signals -------------------------------------------------------------------------------


@pytest.mark.parametrize(("signal_number", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_flush_records_the_upserts_that_finished_and_exits_non_zero(
    tmp_path: Path, signal_number: int, code: int
) -> None:
    tenant = generate_tenant(seed=11, companies=30, large_company_bytes=0)
    text = singer_lines(tenant)
    with DustSandbox(latency=0.2) as dust:
        config = dust_config(dust, tmp_path, concurrency=3)
        stopped = start(config, tmp_path, "stopped", text)
        wait_for(lambda: dust.upsert_count >= 4, "a few upserts")
        stopped.send_signal(signal_number)
        stdout, stderr = stopped.communicate(timeout=20)

        assert stopped.returncode == code, stderr[-3000:]
        upserted, pending = summary(stderr)
        # Every upsert Dust accepted, in flight at the signal included, is in the store.
        assert upserted == dust.upsert_count == upserted_in_store(tmp_path / "store.db")
        assert pending == len(tenant["companies"]) - upserted > 0
        # The state is written after the store commit: the pending work stays dirty there.
        assert [json.loads(line) for line in stdout.splitlines()] == [{"bookmarks": {"run": 1}}]

        rerun = start(config, tmp_path, "rerun", "")  # Meltano resumes after that state
        _, stderr = rerun.communicate(timeout=60)
        assert rerun.returncode == 0, stderr[-3000:]
        assert summary(stderr) == (pending, 0)
        assert len(dust.documents()) == len(tenant["companies"])
        assert dust.upsert_count == len(tenant["companies"])  # none was sent twice


def test_sigterm_abandons_upserts_that_do_not_finish_in_time(tmp_path: Path) -> None:
    tenant = generate_tenant(seed=12, companies=20, large_company_bytes=0)
    with DustSandbox(latency=0.05) as dust:
        # In-flight upserts get min(request_timeout, 10 s) once a stop is asked for.
        config = dust_config(dust, tmp_path, concurrency=2, request_timeout=1)
        stopped = start(config, tmp_path, "stopped", singer_lines(tenant))
        wait_for(lambda: dust.upsert_count >= 3, "a few upserts")
        dust.latency = 60.0  # every upsert from now on hangs
        time.sleep(0.2)
        accepted = dust.upsert_count
        stopped.send_signal(signal.SIGTERM)
        _, stderr = stopped.communicate(timeout=20)

    assert stopped.returncode == 143, stderr[-3000:]
    assert "were abandoned; their companies stay pending" in stderr
    upserted, pending = summary(stderr)
    assert upserted == accepted == upserted_in_store(tmp_path / "store.db")
    assert pending == len(tenant["companies"]) - accepted


def test_sigterm_while_waiting_for_input_with_nothing_pending_exits_zero(
    dust: DustSandbox, tmp_path: Path
) -> None:
    tenant = generate_tenant(seed=13, companies=3, large_company_bytes=0)
    config = dust_config(dust, tmp_path)
    run_target(config, singer_lines(tenant))
    idle = start(config, tmp_path, "idle", None)
    idle.stdin.write(singer_lines({"companies": tenant["companies"]}, streams=["companies"]))
    idle.stdin.flush()  # the records are unchanged: nothing becomes pending
    wait_for(lambda: f"pid {idle.pid} " in lock_holder(tmp_path / "store.db"), "the store lock")
    time.sleep(0.3)  # let it stage the records it was sent
    idle.send_signal(signal.SIGTERM)
    stdout, stderr = idle.communicate(timeout=20)
    assert idle.returncode == 0, stderr[-3000:]
    assert summary(stderr) == (0, 0)
    assert stdout.strip() == json.dumps({"bookmarks": {"run": 1}})


# -- two runs on one store -----------------------------------------------------------------


def test_second_target_on_a_sqlite_store_is_refused_until_the_first_ends(
    dust: DustSandbox, tmp_path: Path
) -> None:
    tenant = generate_tenant(seed=14, companies=3, large_company_bytes=0)
    text = singer_lines(tenant)
    config = dust_config(dust, tmp_path)
    first = start(config, tmp_path, "first", None)
    first.stdin.write(text.splitlines(keepends=True)[0])  # a SCHEMA: the store is opened
    first.stdin.flush()
    wait_for(lambda: f"pid {first.pid} " in lock_holder(tmp_path / "store.db"), "the store lock")

    second = start(config, tmp_path, "second", text)
    stdout, stderr = second.communicate(timeout=20)
    assert second.returncode == 1
    assert stdout == ""
    message = error_lines(stderr)[0]
    assert str(tmp_path / "store.db") in message
    assert f"in use by another run (target-dust pid {first.pid} on " in message
    assert "give each pipeline its own store_url" in message
    assert dust.upsert_count == 0

    first.kill()  # a crash: the lock dies with the process
    first.communicate(timeout=20)
    third = start(config, tmp_path, "third", text)
    _, stderr = third.communicate(timeout=60)
    assert third.returncode == 0, stderr[-3000:]
    assert len(dust.documents()) == len(tenant["companies"])


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[str]:
    import psycopg

    name = f"faults_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_second_target_on_a_postgres_store_is_refused(postgres_store: str) -> None:
    first = Store.open(postgres_store)
    try:
        with pytest.raises(StoreError) as refused:
            Store.open(postgres_store)
        message = str(refused.value)
        assert postgres_store in message
        assert f"in use by another run (target-dust pid {os.getpid()} on " in message
        assert "give each pipeline its own store_url" in message
    finally:
        first.close()
    Store.open(postgres_store).close()  # closing the session released the lock


# -- store faults --------------------------------------------------------------------------


def test_garbage_store_file_stops_the_run_with_one_error(dust: DustSandbox, tmp_path: Path) -> None:
    store_path = tmp_path / "store.db"
    store_path.write_bytes(b"these bytes are not a database " * 200)
    tenant = generate_tenant(seed=15, companies=2, large_company_bytes=0)
    target = start(dust_config(dust, tmp_path), tmp_path, "run", singer_lines(tenant))
    stdout, stderr = target.communicate(timeout=30)
    assert target.returncode == 1
    assert stdout == ""
    message = error_lines(stderr)[0]
    assert f"The record store {store_path} is corrupt" in message
    assert "restore it from a backup, or move it away and rebuild it" in message
    assert "rebuild_store" in message
    assert dust.upsert_count == 0


def test_truncated_store_is_found_corrupt_at_open(tmp_path: Path) -> None:
    store_path = tmp_path / "store.db"
    store = Store.open(str(store_path))
    for n in range(400):
        store.stage(
            stream="companies",
            kind="companies",
            pk=str(n),
            company_ids=[str(n)],
            record={"_id": str(n), "notes": "x" * 2000},
        )
    store.close()
    data = store_path.read_bytes()
    store_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError) as refused:
        Store.open(str(store_path))
    assert str(refused.value).startswith(f"The record store {store_path} is corrupt")
    assert "restore it from a backup" in str(refused.value)


def test_store_held_by_another_writer_is_reported_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_path = str(tmp_path / "store.db")
    Store.open(store_path).close()
    monkeypatch.setattr(store_database, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.05)
    other = sqlite3.connect(store_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # e.g. a sqlite3 shell in the middle of a write
    try:
        with pytest.raises(StoreError) as refused:
            Store.open(store_path)
    finally:
        other.execute("ROLLBACK")
        other.close()
    message = str(refused.value)
    assert message.startswith(f"The record store {store_path} is locked by another program")
    assert "close whatever holds it open for writing" in message
    Store.open(store_path).close()  # the failed open left no lock behind


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: a real full disk (ENOSPC), fast and without touching the host's."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)]
    if os.geteuid() != 0:
        command = ["sudo", "-n", *command]
    mounted = subprocess.run(command, capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        reason = f"cannot mount a small tmpfs (needs root or sudo): {mounted.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        unmount = ["umount", str(mount_point)]
        subprocess.run(unmount if os.geteuid() == 0 else ["sudo", "-n", *unmount], check=True)


def test_full_disk_stops_the_run_naming_the_store_and_emits_no_state(
    dust: DustSandbox, tmp_path: Path, small_disk: Path
) -> None:
    tenant = generate_tenant(seed=16, companies=4, large_company_bytes=600_000)
    store_path = small_disk / "store.db"
    config = dust_config(dust, tmp_path, store_url=str(store_path))
    target = start(config, tmp_path, "run", singer_lines(tenant))
    stdout, stderr = target.communicate(timeout=60)
    assert target.returncode == 1
    assert stdout == ""  # no state: the tap resends what could not be kept
    message = error_lines(stderr)[0]
    assert f"The disk holding the record store {store_path} is full" in message
    assert "free space there or point store_url to a larger disk" in message


def test_unreachable_postgres_store_names_the_url_without_its_password() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once the socket closes
    url = f"postgresql://planhat:s3cretPassw0rd@127.0.0.1:{port}/dust"
    with pytest.raises(StoreError) as refused:
        Store.open(url)
    message = str(refused.value)
    assert message.startswith(f"The record store postgresql://planhat:***@127.0.0.1:{port}/dust")
    assert "cannot be reached" in message
    assert "check store_url and that the PostgreSQL server is running" in message
    assert "s3cretPassw0rd" not in message
