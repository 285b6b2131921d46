"""Lambda end to end: versions, aliases, layers, permissions, tags, concurrency, function URLs,
asynchronous invocations (Invoke with Event, and the deprecated InvokeAsync) and account settings."""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import time
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from .lambda_fixtures.zips import make_zip
from .rsutil import unique

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def lam(client):
    return client("lambda")


def create(lam, name, code, runtime="python3.12", handler="index.handler", **kw):
    files = code if isinstance(code, dict) else {"index.py": code}
    lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                        Code={"ZipFile": make_zip(files)}, **kw)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})


def invoke(lam, name, event=None, **kw):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kw)
    return resp, json.loads(resp["Payload"].read() or b"null")


def code(tag: str) -> str:
    return f"def handler(e, c):\n    return {{'tag': {tag!r}, 'version': c.function_version, 'arn': c.invoked_function_arn}}\n"


def error_code(exc) -> str:
    return exc.value.response["Error"]["Code"]


def test_versions_and_aliases(lam):
    name = unique("ver")
    create(lam, name, code("one"))
    v1 = lam.publish_version(FunctionName=name, Description="first")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"].endswith(f":function:{name}:1")
    assert v1["Description"] == "first"
    # Publishing an unchanged $LATEST returns the same version.
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": code("two")}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    v2 = lam.publish_version(FunctionName=name)
    assert v2["Version"] == "2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]

    resp, out = invoke(lam, name, Qualifier="1")
    assert (out["tag"], out["version"], resp["ExecutedVersion"]) == ("one", "1", "1")
    resp, out = invoke(lam, f"{name}:2")
    assert (out["tag"], resp["ExecutedVersion"]) == ("two", "2")

    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
    assert alias["AliasArn"].endswith(f":function:{name}:live")
    resp, out = invoke(lam, name, Qualifier="live")
    assert (out["tag"], resp["ExecutedVersion"]) == ("one", "1")
    assert out["arn"].endswith(f":function:{name}:live")
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert error_code(e) == "ResourceConflictException"
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="bad", FunctionVersion="9")
    assert error_code(e) == "ResourceNotFoundException"

    # All traffic to the additional version.
    lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    resp, out = invoke(lam, name, Qualifier="live")
    assert (out["tag"], resp["ExecutedVersion"]) == ("two", "2")
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 1.0}}
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="2")
    assert error_code(e) == "ResourceConflictException"
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert error_code(e) == "InvalidParameterValueException"
    lam.delete_alias(FunctionName=name, Name="live")
    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="live")
    assert error_code(e) == "ResourceNotFoundException"
    lam.delete_function(FunctionName=name, Qualifier="1")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "2"]
    with pytest.raises(ClientError) as e:
        invoke(lam, name, Qualifier="1")
    assert error_code(e) == "ResourceNotFoundException"
    lam.delete_function(FunctionName=name)


def test_layer_version_permissions(lam):
    layer = unique("shared")
    arn = lam.publish_layer_version(LayerName=layer, Content={"ZipFile": make_zip({"python/m.py": ""})})["LayerVersionArn"]
    added = lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="xaccount",
                                             Action="lambda:GetLayerVersion", Principal="223456789012")
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "xaccount", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::223456789012:root"},
        "Action": "lambda:GetLayerVersion", "Resource": arn,
    }
    org = lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="org", Principal="*",
                                           Action="lambda:GetLayerVersion", OrganizationId="o-abc123def4",
                                           RevisionId=added["RevisionId"])
    assert json.loads(org["Statement"])["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}
    policy = lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)
    assert policy["RevisionId"] == org["RevisionId"]
    document = json.loads(policy["Policy"])
    assert (document["Version"], document["Id"]) == ("2012-10-17", "default")
    assert [s["Sid"] for s in document["Statement"]] == ["xaccount", "org"]

    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="org", Principal="*",
                                         Action="lambda:GetLayerVersion")
    assert error_code(e) == "ResourceConflictException"
    assert e.value.response["Error"]["Message"] == (
        "The statement id (org) provided already exists. Please provide a new statement id, or remove the existing statement."
    )
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="s", Principal="*",
                                         Action="lambda:GetLayerVersion", RevisionId=added["RevisionId"])
    assert error_code(e) == "PreconditionFailedException"
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=layer, VersionNumber=7, StatementId="s", Principal="*",
                                         Action="lambda:GetLayerVersion")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        lam.add_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="s", Principal="*",
                                         Action="lambda:InvokeFunction")
    assert error_code(e) == "ValidationException"

    removed = lam.remove_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="xaccount")
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        lam.remove_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="xaccount")
    assert error_code(e) == "ResourceNotFoundException"
    lam.remove_layer_version_permission(LayerName=layer, VersionNumber=1, StatementId="org")
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_policy(LayerName=layer, VersionNumber=1)
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "The resource you requested does not exist."
    lam.delete_layer_version(LayerName=layer, VersionNumber=1)


