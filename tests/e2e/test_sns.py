"""SNS end to end (awsQuery via boto3): topics, subscriptions, attributes, tags, publishing with
delivery to SQS (envelope and raw), filter policies, FIFO topics, and HTTP endpoints
(SubscriptionConfirmation first, then Notification with the x-amz-sns-* headers)."""

from __future__ import annotations

import http.server
import json
import queue as pyqueue
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError


def expect_error(code: str, fn, *args, status: int = 400, message: str | None = None, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    err = e.value.response["Error"]
    assert (err["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), e.value.response
    if message is not None:
        assert err["Message"] == message
    return e.value


@pytest.fixture
def sns(client):
    return client("sns")


@pytest.fixture
def sqs(client):
    return client("sqs")


@pytest.fixture
def topic(sns):
    arn = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:10]}")["TopicArn"]
    yield arn
    sns.delete_topic(TopicArn=arn)


def make_queue(sqs, fifo=False):
    name = f"snsq-{uuid.uuid4().hex[:10]}" + (".fifo" if fifo else "")
    attrs = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def drain(sqs, url, expect: int, timeout: float = 3.0):
    out, deadline = [], time.monotonic() + timeout
    while len(out) < expect and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        out += got
    return out


def test_topic_lifecycle_and_attributes(sns):
    name = f"life-{uuid.uuid4().hex[:8]}"
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Life"})["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:{name}"
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Life"})["TopicArn"] == arn
    expect_error("InvalidParameter", sns.create_topic, Name=name, Attributes={"DisplayName": "Other"})
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    a = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert a["DisplayName"] == "Life" and a["Owner"] == "000000000000" and a["SubscriptionsConfirmed"] == "0"
    assert json.loads(a["Policy"])["Statement"][0]["Resource"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="New")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "New"
    sns.delete_topic(TopicArn=arn)
    expect_error("NotFound", sns.get_topic_attributes, TopicArn=arn, status=404, message="Topic does not exist")
    expect_error("InvalidParameter", sns.create_topic, Name="bad name", message="Invalid parameter: Topic Name")


def test_tags(sns, topic):
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sns.untag_resource(ResourceArn=topic, TagKeys=["a"])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_subscriptions_and_attributes(sns, sqs, topic):
    _, qarn = make_queue(sqs)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    # Subscribing again returns the same subscription.
    assert sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"] == sub
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert listed == [{"SubscriptionArn": sub, "Owner": "000000000000", "Protocol": "sqs", "Endpoint": qarn,
                       "TopicArn": topic}]
    assert sub in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    a = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert a["RawMessageDelivery"] == "true" and a["Protocol"] == "sqs" and a["PendingConfirmation"] == "false"
    expect_error("InvalidParameter", sns.set_subscription_attributes, SubscriptionArn=sub,
                 AttributeName="FilterPolicy", AttributeValue="not json")
    email = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com")["SubscriptionArn"]
    assert email == "pending confirmation"
    expect_error("InvalidParameter", sns.subscribe, TopicArn=topic, Protocol="carrier-pigeon", Endpoint="x",
                 message="Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon")
    expect_error("InvalidParameter", sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint="not-an-arn")
    # An unknown topic is reported before the endpoint is looked at.
    expect_error("NotFound", sns.subscribe, TopicArn=topic + "-missing", Protocol="sqs", Endpoint="asdf",
                 status=404, message="Topic does not exist")
    sns.unsubscribe(SubscriptionArn=sub)
    expect_error("NotFound", sns.get_subscription_attributes, SubscriptionArn=sub, status=404)


def test_publish_to_sqs_envelope(sns, sqs, topic):
    url, qarn = make_queue(sqs)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)["SubscriptionArn"]
    r = sns.publish(TopicArn=topic, Message="hello", Subject="greeting",
                    MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"},
                                       "n": {"DataType": "Number", "StringValue": "3"}})
    (m,) = drain(sqs, url, 1)
    env = json.loads(m["Body"])
    assert env["Type"] == "Notification"
    assert env["MessageId"] == r["MessageId"]
    assert env["TopicArn"] == topic and env["Subject"] == "greeting" and env["Message"] == "hello"
    assert env["SignatureVersion"] == "1" and env["Signature"] and env["SigningCertURL"].startswith("https://")
    assert env["UnsubscribeURL"].endswith(f"SubscriptionArn={sub}")
    assert env["Timestamp"].endswith("Z")
    assert env["MessageAttributes"] == {"color": {"Type": "String", "Value": "blue"}, "n": {"Type": "Number", "Value": "3"}}


