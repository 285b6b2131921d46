"""Lambda end to end: the control plane with AWS's validation, and invocations of Python, Node.js
and custom-runtime handlers run as local processes (warm reuse, errors, timeouts, logs)."""

from __future__ import annotations

import base64
import http.client
import io
import json
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from .lambda_fixtures.zips import (
    NODE_CALLBACK_HANDLER,
    NODE_ESM_HANDLER,
    NODE_HANDLER,
    PROVIDED_BOOTSTRAP,
    PYTHON_HANDLER,
    make_zip,
)
from .rsutil import unique

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def lam(client):
    return client("lambda")


def create(lam, name, files, runtime="python3.12", handler="index.handler", **kw):
    kw.setdefault("Role", ROLE)
    out = lam.create_function(
        FunctionName=name, Runtime=runtime, Handler=handler, Code={"ZipFile": make_zip(files)}, **kw
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    return out


def invoke(lam, name, event=None, **kw):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kw)
    body = resp["Payload"].read()
    return resp, (json.loads(body) if body else None)


def error_code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def py_fn(lam):
    name = unique("py")
    create(lam, name, {"index.py": PYTHON_HANDLER}, Environment={"Variables": {"GREETING": "hello"}}, Timeout=1)
    yield name
    lam.delete_function(FunctionName=name)


# ---- control plane ----