def test_function_arns_are_qualified_as_requested(lam):
    name = unique("arns")
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    # Publishing at creation answers version 1 under the unqualified ARN, usable by later updates.
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                                  Code={"ZipFile": make_zip({"index.py": code("one")})}, Publish=True)
    assert (created["FunctionArn"], created["Version"]) == (arn, "1")
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})

    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == arn
    got = lam.get_function(FunctionName=name, Qualifier="$LATEST")["Configuration"]
    assert (got["FunctionArn"], got["Version"]) == (f"{arn}:$LATEST", "$LATEST")
    assert lam.get_function_configuration(FunctionName=f"{name}:$LATEST")["FunctionArn"] == f"{arn}:$LATEST"
    assert lam.get_function(FunctionName=f"{arn}:1")["Configuration"]["FunctionArn"] == f"{arn}:1"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    got = lam.get_function_configuration(FunctionName=name, Qualifier="live")
    assert (got["FunctionArn"], got["Version"]) == (f"{arn}:live", "1")

    listed = {f["Version"]: f["FunctionArn"] for f in lam.list_functions(FunctionVersion="ALL")["Functions"]
              if f["FunctionName"] == name}
    assert listed == {"$LATEST": f"{arn}:$LATEST", "1": f"{arn}:1"}
    plain = [f["FunctionArn"] for f in lam.list_functions()["Functions"] if f["FunctionName"] == name]
    assert plain == [arn]
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["FunctionArn"] for v in versions] == [f"{arn}:$LATEST", f"{arn}:1"]

    # UpdateFunctionCode with Publish answers the new version under its qualified ARN.
    updated = lam.update_function_code(FunctionName=arn, ZipFile=make_zip({"index.py": code("two")}), Publish=True)
    assert (updated["Version"], updated["FunctionArn"]) == ("2", f"{arn}:2")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    # The same code again, unpublished: an update all the same, so PublishVersion makes version 3 once.
    lam.update_function_code(FunctionName=arn, ZipFile=make_zip({"index.py": code("two")}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert lam.publish_version(FunctionName=arn)["Version"] == "3"
    assert lam.publish_version(FunctionName=arn)["Version"] == "3"
    again = lam.update_function_code(FunctionName=arn, ZipFile=make_zip({"index.py": code("two")}), Publish=True)
    assert again["Version"] == "4" and again["FunctionArn"].endswith(f":{name}:4")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert lam.publish_version(FunctionName=arn)["Version"] == "4"
    lam.delete_function(FunctionName=name)


def test_layers_python_and_node(lam):
    layer_name = unique("layer")
    py_layer = lam.publish_layer_version(
        LayerName=layer_name, Description="helpers", CompatibleRuntimes=["python3.12"],
        Content={"ZipFile": make_zip({"python/helper_mod.py": "VALUE = 'from layer'\n"})},
    )
    assert py_layer["Version"] == 1
    assert py_layer["LayerVersionArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{layer_name}:1"
    assert py_layer["Content"]["CodeSize"] > 0
    node_layer = lam.publish_layer_version(
        LayerName=layer_name, Content={"ZipFile": make_zip({"nodejs/node_modules/helper/index.js": "module.exports = 'node layer';"})},
    )
    assert node_layer["Version"] == 2
    versions = lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    # A layer published without a description lists none (AWS leaves the member out).
    assert "Description" not in versions[0] and versions[1]["Description"] == "helpers"
    assert "Description" not in lam.get_layer_version(LayerName=layer_name, VersionNumber=2)
    by_arn = lam.get_layer_version_by_arn(Arn=py_layer["LayerVersionArn"])
    assert (by_arn["Version"], by_arn["Description"]) == (1, "helpers")
    listed = {l["LayerName"]: l for l in lam.list_layers()["Layers"]}
    assert listed[layer_name]["LatestMatchingVersion"]["Version"] == 2
    assert lam.list_layers(CompatibleRuntime="python3.12")["Layers"][0]["LatestMatchingVersion"]["Version"] >= 1

    py = unique("uselayer")
    create(lam, py, "import helper_mod\ndef handler(e, c):\n    return helper_mod.VALUE\n", Layers=[py_layer["LayerVersionArn"]])
    assert invoke(lam, py)[1] == "from layer"
    cfg = lam.get_function_configuration(FunctionName=py)
    assert cfg["Layers"][0]["Arn"] == py_layer["LayerVersionArn"]
    node = unique("nodelayer")
    create(lam, node, {"index.js": "exports.handler = async () => require('helper');"}, runtime="nodejs20.x",
           Layers=[node_layer["LayerVersionArn"]])
    assert invoke(lam, node)[1] == "node layer"

    lam.delete_layer_version(LayerName=layer_name, VersionNumber=1)
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=layer_name, VersionNumber=1)
    assert error_code(e) == "ResourceNotFoundException"
    # A function keeps a deleted layer version's content.
    lam.update_function_configuration(FunctionName=py, Timeout=10)
    lam.get_waiter("function_updated_v2").wait(FunctionName=py, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert invoke(lam, py)[1] == "from layer"
    lam.delete_function(FunctionName=py)
    lam.delete_function(FunctionName=node)


def test_permissions_policy(lam):
    name = unique("perm")
    create(lam, name, code("p"))
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    out = lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                             Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::my-bucket", SourceAccount="000000000000")
    statement = json.loads(out["Statement"])
    assert statement["Sid"] == "s3"
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Resource"].endswith(f":function:{name}")
    assert statement["Condition"]["ArnLike"] == {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    assert error_code(e) == "ResourceConflictException"
    assert e.value.response["Error"]["Message"].startswith("The statement id (s3) provided already exists.")
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert policy["Version"] == "2012-10-17"
    assert [s["Sid"] for s in policy["Statement"]] == ["s3"]
    lam.remove_permission(FunctionName=name, StatementId="s3")
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="s3")
    assert error_code(e) == "ResourceNotFoundException"
    lam.delete_function(FunctionName=name)


def test_tags_and_concurrency(lam):
    name = unique("tags")
    create(lam, name, code("t"), Tags={"team": "a"})
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    csc = lam.get_function_code_signing_config(FunctionName=name)
    assert (csc["FunctionName"], csc["CodeSigningConfigArn"]) == (name, "")
    lam.tag_resource(Resource=arn, Tags={"env": "dev"})
    assert lam.get_function(FunctionName=name)["Tags"] == {"team": "a", "env": "dev"}
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "dev"}

    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)["ReservedConcurrentExecutions"] == 0
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 0}
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert error_code(e) == "TooManyRequestsException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=950)
    assert error_code(e) == "InvalidParameterValueException"
    lam.delete_function_concurrency(FunctionName=name)
    assert invoke(lam, name)[1]["tag"] == "t"
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountUsage"]["FunctionCount"] >= 1
    lam.delete_function(FunctionName=name)


