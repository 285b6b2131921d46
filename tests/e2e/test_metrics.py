"""GET /_ruststack/metrics: Prometheus text that counts what the server answered."""

import re

import pytest
from botocore.exceptions import ClientError

from . import rsutil


def scrape(port: int) -> dict[str, float]:
    """Samples by `name{labels}` (labels sorted as rendered)."""
    resp = rsutil.request(port, "GET", "/_ruststack/metrics")
    assert resp.status == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in resp.body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)", line)
        assert m, f"not a Prometheus sample line: {line!r}"
        samples[m.group(1)] = float(m.group(2))
    return samples


@pytest.fixture
def server(start_server):
    return start_server()


def test_requests_are_counted_by_service_operation_and_status(server, client):
    url = server.endpoint
    ddb = client("dynamodb", endpoint_url=url)
    for _ in range(3):
        ddb.list_tables()
    with pytest.raises(ClientError):
        ddb.describe_table(TableName="missing")
    client("sts", endpoint_url=url).get_caller_identity()

    m = scrape(server.port)
    assert m['ruststack_requests_total{service="dynamodb",operation="ListTables",status="200"}'] == 3
    assert m['ruststack_requests_total{service="dynamodb",operation="DescribeTable",status="400"}'] == 1
    assert m['ruststack_requests_total{service="sts",operation="GetCallerIdentity",status="200"}'] == 1
    # The latency histogram counts the same requests, cumulatively up to +Inf.
    assert m['ruststack_request_duration_seconds_count{service="dynamodb"}'] == 4
    assert m['ruststack_request_duration_seconds_bucket{service="dynamodb",le="+Inf"}'] == 4
    assert m['ruststack_request_duration_seconds_sum{service="dynamodb"}'] > 0


def test_gauges_are_present(server, client):
    before = scrape(server.port)['ruststack_stored_bytes{service="secretsmanager"}']
    client("secretsmanager", endpoint_url=server.endpoint).create_secret(Name="m", SecretString="x" * 1000)
    m = scrape(server.port)
    # The scrape itself is the one request in flight.
    assert m["ruststack_requests_in_flight"] == 1
    assert m["process_resident_memory_bytes"] > 1_000_000
    assert "ruststack_lambda_environments" in m
    assert m['ruststack_stored_bytes{service="secretsmanager"}'] >= before + 1000


def test_metrics_path_is_not_an_s3_request(server):
    resp = rsutil.request(server.port, "POST", "/_ruststack/metrics")
    assert resp.status == 404


def test_live_lambda_environments_are_counted(server, client):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 1\n")
    lam = client("lambda", endpoint_url=server.endpoint)
    assert scrape(server.port)["ruststack_lambda_environments"] == 0
    lam.create_function(
        FunctionName="metrics-fn",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="index.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="metrics-fn")
    assert lam.invoke(FunctionName="metrics-fn")["StatusCode"] == 200
    # The environment stays warm for the next invocation.
    assert scrape(server.port)["ruststack_lambda_environments"] == 1