def test_publish_raw_to_sqs_keeps_attributes(sns, sqs, topic):
    url, qarn = make_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="raw body", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    (m,) = drain(sqs, url, 1)
    assert m["Body"] == "raw body"
    assert m["MessageAttributes"] == {"k": {"StringValue": "v", "DataType": "String"}}


def test_message_structure_json(sns, sqs, topic):
    url, qarn = make_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "sqs": "for sqs"}))
    assert [m["Body"] for m in drain(sqs, url, 1)] == ["for sqs"]
    expect_error("InvalidParameter", sns.publish, TopicArn=topic, MessageStructure="json", Message=json.dumps({"sqs": "x"}),
                 message="Invalid parameter: Message Structure - No default entry in JSON message body")
    expect_error("InvalidParameter", sns.publish, TopicArn=topic, Message="", message="Invalid parameter: Empty message")
    expect_error("NotFound", sns.publish, TopicArn=topic + "-missing", Message="x", status=404)


def test_filter_policies_on_attributes_and_body(sns, sqs, topic):
    red_url, red_arn = make_queue(sqs)
    big_url, big_arn = make_queue(sqs)
    body_url, body_arn = make_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=red_arn, Attributes={
        "RawMessageDelivery": "true",
        "FilterPolicy": json.dumps({"color": ["red", {"prefix": "crim"}], "size": [{"anything-but": "small"}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=big_arn, Attributes={
        "RawMessageDelivery": "true",
        "FilterPolicy": json.dumps({"$or": [{"price": [{"numeric": [">=", 100]}]}, {"vip": [{"exists": True}]}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=body_arn, Attributes={
        "RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
        "FilterPolicy": json.dumps({"order": {"kind": ["book"]}})})

    def pub(body, **attrs):
        ma = {k: ({"DataType": "Number", "StringValue": str(v)} if isinstance(v, int)
                  else {"DataType": "String", "StringValue": v}) for k, v in attrs.items()}
        sns.publish(TopicArn=topic, Message=body, MessageAttributes=ma)

    pub("red-large", color="red", size="large")
    pub("red-small", color="red", size="small")
    pub("crimson", color="crimson", size="medium")
    pub("no-size", color="red")  # a missing attribute never matches anything-but
    pub("blue", color="blue")
    pub("pricey", price=150)
    pub("cheap", price=5)
    pub("vip", vip="yes")
    pub(json.dumps({"order": {"kind": "book"}}))
    pub(json.dumps({"order": {"kind": "cd"}}))
    assert sorted(m["Body"] for m in drain(sqs, red_url, 2)) == ["crimson", "red-large"]
    assert sorted(m["Body"] for m in drain(sqs, big_url, 2)) == ["pricey", "vip"]
    assert [json.loads(m["Body"])["order"]["kind"] for m in drain(sqs, body_url, 1)] == ["book"]
    # Nothing else arrives.
    for url in (red_url, big_url, body_url):
        assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_publish_batch(sns, sqs, topic):
    url, qarn = make_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"}, {"Id": "b", "Message": ""}, {"Id": "c", "Message": "three"}])
    assert [s["Id"] for s in r["Successful"]] == ["a", "c"]
    assert r["Failed"][0]["Id"] == "b" and r["Failed"][0]["Code"] == "InvalidParameter"
    assert sorted(m["Body"] for m in drain(sqs, url, 2)) == ["one", "three"]
    expect_error("BatchEntryIdsNotDistinct", sns.publish_batch, TopicArn=topic,
                 PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}, {"Id": "a", "Message": "y"}])
    expect_error("TooManyEntriesInBatchRequest", sns.publish_batch, TopicArn=topic,
                 PublishBatchRequestEntries=[{"Id": str(i), "Message": "x"} for i in range(11)])


def test_fifo_topic_to_fifo_queue(sns, sqs):
    arn = sns.create_topic(Name=f"f-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, qarn = make_queue(sqs, fifo=True)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    expect_error("InvalidParameter", sns.publish, TopicArn=arn, Message="x",
                 message="Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    a = sns.publish(TopicArn=arn, Message="1", MessageGroupId="g", MessageDeduplicationId="d1")
    b = sns.publish(TopicArn=arn, Message="1", MessageGroupId="g", MessageDeduplicationId="d1")
    assert a["MessageId"] == b["MessageId"] and len(a["SequenceNumber"]) == 20
    sns.publish(TopicArn=arn, Message="2", MessageGroupId="g", MessageDeduplicationId="d2")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"])["Messages"]
    assert [m["Body"] for m in got] == ["1", "2"]
    assert got[0]["Attributes"]["MessageGroupId"] == "g"


def test_fifo_topic_to_standard_queue_and_not_the_reverse(sns, sqs, topic):
    arn = sns.create_topic(Name=f"f-{uuid.uuid4().hex[:8]}.fifo",
                           Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    url, qarn = make_queue(sqs)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
    sns.publish(TopicArn=arn, Message="to standard", MessageGroupId="g")
    (m,) = drain(sqs, url, expect=1)
    assert json.loads(m["Body"])["Message"] == "to standard"
    _, fifo_arn = make_queue(sqs, fifo=True)
    expect_error("InvalidParameter", sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=fifo_arn,
                 message="Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: pyqueue.Queue = pyqueue.Queue()

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.put((dict((k.lower(), v) for k, v in self.headers.items()), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def http_endpoint():
    _Recorder.received = pyqueue.Queue()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Recorder.received
    server.shutdown()


def test_http_confirmation_then_notification(sns, topic, http_endpoint):
    url, received = http_endpoint
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)["SubscriptionArn"] == "pending confirmation"
    headers, doc = received.get(timeout=5)
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-topic-arn"] == topic
    assert doc["Type"] == "SubscriptionConfirmation" and doc["TopicArn"] == topic and doc["Token"]
    assert "Action=ConfirmSubscription" in doc["SubscribeURL"]
    (pending,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert pending["SubscriptionArn"] == "PendingConfirmation"
    # Nothing is delivered before confirmation.
    sns.publish(TopicArn=topic, Message="too early")
    sub = sns.confirm_subscription(TopicArn=topic, Token=doc["Token"])["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    sns.publish(TopicArn=topic, Message="hi http", Subject="s",
                MessageAttributes={"a": {"DataType": "String", "StringValue": "b"}})
    headers, doc = received.get(timeout=5)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert headers["x-amz-sns-message-id"] == doc["MessageId"]
    assert doc["Message"] == "hi http" and doc["Subject"] == "s"
    assert doc["MessageAttributes"] == {"a": {"Type": "String", "Value": "b"}}
    assert received.empty()
    expect_error("InvalidParameter", sns.confirm_subscription, TopicArn=topic, Token="bogus")


def test_http_filter_policy(sns, topic, http_endpoint):
    url, received = http_endpoint
    sub = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url, ReturnSubscriptionArn=True,
                        Attributes={"FilterPolicy": json.dumps({"k": ["yes"]})})["SubscriptionArn"]
    _, doc = received.get(timeout=5)
    sns.confirm_subscription(TopicArn=topic, Token=doc["Token"])
    sns.publish(TopicArn=topic, Message="skip", MessageAttributes={"k": {"DataType": "String", "StringValue": "no"}})
    sns.publish(TopicArn=topic, Message="take", MessageAttributes={"k": {"DataType": "String", "StringValue": "yes"}})
    _, doc = received.get(timeout=5)
    assert doc["Message"] == "take"
    assert sub.startswith(topic)


def test_sms_publish(sns):
    r = sns.publish(PhoneNumber="+15555550100", Message="code 1234")
    assert len(r["MessageId"]) == 36


def test_sms_messages_are_inspectable_as_localstack_offers(sns, ruststack):
    from . import rsutil

    phone = f"+1555{uuid.uuid4().int % 10**7:07d}"
    message_id = sns.publish(PhoneNumber=phone, Message="your code is 42")["MessageId"]
    resp = rsutil.request(ruststack.port, "GET", "/_aws/sns/sms-messages")
    assert resp.status == 200
    sent = json.loads(resp.body)["sms_messages"][phone]
    assert [(m["Message"], m["MessageId"]) for m in sent] == [("your code is 42", message_id)]
    assert json.loads(rsutil.request(ruststack.port, "GET", "/_aws/sns/platform-endpoint-messages").body) == {
        "platform_endpoint_messages": {}
    }
    assert rsutil.request(ruststack.port, "DELETE", "/_aws/sns/sms-messages").status == 204
    assert phone not in json.loads(rsutil.request(ruststack.port, "GET", "/_aws/sns/sms-messages").body)["sms_messages"]


def test_platform_applications_and_endpoints(sns, ruststack):
    from . import rsutil

    name = f"app-{uuid.uuid4().hex[:8]}"
    app = sns.create_platform_application(Name=name, Platform="GCM",
                                          Attributes={"PlatformCredential": "key"})["PlatformApplicationArn"]
    assert app == f"arn:aws:sns:us-east-1:000000000000:app/GCM/{name}"
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=app)["Attributes"]
    assert "PlatformCredential" not in attrs and attrs["Enabled"] == "true"
    sns.set_platform_application_attributes(PlatformApplicationArn=app, Attributes={"EventEndpointCreated": "arn:x"})
    assert sns.get_platform_application_attributes(PlatformApplicationArn=app)["Attributes"]["EventEndpointCreated"] == "arn:x"
    assert app in [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]]

    # The same token is the same endpoint, unless other attributes are asked for.
    plain = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1")["EndpointArn"]
    assert plain.startswith(f"arn:aws:sns:us-east-1:000000000000:endpoint/GCM/{name}/")
    assert sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1")["EndpointArn"] == plain
    assert sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1",
                                        Attributes={"Enabled": "true"})["EndpointArn"] == plain
    expect_error("InvalidParameter", sns.create_platform_endpoint, PlatformApplicationArn=app, Token="t1",
                 CustomUserData="data",
                 message=f"Invalid parameter: Token Reason: Endpoint {plain} already exists with the same Token, but different attributes.")
    disabled = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t2", CustomUserData="param",
                                            Attributes={"Enabled": "false", "CustomUserData": "attr"})["EndpointArn"]
    assert sns.get_endpoint_attributes(EndpointArn=disabled)["Attributes"] == {
        "Token": "t2", "Enabled": "false", "CustomUserData": "attr"}
    listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert sorted(e["EndpointArn"] for e in listed) == sorted([plain, disabled])

    # Publishing: a disabled endpoint refuses, an enabled one takes the message.
    expect_error("EndpointDisabled", sns.publish, TargetArn=disabled, Message="msg", MessageStructure="json",
                 message="Endpoint is disabled")
    message_id = sns.publish(TargetArn=plain, Message=json.dumps({"default": "d", "GCM": "for gcm"}),
                             MessageStructure="json")["MessageId"]
    sent = json.loads(rsutil.request(ruststack.port, "GET", "/_aws/sns/platform-endpoint-messages").body)
    assert [(m["Message"], m["MessageId"]) for m in sent["platform_endpoint_messages"][plain]] == [("for gcm", message_id)]
    sns.set_endpoint_attributes(EndpointArn=disabled, Attributes={"Enabled": "true"})
    sns.publish(TargetArn=disabled, Message="now enabled")

    missing = f"arn:aws:sns:us-east-1:000000000000:endpoint/GCM/{name}/c1f76c42-192a-4e75-b04f-a9268ce2abf3"
    expect_error("NotFound", sns.get_endpoint_attributes, EndpointArn=missing, status=404,
                 message="Endpoint does not exist")
    expect_error("InvalidParameter", sns.publish, TargetArn=missing, Message="x",
                 message="Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified")
    expect_error("NotFound", sns.create_platform_endpoint, PlatformApplicationArn=app + "2", Token="t",
                 status=404, message="PlatformApplication does not exist")
    expect_error("NotFound", sns.list_endpoints_by_platform_application, PlatformApplicationArn=app + "2",
                 status=404, message="PlatformApplication does not exist")

    # Deleting is idempotent; an application subscription needs an endpoint that exists.
    sns.delete_endpoint(EndpointArn=plain)
    sns.delete_endpoint(EndpointArn=plain)
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    expect_error("InvalidParameter", sns.subscribe, TopicArn=topic, Protocol="application", Endpoint=plain,
                 message=f"Invalid parameter: Endpoint Reason: Endpoint does not exist for endpoint arn{plain}")
    assert sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=disabled)["SubscriptionArn"].startswith(topic)
    sns.delete_platform_application(PlatformApplicationArn=app)
    sns.delete_platform_application(PlatformApplicationArn=app)
    expect_error("NotFound", sns.get_endpoint_attributes, EndpointArn=disabled, status=404)
    assert app not in [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]]
    sns.delete_topic(TopicArn=topic)
    assert rsutil.request(ruststack.port, "DELETE", "/_aws/sns/platform-endpoint-messages").status == 204