def test_function_url_gets_a_v2_event(lam, endpoint):
    name = unique("url")
    handler = """
import json
def handler(event, context):
    return {"statusCode": 201, "headers": {"x-from": "lambda"}, "cookies": ["a=1"],
            "body": json.dumps({"path": event["rawPath"], "q": event.get("queryStringParameters"),
                                "method": event["requestContext"]["http"]["method"], "body": event.get("body"),
                                "version": event["version"]})}
"""
    create(lam, name, handler)
    cfg = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    url = cfg["FunctionUrl"]
    assert ".lambda-url.us-east-1.localhost.localstack.cloud:" in url
    assert cfg["FunctionArn"].endswith(f":function:{name}")
    assert lam.get_function_url_config(FunctionName=name)["FunctionUrl"] == url
    assert [c["FunctionUrl"] for c in lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]] == [url]
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert error_code(e) == "ResourceConflictException"

    host = urllib.parse.urlparse(url).netloc
    port = urllib.parse.urlparse(endpoint).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/some/path?x=1", body=b"hi there", headers={"Host": host, "Content-Type": "text/plain"})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    assert resp.status == 201
    assert resp.getheader("x-from") == "lambda"
    assert resp.getheader("set-cookie") == "a=1"
    assert body == {"path": "/some/path", "q": {"x": "1"}, "method": "POST", "body": "hi there", "version": "2.0"}

    lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert lam.get_function_url_config(FunctionName=name)["AuthType"] == "AWS_IAM"
    lam.delete_function_url_config(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.get_function_url_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/", headers={"Host": host})
    assert conn.getresponse().status == 404
    lam.delete_function(FunctionName=name)


def test_invoke_async_queues_an_event(lam):
    name = unique("invasync")
    marker = os.path.join(tempfile.mkdtemp(), "ran.txt")
    create(lam, name, "def handler(event, context):\n    open(event['file'], 'w').write(event['msg'])\n")
    resp = lam.invoke_async(FunctionName=name, InvokeArgs=json.dumps({"file": marker, "msg": "queued"}).encode())
    assert resp["Status"] == 202 and resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    deadline = time.time() + 10
    while time.time() < deadline and not os.path.exists(marker):
        time.sleep(0.05)
    time.sleep(0.1)
    assert open(marker).read() == "queued"
    with pytest.raises(ClientError) as e:
        lam.invoke_async(FunctionName=unique("missing"), InvokeArgs=b"{}")
    assert error_code(e) == "ResourceNotFoundException"
    lam.delete_function(FunctionName=name)


def test_async_invoke_runs_and_retries(lam):
    name = unique("async")
    marker = os.path.join(tempfile.mkdtemp(), "attempts.txt")
    handler = """
def handler(event, context):
    with open(event["file"], "a") as f:
        f.write(context.aws_request_id + "\\n")
    if event.get("fail"):
        raise RuntimeError("async failure")
    return "ok"
"""
    create(lam, name, handler)
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"file": marker}).encode())
    assert resp["StatusCode"] == 202
    deadline = time.time() + 10
    while time.time() < deadline and not os.path.exists(marker):
        time.sleep(0.05)
    assert open(marker).read().count("\n") == 1

    failing = marker + ".fail"
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"file": failing, "fail": True}).encode())
    deadline = time.time() + 15
    while time.time() < deadline and (not os.path.exists(failing) or open(failing).read().count("\n") < 3):
        time.sleep(0.1)
    time.sleep(0.5)
    attempts = open(failing).read().split()
    assert len(attempts) == 3, "one attempt and two retries"
    assert len(set(attempts)) == 1, "retries keep the invocation's request id"
    lam.delete_function(FunctionName=name)


