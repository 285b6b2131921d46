"""Warm and cold invoke latency of Python and Node.js functions against a running RustStack.

Usage: python tests/e2e/lambda_fixtures/bench_invoke.py <port>
Prints, per runtime: the first cold start, the median of 5 cold starts after configuration
updates, and p50/p99 of 200 sequential warm invokes through boto3 and through raw HTTP.
"""

import json, statistics, sys, time, uuid, io, zipfile
import boto3
from botocore.config import Config
port = int(sys.argv[1])
ep = f"http://127.0.0.1:{port}"
lam = boto3.client("lambda", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
                   config=Config(retries={"total_max_attempts": 1}))
def z(files):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as f:
        for k, v in files.items(): f.writestr(k, v)
    return b.getvalue()
res = {}
for runtime, files, handler in [("python3.12", {"index.py": "def handler(e, c):\n    return e\n"}, "index.handler"),
                                ("nodejs20.x", {"index.js": "exports.handler = async (e) => e;"}, "index.handler")]:
    name = "bench-" + uuid.uuid4().hex[:8]
    lam.create_function(FunctionName=name, Runtime=runtime, Role="arn:aws:iam::000000000000:role/r", Handler=handler, Code={"ZipFile": z(files)})
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    t = time.perf_counter(); lam.invoke(FunctionName=name, Payload=b'{"a":1}')["Payload"].read(); cold = (time.perf_counter() - t) * 1000
    r = lam.invoke(FunctionName=name, Payload=b'{"a":1}', LogType="Tail")
    for _ in range(20): lam.invoke(FunctionName=name, Payload=b'{"a":1}')["Payload"].read()
    lat = []
    for _ in range(200):
        t = time.perf_counter(); lam.invoke(FunctionName=name, Payload=b'{"a":1}')["Payload"].read(); lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    # Raw HTTP (no boto3 overhead) for the server-side cost.
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port)
    raw = []
    for _ in range(200):
        t = time.perf_counter()
        c.request("POST", f"/2015-03-31/functions/{name}/invocations", body=b'{"a":1}', headers={"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x"})
        c.getresponse().read(); raw.append((time.perf_counter() - t) * 1000)
    raw.sort()
    # Cold start: update config retires env; first invoke spawns a new process.
    colds = []
    for i in range(5):
        lam.update_function_configuration(FunctionName=name, Description=str(i))
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        t = time.perf_counter(); lam.invoke(FunctionName=name, Payload=b'{}')["Payload"].read(); colds.append((time.perf_counter() - t) * 1000)
    res[runtime] = dict(first_cold_ms=round(cold, 1), cold_median_ms=round(statistics.median(colds), 1),
                        warm_p50_boto3_ms=round(lat[100], 3), warm_p99_boto3_ms=round(lat[198], 3),
                        warm_p50_raw_http_ms=round(raw[100], 3), warm_p99_raw_http_ms=round(raw[198], 3))
    lam.delete_function(FunctionName=name)
print(json.dumps(res, indent=1))
