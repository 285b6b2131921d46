"""S3 buckets end to end: naming rules, location constraints, ownership conflicts, listing pages,
deletion of non-empty buckets, and GetBucketLocation's bare root element."""

from __future__ import annotations

import pytest

from . import rsutil
from .s3util import expect_error, new_bucket_name


@pytest.fixture
def s3(client):
    return client("s3")


def test_create_head_list_delete(s3):
    name = new_bucket_name()
    out = s3.create_bucket(Bucket=name)
    assert out["Location"] == f"/{name}"
    head = s3.head_bucket(Bucket=name)
    assert head["BucketRegion"] == "us-east-1"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert name in names
    s3.delete_bucket(Bucket=name)
    expect_error("404", 404, s3.head_bucket, Bucket=name)
    expect_error("NoSuchBucket", 404, s3.delete_bucket, Bucket=name, message="The specified bucket does not exist")


@pytest.mark.parametrize(
    "bad",
    ["ab", "a" * 64, "Upper", "under_score", "-start", "end-", "double..dot", "192.168.5.4", "xn--punycode", "x-s3alias"],
)
def test_invalid_bucket_names(s3, bad):
    resp = expect_error("InvalidBucketName", 400, s3.create_bucket, Bucket=bad, message="The specified bucket is not valid.")
    assert resp["Error"]["BucketName"] == bad


def test_location_constraint_rules(s3, client):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
    # Owned by us outside us-east-1: 409.
    expect_error(
        "BucketAlreadyOwnedByYou", 409, s3.create_bucket, Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    # Explicit us-east-1 is not a valid constraint.
    expect_error(
        "InvalidLocationConstraint", 400, s3.create_bucket, Bucket=new_bucket_name(),
        CreateBucketConfiguration={"LocationConstraint": "us-east-1"},
    )
    expect_error(
        "InvalidLocationConstraint", 400, s3.create_bucket, Bucket=new_bucket_name(),
        CreateBucketConfiguration={"LocationConstraint": "moon-1"},
    )
    # A regional endpoint wants its own region as the constraint.
    west = client("s3", region_name="us-west-2")
    expect_error("IllegalLocationConstraintException", 400, west.create_bucket, Bucket=new_bucket_name())
    expect_error(
        "IllegalLocationConstraintException", 400, west.create_bucket, Bucket=new_bucket_name(),
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    # Even us-east-1 or an unknown region is "incompatible" there, not "not valid".
    for constraint in ("us-east-1", "us-gov-east-2"):
        expect_error(
            "IllegalLocationConstraintException", 400, west.create_bucket, Bucket=new_bucket_name(),
            CreateBucketConfiguration={"LocationConstraint": constraint},
            message=f"The {constraint} location constraint is incompatible for the region specific endpoint this request was sent to.",
        )
    ok = new_bucket_name()
    west.create_bucket(Bucket=ok, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert west.get_bucket_location(Bucket=ok)["LocationConstraint"] == "us-west-2"


def test_us_east_1_recreate_is_ok_and_other_accounts_conflict(s3, client):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)  # us-east-1's legacy 200
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    other = client("s3", aws_access_key_id="111111111111")
    resp = expect_error("BucketAlreadyExists", 409, other.create_bucket, Bucket=name)
    assert resp["Error"]["BucketName"] == name
    # Another account does not see the bucket in its list.
    assert name not in [b["Name"] for b in other.list_buckets()["Buckets"]]


def test_get_bucket_location_document_root(s3, ruststack):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    r = rsutil.request(ruststack.port, "GET", f"/{name}?location")
    assert r.status == 200
    assert rsutil.xml_root(r.body) == "LocationConstraint"
    assert rsutil.xml_find(r.body, "LocationConstraint") == "ap-south-1"
    us = new_bucket_name()
    s3.create_bucket(Bucket=us)
    r = rsutil.request(ruststack.port, "GET", f"/{us}?location")
    assert rsutil.xml_root(r.body) == "LocationConstraint"
    assert rsutil.xml_find(r.body, "LocationConstraint") == ""


def test_delete_non_empty_bucket(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    resp = expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=name, message="The bucket you tried to delete is not empty")
    assert resp["Error"]["BucketName"] == name
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)


def test_list_buckets_prefix_and_pages(client, ruststack):
    s3 = client("s3", aws_access_key_id="222222222222")
    tag = new_bucket_name("lb")
    names = sorted(f"{tag}-{i}" for i in range(5))
    for n in names:
        s3.create_bucket(Bucket=n)
    out = s3.list_buckets(Prefix=tag)
    assert [b["Name"] for b in out["Buckets"]] == names
    assert out["Prefix"] == tag
    assert out["Owner"]["ID"]
    seen, token = [], None
    while True:
        kw = {"Prefix": tag, "MaxBuckets": 2}
        if token:
            kw["ContinuationToken"] = token
        page = s3.list_buckets(**kw)
        seen += [b["Name"] for b in page["Buckets"]]
        assert len(page["Buckets"]) <= 2
        token = page.get("ContinuationToken")
        if not token:
            break
    assert seen == names
    r = rsutil.request(ruststack.port, "GET", "/?max-buckets=0")
    assert r.status == 400 and rsutil.xml_find(r.body, "Code") == "InvalidArgument"
    expect_error("InvalidArgument", 400, s3.list_buckets, ContinuationToken="!!!")


def test_versioning_configuration(s3):
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    out = s3.get_bucket_versioning(Bucket=name)
    assert "Status" not in out
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    expect_error("MalformedXML", 400, s3.put_bucket_versioning, Bucket=name, VersioningConfiguration={"Status": "On"})
    expect_error("NoSuchBucket", 404, s3.get_bucket_versioning, Bucket=new_bucket_name())
