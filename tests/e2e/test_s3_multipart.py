"""S3 multipart uploads end to end: the happy path with AWS's ETag, part copies, wrong parts, wrong
order, too-small parts, aborts and the listings; then versioning (ids, delete markers, suspended
and the null version, ListObjectVersions)."""

from __future__ import annotations

import hashlib

import pytest

from .s3util import expect_error, new_bucket_name

MIB = 1024 * 1024


@pytest.fixture
def s3(client):
    return client("s3")


@pytest.fixture
def bucket(s3):
    name = new_bucket_name("mp")
    s3.create_bucket(Bucket=name)
    return name


def test_multipart_round_trip(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="text/plain", Metadata={"m": "1"})
    uid = up["UploadId"]
    p1 = b"a" * (5 * MIB)
    p2 = b"b" * 1234
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="big", UploadId=uid)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts["Parts"]] == [(1, len(p1), e1), (2, len(p2), e2)]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big", uid)]
    out = s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    expected = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest() + "-2"
    assert out["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["ContentLength"] == len(p1) + len(p2)
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"m": "1"}
    data = got["Body"].read()
    assert data[:5] == b"aaaaa" and data[-5:] == b"bbbbb" and len(data) == len(p1) + len(p2)
    part2 = s3.get_object(Bucket=bucket, Key="big", PartNumber=2)
    assert part2["ContentLength"] == len(p2) and part2["PartsCount"] == 2
    assert part2["Body"].read() == p2
    attrs = s3.get_object_attributes(Bucket=bucket, Key="big", ObjectAttributes=["ObjectParts", "ETag"])
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2 and attrs["ETag"] == expected
    # A completed upload is gone.
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key="big", UploadId=uid)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_completing_again_answers_as_the_first_time(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"one", ChecksumAlgorithm="SHA256")
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"]}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts)
    # A retry (even with If-None-Match: *) gets the same answer and writes nothing.
    again = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts, IfNoneMatch="*")
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    for field in ("ETag", "VersionId", "ChecksumSHA256", "ChecksumType", "Location", "Key", "Bucket"):
        assert again[field] == first[field], field
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 1
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key="k", UploadId=uid)
    expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=bucket, Key="other", UploadId=uid, MultipartUpload=parts)


def test_wrong_parts(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"tail")["ETag"]
    complete = s3.complete_multipart_upload
    resp = expect_error(
        "InvalidPart", 400, complete, Bucket=bucket, Key="k", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]},
    )
    assert resp["Error"]["Message"].startswith("One or more of the specified parts could not be found.")
    expect_error(
        "InvalidPart", 400, complete, Bucket=bucket, Key="k", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 3, "ETag": e1}]},
    )
    expect_error(
        "InvalidPartOrder", 400, complete, Bucket=bucket, Key="k", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]},
        message="The list of parts was not in ascending order. Parts must be ordered by part number.",
    )
    resp = expect_error(
        "EntityTooSmall", 400, complete, Bucket=bucket, Key="k", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
        message="Your proposed upload is smaller than the minimum allowed size",
    )
    assert resp["Error"]["MinSizeAllowed"] == str(5 * MIB)
    # A single small part is the last part: allowed.
    out = complete(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}]})
    assert out["ETag"].endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"tail"


def test_upload_errors_and_abort(s3, bucket):
    expect_error(
        "NoSuchUpload", 404, s3.upload_part, Bucket=bucket, Key="k", UploadId="nope", PartNumber=1, Body=b"x",
        message="The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    expect_error("InvalidArgument", 400, s3.upload_part, Bucket=bucket, Key="k", UploadId=uid, PartNumber=10001, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid)
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=bucket, Key="k", UploadId=uid)
    expect_error(
        "NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]},
    )
    expect_error("NoSuchBucket", 404, s3.create_multipart_upload, Bucket=new_bucket_name(), Key="k")


def test_upload_part_copy_with_range(s3, bucket):
    src = bytes(range(256)) * 100
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    out = s3.upload_part_copy(
        Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange="bytes=10-109",
    )
    assert out["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(src[10:110]).hexdigest()
    expect_error(
        "InvalidRange", 416, s3.upload_part_copy, Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{len(src)}",
    )
    s3.complete_multipart_upload(
        Bucket=bucket, Key="dst", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": out["CopyPartResult"]["ETag"]}]},
    )
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src[10:110]


def test_list_multipart_uploads_paging(s3, bucket):
    ids = {}
    for k in ["a", "b/1", "b/2", "c"]:
        ids[k] = s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert [u["Key"] for u in page["Uploads"]] == ["a", "b/1"]
    assert page["IsTruncated"] is True and page["NextKeyMarker"] == "b/1"
    page2 = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=page["NextKeyMarker"], UploadIdMarker=page["NextUploadIdMarker"])
    assert [u["Key"] for u in page2["Uploads"]] == ["b/2", "c"]
    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["b/"]
    assert [u["Key"] for u in grouped["Uploads"]] == ["a", "c"]


