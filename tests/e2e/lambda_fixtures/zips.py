"""Deployment packages built in memory for the Lambda tests."""

from __future__ import annotations

import io
import zipfile


def make_zip(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """A zip of `{name: content}`; `modes` sets Unix permissions (e.g. 0o755 for `bootstrap`)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)
    return buf.getvalue()


PYTHON_HANDLER = """
import json, os, time

COUNTER = {"n": 0}

def handler(event, context):
    COUNTER["n"] += 1
    if event.get("raise"):
        raise ValueError("boom: " + str(event["raise"]))
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("print"):
        print(event["print"])
    if event.get("exit"):
        os._exit(3)
    return {
        "event": event,
        "count": COUNTER["n"],
        "env": {k: os.environ.get(k) for k in event.get("env", [])},
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(),
        "log_group": context.log_group_name,
        "version": context.function_version,
    }
"""

NODE_HANDLER = """
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  if (event.raise) throw new TypeError("node boom " + event.raise);
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep * 1000));
  if (event.print) console.log(event.print);
  return {
    event,
    count,
    env: Object.fromEntries((event.env || []).map((k) => [k, process.env[k] ?? null])),
    requestId: context.awsRequestId,
    functionName: context.functionName,
    memory: context.memoryLimitInMB,
    arn: context.invokedFunctionArn,
    remaining: context.getRemainingTimeInMillis(),
  };
};
"""

NODE_CALLBACK_HANDLER = """
exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { via: "callback", got: event.x }), 5);
};
"""

NODE_ESM_HANDLER = """
export const handler = async (event) => ({ esm: true, got: event.x });
"""

# A custom runtime: a shell script speaking the Runtime API with curl-free Python-less tools is
# not portable, so the bootstrap is a Python script (any executable works the same way).
PROVIDED_BOOTSTRAP = """#!/usr/bin/env python3
import http.client, json, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port))
handler = os.environ["_HANDLER"]
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    body = r.read()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    deadline = int(r.getheader("Lambda-Runtime-Deadline-Ms"))
    arn = r.getheader("Lambda-Runtime-Invoked-Function-Arn")
    event = json.loads(body)
    out = json.dumps({"custom": True, "handler": handler, "event": event, "arn": arn, "has_deadline": deadline > 0,
                      "fn": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "mem": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]})
    print("custom runtime handled", rid, flush=True)
    conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/response", body=out)
    conn.getresponse().read()
"""
