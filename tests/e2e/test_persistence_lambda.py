"""Lambda with `--data-dir`: functions ($LATEST and published versions, with their code), aliases,
layers, tags, concurrency, policies, function URLs and event invoke configs survive a SIGKILL;
after the restart the functions run again (a cold start, from the stored zips)."""

from __future__ import annotations

import http.client
import json
import signal
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from . import rsutil
from .conftest import make_client
from .lambda_fixtures.zips import make_zip

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

HANDLER = """
import json, helper_mod
def handler(event, context):
    if "rawPath" in event:
        return {"statusCode": 200, "body": json.dumps({"via": "url", "tag": TAG, "path": event["rawPath"]})}
    return {"tag": TAG, "layer": helper_mod.VALUE, "version": context.function_version, "event": event}
"""


def code(tag: str) -> bytes:
    return make_zip({"index.py": f"TAG = {tag!r}\n" + HANDLER})


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def invoke(lam, name: str, qualifier: str | None = None) -> dict:
    kw = {"Qualifier": qualifier} if qualifier else {}
    resp = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 1}).encode(), **kw)
    assert "FunctionError" not in resp, resp["Payload"].read()
    return json.loads(resp["Payload"].read())


def url_call(endpoint: str, url: str) -> tuple[int, dict]:
    port = urllib.parse.urlparse(endpoint).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/p", headers={"Host": urllib.parse.urlparse(url).netloc})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def snapshot(lam, name: str, layer: str) -> dict:
    fn = strip(lam.get_function(FunctionName=name))
    fn.pop("Code")  # its Location names the server's port
    return {
        "function": fn,
        "v1": strip(lam.get_function_configuration(FunctionName=name, Qualifier="1")),
        "versions": lam.list_versions_by_function(FunctionName=name)["Versions"],
        "alias": strip(lam.get_alias(FunctionName=name, Name="live")),
        "aliases": lam.list_aliases(FunctionName=name)["Aliases"],
        "layers": lam.list_layers()["Layers"],
        "layer_versions": lam.list_layer_versions(LayerName=layer)["LayerVersions"],
        "layer_policy": strip(lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)),
        "tags": lam.list_tags(Resource=fn["Configuration"]["FunctionArn"])["Tags"],
        "concurrency": strip(lam.get_function_concurrency(FunctionName=name)),
        "policy": strip(lam.get_policy(FunctionName=name)),
        "url": strip(lam.get_function_url_config(FunctionName=name)),
        "alias_url": strip(lam.get_function_url_config(FunctionName=name, Qualifier="live")),
        "event_invoke": strip(lam.get_function_event_invoke_config(FunctionName=name)),
        "functions": sorted(f["FunctionName"] for f in lam.list_functions()["Functions"]),
    }


