"""S3 objects end to end: PutObject integrity checks (Content-MD5, flexible checksums, aws-chunked
trailers), conditional writes and reads, ranges, response overrides, HEAD errors, deletes, copies,
tagging and GetObjectAttributes."""

from __future__ import annotations

import base64
import datetime
import hashlib
import zlib

import pytest
from botocore.config import Config

from . import rsutil
from .s3util import expect_error, new_bucket_name


@pytest.fixture
def s3(client):
    return client("s3")


@pytest.fixture
def bucket(s3):
    name = new_bucket_name("obj")
    s3.create_bucket(Bucket=name)
    return name


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crc32_b64(data: bytes) -> str:
    return b64(zlib.crc32(data).to_bytes(4, "big"))


def test_put_get_round_trip_with_headers(s3, bucket):
    body = b"hello world"
    out = s3.put_object(
        Bucket=bucket, Key="dir/k.txt", Body=body, ContentType="text/plain", ContentEncoding="identity",
        ContentDisposition="attachment", ContentLanguage="en", CacheControl="no-cache",
        Metadata={"Color": "blue"}, StorageClass="STANDARD_IA", Tagging="a=1&b=2",
    )
    assert out["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    assert out["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="dir/k.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["ContentEncoding"] == "identity"
    assert got["ContentDisposition"] == "attachment"
    assert got["ContentLanguage"] == "en"
    assert got["CacheControl"] == "no-cache"
    assert got["Metadata"] == {"color": "blue"}
    assert got["StorageClass"] == "STANDARD_IA"
    assert got["TagCount"] == 2
    assert got["ContentLength"] == len(body)
    assert got["AcceptRanges"] == "bytes"
    assert got["ETag"] == out["ETag"]
    assert isinstance(got["LastModified"], datetime.datetime)
    head = s3.head_object(Bucket=bucket, Key="dir/k.txt")
    assert head["ContentLength"] == len(body) and head["ETag"] == out["ETag"]
    # No Content-Type at PUT: S3's default.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="plain")["ContentType"] == "binary/octet-stream"


def test_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    expect_error("InvalidRange", 416, s3.get_object, Bucket=bucket, Key="empty", Range="bytes=0-")


def test_content_md5(s3, bucket):
    body = b"payload"
    s3.put_object(Bucket=bucket, Key="ok", Body=body, ContentMD5=b64(hashlib.md5(body).digest()))
    expect_error(
        "BadDigest", 400, s3.put_object, Bucket=bucket, Key="bad", Body=body,
        ContentMD5=b64(hashlib.md5(b"other").digest()),
        message="The Content-MD5 you specified did not match what we received.",
    )
    expect_error("InvalidDigest", 400, s3.put_object, Bucket=bucket, Key="bad", Body=body, ContentMD5="notmd5")
    expect_error("NoSuchKey", 404, s3.head_object.__self__.get_object, Bucket=bucket, Key="bad")


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_flexible_checksums_stored_and_returned(s3, bucket, algorithm):
    body = b"checksummed body" * 100
    out = s3.put_object(Bucket=bucket, Key=algorithm, Body=body, ChecksumAlgorithm=algorithm)
    value = out[f"Checksum{algorithm}"]
    got = s3.get_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got[f"Checksum{algorithm}"] == value
    assert got["ChecksumType"] == "FULL_OBJECT"
    if algorithm == "SHA256":
        assert value == b64(hashlib.sha256(body).digest())
    if algorithm == "SHA1":
        assert value == b64(hashlib.sha1(body).digest())
    if algorithm == "CRC32":
        assert value == crc32_b64(body)
    attrs = s3.get_object_attributes(Bucket=bucket, Key=algorithm, ObjectAttributes=["Checksum"])
    assert attrs["Checksum"][f"Checksum{algorithm}"] == value


@pytest.mark.parametrize(
    "header,value",
    # Digests of b"hello" (boto3 needs awscrt for these two, so the requests are raw).
    [("x-amz-checksum-crc32c", "mnG7TA=="), ("x-amz-checksum-crc64nvme", "M3eFcAZSQlc=")],
)
def test_crc32c_and_crc64nvme_checked_raw(bucket, ruststack, header, value):
    r = rsutil.request(ruststack.port, "PUT", f"/{bucket}/h", b"hello", {header: value})
    assert r.status == 200, r.text()
    assert r.header(header) == value
    r = rsutil.request(ruststack.port, "GET", f"/{bucket}/h", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.body == b"hello" and r.header(header) == value
    r = rsutil.request(ruststack.port, "PUT", f"/{bucket}/h2", b"hellO", {header: value})
    assert r.status == 400 and rsutil.xml_find(r.body, "Code") == "BadDigest"


def test_default_checksum_is_crc64nvme(bucket, ruststack):
    r = rsutil.request(ruststack.port, "PUT", f"/{bucket}/plain", b"hello")
    assert r.status == 200
    assert r.header("x-amz-checksum-crc64nvme") == "M3eFcAZSQlc="
    assert r.header("x-amz-checksum-type") == "FULL_OBJECT"


def test_wrong_checksum_is_bad_digest(s3, bucket):
    expect_error(
        "BadDigest", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"abc", ChecksumCRC32=crc32_b64(b"xyz"),
        message="The CRC32 you specified did not match the calculated checksum.",
    )
    expect_error(
        "BadDigest", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"abc",
        ChecksumSHA256=b64(hashlib.sha256(b"xyz").digest()),
        message="The SHA256 you specified did not match the calculated checksum.",
    )
    expect_error("InvalidRequest", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"abc", ChecksumCRC32="abc")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="k")


def aws_chunked(data: bytes, trailer: tuple[str, str] | None, chunk: int = 4) -> bytes:
    out = b""
    for i in range(0, len(data), chunk):
        part = data[i : i + chunk]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    out += b"0\r\n"
    if trailer:
        out += f"{trailer[0]}:{trailer[1]}\r\n".encode()
    return out + b"\r\n"


def test_aws_chunked_body_with_trailing_checksum(s3, bucket, ruststack):
    data = b"streamed with a trailer"
    headers = {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
    }
    good = aws_chunked(data, ("x-amz-checksum-crc32", crc32_b64(data)))
    r = rsutil.request(ruststack.port, "PUT", f"/{bucket}/chunked", good, headers)
    assert r.status == 200, r.text()
    assert r.header("x-amz-checksum-crc32") == crc32_b64(data)
    got = s3.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == crc32_b64(data)
    assert "ContentEncoding" not in got  # aws-chunked is not stored
    bad = aws_chunked(data, ("x-amz-checksum-crc32", crc32_b64(b"other")))
    r = rsutil.request(ruststack.port, "PUT", f"/{bucket}/chunked-bad", bad, headers)
    assert r.status == 400
    assert rsutil.xml_find(r.body, "Code") == "BadDigest"
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="chunked-bad")


