"""Bucket CORS applied to browser preflights: a bucket's rules decide, AWS's 403 when none match,
and the gateway's permissive answer for buckets without CORS rules."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from .s3util import new_bucket_name

CORS_FORBIDDEN = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)


@pytest.fixture
def s3(client):
    return client("s3")


def preflight(endpoint: str, path: str, origin: str | None, method: str | None, headers: str | None = None):
    req = urllib.request.Request(endpoint + path, method="OPTIONS")
    if origin is not None:
        req.add_header("Origin", origin)
    if method is not None:
        req.add_header("Access-Control-Request-Method", method)
    if headers is not None:
        req.add_header("Access-Control-Request-Headers", headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


@pytest.fixture
def cors_bucket(s3):
    name = new_bucket_name("cors")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
        {
            "AllowedOrigins": ["https://*.example.com"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["Content-Type", "x-amz-*"],
            "ExposeHeaders": ["ETag", "x-amz-version-id"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
    ]})
    return name


def test_preflight_allowed_by_a_rule(endpoint, cors_bucket):
    status, headers, _ = preflight(
        endpoint, f"/{cors_bucket}/some/key", "https://app.example.com", "PUT", "content-type, X-Amz-Date"
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert headers["access-control-max-age"] == "600"
    assert headers["access-control-expose-headers"] == "ETag, x-amz-version-id"
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def test_preflight_wildcard_origin_rule(endpoint, cors_bucket):
    status, headers, _ = preflight(endpoint, f"/{cors_bucket}", "https://elsewhere.org", "HEAD")
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == "HEAD"
    assert "access-control-allow-credentials" not in headers
    assert "access-control-max-age" not in headers


@pytest.mark.parametrize(
    "origin,method,req_headers",
    [
        ("https://evil.org", "GET", None),  # origin not listed
        ("https://app.example.com", "DELETE", None),  # method not allowed
        ("https://app.example.com", "GET", "authorization"),  # header not allowed
    ],
)
def test_preflight_refused(endpoint, cors_bucket, origin, method, req_headers):
    status, headers, body = preflight(endpoint, f"/{cors_bucket}/k", origin, method, req_headers)
    assert status == 403
    text = body.decode()
    assert "<Code>AccessForbidden</Code>" in text
    assert f"<Message>{CORS_FORBIDDEN}</Message>" in text.replace("&apos;", "'")
    assert f"<Method>{method}</Method>" in text
    assert "<ResourceType>OBJECT</ResourceType>" in text
    assert "access-control-allow-origin" not in headers


def test_preflight_without_origin_is_a_bad_request(endpoint, cors_bucket):
    status, _, body = preflight(endpoint, f"/{cors_bucket}/k", None, "GET")
    assert status == 400
    assert b"Insufficient information. Origin request header needed." in body


def test_bucket_without_cors_gets_the_permissive_answer(endpoint, s3):
    name = new_bucket_name("nocors")
    s3.create_bucket(Bucket=name)
    status, headers, _ = preflight(endpoint, f"/{name}/k", "https://any.org", "DELETE", "authorization")
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://any.org"
    # A bucket whose CORS rules were deleted is back to the default.
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["x"], "AllowedMethods": ["GET"]}]})
    assert preflight(endpoint, f"/{name}/k", "https://any.org", "DELETE")[0] == 403
    s3.delete_bucket_cors(Bucket=name)
    assert preflight(endpoint, f"/{name}/k", "https://any.org", "DELETE")[0] == 200
