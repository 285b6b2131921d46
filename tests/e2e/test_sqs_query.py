"""SQS over the older awsQuery protocol (plain form POSTs, as pre-2023 SDKs send them), to `/`
and to the queue URL's path, sharing state with awsJson; responses in the query XML shape."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import pytest

NS = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}


def post(endpoint: str, params: dict, path: str = "/") -> tuple[int, ET.Element]:
    body = urllib.parse.urlencode({**params, "Version": "2012-11-05"}).encode()
    req = urllib.request.Request(endpoint + path, data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, ET.fromstring(r.read())
    except urllib.error.HTTPError as e:
        return e.code, ET.fromstring(e.read())


def texts(root: ET.Element, path: str) -> list[str]:
    return [e.text or "" for e in root.findall(path, NS)]


def text(root: ET.Element, path: str) -> str | None:
    e = root.find(path, NS)
    return None if e is None else (e.text or "")


@pytest.fixture
def q(endpoint):
    name = f"query-{uuid.uuid4().hex[:10]}"
    status, root = post(endpoint, {"Action": "CreateQueue", "QueueName": name,
                                   "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40"})
    assert status == 200, ET.tostring(root)
    url = text(root, "q:CreateQueueResult/q:QueueUrl")
    assert url.endswith(f"/000000000000/{name}")
    return name, url


def test_create_and_attributes(endpoint, q, client):
    name, url = q
    status, root = post(endpoint, {"Action": "GetQueueAttributes", "QueueUrl": url,
                                   "AttributeName.1": "VisibilityTimeout", "AttributeName.2": "QueueArn"})
    assert status == 200
    attrs = dict(zip(texts(root, "q:GetQueueAttributesResult/q:Attribute/q:Name"),
                     texts(root, "q:GetQueueAttributesResult/q:Attribute/q:Value")))
    assert attrs == {"VisibilityTimeout": "40", "QueueArn": f"arn:aws:sqs:us-east-1:000000000000:{name}"}
    assert text(root, "q:ResponseMetadata/q:RequestId")
    # The same state over awsJson.
    sqs = client("sqs")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {"VisibilityTimeout": "40"}


def test_list_queues_and_get_url(endpoint, q):
    name, url = q
    status, root = post(endpoint, {"Action": "ListQueues", "QueueNamePrefix": name})
    assert status == 200
    assert texts(root, "q:ListQueuesResult/q:QueueUrl") == [url]
    status, root = post(endpoint, {"Action": "GetQueueUrl", "QueueName": name})
    assert text(root, "q:GetQueueUrlResult/q:QueueUrl") == url


def test_send_receive_delete_with_attributes(endpoint, q):
    _, url = q
    status, root = post(endpoint, {
        "Action": "SendMessage", "QueueUrl": url, "MessageBody": "hello query",
        "MessageAttribute.1.Name": "color", "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "blue",
    })
    assert status == 200, ET.tostring(root)
    assert text(root, "q:SendMessageResult/q:MD5OfMessageBody") == hashlib.md5(b"hello query").hexdigest()
    msg_id = text(root, "q:SendMessageResult/q:MessageId")
    status, root = post(endpoint, {"Action": "ReceiveMessage", "QueueUrl": url, "AttributeName.1": "All",
                                   "MessageAttributeName.1": "All", "MaxNumberOfMessages": "5"})
    assert status == 200
    (m,) = root.findall("q:ReceiveMessageResult/q:Message", NS)
    assert text(m, "q:MessageId") == msg_id
    assert text(m, "q:Body") == "hello query"
    attrs = dict(zip(texts(m, "q:Attribute/q:Name"), texts(m, "q:Attribute/q:Value")))
    assert attrs["ApproximateReceiveCount"] == "1"
    assert text(m, "q:MessageAttribute/q:Name") == "color"
    assert text(m, "q:MessageAttribute/q:Value/q:StringValue") == "blue"
    assert text(m, "q:MessageAttribute/q:Value/q:DataType") == "String"
    status, root = post(endpoint, {"Action": "DeleteMessage", "QueueUrl": url,
                                   "ReceiptHandle": text(m, "q:ReceiptHandle")})
    assert status == 200 and root.tag == "{%s}DeleteMessageResponse" % NS["q"]


def test_actions_posted_to_the_queue_path(endpoint, q):
    name, url = q
    path = f"/000000000000/{name}"
    status, root = post(endpoint, {"Action": "SendMessage", "MessageBody": "via path"}, path=path)
    assert status == 200, ET.tostring(root)
    status, root = post(endpoint, {"Action": "ReceiveMessage"}, path=path)
    assert texts(root, "q:ReceiveMessageResult/q:Message/q:Body") == ["via path"]


def test_batches(endpoint, q):
    _, url = q
    params = {"Action": "SendMessageBatch", "QueueUrl": url}
    for i in (1, 2):
        params[f"SendMessageBatchRequestEntry.{i}.Id"] = f"e{i}"
        params[f"SendMessageBatchRequestEntry.{i}.MessageBody"] = f"b{i}"
    params["SendMessageBatchRequestEntry.2.DelaySeconds"] = "1000"
    status, root = post(endpoint, params)
    assert status == 200, ET.tostring(root)
    assert texts(root, "q:SendMessageBatchResult/q:SendMessageBatchResultEntry/q:Id") == ["e1"]
    assert texts(root, "q:SendMessageBatchResult/q:BatchResultErrorEntry/q:Id") == ["e2"]
    assert texts(root, "q:SendMessageBatchResult/q:BatchResultErrorEntry/q:SenderFault") == ["true"]
    status, root = post(endpoint, {"Action": "ReceiveMessage", "QueueUrl": url})
    handle = text(root, "q:ReceiveMessageResult/q:Message/q:ReceiptHandle")
    status, root = post(endpoint, {"Action": "DeleteMessageBatch", "QueueUrl": url,
                                   "DeleteMessageBatchRequestEntry.1.Id": "d1",
                                   "DeleteMessageBatchRequestEntry.1.ReceiptHandle": handle})
    assert texts(root, "q:DeleteMessageBatchResult/q:DeleteMessageBatchResultEntry/q:Id") == ["d1"]


def test_tags_and_set_attributes(endpoint, q):
    _, url = q
    status, _ = post(endpoint, {"Action": "TagQueue", "QueueUrl": url, "Tags.1.Key": "team", "Tags.1.Value": "a"})
    assert status == 200
    status, root = post(endpoint, {"Action": "ListQueueTags", "QueueUrl": url})
    assert texts(root, "q:ListQueueTagsResult/q:Tag/q:Key") == ["team"]
    assert texts(root, "q:ListQueueTagsResult/q:Tag/q:Value") == ["a"]
    status, _ = post(endpoint, {"Action": "UntagQueue", "QueueUrl": url, "TagKey.1": "team"})
    assert status == 200
    status, _ = post(endpoint, {"Action": "SetQueueAttributes", "QueueUrl": url,
                                "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "3"})
    assert status == 200
    status, root = post(endpoint, {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "DelaySeconds"})
    assert texts(root, "q:GetQueueAttributesResult/q:Attribute/q:Value") == ["3"]


def test_errors_use_query_codes(endpoint):
    status, root = post(endpoint, {"Action": "GetQueueUrl", "QueueName": "does-not-exist-anywhere"})
    assert status == 400
    assert root.tag == "{%s}ErrorResponse" % NS["q"]
    assert text(root, "q:Error/q:Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert text(root, "q:Error/q:Type") == "Sender"
    assert text(root, "q:Error/q:Message") == "The specified queue does not exist."
    status, root = post(endpoint, {"Action": "CreateQueue", "QueueName": "bad name"})
    assert (status, text(root, "q:Error/q:Code")) == (400, "InvalidParameterValue")
    status, root = post(endpoint, {"Action": "NoSuchAction"})
    assert (status, text(root, "q:Error/q:Code")) == (400, "InvalidAction")


def test_json_errors_carry_the_query_code_header(endpoint):
    req = urllib.request.Request(endpoint + "/", data=b'{"QueueName":"nope-nope"}', method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.GetQueueUrl"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 400
    assert e.value.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    import json
    assert json.loads(e.value.read())["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"


def test_delete_queue(endpoint, q):
    _, url = q
    status, _ = post(endpoint, {"Action": "DeleteQueue", "QueueUrl": url})
    assert status == 200
    status, root = post(endpoint, {"Action": "GetQueueAttributes", "QueueUrl": url})
    assert text(root, "q:Error/q:Code") == "AWS.SimpleQueueService.NonExistentQueue"
