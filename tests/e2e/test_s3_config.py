"""S3 bucket sub-resources end to end: each stored and returned as put, with AWS's defaults for new
buckets and AWS's error when one is absent or malformed."""

from __future__ import annotations

import json

import pytest

from .s3util import expect_error, new_bucket_name

OWNER_ID = "0" * 52 + "000000000000"


@pytest.fixture
def s3(client):
    return client("s3")


@pytest.fixture
def bucket(s3):
    name = new_bucket_name("cfg")
    s3.create_bucket(Bucket=name)
    return name


def test_bucket_tagging(s3, bucket):
    resp = expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket, message="The TagSet does not exist")
    assert resp["Error"]["BucketName"] == bucket
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": ""}]
    put = s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    expect_error(
        "InvalidTag", 400, s3.put_bucket_tagging, Bucket=bucket,
        Tagging={"TagSet": [{"Key": "aws:team", "Value": "x"}]},
        message="System tags cannot be added/updated by requester",
    )
    # An empty tag set removes the tagging.
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    expect_error(
        "InvalidTag", 400, s3.put_bucket_tagging, Bucket=bucket,
        Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]},
        message="Cannot provide multiple Tags with the same key",
    )
    s3.delete_bucket_tagging(Bucket=bucket)
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket)
    expect_error("NoSuchBucket", 404, s3.get_bucket_tagging, Bucket=new_bucket_name())


def test_bucket_cors(s3, bucket):
    resp = expect_error(
        "NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=bucket,
        message="The CORS configuration does not exist",
    )
    assert resp["Error"]["BucketName"] == bucket
    rules = [
        {
            "ID": "web",
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedOrigins": ["https://app.example.com"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300,
        },
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
    ]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    expect_error(
        "InvalidRequest", 400, s3.put_bucket_cors, Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]},
        message="Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
    )
    expect_error(
        "InvalidRequest", 400, s3.put_bucket_cors, Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://*.*.com"]}]},
        message='AllowedOrigin "https://*.*.com" can not have more than one wildcard.',
    )
    s3.delete_bucket_cors(Bucket=bucket)
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=bucket)


def public_policy(bucket: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        }],
    })


def test_bucket_policy(s3, bucket):
    resp = expect_error(
        "NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=bucket, message="The bucket policy does not exist"
    )
    assert resp["Error"]["BucketName"] == bucket
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy_status, Bucket=bucket)
    private = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"],
        }],
    })
    s3.put_bucket_policy(Bucket=bucket, Policy=private)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == private
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": False}
    expect_error(
        "MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy="not json",
        message="Policies must be valid JSON and the first byte must be '{'",
    )
    expect_error(
        "MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy='{"Version": "2012-10-17"}',
        message="Missing required field Statement",
    )
    expect_error(
        "MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket,
        Policy=public_policy("some-other-bucket"), message="Policy has invalid resource",
    )
    # New buckets block public policies until the public access block is lifted.
    resp = expect_error("AccessDenied", 403, s3.put_bucket_policy, Bucket=bucket, Policy=public_policy(bucket))
    assert "BlockPublicPolicy" in resp["Error"]["Message"]
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_policy(bucket))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"] == {"IsPublic": True}
    s3.delete_bucket_policy(Bucket=bucket)
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=bucket)


