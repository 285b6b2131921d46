"""One real operation per AWS protocol through boto3, the errors each protocol renders, routing,
and the HTTP edges (CORS, request ids, oversized headers)."""

from __future__ import annotations

import json
import socket

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from . import rsutil

ACCOUNT = "000000000000"
JSON10 = "application/x-amz-json-1.0"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def error_of(excinfo) -> tuple[str, int, str]:
    resp = excinfo.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"].get("Message", "")


# --- one real call per protocol ---------------------------------------------------------------


def test_sts_get_caller_identity_query(client):
    out = client("sts").get_caller_identity()
    assert out["Account"] == ACCOUNT
    assert out["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert out["UserId"]
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_sts_twelve_digit_access_key_is_the_account(client):
    out = client("sts", aws_access_key_id="123456789012").get_caller_identity()
    assert out["Account"] == "123456789012"
    assert out["Arn"] == "arn:aws:iam::123456789012:root"


def test_default_account_id_flag(start_server, client):
    server = start_server("--default-account-id", "111122223333")
    out = client("sts", endpoint_url=server.endpoint).get_caller_identity()
    assert out["Account"] == "111122223333"
    # A 12-digit access key still names its own account.
    out = client("sts", endpoint_url=server.endpoint, aws_access_key_id="123456789012").get_caller_identity()
    assert out["Account"] == "123456789012"


def test_dynamodb_list_tables_json10(client, reset_state):
    out = client("dynamodb").list_tables()
    assert out["TableNames"] == []
    assert "LastEvaluatedTableName" not in out


def test_secretsmanager_list_secrets_json11(client, reset_state):
    out = client("secretsmanager").list_secrets()
    assert out["SecretList"] == []
    assert "NextToken" not in out


def test_lambda_list_functions_rest_json(client, reset_state):
    out = client("lambda").list_functions()
    assert out["Functions"] == []
    assert "NextMarker" not in out


def test_s3_list_buckets_rest_xml(client, reset_state):
    out = client("s3").list_buckets()
    assert out["Buckets"] == []
    assert "Owner" in out


# --- request ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "service, call",
    [
        ("sts", lambda c: c.get_caller_identity()),
        ("dynamodb", lambda c: c.list_tables()),
        ("secretsmanager", lambda c: c.list_secrets()),
        ("lambda", lambda c: c.list_functions()),
        ("s3", lambda c: c.list_buckets()),
    ],
)
def test_request_id_headers(client, service, call):
    c = client(service)
    first = call(c)["ResponseMetadata"]
    second = call(c)["ResponseMetadata"]
    headers = first["HTTPHeaders"]
    assert headers.get("x-amzn-requestid"), headers
    # botocore reads the request id where AWS puts it for the protocol (S3: x-amz-request-id;
    # query: the body's <RequestId>); it must be the same id as the header.
    assert first["RequestId"] == headers["x-amzn-requestid"]
    if service == "s3":
        assert headers.get("x-amz-request-id") == headers["x-amzn-requestid"]
        assert headers.get("x-amz-id-2")
    assert first["RequestId"] != second["RequestId"], "request ids must be unique"


def test_error_responses_carry_request_ids(client):
    with pytest.raises(ClientError) as e:
        client("s3").get_bucket_analytics_configuration(Bucket="b", Id="x")
    meta = e.value.response["ResponseMetadata"]
    assert meta["HTTPHeaders"].get("x-amz-request-id")
    assert meta["HTTPHeaders"].get("x-amz-id-2")
    assert meta["RequestId"] == meta["HTTPHeaders"]["x-amz-request-id"]


# --- operations that exist in AWS but are not implemented -------------------------------------


