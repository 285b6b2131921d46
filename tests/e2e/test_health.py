"""The process and its own endpoints: health, reset, the operations list, flags and exit codes."""

from __future__ import annotations

import re
import subprocess

import botocore.session
import pytest
from botocore.exceptions import ClientError

from . import rsutil

HEALTH_PATHS = ["/_localstack/health", "/health"]

# Protocol names as in the botocore models' metadata.
PROTOCOLS = {
    "s3": "rest-xml",
    "dynamodb": "json",
    "sts": "query",
    "secretsmanager": "json",
    "lambda": "rest-json",
}
# The operation each service implements today.
REAL_OPERATION = {
    "s3": "ListBuckets",
    "dynamodb": "ListTables",
    "sts": "GetCallerIdentity",
    "secretsmanager": "ListSecrets",
    "lambda": "ListFunctions",
}


def run_cli(binary, *args, timeout=10):
    return subprocess.run(
        [str(binary), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=rsutil.server_env(),
    )


@pytest.fixture(scope="module")
def cli_version(ruststack_binary):
    out = run_cli(ruststack_binary, "--version")
    m = re.search(r"\b(\d+\.\d+\.\d+\S*)", out.stdout)
    assert m, f"no version in {out.stdout!r}"
    return m.group(1)


# --- health -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_get_lists_every_service_running(ruststack, cli_version, path):
    r = rsutil.request(ruststack.port, "GET", path)
    assert r.status == 200, r
    assert (r.header("content-type") or "").startswith("application/json")
    doc = r.json()
    assert set(rsutil.SERVICES) <= set(doc["services"]), doc
    assert all(state == "running" for state in doc["services"].values()), doc
    assert doc["edition"] == "community"
    assert doc["version"] == cli_version


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_head_has_no_body(ruststack, path):
    r = rsutil.request(ruststack.port, "HEAD", path)
    assert r.status == 200, r
    assert r.body == b""
    assert (r.header("content-type") or "").startswith("application/json")


def test_services_flag_limits_the_enabled_services(start_server, client):
    server = start_server("--services", "s3,sts")
    for path in HEALTH_PATHS:
        doc = rsutil.request(server.port, "GET", path).json()
        assert set(doc["services"]) == {"s3", "sts"}, doc
    ops = rsutil.request(server.port, "GET", "/_ruststack/operations").json()
    assert set(ops) == {"s3", "sts"}

    # The enabled ones work...
    assert client("sts", endpoint_url=server.endpoint).get_caller_identity()["Account"] == "000000000000"
    assert client("s3", endpoint_url=server.endpoint).list_buckets()["Buckets"] == []
    # ...and a disabled one answers like a service that does not exist.
    with pytest.raises(ClientError) as e:
        client("dynamodb", endpoint_url=server.endpoint).list_tables()
    assert e.value.response["Error"]["Code"] == "UnknownOperationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        client("secretsmanager", endpoint_url=server.endpoint).list_secrets()
    assert e.value.response["Error"]["Code"] == "UnknownOperationException"


def test_services_env_var_limits_the_enabled_services(start_server, client):
    # LocalStack's SERVICES variable.
    server = start_server(env={"SERVICES": "dynamodb"})
    doc = rsutil.request(server.port, "GET", "/_localstack/health").json()
    assert set(doc["services"]) == {"dynamodb"}
    assert client("dynamodb", endpoint_url=server.endpoint).list_tables()["TableNames"] == []


# --- /_ruststack/operations -------------------------------------------------------------------


def test_operations_lists_protocol_implemented_and_aws_count(ruststack):
    r = rsutil.request(ruststack.port, "GET", "/_ruststack/operations")
    assert r.status == 200, r
    assert (r.header("content-type") or "").startswith("application/json")
    doc = r.json()
    botocore_session = botocore.session.get_session()
    for service in rsutil.SERVICES:
        assert service in doc, doc.keys()
        entry = doc[service]
        model = botocore_session.get_service_model(service)
        assert entry["protocol"] == PROTOCOLS[service], (service, entry["protocol"])
        assert entry["aws_operations"] == len(model.operation_names), service
        implemented = entry["implemented"]
        assert isinstance(implemented, list)
        assert REAL_OPERATION[service] in implemented, (service, implemented)
        unknown = set(implemented) - set(model.operation_names)
        assert not unknown, f"{service}: implemented operations AWS does not define: {unknown}"
        assert len(set(implemented)) == len(implemented), f"{service}: duplicates in {implemented}"


# --- reset ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/_ruststack/reset", "/moto-api/reset"])
def test_reset_endpoints(ruststack, client, path):
    r = rsutil.request(ruststack.port, "POST", path)
    assert r.status == 200, r
    # The server keeps serving, with empty state.
    assert client("dynamodb").list_tables()["TableNames"] == []
    assert client("s3").list_buckets()["Buckets"] == []


# --- command line -----------------------------------------------------------------------------


def test_version_flag(ruststack_binary):
    out = run_cli(ruststack_binary, "--version")
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"ruststack \d+\.\d+\.\d+\S*\n", out.stdout), out.stdout
    assert "Ready." not in out.stdout


def test_help_flag(ruststack_binary):
    out = run_cli(ruststack_binary, "--help")
    assert out.returncode == 0, out.stderr
    for flag in (
        "--host",
        "--port",
        "--services",
        "--log-level",
        "--enforce-sigv4",
        "--credentials",
        "--disable-cors",
        "--default-account-id",
        "--shutdown-timeout",
        "--version",
        "--help",
    ):
        assert flag in out.stdout, f"{flag} missing from --help"
    assert "Ready." not in out.stdout


@pytest.mark.parametrize(
    "args, mentions",
    [
        (["--bogus"], "bogus"),
        (["--port", "not-a-port"], "port"),
        (["--port", "70000"], "port"),
        (["--default-account-id", "12"], "account"),
        (["--shutdown-timeout", "soon"], "shutdown-timeout"),
    ],
)
def test_bad_flags_exit_non_zero_with_a_message(ruststack_binary, args, mentions):
    out = run_cli(ruststack_binary, *args)
    assert out.returncode != 0
    assert mentions in out.stderr.lower(), out.stderr
    assert "Ready." not in out.stdout


def test_port_in_use_exits_non_zero(ruststack, ruststack_binary):
    out = run_cli(ruststack_binary, "--port", str(ruststack.port))
    assert out.returncode != 0
    assert str(ruststack.port) in out.stderr, out.stderr
    assert "Ready." not in out.stdout


# --- listening address from the environment ---------------------------------------------------


@pytest.mark.parametrize("var", ["RUSTSTACK_PORT", "GATEWAY_LISTEN"])
def test_port_from_environment(start_server, client, var):
    port = rsutil.free_port()
    value = str(port) if var == "RUSTSTACK_PORT" else f"127.0.0.1:{port}"
    server = start_server(env={var: value}, port=0)
    server.port = port
    assert rsutil.request(port, "GET", "/_localstack/health").status == 200
    assert client("sts", endpoint_url=server.endpoint).get_caller_identity()["Account"] == "000000000000"


def test_port_flag_beats_environment(start_server):
    port = rsutil.free_port()
    server = start_server(env={"RUSTSTACK_PORT": "1", "GATEWAY_LISTEN": "127.0.0.1:1"}, port=port)
    assert rsutil.request(server.port, "GET", "/health").status == 200
