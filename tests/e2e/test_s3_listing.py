"""S3 listings end to end: ListObjectsV2 and ListObjects (v1) with prefixes, delimiters, markers,
tokens and URL encoding, in UTF-8 binary order, and paging over 10 000 keys."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config

from . import rsutil
from .s3util import expect_error, new_bucket_name


@pytest.fixture
def s3(client):
    return client("s3")


@pytest.fixture
def tree(s3):
    name = new_bucket_name("ls")
    s3.create_bucket(Bucket=name)
    keys = ["a/1", "a/2", "a/b/3", "b", "c/x", "c/y", "d", "é", "Z", "a b"]
    for k in keys:
        s3.put_object(Bucket=name, Key=k, Body=b"x")
    return name, sorted(keys, key=lambda k: k.encode())


def test_binary_order_and_fields(s3, tree):
    name, keys = tree
    out = s3.list_objects_v2(Bucket=name)
    assert [o["Key"] for o in out["Contents"]] == keys
    assert out["KeyCount"] == len(keys)
    assert out["IsTruncated"] is False
    assert out["MaxKeys"] == 1000
    first = out["Contents"][0]
    assert first["Size"] == 1 and first["StorageClass"] == "STANDARD" and first["ETag"].startswith('"')
    assert "Owner" not in first
    assert "Owner" in s3.list_objects_v2(Bucket=name, FetchOwner=True)["Contents"][0]
    assert "Owner" in s3.list_objects(Bucket=name)["Contents"][0]


def test_delimiter_and_prefix(s3, tree):
    name, _ = tree
    out = s3.list_objects_v2(Bucket=name, Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/", "c/"]
    assert [o["Key"] for o in out["Contents"]] == ["Z", "a b", "b", "d", "é"]
    assert out["KeyCount"] == 7
    out = s3.list_objects_v2(Bucket=name, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in out["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/b/"]
    out = s3.list_objects_v2(Bucket=name, Prefix="nothing")
    assert "Contents" not in out and out["KeyCount"] == 0


def test_pages_with_tokens_and_prefixes(s3, tree):
    name, _ = tree
    seen, token = [], None
    while True:
        kw = {"Bucket": name, "Delimiter": "/", "MaxKeys": 2}
        if token:
            kw["ContinuationToken"] = token
        page = s3.list_objects_v2(**kw)
        assert page["KeyCount"] <= 2
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])] + [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        token = page["NextContinuationToken"]
    assert sorted(seen, key=str.encode) == ["Z", "a b", "a/", "b", "c/", "d", "é"]
    out = s3.list_objects_v2(Bucket=name, StartAfter="c/x")
    assert [o["Key"] for o in out["Contents"]] == ["c/y", "d", "é"]
    assert out["StartAfter"] == "c/x"
    expect_error("InvalidArgument", 400, s3.list_objects_v2, Bucket=name, ContinuationToken="%%%")


def test_list_objects_v1_markers(s3, tree):
    name, keys = tree
    out = s3.list_objects(Bucket=name, MaxKeys=3)
    assert [o["Key"] for o in out["Contents"]] == keys[:3]
    assert out["IsTruncated"] is True
    assert "NextMarker" not in out  # only with a delimiter
    out = s3.list_objects(Bucket=name, Marker=keys[2])
    assert [o["Key"] for o in out["Contents"]] == keys[3:]
    out = s3.list_objects(Bucket=name, Delimiter="/", MaxKeys=2)
    assert out["IsTruncated"] is True and out["NextMarker"] == "a b"
    out2 = s3.list_objects(Bucket=name, Delimiter="/", Marker=out["NextMarker"], MaxKeys=2)
    assert [p["Prefix"] for p in out2["CommonPrefixes"]] == ["a/"]
    assert [o["Key"] for o in out2["Contents"]] == ["b"]
    out3 = s3.list_objects(Bucket=name, Delimiter="/", Marker=out2["NextMarker"])
    assert out2["NextMarker"] == "b"
    assert [p["Prefix"] for p in out3["CommonPrefixes"]] == ["c/"]
    assert [o["Key"] for o in out3["Contents"]] == ["d", "é"]
    assert out3["IsTruncated"] is False and "NextMarker" not in out3
    # A marker inside a common prefix continues after the whole group.
    out4 = s3.list_objects(Bucket=name, Delimiter="/", Marker="a/")
    assert "a/" not in [p["Prefix"] for p in out4.get("CommonPrefixes", [])]


def test_encoding_type_url(s3, tree, ruststack):
    name, _ = tree
    r = rsutil.request(ruststack.port, "GET", f"/{name}?list-type=2&encoding-type=url&prefix=a%20")
    assert r.status == 200
    assert rsutil.xml_find(r.body, "Key") == "a+b"
    r = rsutil.request(ruststack.port, "GET", f"/{name}?list-type=2&prefix=a%20")
    assert rsutil.xml_find(r.body, "Key") == "a b"
    r = rsutil.request(ruststack.port, "GET", f"/{name}?list-type=2&encoding-type=bogus")
    assert r.status == 400 and rsutil.xml_find(r.body, "Code") == "InvalidArgument"
    # boto3 asks for url encoding and decodes it back.
    out = s3.list_objects_v2(Bucket=name, Prefix="é")
    assert [o["Key"] for o in out["Contents"]] == ["é"]


def test_missing_bucket(s3):
    expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket=new_bucket_name())
    expect_error("NoSuchBucket", 404, s3.list_objects, Bucket=new_bucket_name())


def test_paging_over_ten_thousand_keys(client):
    s3 = client("s3", config=Config(max_pool_connections=32))
    name = new_bucket_name("big")
    s3.create_bucket(Bucket=name)
    keys = [f"k/{i:05d}" for i in range(10_050)]
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=name, Key=k, Body=b""), keys))
    started = time.monotonic()
    seen = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        assert page["KeyCount"] <= 1000
        seen += [o["Key"] for o in page["Contents"]]
    elapsed = time.monotonic() - started
    assert seen == keys
    print(f"paged {len(seen)} keys in {elapsed:.2f}s")
    v1 = [o["Key"] for page in s3.get_paginator("list_objects").paginate(Bucket=name) for o in page["Contents"]]
    assert v1 == keys
    grouped = s3.list_objects_v2(Bucket=name, Delimiter="/")
    assert grouped["CommonPrefixes"] == [{"Prefix": "k/"}] and grouped["KeyCount"] == 1