NOT_IMPLEMENTED = [
    # Operations no issue asks for soon, so these keep proving the NotImplemented path.
    ("dynamodb", "DescribeKinesisStreamingDestination", lambda c: c.describe_kinesis_streaming_destination(TableName="x")),
    ("secretsmanager", "ListResourcePolicies", lambda c: c.list_resource_policies(SecretId="s")),
    ("lambda", "GetCodeSigningConfig", lambda c: c.get_code_signing_config(CodeSigningConfigArn="arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0")),
    ("sts", "DecodeAuthorizationMessage", lambda c: c.decode_authorization_message(EncodedMessage="x")),
    # GET /b?analytics&id=x must reach GetBucketAnalyticsConfiguration, not ListObjects on the same path.
    ("s3", "GetBucketAnalyticsConfiguration", lambda c: c.get_bucket_analytics_configuration(Bucket="b", Id="x")),
    ("s3", "GetBucketIntelligentTieringConfiguration", lambda c: c.get_bucket_intelligent_tiering_configuration(Bucket="b", Id="x")),
]


@pytest.mark.parametrize("service, operation, call", NOT_IMPLEMENTED, ids=[f"{s}-{o}" for s, o, _ in NOT_IMPLEMENTED])
def test_unimplemented_operation_is_501_not_implemented(ruststack, client, service, operation, call):
    implemented = rsutil.request(ruststack.port, "GET", "/_ruststack/operations").json()[service]["implemented"]
    assert operation not in implemented, f"{operation} is implemented now: pick another operation for this test"
    with pytest.raises(ClientError) as e:
        call(client(service))
    code, status, message = error_of(e)
    assert (code, status) == ("NotImplemented", 501), e.value.response
    assert message


# --- validation and serialization errors ------------------------------------------------------


def test_dynamodb_validation_error_message(client):
    # botocore validates ranges itself; turn that off to see the server's answer.
    ddb = client("dynamodb", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as e:
        ddb.list_tables(Limit=0)
    code, status, message = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_dynamodb_validation_error_length(client):
    ddb = client("dynamodb", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as e:
        ddb.list_tables(ExclusiveStartTableName="ab")
    code, status, message = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        "1 validation error detected: Value 'ab' at 'exclusiveStartTableName' failed to satisfy "
        "constraint: Member must have length greater than or equal to 3"
    )


def test_raw_malformed_json_is_serialization_exception(ruststack):
    r = rsutil.request(
        ruststack.port,
        "POST",
        "/",
        body=b'{"Limit": 1',
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": JSON10},
    )
    assert r.status == 400, r
    assert (r.header("content-type") or "").startswith(JSON10)
    assert rsutil.json_error_type(r.body) == "SerializationException", r.body
    assert r.header("x-amzn-requestid")


def test_raw_unsigned_json_call_is_routed_by_target(ruststack, reset_state):
    r = rsutil.request(
        ruststack.port,
        "POST",
        "/",
        body=b"{}",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": JSON10},
    )
    assert r.status == 200, r
    assert r.json() == {"TableNames": []}


@pytest.mark.parametrize("target", ["Foo_2020.Bar", "DynamoDB_20120810.Frobnicate"])
def test_raw_unknown_target(ruststack, target):
    r = rsutil.request(
        ruststack.port, "POST", "/", body=b"{}", headers={"X-Amz-Target": target, "Content-Type": JSON10}
    )
    assert r.status == 400, r
    assert rsutil.json_error_type(r.body) == "UnknownOperationException", r.body
    assert r.header("x-amzn-requestid")


# --- awsQuery without a signature -------------------------------------------------------------


def test_unsigned_query_form_is_routed_to_sts(ruststack):
    r = rsutil.request(
        ruststack.port,
        "POST",
        "/",
        body="Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": FORM},
    )
    assert r.status == 200, r
    assert (r.header("content-type") or "").startswith("text/xml")
    assert b"<GetCallerIdentityResponse" in r.body
    assert rsutil.xml_root(r.body) == "GetCallerIdentityResponse"
    assert rsutil.xml_find(r.body, "Account") == ACCOUNT
    request_id = rsutil.xml_find(r.body, "RequestId")
    assert request_id and request_id == r.header("x-amzn-requestid")


def test_unsigned_query_form_with_unknown_version(ruststack):
    r = rsutil.request(
        ruststack.port,
        "POST",
        "/",
        body="Action=DoSomething&Version=1999-01-01",
        headers={"Content-Type": FORM},
    )
    assert r.status == 400, r
    assert rsutil.xml_find(r.body, "Code") == "UnknownOperationException", r.body
    assert r.header("x-amzn-requestid")


