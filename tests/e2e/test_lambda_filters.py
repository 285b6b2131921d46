"""Lambda event source mappings with `FilterCriteria` (AWS "Lambda event filtering"): only records
a filter matches reach the function; SQS messages no filter matches are deleted from the queue;
malformed criteria are refused with AWS's error. Also: functions call back into the gateway on the
port it listens on, whatever `Host` the client used."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from .lambda_fixtures.zips import make_zip
from .rsutil import unique

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

# Sends what each record carried to the queue OUT: an SQS message's body, a stream record's
# event name and key.
RECORDER = """
import boto3, json
def handler(event, context):
    sqs = boto3.client("sqs")
    for r in event["Records"]:
        if r["eventSource"] == "aws:sqs":
            seen = r["body"]
        else:
            seen = r["eventName"] + " " + r["dynamodb"]["Keys"]["pk"]["S"]
        sqs.send_message(QueueUrl=OUT, MessageBody=seen)
"""


@pytest.fixture
def lam(client):
    return client("lambda")


@pytest.fixture
def sqs(client):
    return client("sqs")


def make_queue(sqs, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def recorder(lam, out_url: str) -> str:
    name = unique("filtered")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler", Timeout=30,
        Code={"ZipFile": make_zip({"index.py": RECORDER.replace("OUT", repr(out_url))})},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return name


def collect(sqs, url: str, until, timeout: float = 20.0) -> list[str]:
    """Bodies received from `url` until `until(bodies)` holds (or the timeout)."""
    bodies: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline and not until(bodies):
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", []):
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def queue_depth(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def criteria(*patterns: dict) -> dict:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def test_sqs_mapping_invokes_only_for_matching_messages_and_deletes_the_rest(lam, sqs):
    url, arn = make_queue(sqs, unique("filtered-in"))
    out_url, _ = make_queue(sqs, unique("filtered-out"))
    name = recorder(lam, out_url)
    # JSON bodies whose kind is "keep", or plain bodies starting with "plain-keep".
    filters = criteria({"body": {"kind": ["keep"]}}, {"body": [{"prefix": "plain-keep"}]})
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10,
                                              FilterCriteria=filters)
    try:
        assert mapping["FilterCriteria"] == filters
        assert lam.get_event_source_mapping(UUID=mapping["UUID"])["FilterCriteria"] == filters
        bodies = [
            json.dumps({"kind": "drop", "n": 1}),
            json.dumps({"kind": "keep", "n": 2}),
            "plain-drop 3",
            "plain-keep 4",
            json.dumps({"other": "plain-keep"}),  # JSON: the plain-string pattern does not apply
            json.dumps({"kind": "keep", "n": 6}),
        ]
        for body in bodies:
            sqs.send_message(QueueUrl=url, MessageBody=body)
        expected = sorted([bodies[1], bodies[3], bodies[5]])
        seen = collect(sqs, out_url, lambda got: len(got) >= len(expected))
        assert sorted(seen) == expected
        # The messages no filter matched left the queue too (not merely hidden until a retry).
        deadline = time.time() + 10
        while time.time() < deadline and queue_depth(sqs, url):
            time.sleep(0.3)
        assert queue_depth(sqs, url) == 0
        assert collect(sqs, out_url, lambda got: False, timeout=2) == []
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        lam.delete_function(FunctionName=name)


def test_dynamodb_stream_mapping_filters_on_event_name(client, lam, sqs):
    ddb = client("dynamodb")
    table = unique("filtered-table")
    stream_arn = ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    out_url, _ = make_queue(sqs, unique("stream-out"))
    name = recorder(lam, out_url)
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=name, StartingPosition="LATEST", BatchSize=10,
        FilterCriteria=criteria({"eventName": ["INSERT"]}),
    )
    try:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})  # MODIFY
        ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})  # REMOVE
        ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "v": {"N": "3"}})
        # Records arrive in order: once the last INSERT is seen, nothing before it is pending.
        seen = collect(sqs, out_url, lambda got: "INSERT b" in got)
        assert seen == ["INSERT a", "INSERT b"]

        # Filters see the record as delivered: DynamoDB numbers are strings there (`{"N": "15"}`).
        lam.update_event_source_mapping(
            UUID=mapping["UUID"],
            FilterCriteria=criteria({"dynamodb": {"NewImage": {"v": {"N": [{"prefix": "1"}]}}}, "eventName": ["MODIFY"]}),
        )
        ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "v": {"N": "7"}})
        ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "v": {"N": "15"}})
        assert collect(sqs, out_url, lambda got: bool(got)) == ["MODIFY b"]
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        lam.delete_function(FunctionName=name)
        ddb.delete_table(TableName=table)


@pytest.mark.parametrize("pattern", [
    '{"body": "keep"}',  # a leaf must be an array of conditions
    "not json",
    '[{"body": ["x"]}]',
    '{"body": [{"no-such-operator": 1}]}',
    '{"n": [{"numeric": [">", "ten"]}]}',
    '{"n": [{"exists": "yes"}]}',
])
def test_malformed_filter_patterns_are_refused(lam, sqs, pattern):
    _, arn = make_queue(sqs, unique("badfilter"))
    name = recorder(lam, "http://unused")
    try:
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name,
                                            FilterCriteria={"Filters": [{"Pattern": pattern}]})
        error = e.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("InvalidParameterValueException", "Invalid filter pattern definition.")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []
    finally:
        lam.delete_function(FunctionName=name)


def test_filter_criteria_are_limited_checked_on_update_and_cleared_by_an_empty_object(lam, sqs):
    _, arn = make_queue(sqs, unique("updfilter"))
    name = recorder(lam, "http://unused")
    try:
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name,
                                            FilterCriteria=criteria(*({"body": [str(i)]} for i in range(6))))
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
        five = criteria(*({"body": [str(i)]} for i in range(5)))
        mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, FilterCriteria=five)
        uuid_ = mapping["UUID"]
        with pytest.raises(ClientError) as e:
            lam.update_event_source_mapping(UUID=uuid_, FilterCriteria={"Filters": [{"Pattern": '{"a": 1}'}]})
        assert e.value.response["Error"]["Message"] == "Invalid filter pattern definition."
        assert lam.get_event_source_mapping(UUID=uuid_)["FilterCriteria"] == five
        lam.update_event_source_mapping(UUID=uuid_, FilterCriteria={})
        assert "FilterCriteria" not in lam.get_event_source_mapping(UUID=uuid_)
        lam.delete_event_source_mapping(UUID=uuid_)
    finally:
        lam.delete_function(FunctionName=name)


def test_functions_call_back_on_the_listening_port_whatever_host_the_client_named(client, lam, sqs):
    """A client behind a port mapping names another port in `Host`; functions still reach the
    gateway (their AWS_ENDPOINT_URL comes from the server's configuration, not the request)."""
    out_url, _ = make_queue(sqs, unique("host-out"))
    name = unique("host-fn")
    code = "import boto3\ndef handler(event, context):\n    boto3.client('sqs').send_message(QueueUrl=OUT, MessageBody='via endpoint')\n"
    mapped = client("lambda")

    def other_host(request, **_):
        request.headers["Host"] = "localhost.localstack.cloud:1"

    mapped.meta.events.register("before-send.lambda.*", other_host)
    mapped.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler", Timeout=30,
        Code={"ZipFile": make_zip({"index.py": code.replace("OUT", repr(out_url))})},
    )
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        # The server saw the mapped Host (GetFunction's code location is built from it).
        assert mapped.get_function(FunctionName=name)["Code"]["Location"].startswith("http://localhost.localstack.cloud:1/")
        resp = mapped.invoke(FunctionName=name, Payload=b"{}")
        assert "FunctionError" not in resp, resp["Payload"].read()
        assert collect(sqs, out_url, lambda got: bool(got)) == ["via endpoint"]
    finally:
        lam.delete_function(FunctionName=name)
