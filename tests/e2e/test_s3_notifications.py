"""S3 event notifications delivered to SQS, SNS and Lambda, in the documented event structure.

Configurations are checked as AWS checks them (events, filters, overlaps, destinations that
exist), a test event goes to queues and topics, and object events arrive in commit order.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from .lambda_fixtures.zips import make_zip
from .test_s3_post import form_post
from .s3util import error_of, expect_error, new_bucket_name
from .rsutil import unique

REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def s3(client):
    return client("s3")


@pytest.fixture
def sqs(client):
    return client("sqs")


@pytest.fixture
def bucket(s3):
    name = new_bucket_name("notif")
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def queue(sqs):
    url = sqs.create_queue(QueueName=unique("s3-events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield url, arn
    sqs.delete_queue(QueueUrl=url)


def receive(sqs, url: str, timeout: float = 10.0) -> dict:
    """The next message's body as JSON (deleted once read)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return json.loads(got[0]["Body"])
    raise AssertionError("no message arrived")


def assert_empty(sqs, url: str):
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert got == [], [m["Body"] for m in got]


def configure_queue(s3, sqs, bucket, queue_arn, url, events, filter_rules=None, config_id="events"):
    config = {"Id": config_id, "QueueArn": queue_arn, "Events": events}
    if filter_rules:
        config["Filter"] = {"Key": {"FilterRules": filter_rules}}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [config]})
    assert receive(sqs, url)["Event"] == "s3:TestEvent"


def test_configuring_a_queue_sends_a_test_event(s3, sqs, bucket, queue):
    url, arn = queue
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                       "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]}
    out = s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    event = receive(sqs, url)
    assert list(event) == ["Service", "Event", "Time", "Bucket", "RequestId", "HostId"]
    assert event["Service"] == "Amazon S3"
    assert event["Event"] == "s3:TestEvent"
    assert event["Bucket"] == bucket
    assert event["RequestId"] == out["ResponseMetadata"]["RequestId"]
    assert ISO_MILLIS.match(event["Time"]), event["Time"]
    assert event["HostId"]
    # AWS stores what it checked: a generated Id, and rule names as `Prefix`/`Suffix`.
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert len(got) == 1 and got[0]["Id"]
    assert got[0]["Filter"] == {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}]}}
    assert_empty(sqs, url)


def test_created_and_removed_events_carry_the_documented_fields(s3, sqs, bucket, queue):
    url, arn = queue
    configure_queue(s3, sqs, bucket, arn, url, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    key = "a b/ü.txt"
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"hello")
    event = receive(sqs, url)
    assert list(event) == ["Records"] and len(event["Records"]) == 1
    record = event["Records"][0]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == REGION
    assert ISO_MILLIS.match(record["eventTime"]), record["eventTime"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["userIdentity"]["principalId"]
    assert record["requestParameters"]["sourceIPAddress"]
    assert record["responseElements"]["x-amz-request-id"] == put["ResponseMetadata"]["RequestId"]
    assert record["responseElements"]["x-amz-id-2"]
    entity = record["s3"]
    assert entity["s3SchemaVersion"] == "1.0"
    assert entity["configurationId"] == "events"
    assert entity["bucket"]["name"] == bucket
    assert entity["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert entity["bucket"]["ownerIdentity"]["principalId"]
    obj = entity["object"]
    assert obj["key"] == "a+b/%C3%BC.txt"
    assert obj["size"] == 5
    assert obj["eTag"] == hashlib.md5(b"hello").hexdigest() == put["ETag"].strip('"')
    assert "versionId" not in obj
    assert re.fullmatch(r"[0-9A-F]{18}", obj["sequencer"]), obj["sequencer"]

    s3.delete_object(Bucket=bucket, Key=key)
    removed = receive(sqs, url)["Records"][0]
    assert removed["eventName"] == "ObjectRemoved:Delete"
    assert set(removed["s3"]["object"]) == {"key", "sequencer"}
    assert removed["s3"]["object"]["key"] == "a+b/%C3%BC.txt"
    assert removed["s3"]["object"]["sequencer"] > obj["sequencer"]
    # Deleting a key that is not there changes nothing and notifies nothing.
    s3.delete_object(Bucket=bucket, Key="never-written")
    assert_empty(sqs, url)


def test_copy_multipart_and_batch_delete_events_arrive_in_order(s3, sqs, bucket, queue):
    url, arn = queue
    configure_queue(s3, sqs, bucket, arn, url, ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"])
    s3.put_object(Bucket=bucket, Key="src", Body=b"x" * 10)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"y" * 7)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "src"}, {"Key": "dst"}, {"Key": "absent"}]})
    records = [receive(sqs, url)["Records"][0] for _ in range(5)]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Put", "src"),
        ("ObjectCreated:Copy", "dst"),
        ("ObjectCreated:CompleteMultipartUpload", "big"),
        ("ObjectRemoved:Delete", "src"),
        ("ObjectRemoved:Delete", "dst"),
    ]
    assert records[1]["s3"]["object"]["size"] == 10
    assert records[2]["s3"]["object"]["size"] == 7
    assert records[2]["s3"]["object"]["eTag"] == done["ETag"].strip('"')
    assert records[2]["s3"]["object"]["eTag"].endswith("-1")
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 5
    assert_empty(sqs, url)


