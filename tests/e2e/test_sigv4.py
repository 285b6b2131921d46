"""SigV4: `--enforce-sigv4` rejects what AWS rejects, with each protocol family's error codes;
without it, any key and any signature are accepted."""

from __future__ import annotations

import datetime
import time
import urllib.error
import urllib.request

import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from . import rsutil

EXTRA_KEY, EXTRA_SECRET = "AKIDEXAMPLE1", "secret-one"
INI_KEY, INI_SECRET = "AKIDEXAMPLE2", "secret-two"
NUMERIC_KEY, NUMERIC_SECRET = "123456789012", "secret-three"
JSON10 = "application/x-amz-json-1.0"

# service → (a call, (code, status) for a wrong secret, (code, status) for an unknown access key),
# as AWS answers them.
CASES = {
    "s3": (
        lambda c: c.list_buckets(),
        ("SignatureDoesNotMatch", 403),
        ("InvalidAccessKeyId", 403),
    ),
    "dynamodb": (
        lambda c: c.list_tables(),
        ("InvalidSignatureException", 400),
        ("UnrecognizedClientException", 400),
    ),
    "sts": (
        lambda c: c.get_caller_identity(),
        ("SignatureDoesNotMatch", 403),
        ("InvalidClientTokenId", 403),
    ),
    "secretsmanager": (
        lambda c: c.list_secrets(),
        ("InvalidSignatureException", 400),
        ("UnrecognizedClientException", 400),
    ),
    "lambda": (
        lambda c: c.list_functions(),
        ("InvalidSignatureException", 403),
        ("UnrecognizedClientException", 403),
    ),
}
SERVICES = list(CASES)

# An urllib opener that never goes through a proxy.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def error_of(excinfo) -> tuple[str, int]:
    resp = excinfo.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with OPENER.open(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture(scope="module")
def strict(start_module_server, tmp_path_factory):
    """A server with `--enforce-sigv4` and extra credentials in both file formats."""
    creds = tmp_path_factory.mktemp("sigv4") / "credentials"
    creds.write_text(
        "# extra keys for the e2e tests\n"
        f"{EXTRA_KEY} {EXTRA_SECRET}\n"
        f"{NUMERIC_KEY} {NUMERIC_SECRET}\n"
        "[other]\n"
        f"aws_access_key_id = {INI_KEY}\n"
        f"aws_secret_access_key = {INI_SECRET}\n"
    )
    return start_module_server("--enforce-sigv4", "--credentials", str(creds))


# --- enforcement on ---------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_right_credentials_work(strict, client, service):
    call, _, _ = CASES[service]
    out = call(client(service, endpoint_url=strict.endpoint))
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("service", SERVICES)
def test_wrong_secret_is_rejected(strict, client, service):
    call, wrong_secret, _ = CASES[service]
    with pytest.raises(ClientError) as e:
        call(client(service, endpoint_url=strict.endpoint, aws_secret_access_key="not-the-secret"))
    assert error_of(e) == wrong_secret, e.value.response


@pytest.mark.parametrize("service", SERVICES)
def test_unknown_access_key_is_rejected(strict, client, service):
    call, _, unknown_key = CASES[service]
    with pytest.raises(ClientError) as e:
        call(client(service, endpoint_url=strict.endpoint, aws_access_key_id="AKIDUNKNOWN0000", aws_secret_access_key="x"))
    assert error_of(e) == unknown_key, e.value.response


@pytest.mark.parametrize("key, secret", [(EXTRA_KEY, EXTRA_SECRET), (INI_KEY, INI_SECRET)])
def test_credentials_file_keys_work(strict, client, key, secret):
    sts = client("sts", endpoint_url=strict.endpoint, aws_access_key_id=key, aws_secret_access_key=secret)
    assert sts.get_caller_identity()["Account"] == "000000000000"
    ddb = client("dynamodb", endpoint_url=strict.endpoint, aws_access_key_id=key, aws_secret_access_key=secret)
    assert ddb.list_tables()["TableNames"] == []
    # The default test/test pair still works beside them.
    assert client("s3", endpoint_url=strict.endpoint).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_credentials_file_numeric_key_names_the_account(strict, client):
    sts = client("sts", endpoint_url=strict.endpoint, aws_access_key_id=NUMERIC_KEY, aws_secret_access_key=NUMERIC_SECRET)
    assert sts.get_caller_identity()["Account"] == NUMERIC_KEY


@pytest.mark.parametrize(
    "service, expected",
    [
        ("s3", ("RequestTimeTooSkewed", 403)),
        ("dynamodb", ("InvalidSignatureException", 400)),
        ("sts", ("SignatureDoesNotMatch", 403)),
    ],
)
def test_stale_signature_is_rejected(strict, client, monkeypatch, service, expected):
    # AWS accepts a request time at most 15 minutes off its clock; sign 20 minutes in the past.
    past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    c = client(service, endpoint_url=strict.endpoint)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: past)
    with pytest.raises(ClientError) as e:
        CASES[service][0](c)
    assert error_of(e) == expected, e.value.response


