"""S3 Object Lock end to end: the retention and legal hold a new version gets (request headers or
the bucket's default retention), deletes of protected versions refused as AWS refuses them
(GOVERNANCE yields to a bypass, COMPLIANCE and legal holds never), Put/GetObjectRetention and
Put/GetObjectLegalHold, and their state surviving a restart."""

from __future__ import annotations

import base64
import datetime
import hashlib
import signal

import pytest
from botocore.config import Config

from .conftest import make_client
from .s3util import expect_error, new_bucket_name

PROTECTED = "Access Denied because object protected by object lock."
NO_OBJECT_LOCK = "The specified object does not have a ObjectLock configuration"


@pytest.fixture
def s3(client):
    return client("s3")


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def soon(seconds: int = 3600) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def locked_bucket(s3, mode: str | None = "GOVERNANCE") -> str:
    name = new_bucket_name("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    config = {"ObjectLockEnabled": "Enabled"}
    if mode:
        config["Rule"] = {"DefaultRetention": {"Mode": mode, "Days": 1}}
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=config)
    return name


def test_lock_configuration_needs_a_body(s3):
    name = new_bucket_name("lock")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    expect_error("MissingRequestBodyError", 400, s3.put_object_lock_configuration, Bucket=name, message="Request Body is empty")
    expect_error("MalformedXML", 400, s3.put_object_lock_configuration, Bucket=name, ObjectLockConfiguration={})
    # A versioned bucket created without Object Lock may enable it later.
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    v = s3.put_object(Bucket=name, Key="k", Body=b"x")["VersionId"]
    s3.put_object_retention(Bucket=name, Key="k", VersionId=v, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": soon()})
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=name, Key="k", VersionId=v)


def test_lock_requests_on_a_bucket_without_object_lock(s3):
    name = new_bucket_name("lock")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    missing = "Bucket is missing Object Lock Configuration"
    expect_error(
        "InvalidRequest", 400, s3.put_object, Bucket=name, Key="k2", Body=b"x", ContentMD5=md5(b"x"),
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=soon(), message=missing,
    )
    expect_error("InvalidRequest", 400, s3.get_object_retention, Bucket=name, Key="k", message=missing)
    expect_error("InvalidRequest", 400, s3.get_object_legal_hold, Bucket=name, Key="k", message=missing)
    expect_error(
        "InvalidRequest", 400, s3.put_object_legal_hold, Bucket=name, Key="k", LegalHold={"Status": "ON"},
        message=missing,
    )
    expect_error(
        "InvalidRequest", 400, s3.put_object_retention, Bucket=name, Key="k",
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": soon()}, message=missing,
    )
    # Without a lock the headers are absent and deletes of versions are free.
    head = s3.head_object(Bucket=name, Key="k")
    assert "ObjectLockMode" not in head and "ObjectLockLegalHoldStatus" not in head


def test_put_object_lock_headers_are_checked(s3):
    bucket = locked_bucket(s3, mode=None)
    body = b"data"
    expect_error(
        "InvalidArgument", 400, s3.put_object, Bucket=bucket, Key="k", Body=body, ContentMD5=md5(body),
        ObjectLockMode="GOVERNANCE",
        message="x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
    )
    expect_error(
        "InvalidArgument", 400, s3.put_object, Bucket=bucket, Key="k", Body=body, ContentMD5=md5(body),
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=soon(-60),
        message="The retain until date must be in the future!",
    )
    # Object Lock parameters need an integrity header (Content-MD5 or a flexible checksum).
    bare = make_client(
        "s3", s3.meta.endpoint_url,
        config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"),
    )
    expect_error(
        "InvalidRequest", 400, bare.put_object, Bucket=bucket, Key="k", Body=body,
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=soon(),
        message="Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    )
    bare.put_object(Bucket=bucket, Key="plain", Body=body)  # no lock, no default retention: fine
    until = soon()
    s3.put_object(
        Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="SHA256",
        ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON",
    )
    for read in (s3.head_object, s3.get_object):
        got = read(Bucket=bucket, Key="k")
        assert got["ObjectLockMode"] == "COMPLIANCE"
        assert abs((got["ObjectLockRetainUntilDate"] - until).total_seconds()) < 1
        assert got["ObjectLockLegalHoldStatus"] == "ON"
    retention = s3.get_object_retention(Bucket=bucket, Key="k")["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    assert s3.get_object_legal_hold(Bucket=bucket, Key="k")["LegalHold"] == {"Status": "ON"}
    expect_error("NoSuchObjectLockConfiguration", 404, s3.get_object_retention, Bucket=bucket, Key="plain", message=NO_OBJECT_LOCK)
    expect_error("NoSuchObjectLockConfiguration", 404, s3.get_object_legal_hold, Bucket=bucket, Key="plain", message=NO_OBJECT_LOCK)
    expect_error("NoSuchKey", 404, s3.get_object_retention, Bucket=bucket, Key="absent")


def test_default_retention_and_governance_deletes(s3):
    bucket = locked_bucket(s3, "GOVERNANCE")
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"test", ContentMD5=md5(b"test"))["VersionId"]
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    left = head["ObjectLockRetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(hours=23) < left <= datetime.timedelta(days=1)
    assert "ObjectLockLegalHoldStatus" not in head
    resp = expect_error("AccessDenied", 403, s3.delete_object, Bucket=bucket, Key="k", VersionId=v)
    assert resp["Error"]["Message"] == PROTECTED
    # A delete without a version id only adds a marker: always allowed.
    marker = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})["Deleted"][0]["DeleteMarkerVersionId"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": v}]}, BypassGovernanceRetention=False)
    assert out["Errors"] == [{"Key": "k", "VersionId": v, "Code": "AccessDenied", "Message": PROTECTED}]
    assert "Deleted" not in out
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)  # markers carry no lock
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": v}]}, BypassGovernanceRetention=True)
    assert out["Deleted"] == [{"Key": "k", "VersionId": v}]


