"""S3 details end to end: full-object CRCs of multipart uploads and checksummed copies (all streamed
server-side), storage classes, DeleteObjects' integrity header, and unparsable conditional dates."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest

from . import rsutil
from .s3util import expect_error, new_bucket_name

MIB = 1024 * 1024


@pytest.fixture
def s3(client):
    return client("s3")


@pytest.fixture
def bucket(s3):
    name = new_bucket_name("fid")
    s3.create_bucket(Bucket=name)
    return name


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_full_object_crc_of_a_multipart_upload(s3, bucket):
    parts_data = [bytes([i]) * (5 * MIB) for i in range(1, 3)] + [b"tail bytes"]
    uid = s3.create_multipart_upload(
        Bucket=bucket, Key="full", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    parts = []
    for n, data in enumerate(parts_data, start=1):
        out = s3.upload_part(Bucket=bucket, Key="full", UploadId=uid, PartNumber=n, Body=data, ChecksumAlgorithm="CRC32")
        assert out["ChecksumCRC32"] == crc32_b64(data)
        parts.append({"PartNumber": n, "ETag": out["ETag"], "ChecksumCRC32": out["ChecksumCRC32"]})
    whole = b"".join(parts_data)
    out = s3.complete_multipart_upload(
        Bucket=bucket, Key="full", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    assert out["ChecksumType"] == "FULL_OBJECT"
    assert out["ChecksumCRC32"] == crc32_b64(whole)
    head = s3.head_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc32_b64(whole)
    assert head["ContentLength"] == len(whole)


def test_copy_object_with_a_new_checksum_algorithm(s3, bucket):
    body = b"copy me " * 100_000
    s3.put_object(Bucket=bucket, Key="src", Body=body, ChecksumAlgorithm="CRC32")
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, ChecksumAlgorithm="SHA256")
    assert out["CopyObjectResult"]["ChecksumSHA256"] == sha256_b64(body)
    head = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha256_b64(body)


def test_upload_part_copy_with_a_checksum_algorithm(s3, bucket):
    source = bytes(range(256)) * (6 * 4096)  # 6 MiB
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="SHA256")["UploadId"]
    out = s3.upload_part_copy(
        Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )
    assert out["CopyPartResult"]["ChecksumSHA256"] == sha256_b64(source[: 5 * MIB])
    out2 = s3.upload_part_copy(
        Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange=f"bytes={5 * MIB}-{len(source) - 1}",
    )
    assert out2["CopyPartResult"]["ChecksumSHA256"] == sha256_b64(source[5 * MIB:])
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
    assert [p["ChecksumSHA256"] for p in listed] == [sha256_b64(source[: 5 * MIB]), sha256_b64(source[5 * MIB:])]


def test_invalid_storage_class(s3, bucket):
    resp = expect_error(
        "InvalidStorageClass", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"x", StorageClass="ULTRA_FAST",
        message="The storage class you specified is not valid",
    )
    assert resp["Error"]["StorageClassRequested"] == "ULTRA_FAST"
    expect_error(
        "InvalidStorageClass", 400, s3.create_multipart_upload, Bucket=bucket, Key="k", StorageClass="NOPE"
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="k")["StorageClass"] == "STANDARD_IA"


def test_delete_objects_requires_an_integrity_header(s3, bucket, ruststack):
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    body = b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a</Key></Object></Delete>'
    r = rsutil.request(ruststack.port, "POST", f"/{bucket}?delete", body, {"Content-Type": "application/xml"})
    assert r.status == 400, r.text()
    assert rsutil.xml_find(r.body, "Code") == "InvalidRequest"
    assert rsutil.xml_find(r.body, "Message") == "Missing required header for this request: Content-MD5"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = rsutil.request(ruststack.port, "POST", f"/{bucket}?delete", body, {"Content-MD5": md5})
    assert r.status == 200, r.text()
    # boto3 sends a flexible checksum instead of Content-MD5.
    s3.put_object(Bucket=bucket, Key="b", Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["b"]


def test_invalid_if_modified_since_is_ignored(s3, bucket, ruststack):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    r = rsutil.request(ruststack.port, "GET", f"/{bucket}/k", headers={"If-Modified-Since": "not a date"})
    assert r.status == 200 and r.body == b"hello"
    r = rsutil.request(ruststack.port, "GET", f"/{bucket}/k", headers={"If-Unmodified-Since": "yesterday-ish"})
    assert r.status == 200
    # A valid date in the future still answers 304.
    r = rsutil.request(
        ruststack.port, "GET", f"/{bucket}/k", headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}
    )
    assert r.status == 304