def test_unsigned_requests_are_rejected(strict):
    r = rsutil.request(strict.port, "GET", "/")
    assert r.status == 403, r
    assert rsutil.xml_find(r.body, "Code") == "AccessDenied", r.body

    r = rsutil.request(
        strict.port,
        "POST",
        "/",
        body=b"{}",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": JSON10},
    )
    assert r.status == 400, r
    assert rsutil.json_error_type(r.body) == "MissingAuthenticationTokenException", r.body

    r = rsutil.request(
        strict.port,
        "POST",
        "/",
        body="Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert r.status == 403, r
    assert rsutil.xml_find(r.body, "Code") == "MissingAuthenticationToken", r.body


def test_health_and_cors_preflight_need_no_signature(strict):
    r = rsutil.request(strict.port, "GET", "/_localstack/health")
    assert r.status == 200, r
    # Browsers never sign a preflight.
    r = rsutil.request(
        strict.port,
        "OPTIONS",
        "/",
        headers={"Origin": "http://app.example.test", "Access-Control-Request-Method": "GET"},
    )
    assert r.status == 200, r
    assert r.header("access-control-allow-origin") in ("http://app.example.test", "*")


# --- presigned URLs ---------------------------------------------------------------------------


def presign(client, endpoint, expires=60, **kw):
    s3 = client("s3", endpoint_url=endpoint, config=Config(signature_version="s3v4"), **kw)
    return s3.generate_presigned_url("list_buckets", ExpiresIn=expires)


def test_presigned_url_works(strict, client):
    url = presign(client, strict.endpoint)
    assert "X-Amz-Signature=" in url
    status, body = fetch(url)
    assert status == 200, body
    assert rsutil.xml_root(body) == "ListAllMyBucketsResult", body


def test_presigned_url_expired(strict, client):
    url = presign(client, strict.endpoint, expires=1)
    time.sleep(2)
    status, body = fetch(url)
    assert status == 403, body
    assert rsutil.xml_find(body, "Code") == "AccessDenied", body
    assert "Request has expired" in (rsutil.xml_find(body, "Message") or ""), body


def test_presigned_url_wrong_secret(strict, client):
    url = presign(client, strict.endpoint, aws_secret_access_key="not-the-secret")
    status, body = fetch(url)
    assert status == 403, body
    assert rsutil.xml_find(body, "Code") == "SignatureDoesNotMatch", body


def test_presigned_url_unknown_key(strict, client):
    url = presign(client, strict.endpoint, aws_access_key_id="AKIDUNKNOWN0000", aws_secret_access_key="x")
    status, body = fetch(url)
    assert status == 403, body
    assert rsutil.xml_find(body, "Code") == "InvalidAccessKeyId", body


def test_presigned_url_tampered(strict, client):
    url = presign(client, strict.endpoint)
    # Lengthening the validity changes the signed query string.
    assert "X-Amz-Expires=60" in url
    status, body = fetch(url.replace("X-Amz-Expires=60", "X-Amz-Expires=600"))
    assert status == 403, body
    assert rsutil.xml_find(body, "Code") == "SignatureDoesNotMatch", body


# --- enforcement off (the shared server) ------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_without_enforcement_any_key_and_secret_work(client, service):
    call, _, _ = CASES[service]
    out = call(client(service, aws_access_key_id="AKIDANYTHING", aws_secret_access_key="whatever"))
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_without_enforcement_a_bogus_signature_works(ruststack):
    auth = (
        "AWS4-HMAC-SHA256 Credential=nobody/20200101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )
    r = rsutil.request(
        ruststack.port, "GET", "/", headers={"Authorization": auth, "X-Amz-Date": "20200101T000000Z"}
    )
    assert r.status == 200, r
    assert rsutil.xml_root(r.body) == "ListAllMyBucketsResult"


def test_without_enforcement_a_wrongly_presigned_url_works(ruststack, client):
    url = presign(client, ruststack.endpoint, aws_secret_access_key="not-the-secret")
    status, body = fetch(url)
    assert status == 200, body
    assert rsutil.xml_root(body) == "ListAllMyBucketsResult"
