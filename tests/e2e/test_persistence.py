"""`--data-dir`: the directory's layout, its lock against a second server, the refusal of newer or
damaged directories, and reset clearing it. (Per-service persistence is tested with each service
once it keeps its state in the data dir.)"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from . import rsutil


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "state"


def run_refused(binary, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs a server that must refuse to start: it exits on its own, without printing `Ready.`."""
    args = [str(binary), "--port", str(rsutil.free_port()), *flags]
    done = subprocess.run(args, env=rsutil.server_env(env), capture_output=True, text=True, timeout=20)
    assert "Ready." not in done.stdout, done
    return done


def blob_files(d: Path) -> list[Path]:
    return [p for p in (d / "objects" / "blobs").rglob("*") if p.is_file()]


def kv_rows(d: Path) -> int:
    with sqlite3.connect(f"file:{d / 'kv.sqlite'}?mode=ro", uri=True) as con:
        return con.execute("SELECT count(*) FROM kv").fetchone()[0]


def seed(d: Path):
    """Puts rows and a blob file into a stopped server's data dir, as services will."""
    with sqlite3.connect(d / "kv.sqlite") as con:
        con.executemany(
            "INSERT INTO kv (tree, k, v) VALUES (?, ?, ?)",
            [("s3/objects", f"key{i}".encode(), b"v" * 100) for i in range(50)],
        )
    shard = d / "objects" / "blobs" / "07"
    shard.mkdir(parents=True, exist_ok=True)
    (shard / "0000010000000007").write_bytes(b"body" * 1000)


def test_data_dir_is_created_with_version_and_lock(start_server, data_dir):
    server = start_server("--data-dir", str(data_dir))
    assert (data_dir / "VERSION").read_text() == "ruststack-data-dir 1\n"
    assert (data_dir / "ruststack.lock").read_text().strip() == str(server.pid)
    assert (data_dir / "kv.sqlite").is_file() and (data_dir / "objects").is_dir()
    health = rsutil.request(server.port, "GET", "/_localstack/health")
    assert health.status == 200
    assert health.json()["services"]["s3"] == "running"


@pytest.mark.parametrize(
    "env_of",
    [
        lambda d: {"RUSTSTACK_DATA_DIR": str(d)},
        lambda d: {"PERSISTENCE": "1", "DATA_DIR": str(d)},
    ],
    ids=["RUSTSTACK_DATA_DIR", "PERSISTENCE+DATA_DIR"],
)
def test_data_dir_from_the_environment(start_server, data_dir, env_of):
    server = start_server(env=env_of(data_dir))
    assert (data_dir / "ruststack.lock").read_text().strip() == str(server.pid)


def test_without_persistence_nothing_is_written(start_server, tmp_path):
    start_server(env={"DATA_DIR": str(tmp_path / "ignored")})
    assert not (tmp_path / "ignored").exists()


def test_a_second_server_on_the_same_dir_is_refused(start_server, ruststack_binary, data_dir):
    first = start_server("--data-dir", str(data_dir))
    second = run_refused(ruststack_binary, "--data-dir", str(data_dir))
    assert second.returncode != 0
    assert f"data dir {data_dir} is in use by another process (pid {first.pid})" in second.stderr, second.stderr
    # The first one is undisturbed and still owns the lock.
    assert rsutil.request(first.port, "GET", "/_localstack/health").status == 200
    assert (data_dir / "ruststack.lock").read_text().strip() == str(first.pid)


def test_the_lock_dies_with_a_killed_server(start_server, data_dir):
    first = start_server("--data-dir", str(data_dir))
    first.stop(signal.SIGKILL)
    second = start_server("--data-dir", str(data_dir))
    assert (data_dir / "ruststack.lock").read_text().strip() == str(second.pid)


def test_state_survives_a_restart_and_reset_clears_the_dir(start_server, data_dir):
    first = start_server("--data-dir", str(data_dir))
    assert first.stop() == 0
    seed(data_dir)
    server = start_server("--data-dir", str(data_dir))
    assert kv_rows(data_dir) == 50 and len(blob_files(data_dir)) == 1

    r = rsutil.request(server.port, "POST", "/_ruststack/reset")
    assert r.status == 200 and r.json() == {"reset": True}
    assert kv_rows(data_dir) == 0
    assert blob_files(data_dir) == []
    deadline = time.monotonic() + 5
    while list((data_dir / "objects").glob("trash-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list((data_dir / "objects").glob("trash-*")), "the old blobs were not removed"
    # The directory stays a valid, locked data dir.
    assert (data_dir / "VERSION").is_file()
    assert (data_dir / "ruststack.lock").read_text().strip() == str(server.pid)
    assert rsutil.request(server.port, "GET", "/_localstack/health").status == 200


def test_a_newer_data_dir_is_refused_and_left_alone(start_server, ruststack_binary, data_dir):
    start_server("--data-dir", str(data_dir)).stop()
    (data_dir / "VERSION").write_text("ruststack-data-dir 99\n")
    before = sorted(p.name for p in data_dir.iterdir())
    done = run_refused(ruststack_binary, "--data-dir", str(data_dir))
    assert done.returncode != 0
    assert f"data dir {data_dir}: it was written by a newer RustStack (data format 99" in done.stderr, done.stderr
    assert (data_dir / "VERSION").read_text() == "ruststack-data-dir 99\n"
    assert sorted(p.name for p in data_dir.iterdir()) == before


def test_a_damaged_database_is_refused_not_started_empty(start_server, ruststack_binary, data_dir):
    start_server("--data-dir", str(data_dir)).stop()
    for extra in ("kv.sqlite-wal", "kv.sqlite-shm"):
        (data_dir / extra).unlink(missing_ok=True)
    (data_dir / "kv.sqlite").write_bytes(b"\x5a" * 8192)
    done = run_refused(ruststack_binary, "--data-dir", str(data_dir))
    assert done.returncode != 0
    assert f"data dir {data_dir}: cannot open its database" in done.stderr, done.stderr
    assert (data_dir / "kv.sqlite").read_bytes() == b"\x5a" * 8192


def test_a_foreign_directory_is_refused(ruststack_binary, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = run_refused(ruststack_binary, "--data-dir", str(tmp_path))
    assert done.returncode != 0
    assert "has no VERSION file: it is not a RustStack data directory" in done.stderr, done.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "kv.sqlite").exists()


def test_an_empty_data_dir_flag_is_a_usage_error(ruststack_binary):
    done = run_refused(ruststack_binary, "--data-dir", "")
    assert done.returncode == 2
    assert "--data-dir needs a directory" in done.stderr