def test_boto3_default_upload_sends_checksum(s3, bucket):
    # boto3 computes CRC32 by default (request_checksum_calculation=when_supported).
    out = s3.put_object(Bucket=bucket, Key="default", Body=b"abc" * 1000)
    assert out["ChecksumCRC32"] == crc32_b64(b"abc" * 1000)


def test_conditional_writes(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="c", Body=b"1", IfNoneMatch="*")
    resp = expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="c", Body=b"2", IfNoneMatch="*")
    assert resp["Error"]["Condition"] == "If-None-Match"
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="c", Body=b"2", IfMatch='"0000"')
    s3.put_object(Bucket=bucket, Key="c", Body=b"3", IfMatch=first["ETag"])
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"3"
    expect_error("NoSuchKey", 404, s3.put_object, Bucket=bucket, Key="absent", Body=b"2", IfMatch='"abc"')


def test_ranges(s3, bucket):
    body = bytes(range(100))
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    cases = {"bytes=0-9": (0, 9), "bytes=90-": (90, 99), "bytes=-10": (90, 99), "bytes=95-200": (95, 99)}
    for header, (a, b) in cases.items():
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == f"bytes {a}-{b}/100"
        assert got["ContentLength"] == b - a + 1
        assert got["Body"].read() == body[a : b + 1]
    resp = expect_error("InvalidRange", 416, s3.get_object, Bucket=bucket, Key="r", Range="bytes=100-")
    assert resp["Error"]["Message"] == "The requested range is not satisfiable"
    assert resp["Error"]["ActualObjectSize"] == "100"
    # Unparsable ranges are ignored: the whole object with 200.
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=5-1")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200 and got["ContentLength"] == 100
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=0-0")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206 and head["ContentLength"] == 1