def test_browser_post_uploads_are_object_created_post(s3, sqs, bucket, queue):
    url, arn = queue
    configure_queue(s3, sqs, bucket, arn, url, ["s3:ObjectCreated:Post"])
    s3.put_object(Bucket=bucket, Key="put-is-not-post", Body=b"")
    post = s3.generate_presigned_post(Bucket=bucket, Key="form/up.txt")
    status, _, _ = form_post(post["url"], post["fields"], data=b"formdata")
    assert status == 204
    record = receive(sqs, url)["Records"][0]
    assert record["eventName"] == "ObjectCreated:Post"
    assert record["s3"]["object"]["key"] == "form/up.txt"
    assert record["s3"]["object"]["size"] == 8
    assert_empty(sqs, url)


def test_versioned_buckets_report_versions_and_delete_markers(s3, sqs, bucket, queue):
    url, arn = queue
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    configure_queue(s3, sqs, bucket, arn, url, ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"])
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")
    assert receive(sqs, url)["Records"][0]["s3"]["object"]["versionId"] == put["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="k")
    record = receive(sqs, url)["Records"][0]
    assert record["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert record["s3"]["object"]["versionId"] == marker["VersionId"]
    assert "size" not in record["s3"]["object"] and "eTag" not in record["s3"]["object"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=put["VersionId"])
    record = receive(sqs, url)["Records"][0]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert record["s3"]["object"]["versionId"] == put["VersionId"]


def test_prefix_and_suffix_filters_select_keys(s3, sqs, bucket, queue):
    url, arn = queue
    configure_queue(s3, sqs, bucket, arn, url, ["s3:ObjectCreated:Put"],
                    [{"Name": "Prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".txt"}])
    for key in ["out/a.txt", "in/a.csv", "in/a.TXT", "IN/a.txt", "in/a.txt"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    assert receive(sqs, url)["Records"][0]["s3"]["object"]["key"] == "in/a.txt"
    assert_empty(sqs, url)


def test_tagging_and_acl_events(s3, sqs, bucket, queue):
    url, arn = queue
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object(Bucket=bucket, Key="t", Body=b"abc")
    configure_queue(s3, sqs, bucket, arn, url, ["s3:ObjectTagging:*", "s3:ObjectAcl:Put"])
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    s3.put_object_acl(Bucket=bucket, Key="t", ACL="private")
    records = [receive(sqs, url)["Records"][0] for _ in range(3)]
    assert [r["eventName"] for r in records] == ["ObjectTagging:Put", "ObjectTagging:Delete", "ObjectAcl:Put"]
    for r in records:
        assert r["eventVersion"] == "2.3"
        assert r["s3"]["object"] == {"key": "t", "eTag": hashlib.md5(b"abc").hexdigest()}


def test_missing_destinations_are_refused_and_the_old_configuration_kept(s3, sqs, bucket, queue):
    url, arn = queue
    configure_queue(s3, sqs, bucket, arn, url, ["s3:ObjectCreated:*"])
    missing = f"arn:aws:sqs:{REGION}:000000000000:{unique('missing')}"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}]})
    assert error_of(e) == ("InvalidArgument", 400, "Unable to validate the following destination configurations")
    err = e.value.response["Error"]
    assert err["ArgumentName1"] == missing
    assert err["ArgumentValue1"] == "The destination queue does not exist"
    topic = f"arn:aws:sns:{REGION}:000000000000:{unique('missing')}"
    resp = expect_error("InvalidArgument", 400, s3.put_bucket_notification_configuration, Bucket=bucket,
                        NotificationConfiguration={"TopicConfigurations": [
                            {"TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}]})
    assert resp["Error"]["ArgumentValue1"] == "The destination topic does not exist"
    function = f"arn:aws:lambda:{REGION}:000000000000:function:{unique('missing')}"
    resp = expect_error("InvalidArgument", 400, s3.put_bucket_notification_configuration, Bucket=bucket,
                        NotificationConfiguration={"LambdaFunctionConfigurations": [
                            {"LambdaFunctionArn": function, "Events": ["s3:ObjectRemoved:*"]}]})
    assert resp["Error"]["ArgumentName1"] == function
    assert resp["Error"]["ArgumentValue1"] == "The destination Lambda does not exist"
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [c["QueueArn"] for c in got["QueueConfigurations"]] == [arn]
    assert "TopicConfigurations" not in got and "LambdaFunctionConfigurations" not in got
    assert_empty(sqs, url)


def test_skip_destination_validation_stores_without_checking_or_testing(s3, sqs, bucket, queue):
    url, arn = queue
    missing = f"arn:aws:sqs:{REGION}:000000000000:{unique('missing')}"
    config = {"QueueConfigurations": [
        {"Id": "gone", "QueueArn": missing, "Events": ["s3:ObjectCreated:*"]},
        {"Id": "here", "QueueArn": arn, "Events": ["s3:ObjectRemoved:*"]},
    ]}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config,
                                             SkipDestinationValidation=True)
    assert_empty(sqs, url)
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    s3.delete_object(Bucket=bucket, Key="k")
    record = receive(sqs, url)["Records"][0]
    assert (record["eventName"], record["s3"]["configurationId"]) == ("ObjectRemoved:Delete", "here")


def test_invalid_configurations_are_refused(s3, bucket, queue):
    _, arn = queue

    def put(**config):
        return expect_error("InvalidArgument", 400, s3.put_bucket_notification_configuration, Bucket=bucket,
                            NotificationConfiguration=config)

    assert put(QueueConfigurations=[{"QueueArn": arn, "Events": ["s3:ObjectCreated"]}])["Error"]["Message"] == \
        "The event is not supported for notifications"
    resp = put(QueueConfigurations=[
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"}]}}},
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/png/"}]}}},
    ])
    assert resp["Error"]["Message"] == \
        "Configurations overlap. Configurations on the same bucket cannot share a common event type."
    resp = put(QueueConfigurations=[{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {
        "FilterRules": [{"Name": "prefix", "Value": "a"}, {"Name": "prefix", "Value": "b"}]}}}])
    assert resp["Error"]["Message"] == "Cannot specify more than one prefix rule in a filter."
    other_region = arn.replace(f":{REGION}:", ":eu-west-1:")
    resp = put(QueueConfigurations=[{"QueueArn": other_region, "Events": ["s3:ObjectCreated:*"]}])
    assert resp["Error"]["ArgumentValue1"] == \
        "The notification destination service region is not valid for the bucket location constraint"
    # Disjoint prefixes may share an event type.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}}},
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "b/"}]}}},
    ]})


