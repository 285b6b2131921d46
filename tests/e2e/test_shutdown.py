"""Graceful shutdown: on SIGTERM/SIGINT the server stops accepting, lets the requests in flight
finish, and exits 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import pytest

from . import rsutil

# Slow requests: the head and the first half of the body are sent, then the signal, then the rest.
SLOW_REQUESTS = {
    # S3 PutObject, path style (its answer may come before the body is read; it must still be whole).
    "s3-put-object": (
        "PUT /bucket/key HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: {length}\r\n\r\n",
        b"0123456789",
    ),
    # DynamoDB ListTables: the JSON body must be read whole before the request can be answered.
    "dynamodb-list-tables": (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
        "Content-Type: application/x-amz-json-1.0\r\nContent-Length: {length}\r\n\r\n",
        b'{"Limit": 10}',
    ),
}


def connection_refused(port: int, within: float = 2.0) -> bool:
    """Whether new connections to `port` are refused (polling up to `within` seconds)."""
    deadline = time.monotonic() + within
    while True:
        try:
            probe = socket.create_connection(("127.0.0.1", port), timeout=1)
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        else:
            probe.close()
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


@pytest.mark.parametrize("name", list(SLOW_REQUESTS))
def test_sigterm_lets_the_request_in_flight_finish(start_server, name):
    server = start_server()
    head, body = SLOW_REQUESTS[name]
    half = len(body) // 2
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head.format(port=server.port, length=len(body)).encode() + body[:half])
        time.sleep(0.2)  # let the server read the head and start on the request
        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)

        # It stops accepting at once, while the old connection is still being served.
        assert connection_refused(server.port), "new connections are still accepted after SIGTERM"
        if name == "dynamodb-list-tables":
            # (S3 PutObject may have been answered already, unread body and all, and the server
            # gone; ListTables cannot be answered before its body is complete.)
            assert server.proc.poll() is None, f"exited ({server.proc.returncode}) with a request in flight"

        time.sleep(max(0.0, 0.5 - (time.monotonic() - signalled)))
        try:
            s.sendall(body[half:])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered without reading the body (S3 PutObject): read that answer
        status, headers, response_body = rsutil.read_http_response(s)

    if name == "dynamodb-list-tables":
        assert status == 200, response_body
        assert b'"TableNames"' in response_body
    else:
        # The bucket does not exist: a complete S3 error document proves the request was answered.
        assert status == 404, response_body
        assert rsutil.xml_find(response_body, "Code") == "NoSuchBucket"
    assert headers.get("x-amzn-requestid")

    try:
        code = server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 5 s after SIGTERM once its request was answered; stderr:\n{server.stderr()}")
    assert code == 0, server.stderr()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_zero(start_server, sig):
    server = start_server()
    assert rsutil.request(server.port, "GET", "/health").status == 200
    time.sleep(0.2)  # steady state (the moment right after `Ready.` has its own test)
    server.send_signal(sig)
    try:
        code = server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 5 s after {sig.name}")
    assert code == 0, server.stderr()


def test_sigterm_right_after_ready_exits_zero(ruststack_binary):
    # Orchestrators (docker stop, testcontainers) may stop the server as soon as it says `Ready.`:
    # its signal handlers must be in place by then, or SIGTERM kills it (exit -15). The window is
    # small, so the signal is sent the moment the line is read, many times over.
    failures = []
    for attempt in range(30):
        proc = subprocess.Popen(
            [str(ruststack_binary), "--port", str(rsutil.free_port()), "--log-level", "warn"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=rsutil.server_env(),
        )
        try:
            out, fd = b"", proc.stdout.fileno()
            deadline = time.monotonic() + rsutil.READY_TIMEOUT
            while b"Ready.\n" not in out and time.monotonic() < deadline:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                out += chunk
            assert b"Ready.\n" in out, f"no Ready. line: {out!r}"
            os.kill(proc.pid, signal.SIGTERM)
            code = proc.wait(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if code != 0:
            failures.append((attempt, code))
    assert not failures, f"SIGTERM right after Ready.: (attempt, exit code) {failures}"


def test_idle_keep_alive_connection_does_not_delay_shutdown(start_server):
    server = start_server()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        status, _, _ = rsutil.read_http_response(s)
        assert status == 200
        # The connection stays open and idle; the default --shutdown-timeout is 10 s.
        time.sleep(0.2)
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=8)
        assert code == 0, server.stderr()
        assert time.monotonic() - started < 3, "an idle connection held up the shutdown"


def test_shutdown_timeout_bounds_a_stuck_request(start_server):
    server = start_server("--shutdown-timeout", "1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        # A body that never completes.
        s.sendall(
            f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Type: application/x-amz-json-1.0\r\n"
            "Content-Length: 100\r\n\r\n{".encode()
        )
        time.sleep(0.2)
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=6)
        except subprocess.TimeoutExpired:
            pytest.fail("a stuck request kept the server alive past --shutdown-timeout 1")
        assert code == 0, server.stderr()
        assert time.monotonic() - started >= 0.9, "exited before the in-flight request's grace period"