@pytest.mark.parametrize("size", [10, 0])
def test_part_number_of_a_single_part_object(s3, bucket, size):
    # A simple upload is its own part 1: a 206 of the whole body; part 2 is unsatisfiable.
    s3.put_object(Bucket=bucket, Key="p", Body=b"x" * size)
    for read in (s3.get_object, s3.head_object):
        got = read(Bucket=bucket, Key="p", PartNumber=1)
        assert got["ContentLength"] == size and got["AcceptRanges"] == "bytes"
        headers = got["ResponseMetadata"]["HTTPHeaders"]
        if size:
            assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
            assert headers["content-range"] == f"bytes 0-{size - 1}/{size}"
        resp = expect_error("416", 416, s3.head_object, Bucket=bucket, Key="p", PartNumber=2)
        assert "Range Not Satisfiable" in resp["Error"]["Message"]
    assert "content-range" not in s3.head_object(Bucket=bucket, Key="p")["ResponseMetadata"]["HTTPHeaders"]


def test_conditional_reads_in_aws_order(s3, bucket):
    out = s3.put_object(Bucket=bucket, Key="cr", Body=b"data")
    etag = out["ETag"]
    last = s3.head_object(Bucket=bucket, Key="cr")["LastModified"]
    before = last - datetime.timedelta(days=1)
    after = last + datetime.timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="cr", IfMatch=etag)["Body"].read() == b"data"
    resp = expect_error("PreconditionFailed", 412, s3.get_object, Bucket=bucket, Key="cr", IfMatch='"nope"')
    assert resp["Error"]["Condition"] == "If-Match"
    expect_error("304", 304, s3.get_object, Bucket=bucket, Key="cr", IfNoneMatch=etag)
    expect_error("304", 304, s3.get_object, Bucket=bucket, Key="cr", IfModifiedSince=after)
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=bucket, Key="cr", IfUnmodifiedSince=before)
    # If-Match true wins over a failing If-Unmodified-Since.
    assert s3.get_object(Bucket=bucket, Key="cr", IfMatch=etag, IfUnmodifiedSince=before)["ETag"] == etag
    # If-None-Match false wins over If-Modified-Since true → 200... and true → 304 regardless.
    assert s3.get_object(Bucket=bucket, Key="cr", IfNoneMatch='"x"', IfModifiedSince=after)["ETag"] == etag
    expect_error("304", 304, s3.get_object, Bucket=bucket, Key="cr", IfNoneMatch=etag, IfModifiedSince=before)
    # If-Match failing is checked before If-None-Match.
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=bucket, Key="cr", IfMatch='"x"', IfNoneMatch=etag)
    expect_error("304", 304, s3.head_object, Bucket=bucket, Key="cr", IfNoneMatch=etag)
    expect_error("412", 412, s3.head_object, Bucket=bucket, Key="cr", IfMatch='"x"')