def test_bucket_acl_defaults_and_ownership(s3, bucket):
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"]["ID"] == OWNER_ID
    assert acl["Grants"] == [{
        "Grantee": {"ID": OWNER_ID, "DisplayName": "webfile", "Type": "CanonicalUser"},
        "Permission": "FULL_CONTROL",
    }]
    # New buckets enforce bucket ownership: ACLs beyond the owner's are refused.
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    expect_error(
        "AccessControlListNotSupported", 400, s3.put_bucket_acl, Bucket=bucket, ACL="public-read",
        message="The bucket does not allow ACLs",
    )
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    expect_error(
        "InvalidBucketAclWithObjectOwnership", 400, s3.create_bucket, Bucket=new_bucket_name(), ACL="public-read",
        message="Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    )


def test_bucket_and_object_acls(s3):
    bucket = new_bucket_name("acl")
    s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerPreferred")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ"} in grants
    assert len(grants) == 2
    s3.put_bucket_acl(
        Bucket=bucket,
        AccessControlPolicy={
            "Owner": {"ID": OWNER_ID},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
                 "Permission": "WRITE"},
            ],
        },
    )
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL", "WRITE"]
    assert grants[0]["Grantee"]["DisplayName"] == "webfile"
    expect_error(
        "InvalidRequest", 400, s3.put_bucket_acl, Bucket=bucket, ACL="private", GrantRead=f'id="{OWNER_ID}"',
        message="Specifying both Canned ACLs and Header Grants is not allowed",
    )
    expect_error(
        "InvalidArgument", 400, s3.put_bucket_acl, Bucket=bucket, GrantRead='uri="http://example.com/group"',
        message="Invalid group uri",
    )
    expect_error("InvalidArgument", 400, s3.put_bucket_acl, Bucket=bucket, ACL="everyone-please")
    expect_error(
        "MalformedACLError", 400, s3.put_bucket_acl, Bucket=bucket,
        AccessControlPolicy={"Owner": {"ID": OWNER_ID}, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID}, "Permission": "EVERYTHING"}]},
    )

    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="authenticated-read")
    grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert grants[1] == {
        "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
        "Permission": "READ",
    }
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="private")
    assert len(s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]) == 1
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert s3.get_object_acl(Bucket=bucket, Key="plain")["Grants"][0]["Permission"] == "FULL_CONTROL"
    expect_error("NoSuchKey", 404, s3.get_object_acl, Bucket=bucket, Key="missing")
    # Public ACLs are refused while the public access block asks for it.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    expect_error("AccessDenied", 403, s3.put_object_acl, Bucket=bucket, Key="k", ACL="public-read")


def test_object_acl_refused_when_acls_disabled(s3, bucket):
    expect_error(
        "AccessControlListNotSupported", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"x", ACL="public-read"
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    expect_error("AccessControlListNotSupported", 400, s3.put_object_acl, Bucket=bucket, Key="k", ACL="public-read")


def test_ownership_controls(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}
    ]
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    resp = expect_error(
        "OwnershipControlsNotFoundError", 404, s3.get_bucket_ownership_controls, Bucket=bucket,
        message="The bucket ownership controls were not found",
    )
    assert resp["Error"]["BucketName"] == bucket
    expect_error(
        "MalformedXML", 400, s3.put_bucket_ownership_controls, Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "Nobody"}]},
    )
    # Without ownership controls ACLs apply again.
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    expect_error(
        "InvalidBucketAclWithObjectOwnership", 400, s3.put_bucket_ownership_controls, Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )


def test_public_access_block(s3, bucket):
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    }
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False,
    }
    s3.delete_public_access_block(Bucket=bucket)
    resp = expect_error(
        "NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block, Bucket=bucket,
        message="The public access block configuration was not found",
    )
    assert resp["Error"]["BucketName"] == bucket


def test_lifecycle(s3, bucket):
    resp = expect_error(
        "NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket,
        message="The lifecycle configuration does not exist",
    )
    assert resp["Error"]["BucketName"] == bucket
    rules = [
        {"ID": "expire-logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}},
        {"ID": "archive", "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "tier", "Value": "cold"}]}},
         "Status": "Disabled", "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}],
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    ]
    out = s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert out["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == rules
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    expect_error(
        "InvalidArgument", 400, s3.put_bucket_lifecycle_configuration, Bucket=bucket,
        LifecycleConfiguration={"Rules": [rules[0], rules[0]]},
        message="Rule ID must be unique. Found same ID for more than one rule",
    )
    expect_error(
        "InvalidArgument", 400, s3.put_bucket_lifecycle_configuration, Bucket=bucket,
        LifecycleConfiguration={"Rules": [{"Filter": {}, "Status": "Enabled", "Expiration": {"Days": 0}}]},
        message="'Days' for Expiration action must be a positive integer",
    )
    expect_error(
        "MalformedXML", 400, s3.put_bucket_lifecycle_configuration, Bucket=bucket,
        LifecycleConfiguration={"Rules": [{"Filter": {}, "Status": "On", "Expiration": {"Days": 1}}]},
    )
    expect_error(
        "InvalidRequest", 400, s3.put_bucket_lifecycle_configuration, Bucket=bucket,
        LifecycleConfiguration={"Rules": [{"Filter": {}, "Status": "Enabled"}]},
        message="At least one action needs to be specified in a rule",
    )
    s3.delete_bucket_lifecycle(Bucket=bucket)
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)


def test_default_encryption(s3, bucket):
    default = {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
    }
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/k"},
                      "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == kms
    # New objects take the bucket's default encryption.
    out = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert out["ServerSideEncryption"] == "aws:kms"
    assert out["SSEKMSKeyId"] == "alias/k"
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "aws:kms"
    expect_error(
        "MalformedXML", 400, s3.put_bucket_encryption, Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "ROT13"}}]},
    )
    # Deleting restores SSE-S3, as AWS does: there is no unencrypted bucket.
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default


