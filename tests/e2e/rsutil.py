"""Helpers for the end-to-end tests: starting and stopping `ruststack`, raw HTTP, XML/JSON errors.

Everything here talks to a real `ruststack` process over TCP; nothing is mocked.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

#: The services the server serves today, as named in the health document and `--services`.
SERVICES = ("s3", "dynamodb", "sts", "secretsmanager", "lambda")

READY_LINE = "Ready."
READY_TIMEOUT = 10.0

#: Environment variables the server reads; scrubbed so the caller's shell cannot change a test.
_SERVER_ENV_VARS = (
    "GATEWAY_LISTEN",
    "SERVICES",
    "RUST_LOG",
    "DISABLE_CORS_CHECKS",
    "DEFAULT_REGION",
    "PERSISTENCE",
    "DATA_DIR",
)


def find_binary() -> Path:
    """`$RUSTSTACK_BIN`, else `target/debug/ruststack` under the repository root."""
    explicit = os.environ.get("RUSTSTACK_BIN")
    path = Path(explicit) if explicit else REPO_ROOT / "target" / "debug" / "ruststack"
    if not path.is_file() or not os.access(path, os.X_OK):
        hint = "$RUSTSTACK_BIN points to" if explicit else "expected the debug binary at"
        raise RuntimeError(
            f"ruststack binary not found: {hint} {path}. "
            "Build it with `cargo build -p ruststack` (or set RUSTSTACK_BIN)."
        )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RUSTSTACK_") and k not in _SERVER_ENV_VARS
    }
    env.update(extra or {})
    return env


@dataclass
class Server:
    """A running `ruststack` process."""

    proc: subprocess.Popen
    port: int
    args: list[str]
    stderr_path: Path = field(repr=False)
    _stdout_lines: list[str] = field(default_factory=list, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def stdout(self) -> str:
        return "\n".join(self._stdout_lines)

    def send_signal(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signals the server and waits for it; kills it when it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


_LOG_DIR: str | None = None


def _log_dir() -> str:
    """One temporary directory for the servers' stderr logs, removed when the tests end."""
    global _LOG_DIR
    if _LOG_DIR is None:
        _LOG_DIR = tempfile.mkdtemp(prefix="ruststack-e2e-")
        atexit.register(shutil.rmtree, _LOG_DIR, True)
    return _LOG_DIR


def start_server(
    binary: Path,
    *flags: str,
    env: dict[str, str] | None = None,
    port: int | None = None,
    log_level: str = "warn",
) -> Server:
    """Starts `ruststack --port N --log-level warn FLAGS…` and waits for its `Ready.` line.

    `port=0` means: do not pass `--port` (the test configures the port through the environment).
    A free port is picked otherwise; on the rare race where another process takes it first, the
    start is retried on a new port.
    """
    attempts = 3 if port is None else 1
    last_error = ""
    for _ in range(attempts):
        chosen = free_port() if port is None else port
        args = [str(binary)]
        if chosen:
            args += ["--port", str(chosen)]
        if log_level:
            args += ["--log-level", log_level]
        args += list(flags)
        fd, stderr_path = tempfile.mkstemp(prefix="stderr-", suffix=".log", dir=_log_dir())
        try:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=fd,
                env=server_env(env),
                cwd=REPO_ROOT,
            )
        finally:
            os.close(fd)
        server = Server(proc=proc, port=chosen, args=args, stderr_path=Path(stderr_path))
        lines: queue.Queue[str | None] = queue.Queue()

        def pump(p=proc, out=server._stdout_lines, q=lines):
            # Keeps reading after `Ready.` so a chatty server never blocks on a full pipe.
            for raw in p.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                out.append(line)
                q.put(line)
            q.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT
        ready = False
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:  # stdout closed: the process is exiting
                break
            if line == READY_LINE:
                ready = True
                break
        if ready:
            return server
        server.stop(signal.SIGKILL, timeout=5)
        last_error = (
            f"ruststack did not print {READY_LINE!r} within {READY_TIMEOUT:.0f} s "
            f"(exit code {proc.returncode}).\ncommand: {' '.join(args)}\n"
            f"stdout:\n{server.stdout()}\nstderr:\n{server.stderr()}"
        )
        if port is not None or "listen" not in server.stderr():
            break
    raise RuntimeError(last_error)


# ---------------------------------------------------------------------------------------------
# Raw HTTP


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self):
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Response:
    """One HTTP/1.1 request with exactly the given headers (plus Host and Content-Length)."""
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs: dict[str, str] = {}
        for k, v in resp.getheaders():
            k = k.lower()
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        return Response(resp.status, resp.reason, hdrs, data)
    finally:
        conn.close()


def read_http_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Reads one complete HTTP/1.x response from a socket (Content-Length, chunked or to EOF).

    Raises AssertionError when the response is truncated.
    """
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before the response head was complete: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})(?: .*)?$", lines[0])
    assert m, f"not an HTTP status line: {lines[0]!r}"
    status = int(m.group(1))
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()

    def more() -> bytes:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-body (status {status}, headers {headers})")
        return chunk

    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            rest += more()
        return status, headers, rest[:n]
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += more()
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += more()
            body += rest[:size]
            rest = rest[size + 2 :]
            if size == 0:
                return status, headers, body
    if status in (204, 304) or 100 <= status < 200:
        return status, headers, b""
    while True:  # delimited by EOF
        chunk = sock.recv(65536)
        if not chunk:
            return status, headers, rest
        rest += chunk


# ---------------------------------------------------------------------------------------------
# AWS error documents


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_find(body: bytes | str, name: str) -> str | None:
    """The text of the first element called `name` (any namespace), or None."""
    root = ET.fromstring(body)
    for el in root.iter():
        if _local(el.tag) == name:
            return el.text or ""
    return None


def xml_root(body: bytes | str) -> str:
    return _local(ET.fromstring(body).tag)


def json_error_type(body: bytes) -> str:
    """`__type` of an awsJson error, without the `namespace#` prefix AWS sometimes adds."""
    doc = json.loads(body)
    return str(doc.get("__type", "")).rsplit("#", 1)[-1]


def call_error(call, **kw) -> tuple[int, str, str]:
    """Calls a boto3 operation that must fail: (HTTP status, error code, message)."""
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as e:
        call(**kw)
    err = e.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def unique(prefix: str) -> str:
    """A resource name no other test uses."""
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:10]}"