def test_not_modified_has_no_body(s3, bucket, ruststack):
    etag = s3.put_object(Bucket=bucket, Key="nm", Body=b"data")["ETag"]
    r = rsutil.request(ruststack.port, "GET", f"/{bucket}/nm", headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b""
    assert r.header("etag") == etag


def test_response_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket, Key="o", ResponseContentType="application/json", ResponseContentDisposition="inline",
        ResponseCacheControl="max-age=5", ResponseContentLanguage="fr", ResponseContentEncoding="gzip",
        ResponseExpires=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "max-age=5"
    assert got["ContentLanguage"] == "fr"
    assert got["ContentEncoding"] == "gzip"
    assert got["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Tue, 01 Jan 2030 00:00:00 GMT"


def test_missing_things(s3, bucket, ruststack):
    resp = expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="nope", message="The specified key does not exist.")
    assert resp["Error"]["Key"] == "nope"
    resp = expect_error("NoSuchBucket", 404, s3.get_object, Bucket=new_bucket_name(), Key="k")
    assert resp["Error"]["Message"] == "The specified bucket does not exist"
    expect_error("NoSuchBucket", 404, s3.put_object, Bucket=new_bucket_name(), Key="k", Body=b"")
    # HEAD errors carry no body.
    expect_error("404", 404, s3.head_object, Bucket=bucket, Key="nope")
    r = rsutil.request(ruststack.port, "HEAD", f"/{bucket}/nope")
    assert r.status == 404 and r.body == b""
    expect_error("KeyTooLongError", 400, s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"")


def test_delete_object_and_objects(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d{i}", Body=b"x")
    out = s3.delete_object(Bucket=bucket, Key="d0")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.delete_object(Bucket=bucket, Key="never-existed")  # still 204
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d1"}, {"Key": "d2"}, {"Key": "ghost"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["d1", "d2", "ghost"]
    assert "Errors" not in out
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d3"}], "Quiet": True})
    assert "Deleted" not in out
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["d4"]
    expect_error(
        "MalformedXML", 400, s3.delete_objects, Bucket=bucket,
        Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]},
    )
    expect_error("NoSuchBucket", 404, s3.delete_object, Bucket=new_bucket_name(), Key="k")