def test_topic_destination_reaches_a_subscribed_queue(client, s3, sqs, bucket, queue):
    sns = client("sns")
    url, queue_arn = queue
    topic = sns.create_topic(Name=unique("s3-topic"))["TopicArn"]
    try:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [
            {"Id": "to-topic", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
        test = receive(sqs, url)
        assert test["Type"] == "Notification"
        assert test["TopicArn"] == topic
        assert test["Subject"] == "Amazon S3 Notification"
        assert json.loads(test["Message"])["Event"] == "s3:TestEvent"
        s3.put_object(Bucket=bucket, Key="via/topic", Body=b"12")
        note = receive(sqs, url)
        assert note["Subject"] == "Amazon S3 Notification"
        record = json.loads(note["Message"])["Records"][0]
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["configurationId"] == "to-topic"
        assert record["s3"]["object"]["key"] == "via/topic"
        assert record["s3"]["object"]["size"] == 2
    finally:
        sns.delete_topic(TopicArn=topic)


# The function forwards the event it received to a queue, for the test to read.
FORWARDER = """
import boto3, json, os
def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(event))
    return "ok"
"""


def test_function_destination_is_invoked_with_the_event(client, s3, sqs, bucket, queue):
    lam = client("lambda")
    url, _ = queue
    name = unique("s3-fn")
    fn = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler", Timeout=30,
        Code={"ZipFile": make_zip({"index.py": FORWARDER})}, Environment={"Variables": {"QUEUE_URL": url}},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    try:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"Id": "to-fn", "LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*"],
                                              "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".json"}]}}}]})
        s3.put_object(Bucket=bucket, Key="skip.txt", Body=b"no")
        s3.put_object(Bucket=bucket, Key="data/x.json", Body=b"{}")
        event = receive(sqs, url, timeout=30)
        record = event["Records"][0]
        assert record["eventSource"] == "aws:s3"
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["configurationId"] == "to-fn"
        assert record["s3"]["object"]["key"] == "data/x.json"
        # Functions get no test event, and the .txt key did not pass the filter.
        assert_empty(sqs, url)
    finally:
        lam.delete_function(FunctionName=name)
