"""S3 with `--data-dir`: objects (single and multipart), versions, uploads in progress, bucket
configuration and path-traversal keys survive a SIGKILL and read back byte for byte; a crash in
the middle of eight concurrent writers loses nothing acknowledged and leaves nothing half-written."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import threading
import time
from pathlib import Path

from botocore.config import Config

from .conftest import make_client

TRAVERSAL_KEYS = [
    "../../etc/passwd",
    "a/../../b",
    "%2F..",
    "..%2F..%2Fescape",
    "/leading/slash",
    "k" * 1024,
    "ünïcödé/日本語/🙂 key",
]

MIB = 1024 * 1024


def traversal_body(key: str) -> bytes:
    """Small bodies (kept in the database) for some keys, large ones (blob files) for the others."""
    return key.encode() * (1 if len(key) % 2 else 50_000 // len(key.encode()) + 1)


def s3_client(server):
    return make_client("s3", server.endpoint, config=Config(s3={"addressing_style": "path"}))


def body_of(s3, bucket: str, key: str, **kw) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def head_of(s3, bucket: str, key: str, **kw) -> dict:
    h = s3.head_object(Bucket=bucket, Key=key, **kw)
    return {k: h.get(k) for k in ("ETag", "ContentLength", "ContentType", "Metadata", "VersionId", "PartsCount",
                                  "CacheControl", "LastModified", "StorageClass")}


def snapshot(s3, bucket: str, versioned: str, keys: list[str], upload_id: str) -> dict:
    """Everything the API tells about the data written by the test."""
    out: dict = {"objects": {}}
    for key in keys:
        out["objects"][key] = {
            "sha": hashlib.sha256(body_of(s3, bucket, key)).hexdigest(),
            "head": head_of(s3, bucket, key),
            "tags": s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"],
        }
    listing = s3.list_objects_v2(Bucket=bucket)
    out["listing"] = [(o["Key"], o["ETag"], o["Size"]) for o in listing.get("Contents", [])]
    versions = s3.list_object_versions(Bucket=versioned)
    out["versions"] = [(v["Key"], v["VersionId"], v["ETag"], v["IsLatest"]) for v in versions.get("Versions", [])]
    out["markers"] = [(m["Key"], m["VersionId"], m["IsLatest"]) for m in versions.get("DeleteMarkers", [])]
    out["version_bodies"] = {
        v[1]: body_of(s3, versioned, v[0], VersionId=v[1]).decode() for v in out["versions"]
    }
    out["versioning"] = s3.get_bucket_versioning(Bucket=versioned)["Status"]
    out["tagging"] = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    out["cors"] = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    out["policy"] = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    out["uploads"] = [(u["Key"], u["UploadId"]) for u in uploads]
    parts = s3.list_parts(Bucket=bucket, Key="pending", UploadId=upload_id).get("Parts", [])
    out["parts"] = [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts]
    out["buckets"] = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    return out


def test_objects_versions_uploads_and_config_survive_a_sigkill(start_server, tmp_path):
    data = tmp_path / "state"
    server = start_server("--data-dir", str(data))
    s3 = s3_client(server)
    bucket, versioned = "persist-main", "persist-versions"
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=versioned)

    # A single PutObject with headers, metadata and tags.
    single = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="single.bin", Body=single, ContentType="application/x-test",
                  CacheControl="max-age=60", Metadata={"Owner": "me"}, Tagging="a=1&b=2")
    # A completed multipart upload (5 MiB + a tail).
    parts_data = [os.urandom(5 * MIB), os.urandom(1234)]
    mp = s3.create_multipart_upload(Bucket=bucket, Key="multi.bin", ContentType="video/mp4")
    etags = [
        s3.upload_part(Bucket=bucket, Key="multi.bin", UploadId=mp["UploadId"], PartNumber=i + 1, Body=d)["ETag"]
        for i, d in enumerate(parts_data)
    ]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="multi.bin", UploadId=mp["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
    )
    # An upload still in progress, with a replaced part.
    pending = s3.create_multipart_upload(Bucket=bucket, Key="pending")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=1, Body=b"first try")
    second_try = b"second try" * (5 * MIB // 10 + 1)
    s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=1, Body=second_try)
    s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=3, Body=b"three")
    # An overwritten key, a copy, and a deleted key.
    s3.put_object(Bucket=bucket, Key="overwritten", Body=b"old")
    s3.put_object(Bucket=bucket, Key="overwritten", Body=b"new")
    s3.copy_object(Bucket=bucket, Key="copy.bin", CopySource={"Bucket": bucket, "Key": "single.bin"})
    s3.put_object(Bucket=bucket, Key="deleted", Body=b"gone")
    s3.delete_object(Bucket=bucket, Key="deleted")
    for key in TRAVERSAL_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=traversal_body(key))
    # Bucket configuration.
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]})
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://example.com"], "MaxAgeSeconds": 300}]})
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    # Versions: three puts, one deleted by id, then a delete marker.
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=versioned, Key="doc", Body=f"v{i}".encode())["VersionId"] for i in range(3)]
    s3.delete_object(Bucket=versioned, Key="doc", VersionId=ids[1])
    s3.put_object(Bucket=versioned, Key="other", Body=b"kept")
    s3.delete_object(Bucket=versioned, Key="other")

    keys = ["single.bin", "multi.bin", "overwritten", "copy.bin", *TRAVERSAL_KEYS]
    before = snapshot(s3, bucket, versioned, keys, pending)
    assert before["objects"]["single.bin"]["sha"] == hashlib.sha256(single).hexdigest()
    assert before["objects"]["multi.bin"]["sha"] == hashlib.sha256(b"".join(parts_data)).hexdigest()
    assert before["version_bodies"] == {ids[0]: "v0", ids[2]: "v2", before["versions"][-1][1]: "kept"}
    assert before["parts"][0][2] == len(second_try)

    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", str(data))
    s3 = s3_client(server)
    after = snapshot(s3, bucket, versioned, keys, pending)
    assert after == before
    for key in TRAVERSAL_KEYS:
        assert body_of(s3, bucket, key) == traversal_body(key)
    assert body_of(s3, bucket, "multi.bin", PartNumber=2) == parts_data[1]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="deleted").get("KeyCount") == 0

    # The pending upload completes after the restart.
    listed = s3.list_parts(Bucket=bucket, Key="pending", UploadId=pending)["Parts"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="pending", UploadId=pending,
        MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]},
    )
    assert body_of(s3, bucket, "pending") == second_try + b"three"

    # Keys never became paths: nothing escaped DIR, and blob files are named by ids.
    assert not (tmp_path / "etc").exists() and not (tmp_path / "b").exists()
    for path in data.rglob("*"):
        assert data in path.parents
        if path.is_file() and "blobs" in path.parts:
            assert all(c in "0123456789abcdef" for c in path.name), path


def test_deleted_data_is_gone_after_a_restart(start_server, tmp_path):
    data = tmp_path / "state"
    server = start_server("--data-dir", str(data))
    s3 = s3_client(server)
    s3.create_bucket(Bucket="short-lived")
    for key, size in (("big", 100_000), ("small", 1000)):
        s3.put_object(Bucket="short-lived", Key=key, Body=b"x" * size)
    aborted = s3.create_multipart_upload(Bucket="short-lived", Key="k2")["UploadId"]
    s3.upload_part(Bucket="short-lived", Key="k2", UploadId=aborted, PartNumber=1, Body=b"p" * 100_000)
    s3.upload_part(Bucket="short-lived", Key="k2", UploadId=aborted, PartNumber=2, Body=b"p" * 1000)
    s3.abort_multipart_upload(Bucket="short-lived", Key="k2", UploadId=aborted)
    assert len([p for p in (data / "objects" / "blobs").rglob("*") if p.is_file()]) == 1
    s3.delete_objects(Bucket="short-lived", Delete={"Objects": [{"Key": "big"}, {"Key": "small"}]})
    s3.delete_bucket(Bucket="short-lived")
    blobs = [p for p in (data / "objects" / "blobs").rglob("*") if p.is_file()]
    assert blobs == [], "deleted objects and aborted parts leave no blob behind"
    with sqlite3.connect(f"file:{data / 'kv.sqlite'}?mode=ro", uri=True) as con:
        rows = con.execute("SELECT tree, count(*) FROM kv WHERE tree LIKE 's3/%' GROUP BY tree").fetchall()
    assert rows == [], "nothing of the bucket is left in the database"

    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", str(data))
    s3 = s3_client(server)
    assert "short-lived" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.create_bucket(Bucket="short-lived")
    assert s3.list_objects_v2(Bucket="short-lived")["KeyCount"] == 0
    assert s3.list_multipart_uploads(Bucket="short-lived").get("Uploads") is None


def test_eight_writers_crash_loses_nothing_acknowledged(start_server, tmp_path):
    data = tmp_path / "state"
    server = start_server("--data-dir", str(data))
    setup = s3_client(server)
    bucket = "crash-test"
    setup.create_bucket(Bucket=bucket)

    attempted: dict[str, set[str]] = {}  # key → digests of every body a writer sent for it
    acked: dict[str, str] = {}  # key → digest of the last acknowledged body (unique keys only)
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int):
        s3 = s3_client(server)
        rng = random.Random(n)
        i = 0
        while not stop.is_set():
            shared = i % 5 == 4
            key = "shared" if shared else f"w{n}/{i:05d}"
            body = rng.randbytes(rng.choice([1, 100, 4096, 70_000, 300_000]))
            digest = hashlib.sha256(body).hexdigest()
            with lock:
                attempted.setdefault(key, set()).add(digest)
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
            except Exception:
                return
            if not shared:
                with lock:
                    acked[key] = digest
            i += 1

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(random.uniform(1.0, 2.5))
    server.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acked) > 20, "the writers barely wrote anything before the kill"

    server = start_server("--data-dir", str(data))
    s3 = s3_client(server)
    stored = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            stored[o["Key"]] = o["Size"]
    missing = sorted(set(acked) - set(stored))
    assert missing == [], f"acknowledged writes lost: {missing[:10]}"
    for key in stored:
        digest = hashlib.sha256(body_of(s3, bucket, key)).hexdigest()
        assert key in attempted, key
        assert digest in attempted[key], f"{key} is not a body any writer sent (half-written?)"
        if key in acked:
            assert digest == acked[key], key
    # Nothing left in the temporary directory of blobs being written.
    assert list((data / "objects" / "tmp").iterdir()) == []