def test_delete_objects_thousand_keys(s3, bucket):
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1000)]})
    assert len(out["Deleted"]) == 1000


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/plain", Metadata={"a": "1"}, Tagging="t=1")
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert out["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"copy me").hexdigest()
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"copy me"
    assert got["Metadata"] == {"a": "1"} and got["ContentType"] == "text/plain" and got["TagCount"] == 1
    s3.copy_object(
        Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
        Metadata={"b": "2"}, ContentType="application/x", TaggingDirective="REPLACE", Tagging="x=1&y=2",
    )
    got = s3.head_object(Bucket=bucket, Key="dst2")
    assert got["Metadata"] == {"b": "2"} and got["ContentType"] == "application/x"
    assert len(s3.get_object_tagging(Bucket=bucket, Key="dst2")["TagSet"]) == 2
    # Self-copy without changes is illegal; with REPLACE it is fine.
    resp = expect_error("InvalidRequest", 400, s3.copy_object, Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert resp["Error"]["Message"].startswith("This copy request is illegal because it is trying to copy an object to itself")
    s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src", MetadataDirective="REPLACE", Metadata={"n": "1"})
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"n": "1"}
    expect_error("NoSuchKey", 404, s3.copy_object, Bucket=bucket, Key="x", CopySource=f"{bucket}/absent")
    expect_error("NoSuchBucket", 404, s3.copy_object, Bucket=bucket, Key="x", CopySource=f"{new_bucket_name()}/k")
    expect_error(
        "PreconditionFailed", 412, s3.copy_object, Bucket=bucket, Key="x", CopySource=f"{bucket}/src",
        CopySourceIfMatch='"nope"',
    )
    expect_error(
        "InvalidArgument", 400, s3.copy_object, Bucket=bucket, Key="x", CopySource=f"{bucket}/src",
        MetadataDirective="MERGE",
    )


def test_copy_object_by_version_id(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"two")
    out = s3.copy_object(Bucket=bucket, Key="old", CopySource={"Bucket": bucket, "Key": "v", "VersionId": v1})
    assert out["CopySourceVersionId"] == v1
    assert out["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="old")["Body"].read() == b"one"


def test_copy_in_place_of_a_named_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"")["VersionId"]
    # Naming the source version makes a copy onto itself legal: it becomes a new version.
    for source_version in (v, "null"):
        out = s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k", "VersionId": source_version})
        assert out["CopySourceVersionId"] == source_version
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="k")["Versions"]) == 4
    resp = expect_error("InvalidRequest", 400, s3.copy_object, Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert resp["Error"]["Message"].startswith("This copy request is illegal")
    s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"}, StorageClass="STANDARD")


def test_copy_in_place_of_a_named_version_needs_versioning(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    expect_error(
        "InvalidRequest", 400, s3.copy_object, Bucket=bucket, Key="k",
        CopySource={"Bucket": bucket, "Key": "k", "VersionId": "null"},
    )


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    expect_error("BadRequest", 400, s3.put_object_tagging, Bucket=bucket, Key="t", Tagging={"TagSet": many})
    expect_error("NoSuchKey", 404, s3.get_object_tagging, Bucket=bucket, Key="absent")
    expect_error("BadRequest", 400, s3.put_object, Bucket=bucket, Key="t2", Body=b"", Tagging="&".join(f"k{i}=v" for i in range(11)))
    # System tags: the header and the tagging document word the refusal differently.
    expect_error(
        "InvalidTag", 400, s3.put_object, Bucket=bucket, Key="t2", Body=b"", Tagging="aws:foo=bar",
        message="Your TagKey cannot be prefixed with aws:",
    )
    expect_error(
        "InvalidTag", 400, s3.put_object_tagging, Bucket=bucket, Key="t",
        Tagging={"TagSet": [{"Key": "aws:item", "Value": "v"}]},
        message="System tags cannot be added/updated by requester",
    )
    s3.put_object(Bucket=bucket, Key="t2", Body=b"", Tagging="x:aws:foo=bar")


def test_object_tagging_of_deleted_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="t", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="t", Body=b"2")
    s3.delete_object(Bucket=bucket, Key="t", VersionId=first)
    tagging = {"TagSet": [{"Key": "k", "Value": "v"}]}
    resp = expect_error(
        "NoSuchVersion", 404, s3.put_object_tagging, Bucket=bucket, Key="t", VersionId=first, Tagging=tagging,
        message="The specified version does not exist.",
    )
    assert resp["Error"]["Key"] == "t" and resp["Error"]["VersionId"] == first
    marker = s3.delete_object(Bucket=bucket, Key="t")["VersionId"]
    # A delete marker addressed by id: 405 naming the method and the resource type.
    for call, method in ((s3.put_object_tagging, "PUT"), (s3.get_object_tagging, "GET"), (s3.delete_object_tagging, "DELETE")):
        kw = {"Tagging": tagging} if method == "PUT" else {}
        resp = expect_error(
            "MethodNotAllowed", 405, call, Bucket=bucket, Key="t", VersionId=marker, **kw,
            message="The specified method is not allowed against this resource.",
        )
        assert resp["Error"]["Method"] == method and resp["Error"]["ResourceType"] == "DeleteMarker"
    resp = expect_error("MethodNotAllowed", 405, s3.get_object, Bucket=bucket, Key="t", VersionId=marker)
    assert resp["Error"]["Method"] == "GET" and resp["Error"]["ResourceType"] == "DeleteMarker"


def test_get_object_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"12345", StorageClass="GLACIER_IR")
    out = s3.get_object_attributes(Bucket=bucket, Key="a", ObjectAttributes=["ETag", "ObjectSize", "StorageClass"])
    assert out["ETag"] == hashlib.md5(b"12345").hexdigest()  # no quotes here
    assert out["ObjectSize"] == 5
    assert out["StorageClass"] == "GLACIER_IR"
    assert "Checksum" not in out
    expect_error("NoSuchKey", 404, s3.get_object_attributes, Bucket=bucket, Key="absent", ObjectAttributes=["ETag"])


@pytest.mark.parametrize("signature_version", ["s3v4", None])
def test_presigned_get_and_put(client, bucket, signature_version):
    import urllib.request

    config = Config(signature_version=signature_version) if signature_version else None
    s3 = client("s3", config=config)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    req = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
        assert r.headers["ETag"] == '"%s"' % hashlib.md5(b"presigned body").hexdigest()
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    if signature_version:
        assert "X-Amz-Signature=" in get_url
    with urllib.request.urlopen(get_url) as r:
        assert r.read() == b"presigned body"


def test_virtual_hosted_raw(s3, bucket, ruststack):
    s3.put_object(Bucket=bucket, Key="vh", Body=b"virtual")
    r = rsutil.request(ruststack.port, "GET", "/vh", headers={"Host": f"{bucket}.s3.localhost.localstack.cloud:{ruststack.port}"})
    assert r.status == 200 and r.body == b"virtual"