def test_create_get_list_delete_and_waiter(lam):
    name = unique("crud")
    out = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
        Code={"ZipFile": make_zip({"index.py": PYTHON_HANDLER})}, Description="d", MemorySize=256,
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert out["State"] == "Pending"
    assert out["StateReasonCode"] == "Creating"
    assert out["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert out["Version"] == "$LATEST"
    assert out["Timeout"] == 3 and out["MemorySize"] == 256 and out["PackageType"] == "Zip"
    assert out["Architectures"] == ["x86_64"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert got["Code"]["RepositoryType"] == "S3"
    # Code.Location serves the zip we uploaded.
    loc = got["Code"]["Location"]
    host_port = loc.split("/")[2]
    conn = http.client.HTTPConnection(host_port, timeout=5)
    conn.request("GET", "/" + loc.split("/", 3)[3])
    data = conn.getresponse().read()
    assert zipfile.ZipFile(io.BytesIO(data)).read("index.py").decode() == PYTHON_HANDLER
    cfg = lam.get_function_configuration(FunctionName=got["Configuration"]["FunctionArn"])
    assert cfg["Description"] == "d"
    names = [f["FunctionName"] for f in lam.get_paginator("list_functions").paginate().build_full_result()["Functions"]]
    assert name in names
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": make_zip({"index.py": ""})})
    assert error_code(e) == "ResourceConflictException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    lam.delete_function(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name)
    assert error_code(e) == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"
    )


def test_list_functions_pages_with_marker(lam):
    names = sorted(unique("page") for _ in range(3))
    for n in names:
        lam.create_function(FunctionName=n, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": make_zip({"index.py": PYTHON_HANDLER})})
    seen, marker, pages = [], None, 0
    while True:
        kw = {"MaxItems": 1} | ({"Marker": marker} if marker else {})
        page = lam.list_functions(**kw)
        assert len(page["Functions"]) <= 1
        seen += [f["FunctionName"] for f in page["Functions"]]
        pages += 1
        marker = page.get("NextMarker")
        if not marker:
            break
    assert [n for n in seen if n in names] == names
    assert pages >= 3
    for n in names:
        lam.delete_function(FunctionName=n)


@pytest.mark.parametrize(
    "kw, code, fragment",
    [
        ({"Timeout": 901}, "ValidationException", "Member must have value less than or equal to 900"),
        ({"MemorySize": 10241}, "ValidationException", "Member must have value less than or equal to 10240"),
        # Lambda's own limit, tighter than the model's.
        ({"EphemeralStorage": {"Size": 20000}}, "ValidationException",
         "1 validation error detected: Value '20000' at 'ephemeralStorage.size' failed to satisfy constraint: "
         "Member must have value less than or equal to 10240"),
        # The limits are checked before the code: an image function gets the same answer.
        ({"EphemeralStorage": {"Size": 10241}, "Code": {"ImageUri": "000000000000.dkr.ecr.us-east-1.amazonaws.com/r:1"},
          "Runtime": None, "Handler": None}, "ValidationException", "at 'ephemeralStorage.size'"),
        ({"Runtime": "python3.7"}, "InvalidParameterValueException", "python3.7 is no longer supported"),
        ({"Environment": {"Variables": {"AWS_REGION": "x"}}}, "InvalidParameterValueException",
         "Reserved keys used in this request: AWS_REGION"),
        ({"Environment": {"Variables": {"BIG": "x" * 5000}}}, "InvalidParameterValueException", "exceeded the 4KB limit"),
        ({"Code": {"S3Bucket": "no-such-bucket-for-lambda", "S3Key": "k.zip"}}, "InvalidParameterValueException",
         "Error occurred while GetObject. S3 Error Code: NoSuchBucket."),
        ({"Code": {"ZipFile": b"not a zip"}}, "InvalidParameterValueException", "Could not unzip uploaded file"),
        ({"Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:nope:1"]}, "InvalidParameterValueException",
         "does not exist"),
    ],
)
def test_create_function_validation(lam, kw, code, fragment):
    args = {"FunctionName": unique("bad"), "Runtime": "python3.12", "Role": ROLE, "Handler": "index.handler",
            "Code": {"ZipFile": make_zip({"index.py": ""})}} | kw
    args = {k: v for k, v in args.items() if v is not None}
    with pytest.raises(ClientError) as e:
        lam.create_function(**args)
    assert error_code(e) == code
    assert fragment in e.value.response["Error"]["Message"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_code_from_our_s3(lam, client):
    s3 = client("s3")
    bucket = unique("code-bucket")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="pkg/v1.zip", Body=make_zip({"index.py": "def handler(e, c):\n    return 's3 code'\n"}))
    name = unique("s3code")
    out = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                              Code={"S3Bucket": bucket, "S3Key": "pkg/v1.zip"})
    assert out["CodeSize"] > 0
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert invoke(lam, name)[1] == "s3 code"
    s3.put_object(Bucket=bucket, Key="pkg/v2.zip", Body=make_zip({"index.py": "def handler(e, c):\n    return 'v2'\n"}))
    lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="pkg/v2.zip")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert invoke(lam, name)[1] == "v2"
    with pytest.raises(ClientError) as e:
        lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="missing.zip")
    assert error_code(e) == "InvalidParameterValueException"
    assert "S3 Error Code: NoSuchKey" in e.value.response["Error"]["Message"]
    lam.delete_function(FunctionName=name)


def test_zip_slip_is_rejected(lam):
    evil = make_zip({"../escape.py": "x = 1", "index.py": ""})
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique("slip"), Runtime="python3.12", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": evil})
    assert error_code(e) == "InvalidParameterValueException"
    assert "../escape.py" in e.value.response["Error"]["Message"]


def test_unsupported_runtime_ends_failed(lam):
    name = unique("java")
    lam.create_function(FunctionName=name, Runtime="java21", Role=ROLE, Handler="a.B::handle",
                        Code={"ZipFile": make_zip({"a.txt": ""})})
    for _ in range(50):
        cfg = lam.get_function_configuration(FunctionName=name)
        if cfg["State"] != "Pending":
            break
        time.sleep(0.1)
    assert cfg["State"] == "Failed"
    assert cfg["StateReasonCode"] == "InvalidRuntime"
    assert "java21" in cfg["StateReason"]
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert error_code(e) == "ResourceConflictException"
    lam.delete_function(FunctionName=name)


# ---- Python invocations ----