def test_event_invoke_config_destinations_and_dlq(lam, client):
    sqs = client("sqs")
    queues = {}
    for role in ("ok", "fail", "dlq"):
        url = sqs.create_queue(QueueName=unique(f"dest-{role}"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[role] = (url, arn)
    name = unique("dest")
    handler = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("dest failure")
    return {"done": event["n"]}
"""
    create(lam, name, handler, DeadLetterConfig={"TargetArn": queues["dlq"][1]})
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    cfg = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": queues["ok"][1]}, "OnFailure": {"Destination": queues["fail"][1]}},
    )
    assert cfg["MaximumRetryAttempts"] == 0
    assert cfg["MaximumEventAgeInSeconds"] == 21600
    assert cfg["FunctionArn"].endswith(f":function:{name}:$LATEST")
    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=3600)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (0, 3600)
    assert len(lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]) == 1

    def receive(url):
        for _ in range(50):
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, MessageAttributeNames=["All"]).get("Messages", [])
            if msgs:
                return msgs[0]
            time.sleep(0.1)
        raise AssertionError(f"nothing arrived in {url}")

    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": 1}).encode())
    record = json.loads(receive(queues["ok"][0])["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestPayload"] == {"n": 1}
    assert record["responsePayload"] == {"done": 1}
    assert record["responseContext"]["statusCode"] == 200

    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": 2, "fail": True}).encode())
    record = json.loads(receive(queues["fail"][0])["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"
    dead = receive(queues["dlq"][0])
    assert json.loads(dead["Body"]) == {"n": 2, "fail": True}
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == "200"
    assert "RequestID" in dead["MessageAttributes"]

    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.delete_function_event_invoke_config(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    lam.delete_function(FunctionName=name)


def test_function_logs_reach_cloudwatch_logs(lam, client):
    name = unique("logs")
    create(lam, name, "def handler(e, c):\n    print('line for cloudwatch')\n    return 1\n")
    lam.invoke(FunctionName=name, Payload=b"{}")
    logs = client("logs")
    group = f"/aws/lambda/{name}"
    events = []
    for _ in range(20):
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except ClientError:
            events = []
        if any(e["message"].startswith("REPORT") for e in events):
            break
        time.sleep(0.1)
    messages = [e["message"] for e in events]
    assert messages[0].startswith("INIT_START Runtime Version: python:3.12"), messages[0]
    assert any(m.startswith("START RequestId: ") for m in messages)
    assert "line for cloudwatch" in messages
    assert any(m.startswith("END RequestId: ") for m in messages)
    assert any(m.startswith("REPORT RequestId: ") for m in messages)
    stream = events[0]["logStreamName"]
    assert "/[$LATEST]" in stream
    lam.delete_function(FunctionName=name)


def test_sqs_event_source_mapping(lam, client):
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=unique("esm"), Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    out_url = sqs.create_queue(QueueName=unique("esm-out"))["QueueUrl"]
    name = unique("esm")
    handler = """
import boto3, json
def handler(event, context):
    sqs = boto3.client("sqs")
    failures = []
    for r in event["Records"]:
        assert r["eventSource"] == "aws:sqs"
        if r["body"] == "bad":
            failures.append({"itemIdentifier": r["messageId"]})
            continue
        sqs.send_message(QueueUrl=OUT, MessageBody=json.dumps({"body": r["body"], "arn": r["eventSourceARN"],
                                                               "attr": r["messageAttributes"].get("k", {}).get("stringValue")}))
    return {"batchItemFailures": failures}
""".replace("OUT", repr(out_url))
    create(lam, name, handler, Timeout=30)
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=5,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])
    assert mapping["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert mapping["State"] == "Creating"
    assert mapping["EventSourceArn"] == arn and mapping["BatchSize"] == 5
    got = lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert got["State"] == "Enabled"
    assert [m["UUID"] for m in lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]] == [mapping["UUID"]]
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    assert error_code(e) == "ResourceConflictException"
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=50)
    assert error_code(e) == "InvalidParameterValueException"

    sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    sqs.send_message(QueueUrl=url, MessageBody="bad")
    seen = []
    deadline = time.time() + 15
    while time.time() < deadline and not seen:
        seen = sqs.receive_message(QueueUrl=out_url, WaitTimeSeconds=1).get("Messages", [])
    assert seen, "the function received the queue's message"
    assert json.loads(seen[0]["Body"]) == {"body": "hello", "arn": arn, "attr": "v"}
    # The reported failure stays in the queue; the success was deleted.
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled"
    time.sleep(2.5)
    left = []
    deadline = time.time() + 5
    while time.time() < deadline and not left:
        left = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in left] == ["bad"]
    deleted = lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert deleted["State"] == "Deleting"
    with pytest.raises(ClientError) as e:
        lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert error_code(e) == "ResourceNotFoundException"
    lam.delete_function(FunctionName=name)