def test_compliance_and_legal_hold_ignore_the_bypass(s3):
    bucket = locked_bucket(s3, None)
    v = s3.put_object(
        Bucket=bucket, Key="c", Body=b"x", ContentMD5=md5(b"x"),
        ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=soon(3),
    )["VersionId"]
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=bucket, Key="c", VersionId=v, BypassGovernanceRetention=True)
    h = s3.put_object(Bucket=bucket, Key="h", Body=b"x", ContentMD5=md5(b"x"))["VersionId"]
    s3.put_object_legal_hold(Bucket=bucket, Key="h", VersionId=h, LegalHold={"Status": "ON"})
    assert s3.head_object(Bucket=bucket, Key="h")["ObjectLockLegalHoldStatus"] == "ON"
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=bucket, Key="h", VersionId=h, BypassGovernanceRetention=True)
    s3.put_object_legal_hold(Bucket=bucket, Key="h", VersionId=h, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=bucket, Key="h", VersionId=h)["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=bucket, Key="h", VersionId=h)
    # An expired retention protects nothing.
    import time

    time.sleep(3.5)
    s3.delete_object(Bucket=bucket, Key="c", VersionId=v)


def test_retention_changes(s3):
    bucket = locked_bucket(s3, None)
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    first = soon(600)
    s3.put_object_retention(Bucket=bucket, Key="k", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": first})
    # Compliance only lengthens, whatever the bypass.
    expect_error(
        "AccessDenied", 403, s3.put_object_retention, Bucket=bucket, Key="k", BypassGovernanceRetention=True,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": soon(60)},
    )
    expect_error(
        "AccessDenied", 403, s3.put_object_retention, Bucket=bucket, Key="k",
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": soon(1200)},
    )
    later = soon(1200)
    s3.put_object_retention(Bucket=bucket, Key="k", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
    got = s3.get_object_retention(Bucket=bucket, Key="k", VersionId=v)["Retention"]
    assert abs((got["RetainUntilDate"] - later).total_seconds()) < 1
    expect_error(
        "InvalidArgument", 400, s3.put_object_retention, Bucket=bucket, Key="k",
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": soon(-60)},
        message="The retain until date must be in the future!",
    )
    # Governance may be shortened or removed only with the bypass.
    g = s3.put_object(Bucket=bucket, Key="g", Body=b"x", ContentMD5=md5(b"x"), ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=soon())["VersionId"]
    expect_error(
        "AccessDenied", 403, s3.put_object_retention, Bucket=bucket, Key="g",
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": soon(60)},
    )
    s3.put_object_retention(Bucket=bucket, Key="g", Retention={}, BypassGovernanceRetention=True)
    expect_error("NoSuchObjectLockConfiguration", 404, s3.get_object_retention, Bucket=bucket, Key="g")
    s3.delete_object(Bucket=bucket, Key="g", VersionId=g)
    # A delete marker addressed by id is no object.
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    resp = expect_error(
        "MethodNotAllowed", 405, s3.put_object_retention, Bucket=bucket, Key="k", VersionId=marker,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": soon(2400)},
    )
    assert resp["Error"]["ResourceType"] == "DeleteMarker"


def test_copies_take_the_lock_of_their_own_request(s3):
    bucket = locked_bucket(s3, None)
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", ContentMD5=md5(b"x"), ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=soon(), ObjectLockLegalHoldStatus="ON")
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "src"})
    head = s3.head_object(Bucket=bucket, Key="plain")
    assert "ObjectLockMode" not in head and "ObjectLockLegalHoldStatus" not in head
    s3.copy_object(Bucket=bucket, Key="held", CopySource={"Bucket": bucket, "Key": "src"}, ObjectLockLegalHoldStatus="ON")
    assert s3.head_object(Bucket=bucket, Key="held")["ObjectLockLegalHoldStatus"] == "ON"
    # Multipart uploads carry their lock to the completed object.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=soon())["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=bucket, Key="mp")["ObjectLockMode"] == "GOVERNANCE"


def test_lock_state_survives_a_restart(start_server, tmp_path):
    data = tmp_path / "state"
    server = start_server("--data-dir", str(data))
    s3 = make_client("s3", server.endpoint)
    bucket = locked_bucket(s3, "COMPLIANCE")
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentMD5=md5(b"x"))["VersionId"]
    s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"})
    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", str(data))
    s3 = make_client("s3", server.endpoint)
    assert s3.get_object_retention(Bucket=bucket, Key="k")["Retention"]["Mode"] == "COMPLIANCE"
    assert s3.get_object_legal_hold(Bucket=bucket, Key="k")["LegalHold"]["Status"] == "ON"
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