def test_python_invoke_context_env_and_warm_state(lam, py_fn):
    resp, out = invoke(lam, py_fn, {"a": 1, "env": ["GREETING", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                                                       "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_VERSION"]})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert out["event"]["a"] == 1
    assert out["env"]["GREETING"] == "hello"
    assert out["env"]["AWS_REGION"] == "us-east-1"
    assert out["env"]["AWS_LAMBDA_FUNCTION_NAME"] == py_fn
    assert out["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert out["env"]["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert out["function_name"] == py_fn
    assert out["memory"] == "128"
    assert out["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{py_fn}"
    assert 0 < out["remaining"] <= 1000
    assert out["log_group"] == f"/aws/lambda/{py_fn}"
    first = out["count"]
    _, again = invoke(lam, py_fn, {})
    assert again["count"] == first + 1, "module state survives between warm invocations"
    assert again["request_id"] != out["request_id"]


def test_python_log_tail(lam, py_fn):
    resp, _ = invoke(lam, py_fn, {"print": "hello from the handler"}, LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    lines = log.strip().split("\n")
    assert lines[0].startswith("START RequestId: ") and lines[0].endswith(" Version: $LATEST")
    assert "hello from the handler" in lines
    assert lines[-2].startswith("END RequestId: ")
    assert lines[-1].startswith("REPORT RequestId: ")
    for field in ("Duration: ", "Billed Duration: ", "Memory Size: 128 MB", "Max Memory Used: "):
        assert field in lines[-1]


def test_python_error(lam, py_fn):
    resp, out = invoke(lam, py_fn, {"raise": "x"}, LogType="Tail")
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "ValueError"
    assert out["errorMessage"] == "boom: x"
    assert isinstance(out["stackTrace"], list) and out["stackTrace"]
    assert "[ERROR] ValueError: boom: x" in base64.b64decode(resp["LogResult"]).decode()
    # The environment survives a handled exception.
    _, ok = invoke(lam, py_fn, {})
    assert ok["count"] >= 2


def test_python_timeout_kills_and_recovers(lam, py_fn):
    resp, out = invoke(lam, py_fn, {"sleep": 3}, LogType="Tail")
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Sandbox.Timedout"
    assert out["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "Task timed out after 1.00 seconds" in base64.b64decode(resp["LogResult"]).decode()
    _, fresh = invoke(lam, py_fn, {})
    assert fresh["count"] == 1, "a timeout retires the environment"


def test_python_process_exit(lam, py_fn):
    resp, out = invoke(lam, py_fn, {"exit": True})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in out["errorMessage"]


def test_import_error_and_missing_handler(lam):
    name = unique("imp")
    create(lam, name, {"index.py": "import not_a_module_xyz\n"})
    resp, out = invoke(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'index'" in out["errorMessage"]
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": "def other(e, c): return 1\n"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    _, out = invoke(lam, name)
    assert out["errorType"] == "Runtime.HandlerNotFound"
    lam.delete_function(FunctionName=name)


def test_invoke_payload_rules(lam, py_fn):
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=py_fn, Payload=b"{not json")
    assert error_code(e) == "InvalidRequestContentException"
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=py_fn, Payload=b'"' + b"x" * 6_300_000 + b'"')
    assert error_code(e) == "RequestTooLargeException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    dry = lam.invoke(FunctionName=py_fn, InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=unique("missing"), Payload=b"{}")
    assert error_code(e) == "ResourceNotFoundException"


def test_update_code_and_configuration_take_effect(lam):
    name = unique("upd")
    create(lam, name, {"index.py": "def handler(e, c):\n    return 'v1'\n"})
    assert invoke(lam, name)[1] == "v1"
    out = lam.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": "import os\ndef handler(e, c):\n    return 'v2:' + os.environ.get('XX', '-')\n"}))
    assert out["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert invoke(lam, name)[1] == "v2:-"
    rev = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Timeout=5, RevisionId="wrong")
    assert error_code(e) == "PreconditionFailedException"
    out = lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"XX": "set"}}, RevisionId=rev)
    assert out["Environment"]["Variables"] == {"XX": "set"}
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert invoke(lam, name)[1] == "v2:set"
    lam.delete_function(FunctionName=name)


