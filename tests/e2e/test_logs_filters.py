"""CloudWatch Logs metric filters, subscription filters (delivering to Lambda as AWS does: a gzipped,
base64 `awslogs.data` DATA_MESSAGE), resource policies and destinations, with AWS's errors; all of
them kept across a restart with `--data-dir`."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
# Prints what the subscription delivered, decoded, so the test reads it from the function's logs.
HANDLER = """
import base64, gzip, json

def handler(event, context):
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    print("DELIVERED " + json.dumps(data, sort_keys=True))
"""


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def now_ms() -> int:
    return int(time.time() * 1000)


def error(exc: pytest.ExceptionInfo) -> tuple[int, str, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def put_metric_filter(logs, group: str, name: str, metric: str = "m", namespace: str = "ns", **kw):
    return logs.put_metric_filter(
        logGroupName=group, filterName=name, filterPattern=kw.pop("pattern", "ERROR"),
        metricTransformations=[{"metricName": metric, "metricNamespace": namespace, "metricValue": "1", **kw}],
    )


def test_metric_filters_put_describe_delete(client):
    logs = client("logs")
    group = f"/mf/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    put_metric_filter(logs, group, "b-filter", metric="errors", namespace="App/1", defaultValue=0.0)
    put_metric_filter(logs, group, "a-filter", metric="warnings", pattern='{ $.level = "WARN" }')
    described = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert [f["filterName"] for f in described] == ["a-filter", "b-filter"]
    b = described[1]
    assert b["logGroupName"] == group and b["filterPattern"] == "ERROR"
    assert b["metricTransformations"] == [
        {"metricName": "errors", "metricNamespace": "App/1", "metricValue": "1", "defaultValue": 0.0}
    ]
    assert isinstance(b["creationTime"], int)
    # Replacing keeps the creation time.
    put_metric_filter(logs, group, "b-filter", metric="errors2", namespace="App/1")
    again = logs.describe_metric_filters(logGroupName=group, filterNamePrefix="b")["metricFilters"]
    assert len(again) == 1 and again[0]["creationTime"] == b["creationTime"]
    assert again[0]["metricTransformations"][0]["metricName"] == "errors2"
    by_metric = logs.describe_metric_filters(metricName="errors2", metricNamespace="App/1")["metricFilters"]
    assert [f["filterName"] for f in by_metric] == ["b-filter"]
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["metricFilterCount"] == 2
    # Pages of one.
    page = logs.describe_metric_filters(logGroupName=group, limit=1)
    assert [f["filterName"] for f in page["metricFilters"]] == ["a-filter"]
    page = logs.describe_metric_filters(logGroupName=group, limit=1, nextToken=page["nextToken"])
    assert [f["filterName"] for f in page["metricFilters"]] == ["b-filter"] and "nextToken" not in page
    logs.delete_metric_filter(logGroupName=group, filterName="a-filter")
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]] == ["b-filter"]
    # Deleting the group deletes its filters.
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_metric_filters(metricName="errors2", metricNamespace="App/1")["metricFilters"] == []


def test_metric_filter_errors(client):
    logs = client("logs")
    group = f"/mf/{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as e:
        put_metric_filter(logs, group, "f")
    assert error(e) == (400, "ResourceNotFoundException", "The specified log group does not exist.")
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as e:
        logs.delete_metric_filter(logGroupName=group, filterName="nope")
    assert error(e) == (400, "ResourceNotFoundException", "The specified metric filter does not exist.")
    with pytest.raises(ClientError) as e:
        logs.describe_metric_filters(metricName="m")
    assert error(e)[:2] == (400, "InvalidParameterException")
    with pytest.raises(ClientError) as e:
        logs.describe_metric_filters(logGroupName=group + "-missing")
    assert error(e)[:2] == (400, "ResourceNotFoundException")
    # Two transformations, a name with ':' and a too-long pattern are refused by validation.
    t = {"metricName": "m", "metricNamespace": "n", "metricValue": "1"}
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern="", metricTransformations=[t, t])
    assert error(e)[:2] == (400, "InvalidParameterException")
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="a:b", filterPattern="", metricTransformations=[t])
    assert error(e)[:2] == (400, "InvalidParameterException")
    with pytest.raises(ClientError) as e:
        logs.put_metric_filter(logGroupName=group, filterName="f", filterPattern="x" * 1025, metricTransformations=[t])
    assert error(e)[:2] == (400, "InvalidParameterException")


def test_test_metric_filter(client):
    logs = client("logs")
    out = logs.test_metric_filter(filterPattern="ERROR", logEventMessages=["ok", "ERROR one", "fine", "ERROR two"])
    assert [(m["eventNumber"], m["eventMessage"]) for m in out["matches"]] == [(2, "ERROR one"), (4, "ERROR two")]
    assert all(m["extractedValues"] == {} for m in out["matches"])
    out = logs.test_metric_filter(filterPattern="[ip, user, status=4*, size]",
                                  logEventMessages=["10.0.0.1 bob 404 12", "10.0.0.2 amy 200 5"])
    assert out["matches"] == [{"eventNumber": 1, "eventMessage": "10.0.0.1 bob 404 12", "extractedValues": {
        "$ip": "10.0.0.1", "$user": "bob", "$status": "404", "$size": "12"}}]


@pytest.fixture
def function(client):
    lam = client("lambda")
    name = f"sub-{uuid.uuid4().hex[:10]}"
    arn = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
        Code={"ZipFile": make_zip({"index.py": HANDLER})},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    yield name, arn
    lam.delete_function(FunctionName=name)


def delivered(logs, function_name: str, want: int, timeout: float = 20) -> list[dict]:
    """The DATA_MESSAGEs the function printed, once `want` of them arrived."""
    group = f"/aws/lambda/{function_name}"
    deadline = time.time() + timeout
    found: list[dict] = []
    while time.time() < deadline:
        if logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            events = logs.filter_log_events(logGroupName=group, filterPattern="DELIVERED")["events"]
            found = [json.loads(e["message"].split("DELIVERED ", 1)[1]) for e in events]
            if len(found) >= want:
                return found
        time.sleep(0.3)
    return found


def test_subscription_filter_delivers_matching_events_to_lambda(client, function):
    logs = client("logs")
    fn_name, fn_arn = function
    group, stream = f"/sub/{uuid.uuid4().hex[:8]}", "app"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_subscription_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", destinationArn=fn_arn)
    (sub,) = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert sub["filterName"] == "errors" and sub["destinationArn"] == fn_arn
    assert sub["distribution"] == "ByLogStream" and sub["filterPattern"] == "ERROR" and sub["logGroupName"] == group
    t = now_ms()
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": t, "message": "ERROR disk full"},
        {"timestamp": t + 1, "message": "all good"},
        {"timestamp": t + 2, "message": "ERROR again"},
    ])
    (message,) = delivered(logs, fn_name, 1)
    assert message["messageType"] == "DATA_MESSAGE"
    assert message["owner"] == "000000000000"
    assert message["logGroup"] == group and message["logStream"] == stream
    assert message["subscriptionFilters"] == ["errors"]
    assert [(e["timestamp"], e["message"]) for e in message["logEvents"]] == [(t, "ERROR disk full"), (t + 2, "ERROR again")]
    assert all(len(e["id"]) == 56 and e["id"].isdigit() for e in message["logEvents"])
    # Nothing matching: nothing delivered.
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": t + 3, "message": "quiet"}])
    logs.delete_subscription_filter(logGroupName=group, filterName="errors")
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": t + 4, "message": "ERROR late"}])
    time.sleep(1.5)
    assert len(delivered(logs, fn_name, 1)) == 1
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []


def test_subscription_filter_errors_and_limits(client, function):
    logs = client("logs")
    _, fn_arn = function
    group = f"/sub/{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=fn_arn)
    assert error(e) == (400, "ResourceNotFoundException", "The specified log group does not exist.")
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(
            logGroupName=group, filterName="f", filterPattern="",
            destinationArn="arn:aws:lambda:us-east-1:000000000000:function:does-not-exist",
        )
    assert error(e) == (
        400, "InvalidParameterException",
        "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.",
    )
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(
            logGroupName=group, filterName="f", filterPattern="",
            destinationArn="arn:aws:kinesis:us-east-1:000000000000:stream/nope",
        )
    assert error(e)[:2] == (400, "InvalidParameterException")
    logs.put_subscription_filter(logGroupName=group, filterName="one", filterPattern="", destinationArn=fn_arn)
    created = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"][0]["creationTime"]
    logs.put_subscription_filter(logGroupName=group, filterName="one", filterPattern="[]", destinationArn=fn_arn)
    (one,) = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert one["filterPattern"] == "[]" and one["creationTime"] == created
    logs.put_subscription_filter(logGroupName=group, filterName="two", filterPattern="", destinationArn=fn_arn)
    with pytest.raises(ClientError) as e:
        logs.put_subscription_filter(logGroupName=group, filterName="three", filterPattern="", destinationArn=fn_arn)
    assert error(e) == (400, "LimitExceededException", "Resource limit exceeded.")
    page = logs.describe_subscription_filters(logGroupName=group, limit=1)
    assert [f["filterName"] for f in page["subscriptionFilters"]] == ["one"]
    page = logs.describe_subscription_filters(logGroupName=group, limit=1, nextToken=page["nextToken"])
    assert [f["filterName"] for f in page["subscriptionFilters"]] == ["two"] and "nextToken" not in page
    with pytest.raises(ClientError) as e:
        logs.delete_subscription_filter(logGroupName=group, filterName="nope")
    assert error(e) == (400, "ResourceNotFoundException", "The specified subscription filter does not exist.")
    with pytest.raises(ClientError) as e:
        logs.delete_subscription_filter(logGroupName=group + "-missing", filterName="one")
    assert error(e) == (400, "ResourceNotFoundException", "The specified log group does not exist.")


POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"},
    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*",
}]})


def test_resource_policies(client):
    logs = client("logs")
    for p in logs.describe_resource_policies()["resourcePolicies"]:
        logs.delete_resource_policy(policyName=p["policyName"])
    before = now_ms()
    out = logs.put_resource_policy(policyName="p0", policyDocument=POLICY)
    policy = out["resourcePolicy"]
    assert policy["policyName"] == "p0" and policy["policyDocument"] == POLICY
    assert policy["policyScope"] == "ACCOUNT" and before - 1000 <= policy["lastUpdatedTime"] <= now_ms() + 1000
    assert out["revisionId"] == policy["revisionId"]
    for i in range(1, 10):
        logs.put_resource_policy(policyName=f"p{i}", policyDocument=POLICY)
    with pytest.raises(ClientError) as e:
        logs.put_resource_policy(policyName="p10", policyDocument=POLICY)
    assert error(e) == (400, "LimitExceededException", "Resource limit exceeded.")
    # Replacing one is not a new one.
    logs.put_resource_policy(policyName="p1", policyDocument=POLICY.replace("route53", "es"))
    listed = logs.describe_resource_policies()["resourcePolicies"]
    assert [p["policyName"] for p in listed] == [f"p{i}" for i in range(10)]
    assert "es.amazonaws.com" in listed[1]["policyDocument"]
    page = logs.describe_resource_policies(limit=4)
    assert len(page["resourcePolicies"]) == 4 and page["nextToken"]
    rest = logs.describe_resource_policies(limit=50, nextToken=page["nextToken"])["resourcePolicies"]
    assert [p["policyName"] for p in rest] == [f"p{i}" for i in range(4, 10)]
    for i in range(10):
        logs.delete_resource_policy(policyName=f"p{i}")
    assert logs.describe_resource_policies()["resourcePolicies"] == []
    with pytest.raises(ClientError) as e:
        logs.delete_resource_policy(policyName="p0")
    assert error(e) == (400, "ResourceNotFoundException", "Policy with name [p0] does not exist")


def test_destinations(client):
    logs = client("logs")
    name = f"dest-{uuid.uuid4().hex[:8]}"
    target, role = "arn:aws:kinesis:us-east-1:000000000000:stream/s", "arn:aws:iam::000000000000:role/r"
    assert logs.describe_destinations(DestinationNamePrefix=name)["destinations"] == []
    dest = logs.put_destination(destinationName=name, targetArn=target, roleArn=role, tags={"k": "v"})["destination"]
    assert dest["destinationName"] == name and dest["targetArn"] == target and dest["roleArn"] == role
    assert dest["arn"] == f"arn:aws:logs:us-east-1:000000000000:destination:{name}"
    assert isinstance(dest["creationTime"], int) and "accessPolicy" not in dest
    updated = logs.put_destination(destinationName=name, targetArn=target + "2", roleArn=role)["destination"]
    assert updated["targetArn"] == target + "2" and updated["creationTime"] == dest["creationTime"]
    logs.put_destination_policy(destinationName=name, accessPolicy=POLICY)
    logs.put_destination(destinationName=name + "-b", targetArn=target, roleArn=role)
    listed = logs.describe_destinations(DestinationNamePrefix=name)["destinations"]
    assert [d["destinationName"] for d in listed] == [name, name + "-b"]
    assert listed[0]["accessPolicy"] == POLICY and listed[0]["targetArn"] == target + "2"
    page = logs.describe_destinations(DestinationNamePrefix=name, limit=1)
    assert [d["destinationName"] for d in page["destinations"]] == [name]
    page = logs.describe_destinations(DestinationNamePrefix=name, limit=1, nextToken=page["nextToken"])
    assert [d["destinationName"] for d in page["destinations"]] == [name + "-b"]
    logs.delete_destination(destinationName=name + "-b")
    logs.delete_destination(destinationName=name)
    assert logs.describe_destinations(DestinationNamePrefix=name)["destinations"] == []
    with pytest.raises(ClientError) as e:
        logs.delete_destination(destinationName=name)
    assert error(e) == (400, "ResourceNotFoundException", "The specified destination does not exist.")
    with pytest.raises(ClientError) as e:
        logs.put_destination_policy(destinationName=name, accessPolicy=POLICY)
    assert error(e) == (400, "ResourceNotFoundException", "The specified destination does not exist.")


def test_filters_policies_and_destinations_survive_a_restart(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    logs = make_client("logs", server.endpoint)
    group = "/restart/g"
    logs.create_log_group(logGroupName=group)
    put_metric_filter(logs, group, "mf")
    logs.put_resource_policy(policyName="rp", policyDocument=POLICY)
    logs.put_destination(destinationName="d", targetArn="arn:aws:kinesis:us-east-1:000000000000:stream/s",
                         roleArn="arn:aws:iam::000000000000:role/r")
    logs.put_destination_policy(destinationName="d", accessPolicy=POLICY)
    before = (
        logs.describe_metric_filters(logGroupName=group)["metricFilters"],
        logs.describe_resource_policies()["resourcePolicies"],
        logs.describe_destinations()["destinations"],
    )
    server.stop()
    server = start_server("--data-dir", data)
    logs = make_client("logs", server.endpoint)
    after = (
        logs.describe_metric_filters(logGroupName=group)["metricFilters"],
        logs.describe_resource_policies()["resourcePolicies"],
        logs.describe_destinations()["destinations"],
    )
    assert after == before and len(before[0]) == len(before[1]) == len(before[2]) == 1