def test_composite_checksum(s3, bucket):
    import base64

    uid = s3.create_multipart_upload(Bucket=bucket, Key="cs", ChecksumAlgorithm="SHA256")["UploadId"]
    body = b"part one"
    part = s3.upload_part(Bucket=bucket, Key="cs", UploadId=uid, PartNumber=1, Body=body, ChecksumAlgorithm="SHA256")
    assert part["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    out = s3.complete_multipart_upload(
        Bucket=bucket, Key="cs", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"]}]},
    )
    expected = base64.b64encode(hashlib.sha256(hashlib.sha256(body).digest()).digest()).decode() + "-1"
    assert out["ChecksumSHA256"] == expected
    assert out["ChecksumType"] == "COMPOSITE"
    assert s3.head_object(Bucket=bucket, Key="cs", ChecksumMode="ENABLED")["ChecksumSHA256"] == expected
    # GetObjectAttributes gives the composite value without its part count.
    attrs = s3.get_object_attributes(Bucket=bucket, Key="cs", ObjectAttributes=["Checksum", "ObjectParts"])
    assert attrs["Checksum"] == {"ChecksumSHA256": expected[: -len("-1")], "ChecksumType": "COMPOSITE"}
    assert attrs["ObjectParts"]["TotalPartsCount"] == 1


# --- versioning -------------------------------------------------------------------------------


def test_versions_and_delete_markers(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"null-version")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and len(v1) == 32
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"null-version"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    out = s3.delete_object(Bucket=bucket, Key="k")
    assert out["DeleteMarker"] is True
    marker = out["VersionId"]
    resp = expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="k")
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    expect_error("405", 405, s3.head_object, Bucket=bucket, Key="k", VersionId=marker)
    expect_error("MethodNotAllowed", 405, s3.get_object, Bucket=bucket, Key="k", VersionId=marker)
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket=bucket, Key="k", VersionId="A" * 32)
    expect_error("InvalidArgument", 400, s3.get_object, Bucket=bucket, Key="k", VersionId="bad-id")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    versions = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in versions["Versions"]] == [v2, v1, "null"]
    assert [(m["VersionId"], m["IsLatest"]) for m in versions["DeleteMarkers"]] == [(marker, True)]
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=bucket)
    # Removing the delete marker restores the object.
    out = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert out["DeleteMarker"] is True and out["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


def test_suspended_versioning_null_version(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    out = s3.put_object(Bucket=bucket, Key="k", Body=b"null1")
    assert out.get("VersionId") is None or out["VersionId"] == "null"
    s3.put_object(Bucket=bucket, Key="k", Body=b"null2")  # overwrites the null version
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", v1]
    assert s3.get_object(Bucket=bucket, Key="k")["VersionId"] == "null"
    out = s3.delete_object(Bucket=bucket, Key="k")
    assert out["DeleteMarker"] is True and out["VersionId"] == "null"
    listing = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listing["Versions"]] == [v1]
    assert [m["VersionId"] for m in listing["DeleteMarkers"]] == ["null"]


def test_list_object_versions_paging(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=bucket, Key="a", Body=b"x")["VersionId"] for _ in range(3)]
    ids_b = [s3.put_object(Bucket=bucket, Key="b", Body=b"x")["VersionId"] for _ in range(2)]
    page = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert [v["VersionId"] for v in page["Versions"]] == [ids[2], ids[1]]
    assert page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextVersionIdMarker"]) == ("a", ids[1])
    page2 = s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker=ids[1])
    assert [(v["Key"], v["VersionId"]) for v in page2["Versions"]] == [("a", ids[0]), ("b", ids_b[1]), ("b", ids_b[0])]
    assert page2["IsTruncated"] is False
    all_ids = [v["VersionId"] for p in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, MaxKeys=1) for v in p.get("Versions", [])]
    assert all_ids == [ids[2], ids[1], ids[0], ids_b[1], ids_b[0]]


def test_delete_objects_with_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert out["Deleted"][0]["DeleteMarker"] is True and out["Deleted"][0]["DeleteMarkerVersionId"]
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert out["Deleted"][0]["VersionId"] == v
    versions = s3.list_object_versions(Bucket=bucket)
    assert "Versions" not in versions and len(versions["DeleteMarkers"]) == 1