def test_python_handler_reaches_our_s3(lam, client):
    name = unique("s3call")
    bucket = unique("lambda-bucket")
    code = """
import boto3
def handler(event, context):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=event["bucket"])
    s3.put_object(Bucket=event["bucket"], Key="from-lambda.txt", Body=b"written by lambda")
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]
"""
    create(lam, name, {"index.py": code}, Timeout=30)
    resp, out = invoke(lam, name, {"bucket": bucket})
    assert "FunctionError" not in resp, out
    assert bucket in out
    body = client("s3").get_object(Bucket=bucket, Key="from-lambda.txt")["Body"].read()
    assert body == b"written by lambda"
    lam.delete_function(FunctionName=name)


# ---- Node.js ----


def test_node_async_handler_error_and_warm_state(lam):
    name = unique("node")
    create(lam, name, {"index.js": NODE_HANDLER}, runtime="nodejs20.x", Environment={"Variables": {"NN": "1"}})
    resp, out = invoke(lam, name, {"x": 1, "env": ["NN", "AWS_REGION"], "print": "node says hi"}, LogType="Tail")
    assert "FunctionError" not in resp, out
    assert out["event"]["x"] == 1
    assert out["env"] == {"NN": "1", "AWS_REGION": "us-east-1"}
    assert out["functionName"] == name and out["memory"] == "128"
    assert "\tINFO\tnode says hi" in base64.b64decode(resp["LogResult"]).decode()
    _, again = invoke(lam, name, {})
    assert again["count"] == out["count"] + 1
    resp, err = invoke(lam, name, {"raise": "y"})
    assert resp["FunctionError"] == "Unhandled"
    assert err["errorType"] == "TypeError"
    assert err["errorMessage"] == "node boom y"
    assert isinstance(err["trace"], list) and err["trace"][0].startswith("TypeError: node boom y")
    lam.delete_function(FunctionName=name)


def test_node_callback_and_esm_handlers(lam):
    cb = unique("nodecb")
    create(lam, cb, {"index.js": NODE_CALLBACK_HANDLER}, runtime="nodejs22.x")
    assert invoke(lam, cb, {"x": 5})[1] == {"via": "callback", "got": 5}
    esm = unique("nodeesm")
    create(lam, esm, {"app.mjs": NODE_ESM_HANDLER}, runtime="nodejs18.x", handler="app.handler")
    assert invoke(lam, esm, {"x": 7})[1] == {"esm": True, "got": 7}
    lam.delete_function(FunctionName=cb)
    lam.delete_function(FunctionName=esm)


# ---- custom runtime ----


def test_provided_al2023_bootstrap(lam):
    name = unique("custom")
    files = {"bootstrap": PROVIDED_BOOTSTRAP}
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="my.handler",
                        Code={"ZipFile": make_zip(files, {"bootstrap": 0o755})}, MemorySize=512)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    resp, out = invoke(lam, name, {"k": "v"}, LogType="Tail")
    assert "FunctionError" not in resp, out
    assert out == {"custom": True, "handler": "my.handler", "event": {"k": "v"}, "has_deadline": True,
                   "arn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}", "fn": name, "mem": "512"}
    assert "custom runtime handled" in base64.b64decode(resp["LogResult"]).decode()
    lam.delete_function(FunctionName=name)


def test_provided_without_bootstrap(lam):
    name = unique("noboot")
    create(lam, name, {"readme.txt": "no bootstrap"}, runtime="provided.al2")
    resp, out = invoke(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.InvalidEntrypoint"
    lam.delete_function(FunctionName=name)