def test_website(s3, bucket):
    resp = expect_error(
        "NoSuchWebsiteConfiguration", 404, s3.get_bucket_website, Bucket=bucket,
        message="The specified bucket does not have a website configuration",
    )
    assert resp["Error"]["BucketName"] == bucket
    config = {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/"},
                          "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "301"}}],
    }
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
    got = s3.get_bucket_website(Bucket=bucket)
    assert {k: got[k] for k in config} == config
    expect_error(
        "InvalidArgument", 400, s3.put_bucket_website, Bucket=bucket,
        WebsiteConfiguration={"ErrorDocument": {"Key": "e.html"}},
        message="A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
    )
    s3.put_bucket_website(
        Bucket=bucket, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}}
    )
    assert s3.get_bucket_website(Bucket=bucket)["RedirectAllRequestsTo"] == {
        "HostName": "example.com", "Protocol": "https"
    }
    s3.delete_bucket_website(Bucket=bucket)
    expect_error("NoSuchWebsiteConfiguration", 404, s3.get_bucket_website, Bucket=bucket)


def test_notification_configuration(s3, bucket):
    empty = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [k for k in empty if k != "ResponseMetadata"] == []
    config = {
        "QueueConfigurations": [{
            "Id": "q", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:events",
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
        }],
        "EventBridgeConfiguration": {},
    }
    # The queue does not exist: stored only when destinations are not validated.
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=config, SkipDestinationValidation=True)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    config["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"][0]["Name"] = "Prefix"  # as AWS stores it
    assert got["QueueConfigurations"] == config["QueueConfigurations"]
    assert got["EventBridgeConfiguration"] == {}
    expect_error(
        "InvalidArgument", 400, s3.put_bucket_notification_configuration, Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:events", "Events": ["ObjectCreated"]}]},
    )


def test_object_lock_configuration(s3, bucket):
    resp = expect_error(
        "ObjectLockConfigurationNotFoundError", 404, s3.get_object_lock_configuration, Bucket=bucket,
        message="Object Lock configuration does not exist for this bucket",
    )
    assert resp["Error"]["BucketName"] == bucket
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    expect_error(
        "InvalidBucketState", 409, s3.put_object_lock_configuration, Bucket=bucket,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule},
        message="Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
    )

    locked = new_bucket_name("lock")
    s3.create_bucket(Bucket=locked, ObjectLockEnabledForBucket=True)
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule})
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": rule,
    }
    expect_error(
        "MalformedXML", 400, s3.put_object_lock_configuration, Bucket=locked,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                 "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}},
    )
    expect_error(
        "InvalidBucketState", 409, s3.put_bucket_versioning, Bucket=locked,
        VersioningConfiguration={"Status": "Suspended"},
    )


def test_accelerate_request_payment_logging(s3, bucket):
    got = s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert "Status" not in got
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    expect_error(
        "MalformedXML", 400, s3.put_bucket_accelerate_configuration, Bucket=bucket,
        AccelerateConfiguration={"Status": "Fast"},
    )
    dotted = new_bucket_name("acc") + ".dots"
    s3.create_bucket(Bucket=dotted)
    expect_error(
        "InvalidRequest", 400, s3.put_bucket_accelerate_configuration, Bucket=dotted,
        AccelerateConfiguration={"Status": "Enabled"},
        message="S3 Transfer Acceleration is not supported for buckets with periods (.) in their names",
    )

    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"

    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    target = new_bucket_name("logs")
    s3.create_bucket(Bucket=target)
    enabled = {"TargetBucket": target, "TargetPrefix": "access/"}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": enabled})
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == enabled
    resp = expect_error(
        "InvalidTargetBucketForLogging", 400, s3.put_bucket_logging, Bucket=bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": new_bucket_name(), "TargetPrefix": ""}},
        message="The target bucket for logging does not exist",
    )
    assert "TargetBucket" in resp["Error"]
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
