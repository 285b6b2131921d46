"""Fixtures of the end-to-end suite: one shared `ruststack` per session, extra servers on demand,
and boto3 clients pointed at them."""

from __future__ import annotations

import os
import uuid

import boto3
import pytest
from botocore.config import Config

from . import rsutil

# Keep the developer's AWS configuration (profiles, endpoint overrides, proxies) out of the tests.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)
for _var in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")]:
    os.environ.pop(_var, None)
_no_proxy = "127.0.0.1,localhost,.localhost,.localhost.localstack.cloud"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = _no_proxy

REGION = "us-east-1"


@pytest.fixture(scope="session")
def ruststack_binary():
    try:
        return rsutil.find_binary()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def ruststack(ruststack_binary):
    """The shared server (all services, default flags) for the whole session."""
    try:
        server = rsutil.start_server(ruststack_binary)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield server
    crashed = server.proc.poll()
    code = server.stop()
    if crashed is not None:
        pytest.fail(
            f"the shared ruststack exited during the tests (code {crashed}); stderr:\n{server.stderr()}",
            pytrace=False,
        )
    assert code == 0, f"ruststack exited with {code} on SIGTERM; stderr:\n{server.stderr()}"
    assert_no_panic(server)


def assert_no_panic(server: rsutil.Server):
    log = server.stderr()
    assert "panicked" not in log, f"ruststack panicked ({' '.join(server.args[1:])}):\n{log}"


@pytest.fixture(scope="session")
def endpoint(ruststack):
    return ruststack.endpoint


class ServerFactory:
    """Starts extra servers with custom flags; stops every one of them at teardown."""

    def __init__(self, binary):
        self.binary = binary
        self.servers: list[rsutil.Server] = []

    def __call__(self, *flags: str, env: dict[str, str] | None = None, port: int | None = None):
        try:
            server = rsutil.start_server(self.binary, *flags, env=env, port=port)
        except RuntimeError as e:
            pytest.fail(str(e), pytrace=False)
        self.servers.append(server)
        return server

    def stop_all(self):
        for server in self.servers:
            server.stop()
        for server in self.servers:
            assert_no_panic(server)


@pytest.fixture
def start_server(ruststack_binary):
    """`start_server("--enforce-sigv4", env={...})` → a new running server, stopped after the test."""
    factory = ServerFactory(ruststack_binary)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def start_module_server(ruststack_binary):
    """Like `start_server`, for servers shared by the tests of one module."""
    factory = ServerFactory(ruststack_binary)
    yield factory
    factory.stop_all()


_SESSION: boto3.session.Session | None = None


def _session() -> boto3.session.Session:
    # One session for the run: it caches the loaded service models, which makes clients cheap.
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    return _SESSION


def make_client(service: str, endpoint_url: str, config: Config | None = None, **kw):
    """A boto3 client for `service` at `endpoint_url`: us-east-1, keys test/test, one attempt only."""
    base = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    if config is not None:
        base = base.merge(config)
    kw.setdefault("region_name", REGION)
    kw.setdefault("aws_access_key_id", "test")
    kw.setdefault("aws_secret_access_key", "test")
    return _session().client(service, endpoint_url=endpoint_url, config=base, **kw)


@pytest.fixture(scope="session")
def client(endpoint):
    """`client("s3")`, `client("sts", aws_access_key_id=...)`, `client("s3", endpoint_url=other)`."""

    def factory(service: str, endpoint_url: str | None = None, **kw):
        return make_client(service, endpoint_url or endpoint, **kw)

    return factory


@pytest.fixture
def reset_state(ruststack):
    """Clears the shared server's state before the test (for tests that depend on empty state)."""
    r = rsutil.request(ruststack.port, "POST", "/_ruststack/reset")
    assert r.status == 200, r
    return ruststack


@pytest.fixture
def iam(client):
    """An IAM client in an account of its own (IAM state is global per account, so a test's
    listings and counts are its own), without boto3's checks so the server's validation answers."""
    from botocore.config import Config

    account = str(uuid.uuid4().int)[:12].rjust(12, "1")
    c = client("iam", aws_access_key_id=account, config=Config(parameter_validation=False))
    c.account = account
    return c