def test_query_unknown_action_is_invalid_action(ruststack):
    r = rsutil.request(
        ruststack.port,
        "POST",
        "/",
        body="Action=NoSuchAction&Version=2011-06-15",
        headers={"Content-Type": FORM},
    )
    assert r.status == 400, r
    assert rsutil.xml_root(r.body) == "ErrorResponse", r.body
    assert rsutil.xml_find(r.body, "Code") == "InvalidAction", r.body
    assert rsutil.xml_find(r.body, "Type") == "Sender", r.body
    assert rsutil.xml_find(r.body, "RequestId") == r.header("x-amzn-requestid")


# --- REST routing: Lambda by path prefix, S3 path-style and virtual-hosted ---------------------


def test_lambda_is_routed_by_path_prefix(ruststack, reset_state):
    r = rsutil.request(ruststack.port, "GET", "/2015-03-31/functions/")
    assert r.status == 200, r
    assert r.json()["Functions"] == []


def test_plain_host_root_is_list_buckets(ruststack, reset_state):
    r = rsutil.request(ruststack.port, "GET", "/", headers={"Host": f"localhost:{ruststack.port}"})
    assert r.status == 200, r
    assert rsutil.xml_root(r.body) == "ListAllMyBucketsResult", r.body
    assert r.header("x-amz-request-id")


def assert_bucket_request(r: rsutil.Response, bucket: str):
    """A GET / addressed to a bucket is ListObjects: AWS answers NoSuchBucket (404) for a bucket
    that does not exist; while ListObjects is unimplemented, 501 NotImplemented. Either way it
    is not ListBuckets."""
    assert r.status in (404, 501), r
    assert rsutil.xml_root(r.body) == "Error", r.body
    code = rsutil.xml_find(r.body, "Code")
    assert (r.status, code) in ((404, "NoSuchBucket"), (501, "NotImplemented")), r.body
    if code == "NoSuchBucket":
        assert rsutil.xml_find(r.body, "BucketName") == bucket
    assert r.header("x-amz-request-id")


@pytest.mark.parametrize("host", ["mybucket.s3.localhost.localstack.cloud", "mybucket.localhost"])
def test_virtual_hosted_s3_routes_to_the_bucket(ruststack, host):
    r = rsutil.request(ruststack.port, "GET", "/", headers={"Host": f"{host}:{ruststack.port}"})
    assert_bucket_request(r, "mybucket")


def test_path_style_bucket(ruststack):
    r = rsutil.request(ruststack.port, "GET", "/mybucket", headers={"Host": f"localhost:{ruststack.port}"})
    assert_bucket_request(r, "mybucket")


def test_keep_alive_serves_several_requests_on_one_connection(ruststack):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", ruststack.port, timeout=10)
    try:
        for _ in range(3):
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200 and b"ListAllMyBucketsResult" in body
    finally:
        conn.close()


# --- CORS -------------------------------------------------------------------------------------

ORIGIN = "http://app.example.test:3000"


def test_cors_preflight(ruststack):
    r = rsutil.request(
        ruststack.port,
        "OPTIONS",
        "/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,x-amz-date,authorization",
        },
    )
    assert r.status == 200, r
    assert r.header("access-control-allow-origin") in (ORIGIN, "*")
    methods = {m.strip().upper() for m in (r.header("access-control-allow-methods") or "").split(",")}
    assert {"GET", "PUT", "POST", "DELETE"} <= methods, methods
    allowed_headers = (r.header("access-control-allow-headers") or "").lower()
    assert allowed_headers == "*" or all(h in allowed_headers for h in ("content-type", "x-amz-date", "authorization"))