def test_functions_survive_a_sigkill_and_still_run(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    lam = make_client("lambda", server.endpoint)
    tag = uuid.uuid4().hex[:8]
    name, layer, gone = f"fn-{tag}", f"layer-{tag}", f"gone-{tag}"

    layer_zip = make_zip({"python/helper_mod.py": "VALUE = 'from the layer'\n"})
    layer_arn = lam.publish_layer_version(
        LayerName=layer, Content={"ZipFile": layer_zip}, CompatibleRuntimes=["python3.12"], Description="helpers",
    )["LayerVersionArn"]
    lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="share",
                                     Action="lambda:GetLayerVersion", Principal="111122223333")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler", Code={"ZipFile": code("one")},
        Layers=[layer_arn], Environment={"Variables": {"MODE": "test"}}, Tags={"team": "core", "env": "dev"},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    v1 = lam.publish_version(FunctionName=name, Description="first")
    assert v1["Version"] == "1"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod traffic")
    # $LATEST moves on to new code: version 1 and the alias keep the old one.
    lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    lam.untag_resource(Resource=v1["FunctionArn"].rsplit(":", 1)[0], TagKeys=["env"])
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    alias_url = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")["FunctionUrl"]
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lam.create_function(FunctionName=gone, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": code("gone")}, Layers=[layer_arn])
    lam.delete_function(FunctionName=gone)

    latest_result, alias_result = invoke(lam, name), invoke(lam, name, "live")
    assert latest_result["tag"] == "two" and latest_result["layer"] == "from the layer"
    assert (alias_result["tag"], alias_result["version"]) == ("one", "1")
    assert url_call(server.endpoint, url) == (200, {"via": "url", "tag": "two", "path": "/p"})
    before = snapshot(lam, name, layer)
    assert before["function"]["Configuration"]["State"] == "Active"

    server.stop(signal.SIGKILL)
    again = start_server("--data-dir", data)
    lam = make_client("lambda", again.endpoint)

    # A function URL is the first request after the restart: it finds its function in the store.
    assert url_call(again.endpoint, alias_url) == (200, {"via": "url", "tag": "one", "path": "/p"})
    assert snapshot(lam, name, layer) == before
    assert invoke(lam, name) == latest_result | {"version": "$LATEST"}
    assert invoke(lam, name, "live") == alias_result
    assert invoke(lam, name, "1") == alias_result
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=gone)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"

    # The stored zips are served back byte for byte.
    location = lam.get_function(FunctionName=name, Qualifier="1")["Code"]["Location"]
    assert urllib.request.urlopen(location, timeout=10).read() == code("one")
    layer_location = lam.get_layer_version(LayerName=layer, VersionNumber=1)["Content"]["Location"]
    assert urllib.request.urlopen(layer_location, timeout=10).read() == layer_zip

    # Writes go on from the restored state: version numbers continue, the next layer version is 2.
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    assert lam.publish_layer_version(LayerName=layer, Content={"ZipFile": layer_zip})["Version"] == 2


