"""Lambda execution environments: concurrent invocations start more processes, idle ones stop,
a timeout kills the whole process group, and a reset stops everything."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time

import pytest

from . import rsutil
from .conftest import make_client
from .lambda_fixtures.zips import make_zip
from .rsutil import unique

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

PID_HANDLER = """
import os, subprocess, time
def handler(event, context):
    if event.get("spawn"):
        child = subprocess.Popen(["sleep", "60"])
        with open(event["spawn"], "w") as f:
            f.write(str(child.pid))
    time.sleep(event.get("sleep", 0))
    return os.getpid()
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_dead(pid: int, seconds: float = 5) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def make_function(lam, timeout=3):
    name = unique("env")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": make_zip({"index.py": PID_HANDLER})}, Timeout=timeout)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    return name


def call(lam, name, event):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return resp, json.loads(resp["Payload"].read())


def test_concurrent_invocations_start_more_environments(client):
    lam = client("lambda")
    name = make_function(lam)
    results: list[int] = []
    errors: list[Exception] = []

    def run():
        try:
            results.append(call(lam, name, {"sleep": 0.7})[1])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    call(lam, name, {})  # one warm environment
    threads = [threading.Thread(target=run) for _ in range(3)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started
    assert not errors, errors
    assert len(set(results)) == 3, "three concurrent invocations ran in three processes"
    assert elapsed < 2.0, f"the invocations ran in parallel ({elapsed:.2f}s)"
    # Afterwards invocations reuse one of the warm processes.
    assert call(lam, name, {})[1] in results
    lam.delete_function(FunctionName=name)


def test_timeout_kills_the_process_group(client):
    lam = client("lambda")
    name = make_function(lam, timeout=1)
    marker = os.path.join(tempfile.mkdtemp(), "child.pid")
    resp, out = call(lam, name, {"spawn": marker, "sleep": 5})
    assert out["errorType"] == "Sandbox.Timedout"
    child = int(open(marker).read())
    assert wait_dead(child), "the handler's child process was killed with its environment"
    lam.delete_function(FunctionName=name)


def test_idle_environments_stop_and_reset_stops_all(start_server):
    server = start_server(env={"RUSTSTACK_LAMBDA_IDLE_SECONDS": "1"})
    lam = make_client("lambda", server.endpoint)
    name = make_function(lam)
    first = call(lam, name, {})[1]
    assert call(lam, name, {})[1] == first, "warm reuse"
    assert wait_dead(first, 6), "an idle environment stops after RUSTSTACK_LAMBDA_IDLE_SECONDS"
    second = call(lam, name, {})[1]
    assert second != first
    r = rsutil.request(server.port, "POST", "/_ruststack/reset")
    assert r.status == 200
    assert wait_dead(second), "a reset stops every environment"