def test_cors_preflight_on_a_json_service_path(ruststack):
    r = rsutil.request(
        ruststack.port,
        "OPTIONS",
        "/2015-03-31/functions/",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert r.status == 200, r
    assert r.header("access-control-allow-origin") in (ORIGIN, "*")


@pytest.mark.parametrize(
    "method, path, body, headers",
    [
        ("GET", "/", None, {}),
        ("POST", "/", b"{}", {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": JSON10}),
        ("GET", "/b?acl", None, {}),  # an error response carries them too
    ],
)
def test_cors_headers_on_responses(ruststack, method, path, body, headers):
    r = rsutil.request(ruststack.port, method, path, body=body, headers={**headers, "Origin": ORIGIN})
    assert r.header("access-control-allow-origin") in (ORIGIN, "*"), r.headers
    r = rsutil.request(ruststack.port, method, path, body=body, headers=headers)
    assert r.header("access-control-allow-origin") == "*", r.headers


def test_disable_cors(start_server):
    server = start_server("--disable-cors")
    r = rsutil.request(
        server.port, "OPTIONS", "/", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}
    )
    assert "access-control-allow-origin" not in r.headers, r.headers
    assert "access-control-allow-methods" not in r.headers, r.headers
    r = rsutil.request(server.port, "GET", "/", headers={"Origin": ORIGIN})
    assert r.status == 200, r
    assert not [h for h in r.headers if h.startswith("access-control-")], r.headers


# --- HTTP robustness --------------------------------------------------------------------------


def test_oversized_header_is_rejected_with_4xx(ruststack):
    # AWS rejects header sections larger than 8 KiB (S3: 400 RequestHeaderSectionTooLarge);
    # a 64 KiB header must get a 4xx answer, not a hang, a dropped connection or a 5xx.
    big = "a" * (64 * 1024)
    with socket.create_connection(("127.0.0.1", ruststack.port), timeout=10) as s:
        s.sendall(
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{ruststack.port}\r\nX-Big: {big}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        status, _, _ = rsutil.read_http_response(s)
    assert 400 <= status < 500, status
    # And the server is still healthy afterwards.
    assert rsutil.request(ruststack.port, "GET", "/health").status == 200


def test_garbage_request_line_gets_400(ruststack):
    with socket.create_connection(("127.0.0.1", ruststack.port), timeout=10) as s:
        s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    # Either a 400 or a closed connection; never a hang (the socket timeout) or a 5xx.
    if data:
        assert data.startswith(b"HTTP/1.1 4"), data[:100]
    assert rsutil.request(ruststack.port, "GET", "/health").status == 200


def test_json_request_ids_are_unique_under_concurrency(ruststack):
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        r = rsutil.request(
            ruststack.port,
            "POST",
            "/",
            body=b"{}",
            headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": JSON10},
        )
        assert r.status == 200, r
        return r.header("x-amzn-requestid")

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(one, range(64)))
    assert len(set(ids)) == len(ids)


def test_secretsmanager_raw_json11(ruststack, reset_state):
    r = rsutil.request(
        ruststack.port,
        "POST",
        "/",
        body=json.dumps({}).encode(),
        headers={"X-Amz-Target": "secretsmanager.ListSecrets", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert r.status == 200, r
    assert r.json()["SecretList"] == []
    assert r.header("x-amzn-requestid")


# --- per-service wording of codec-level answers --------------------------------------------------


def test_logs_validation_messages_leave_the_value_out(client):
    # CloudWatch Logs, unlike DynamoDB, does not quote the rejected value.
    with pytest.raises(ClientError) as e:
        client("logs").describe_log_streams(logGroupIdentifier="arn:aws:logs:us-east-1:000000000000:log-group:g:*")
    assert error_of(e) == (
        "InvalidParameterException",
        400,
        "1 validation error detected: Value at 'logGroupIdentifier' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w#+=/:,.@-]*",
    )
    with pytest.raises(ClientError) as e:
        client("dynamodb", config=Config(parameter_validation=False)).list_tables(Limit=0)
    assert "Value '0' at 'limit' failed to satisfy constraint" in error_of(e)[2]


def test_s3_head_bucket_has_the_xml_content_type(client):
    s3 = client("s3")
    s3.create_bucket(Bucket="head-content-type")
    headers = s3.head_bucket(Bucket="head-content-type")["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/xml"
    s3.put_object(Bucket="head-content-type", Key="k", Body=b"x", ContentType="text/plain")
    head = s3.head_object(Bucket="head-content-type", Key="k")
    assert head["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/plain"