def test_reset_forgets_functions_in_memory_and_on_disk(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    lam = make_client("lambda", server.endpoint)
    layer_zip = make_zip({"python/helper_mod.py": "VALUE = 'v'\n"})
    layer_arn = lam.publish_layer_version(LayerName="helpers", Content={"ZipFile": layer_zip})["LayerVersionArn"]
    lam.create_function(FunctionName="old", Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": code("old")}, Layers=[layer_arn])
    url = lam.create_function_url_config(FunctionName="old", AuthType="NONE")["FunctionUrl"]
    assert rsutil.request(server.port, "POST", "/_ruststack/reset").status == 200
    assert lam.list_functions()["Functions"] == []
    assert lam.list_layers()["Layers"] == []
    port = urllib.parse.urlparse(server.endpoint).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/", headers={"Host": urllib.parse.urlparse(url).netloc})
    assert conn.getresponse().status == 404

    # Stored as usual after the reset, with the same layer content published again.
    layer_arn = lam.publish_layer_version(LayerName="helpers", Content={"ZipFile": layer_zip})["LayerVersionArn"]
    assert layer_arn.endswith(":helpers:1")
    lam.create_function(FunctionName="new", Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": code("new")}, Layers=[layer_arn])
    lam.get_waiter("function_active_v2").wait(FunctionName="new", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", data)
    lam = make_client("lambda", server.endpoint)
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["new"]
    assert invoke(lam, "new")["tag"] == "new"


def test_sqs_mapping_survives_and_polls_again(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    lam, sqs = make_client("lambda", server.endpoint), make_client("sqs", server.endpoint)
    url = sqs.create_queue(QueueName="in")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    out_url = sqs.create_queue(QueueName="out")["QueueUrl"]
    handler = (
        "import boto3\n"
        "def handler(event, context):\n"
        "    for r in event['Records']:\n"
        "        boto3.client('sqs').send_message(QueueUrl=OUT, MessageBody='seen ' + r['body'])\n"
    ).replace("OUT", repr(out_url))
    lam.create_function(FunctionName="consumer", Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": make_zip({"index.py": handler})}, Timeout=30)
    lam.get_waiter("function_active_v2").wait(FunctionName="consumer", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=1)
    before = strip(lam.get_event_source_mapping(UUID=mapping["UUID"]))

    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", data)
    lam, sqs = make_client("lambda", server.endpoint), make_client("sqs", server.endpoint)
    # The first Lambda request of the account and region loads it; its mapping's poller starts again.
    assert strip(lam.get_event_source_mapping(UUID=mapping["UUID"])) == before
    url, out_url = (u.replace(u.split("/")[2], urllib.parse.urlparse(server.endpoint).netloc) for u in (url, out_url))
    sqs.send_message(QueueUrl=url, MessageBody="after restart")
    seen = []
    deadline = time.time() + 20
    while time.time() < deadline and not seen:
        seen = sqs.receive_message(QueueUrl=out_url, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in seen] == ["seen after restart"]


RECORDER = """
import boto3
def handler(event, context):
    for r in event["Records"]:
        seen = r["body"] if r["eventSource"] == "aws:sqs" else r["eventName"] + " " + r["dynamodb"]["Keys"]["pk"]["S"]
        boto3.client("sqs").send_message(QueueUrl=OUT, MessageBody=seen)
"""


def received(sqs, url: str, until, timeout: float = 30.0) -> list[str]:
    bodies: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline and not until(bodies):
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", []):
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_restored_mappings_poll_at_startup_without_any_lambda_request(start_server, tmp_path):
    """After a restart on another port, an SQS mapping (with its filter) and a DynamoDB stream
    mapping deliver again with no Lambda request in between; the stream goes on after the last
    record delivered before the restart."""
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    lam, sqs, ddb = (make_client(s, server.endpoint) for s in ("lambda", "sqs", "dynamodb"))
    url = sqs.create_queue(QueueName="in")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    out_url = sqs.create_queue(QueueName="out")["QueueUrl"]
    stream_arn = ddb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    lam.create_function(FunctionName="recorder", Runtime="python3.12", Role=ROLE, Handler="index.handler", Timeout=30,
                        Code={"ZipFile": make_zip({"index.py": RECORDER.replace("OUT", repr(out_url))})})
    lam.get_waiter("function_active_v2").wait(FunctionName="recorder", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="recorder", BatchSize=1,
                                    FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": [{"prefix": "keep"}]})}]})
    stream_mapping = lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="recorder",
                                                     StartingPosition="LATEST")["UUID"]
    ddb.put_item(TableName="t", Item={"pk": {"S": "before"}})
    assert received(sqs, out_url, lambda got: bool(got)) == ["INSERT before"]
    # The position is stored once the batch has succeeded (the kill must not race it).
    deadline = time.time() + 10
    while lam.get_event_source_mapping(UUID=stream_mapping)["LastProcessingResult"] != "OK" and time.time() < deadline:
        time.sleep(0.1)

    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", data)
    sqs, ddb = make_client("sqs", server.endpoint), make_client("dynamodb", server.endpoint)
    url, out_url = (u.replace(u.split("/")[2], urllib.parse.urlparse(server.endpoint).netloc) for u in (url, out_url))
    sqs.send_message(QueueUrl=url, MessageBody="drop after restart")
    sqs.send_message(QueueUrl=url, MessageBody="keep after restart")
    ddb.put_item(TableName="t", Item={"pk": {"S": "after"}})
    seen = received(sqs, out_url, lambda got: len(got) >= 2)
    assert sorted(seen) == ["INSERT after", "keep after restart"]
    # Both messages leave the queue (the filtered one is deleted, not left for a retry).
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.time() + 10
    while time.time() < deadline:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if [attrs[n] for n in names] == ["0", "0"]:
            break
        time.sleep(0.2)
    assert [attrs[n] for n in names] == ["0", "0"]
