"""Lambda function output lands in CloudWatch Logs (`/aws/lambda/<function>`), as on AWS."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
HANDLER = """
def handler(event, context):
    print("hello from", event["who"])
    return {"ok": True}
"""


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def test_lambda_output_is_in_cloudwatch_logs(client):
    lam, logs = client("lambda"), client("logs")
    name = f"logs-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
        Code={"ZipFile": make_zip({"index.py": HANDLER})},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    try:
        resp = lam.invoke(FunctionName=name, Payload=json.dumps({"who": "rust"}).encode())
        assert json.loads(resp["Payload"].read()) == {"ok": True}
        group = f"/aws/lambda/{name}"
        deadline = time.time() + 10
        messages: list[str] = []
        while time.time() < deadline:
            events = logs.filter_log_events(logGroupName=group)["events"] if logs.describe_log_groups(
                logGroupNamePrefix=group)["logGroups"] else []
            messages = [e["message"] for e in events]
            if any("END RequestId" in m for m in messages):
                break
            time.sleep(0.2)
        assert any(m.startswith("START RequestId:") for m in messages), messages
        assert any("hello from rust" in m for m in messages), messages
        assert any(m.startswith("REPORT RequestId:") for m in messages), messages
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
        assert len(streams) == 1 and "[$LATEST]" in streams[0]["logStreamName"]
        assert logs.filter_log_events(logGroupName=group, filterPattern='"hello from"')["events"]
    finally:
        lam.delete_function(FunctionName=name)
