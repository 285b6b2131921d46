"""Browser form uploads (presigned POST) end to end: boto3's generate_presigned_post, a hand-built
multipart/form-data body sent with urllib, and S3's policy checks."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import pytest

from .s3util import new_bucket_name


@pytest.fixture
def s3(client):
    return client("s3")


@pytest.fixture
def bucket(s3):
    name = new_bucket_name("post")
    s3.create_bucket(Bucket=name)
    return name


def form_post(url: str, fields: dict, filename: str = "hello.txt", data: bytes = b"hello form", after: dict | None = None):
    """POSTs fields then the file (then `after` fields, which S3 ignores); returns status, headers, body."""
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    out += data + b"\r\n"
    for name, value in (after or {}).items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(url, data=bytes(out), method="POST")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def error_of(body: bytes) -> tuple[str, str]:
    root = ET.fromstring(body)
    return root.findtext("Code"), root.findtext("Message")


def test_presigned_post_uploads_with_filename_and_metadata(s3, bucket):
    post = s3.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"Content-Type": "text/plain", "x-amz-meta-owner": "alice", "success_action_status": "201"},
        Conditions=[
            {"Content-Type": "text/plain"}, {"x-amz-meta-owner": "alice"}, {"success_action_status": "201"},
            ["content-length-range", 1, 1024],
        ],
        ExpiresIn=600,
    )
    status, headers, body = form_post(post["url"], post["fields"], filename="note.txt", data=b"form body \r\n--x")
    assert status == 201, body
    root = ET.fromstring(body)
    assert root.tag == "PostResponse"
    assert root.findtext("Bucket") == bucket
    assert root.findtext("Key") == "uploads/note.txt"
    assert root.findtext("ETag") == headers["etag"]
    assert root.findtext("Location").endswith(f"/{bucket}/uploads/note.txt")
    obj = s3.get_object(Bucket=bucket, Key="uploads/note.txt")
    assert obj["Body"].read() == b"form body \r\n--x"
    assert obj["ContentType"] == "text/plain"
    assert obj["Metadata"] == {"owner": "alice"}
    assert obj["ETag"] == headers["etag"]


def test_default_status_is_204_and_fields_after_the_file_are_ignored(s3, bucket):
    post = s3.generate_presigned_post(bucket, "k.bin")
    big = bytes(range(256)) * 4096  # 1 MiB across many reads
    status, headers, body = form_post(post["url"], post["fields"], data=big, after={"x-amz-meta-late": "ignored"})
    assert status == 204, body
    assert headers["location"].endswith(f"/{bucket}/k.bin")
    head = s3.head_object(Bucket=bucket, Key="k.bin")
    assert head["ContentLength"] == len(big)
    assert head["Metadata"] == {}
    assert s3.get_object(Bucket=bucket, Key="k.bin")["Body"].read() == big


def test_success_action_status_200_and_redirect(s3, bucket):
    post = s3.generate_presigned_post(
        bucket, "a.txt", Fields={"success_action_status": "200"}, Conditions=[{"success_action_status": "200"}]
    )
    status, _, body = form_post(post["url"], post["fields"])
    assert (status, body) == (200, b"")
    target = "https://example.com/done"
    post = s3.generate_presigned_post(
        bucket, "b.txt", Fields={"success_action_redirect": target}, Conditions=[{"success_action_redirect": target}]
    )
    status, headers, _ = form_post(post["url"], post["fields"])
    assert status == 303
    parsed = urllib.parse.urlparse(headers["location"])
    assert parsed.netloc == "example.com"
    query = urllib.parse.parse_qs(parsed.query)
    assert query["bucket"] == [bucket] and query["key"] == ["b.txt"]
    assert query["etag"][0].strip('"') == s3.head_object(Bucket=bucket, Key="b.txt")["ETag"].strip('"')


def test_policy_conditions_are_enforced(s3, bucket):
    post = s3.generate_presigned_post(
        bucket, "up/${filename}", Conditions=[["content-length-range", 5, 10]]
    )
    status, _, body = form_post(post["url"], post["fields"], data=b"way too long for the range")
    assert status == 400
    assert error_of(body) == ("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    status, _, body = form_post(post["url"], post["fields"], data=b"abc")
    assert error_of(body)[0] == "EntityTooSmall"

    # A field the policy does not cover.
    status, _, body = form_post(post["url"], {**post["fields"], "x-amz-meta-extra": "1"}, data=b"hello")
    assert status == 403
    assert error_of(body) == ("AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-extra")

    # A key the policy does not allow.
    status, _, body = form_post(post["url"], {**post["fields"], "key": "other/x"}, data=b"hello")
    assert status == 403
    assert error_of(body) == (
        "AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "up/"]'
    )

    # An expired policy.
    expired = base64.b64encode(json.dumps({
        "expiration": "2001-01-01T00:00:00Z", "conditions": [{"bucket": bucket}, ["starts-with", "$key", ""]],
    }).encode()).decode()
    status, _, body = form_post(post["url"], {"key": "x", "policy": expired}, data=b"hello")
    assert status == 403
    assert error_of(body) == ("AccessDenied", "Invalid according to Policy: Policy expired.")

    # Nothing stored by any refused upload.
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_form_errors(s3, bucket, endpoint):
    post = s3.generate_presigned_post(bucket, "k")
    fields = {k: v for k, v in post["fields"].items() if k != "key"}
    status, _, body = form_post(post["url"], fields)
    assert status == 400
    assert error_of(body) == (
        "InvalidArgument",
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
    )
    status, _, body = form_post(f"{endpoint}/{new_bucket_name()}", {"key": "k"})
    assert status == 404
    assert error_of(body)[0] == "NoSuchBucket"
    status, _, body = form_post(post["url"], {**post["fields"], "policy": "%%%"})
    assert status == 400
    assert error_of(body)[0] == "InvalidPolicyDocument"
