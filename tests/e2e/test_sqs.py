"""SQS end to end over awsJson (boto3's protocol): queues, attributes, messages, visibility,
delays, long polling, batches, FIFO ordering and deduplication, dead-letter redrive, move tasks,
tags and permissions, with AWS's error codes (the query codes boto3 reports) and messages."""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError


def expect_error(code: str, fn, *args, message: str | None = None, status: int = 400, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    err = e.value.response["Error"]
    assert (err["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), e.value.response
    if message is not None:
        assert err["Message"] == message
    return e.value


def md5_of_attributes(attrs: dict) -> str:
    """AWS's documented encoding, computed independently of the server."""
    h = hashlib.md5()
    for name in sorted(attrs):
        a = attrs[name]
        for s in (name.encode(), a["DataType"].encode()):
            h.update(struct.pack(">I", len(s)) + s)
        if "StringValue" in a:
            v = a["StringValue"].encode()
            h.update(b"\x01" + struct.pack(">I", len(v)) + v)
        else:
            v = a["BinaryValue"]
            h.update(b"\x02" + struct.pack(">I", len(v)) + v)
    return h.hexdigest()


@pytest.fixture
def sqs(client):
    return client("sqs")


def new_name(prefix="q", fifo=False):
    return f"{prefix}-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")


@pytest.fixture
def queue(sqs):
    url = sqs.create_queue(QueueName=new_name())["QueueUrl"]
    yield url
    try:
        sqs.delete_queue(QueueUrl=url)
    except ClientError:
        pass


@pytest.fixture
def fifo(sqs):
    url = sqs.create_queue(QueueName=new_name(fifo=True), Attributes={"FifoQueue": "true"})["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def attrs(sqs, url, *names):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"])["Attributes"]


# ---- queues -------------------------------------------------------------------------------


def test_create_get_url_list_delete(sqs, endpoint):
    name = new_name("lifecycle")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    host = endpoint.split("://", 1)[1]
    assert url == f"http://{host}/000000000000/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="000000000000")["QueueUrl"] == url
    # Idempotent with the same attributes.
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix="lifecycle-")["QueueUrls"]
    sqs.delete_queue(QueueUrl=url)
    expect_error("AWS.SimpleQueueService.NonExistentQueue", sqs.get_queue_url, QueueName=name,
                 message="The specified queue does not exist.")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=url)


def test_both_url_forms_are_accepted(sqs, queue):
    name = queue.rsplit("/", 1)[1]
    for url in (
        f"http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/{name}",
        f"http://localhost:4566/000000000000/{name}",
        f"https://sqs.us-east-1.amazonaws.com/000000000000/{name}",
    ):
        assert attrs(sqs, url, "QueueArn")["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    expect_error("AWS.SimpleQueueService.NonExistentQueue", sqs.get_queue_attributes,
                 QueueUrl=f"http://sqs.eu-west-1.localhost.localstack.cloud:4566/000000000000/{name}")
    # AWS also takes the bare queue name as QueueUrl.
    assert attrs(sqs, name, "QueueArn")["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    sqs.send_message(QueueUrl=name, MessageBody="by name")
    assert sqs.receive_message(QueueUrl=name)["Messages"][0]["Body"] == "by name"
    expect_error("AWS.SimpleQueueService.NonExistentQueue", sqs.get_queue_attributes, QueueUrl=name + "-missing")


def test_create_existing_with_other_attributes(sqs, queue):
    name = queue.rsplit("/", 1)[1]
    e = expect_error("QueueAlreadyExists", sqs.create_queue, QueueName=name, Attributes={"VisibilityTimeout": "99"})
    assert isinstance(e, sqs.exceptions.QueueNameExists)


def test_invalid_names_and_attributes(sqs):
    expect_error("InvalidParameterValue", sqs.create_queue, QueueName="bad name",
                 message="Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
    expect_error("InvalidParameterValue", sqs.create_queue, QueueName="x" * 81)
    expect_error("InvalidParameterValue", sqs.create_queue, QueueName="nofifo", Attributes={"FifoQueue": "true"})
    expect_error("InvalidParameterValue", sqs.create_queue, QueueName=new_name(fifo=True))
    for k, v in [("VisibilityTimeout", "43201"), ("MessageRetentionPeriod", "59"), ("DelaySeconds", "901"),
                 ("MaximumMessageSize", "1023"), ("MaximumMessageSize", "1048577"),
                 ("ReceiveMessageWaitTimeSeconds", "21")]:
        expect_error("InvalidAttributeValue", sqs.create_queue, QueueName=new_name(), Attributes={k: v},
                     message=f"Invalid value for the parameter {k}.")
    expect_error("InvalidAttributeName", sqs.create_queue, QueueName=new_name(), Attributes={"Bogus": "1"},
                 message="Unknown Attribute Bogus.")
    expect_error("InvalidAttributeName", sqs.create_queue, QueueName=new_name(),
                 Attributes={"ContentBasedDeduplication": "true"})


def test_list_queues_pagination(sqs):
    prefix = f"page-{uuid.uuid4().hex[:8]}"
    urls = [sqs.create_queue(QueueName=f"{prefix}-{i:02}")["QueueUrl"] for i in range(5)]
    page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert page["QueueUrls"] == urls[:2] and "NextToken" in page
    seen = list(page["QueueUrls"])
    while "NextToken" in page:
        page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=page["NextToken"])
        seen += page["QueueUrls"]
    assert seen == urls
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="nothing-has-this-prefix")
    expect_error("InvalidParameterValue", sqs.list_queues, MaxResults=1001)


def test_attributes_defaults_and_set(sqs, queue):
    a = attrs(sqs, queue)
    assert a["VisibilityTimeout"] == "30"
    assert a["MaximumMessageSize"] == "1048576"  # 1 MiB since August 2025
    assert a["MessageRetentionPeriod"] == "345600"
    assert a["DelaySeconds"] == "0"
    assert a["ReceiveMessageWaitTimeSeconds"] == "0"
    assert a["ApproximateNumberOfMessages"] == "0"
    assert a["QueueArn"].endswith(queue.rsplit("/", 1)[1])
    assert int(a["CreatedTimestamp"]) <= int(time.time())
    assert "FifoQueue" not in a
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "45", "DelaySeconds": "2"})
    assert attrs(sqs, queue, "VisibilityTimeout", "DelaySeconds") == {"VisibilityTimeout": "45", "DelaySeconds": "2"}
    expect_error("InvalidAttributeValue", sqs.set_queue_attributes, QueueUrl=queue, Attributes={"VisibilityTimeout": "-1"})
    expect_error("InvalidAttributeName", sqs.get_queue_attributes, QueueUrl=queue, AttributeNames=["Nope"],
                 message="Unknown Attribute Nope.")


def test_fifo_attributes(sqs, fifo):
    a = attrs(sqs, fifo)
    assert a["FifoQueue"] == "true"
    assert a["ContentBasedDeduplication"] == "false"
    assert a["DeduplicationScope"] == "queue"
    assert a["FifoThroughputLimit"] == "perQueue"
    sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"DeduplicationScope": "messageGroup",
                                                        "FifoThroughputLimit": "perMessageGroupId"})
    assert attrs(sqs, fifo, "FifoThroughputLimit")["FifoThroughputLimit"] == "perMessageGroupId"


def test_purge_and_purge_in_progress(sqs, queue):
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
    sqs.purge_queue(QueueUrl=queue)
    assert attrs(sqs, queue, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "0"
    name = queue.rsplit("/", 1)[1]
    expect_error("AWS.SimpleQueueService.PurgeQueueInProgress", sqs.purge_queue, QueueUrl=queue, status=403,
                 message=f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.")


def test_tags(sqs):
    url = sqs.create_queue(QueueName=new_name(), tags={"a": "1"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"b": "2"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "1", "b": "2"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["a", "b"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_permissions(sqs, queue):
    sqs.add_permission(QueueUrl=queue, Label="p1", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    policy = json.loads(attrs(sqs, queue, "Policy")["Policy"])
    assert policy["Statement"][0]["Sid"] == "p1"
    assert policy["Statement"][0]["Action"] == "SQS:SendMessage"
    expect_error("InvalidParameterValue", sqs.add_permission, QueueUrl=queue, Label="p1",
                 AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    sqs.remove_permission(QueueUrl=queue, Label="p1")
    expect_error("InvalidParameterValue", sqs.remove_permission, QueueUrl=queue, Label="p1")


# ---- messages -----------------------------------------------------------------------------


def test_send_receive_delete_with_md5s(sqs, queue):
    mattrs = {
        "s": {"DataType": "String", "StringValue": "héllo"},
        "n": {"DataType": "Number", "StringValue": "42"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        "c": {"DataType": "String.custom", "StringValue": "x"},
    }
    sent = sqs.send_message(QueueUrl=queue, MessageBody="body ✓", MessageAttributes=mattrs)
    assert sent["MD5OfMessageBody"] == hashlib.md5("body ✓".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(mattrs)
    got = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
    (m,) = got["Messages"]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "body ✓"
    assert m["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert m["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff"
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert m["Attributes"]["SenderId"] == "000000000000"
    assert abs(int(m["Attributes"]["SentTimestamp"]) - time.time() * 1000) < 10_000
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def test_attribute_name_filters(sqs, queue):
    mattrs = {"a.x": {"DataType": "String", "StringValue": "1"}, "b": {"DataType": "String", "StringValue": "2"}}
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=mattrs)
    (m,) = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["a.*"], AttributeNames=["SentTimestamp"],
                               VisibilityTimeout=0)["Messages"]
    assert set(m["MessageAttributes"]) == {"a.x"}
    assert m["MD5OfMessageAttributes"] == md5_of_attributes({"a.x": mattrs["a.x"]})
    assert set(m["Attributes"]) == {"SentTimestamp"}
    (m,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert "MessageAttributes" not in m and "Attributes" not in m


def test_system_attribute_trace_header(sqs, queue):
    sent = sqs.send_message(QueueUrl=queue, MessageBody="x", MessageSystemAttributes={
        "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}})
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}})
    (m,) = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"]
    assert m["Attributes"] == {"AWSTraceHeader": "Root=1-abc"}


def test_send_validation(sqs, queue):
    expect_error("InvalidMessageContents", sqs.send_message, QueueUrl=queue, MessageBody="bad \x01")
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=queue, MessageBody="x" * 1_048_577,
                 message="One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.")
    sqs.send_message(QueueUrl=queue, MessageBody="x" * 1_048_576)
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=queue, MessageBody="x", DelaySeconds=901)
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=queue, MessageBody="x",
                 MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}})
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=queue, MessageBody="x",
                 MessageAttributes={"n": {"DataType": "Weird", "StringValue": "abc"}})
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=queue, MessageBody="x",
                 MessageAttributes={f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)})
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=queue, MessageBody="x",
                 MessageDeduplicationId="d")


def test_visibility_timeout_expiry_and_change(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="v")
    (m,) = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    a = attrs(sqs, queue, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    assert a == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"}
    time.sleep(1.2)
    (again,) = sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert again["MessageId"] == m["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again["ReceiptHandle"] != m["ReceiptHandle"]
    # The expired handle can no longer change visibility.
    expect_error("AWS.SimpleQueueService.MessageNotInflight", sqs.change_message_visibility, QueueUrl=queue,
                 ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=10)
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=0)
    (third,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert third["MessageId"] == m["MessageId"]
    expect_error("ReceiptHandleIsInvalid", sqs.delete_message, QueueUrl=queue, ReceiptHandle="garbage")
    expect_error("ReceiptHandleIsInvalid", sqs.change_message_visibility, QueueUrl=queue, ReceiptHandle="garbage",
                 VisibilityTimeout=1)


def test_delays(sqs):
    url = sqs.create_queue(QueueName=new_name(), Attributes={"DelaySeconds": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    assert attrs(sqs, url, "ApproximateNumberOfMessagesDelayed")["ApproximateNumberOfMessagesDelayed"] == "1"
    (m,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert m["Body"] == "no-delay"
    start = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert got[0]["Body"] == "queue-delay"
    assert time.monotonic() - start < 2.5


def test_long_polling_returns_when_a_message_arrives(sqs, queue):
    def later():
        time.sleep(1.0)
        sqs.send_message(QueueUrl=queue, MessageBody="late")

    t = threading.Thread(target=later)
    start = time.monotonic()
    t.start()
    got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=10)
    elapsed = time.monotonic() - start
    t.join()
    assert got["Messages"][0]["Body"] == "late"
    assert 0.9 <= elapsed < 3.0, elapsed


def test_long_polling_times_out_empty(sqs):
    url = sqs.create_queue(QueueName=new_name(), Attributes={"ReceiveMessageWaitTimeSeconds": "1"})["QueueUrl"]
    start = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert 0.9 <= time.monotonic() - start < 2.5
    start = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert time.monotonic() - start < 0.5


def test_receive_validation(sqs, queue):
    expect_error("InvalidParameterValue", sqs.receive_message, QueueUrl=queue, MaxNumberOfMessages=11,
                 message="Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
    expect_error("InvalidParameterValue", sqs.receive_message, QueueUrl=queue, WaitTimeSeconds=21)


def test_max_number_of_messages(sqs, queue):
    for i in range(15):
        sqs.send_message(QueueUrl=queue, MessageBody=str(i))
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 10
    assert len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]) == 5


# ---- batches ------------------------------------------------------------------------------


def test_send_batch_with_failures(sqs, queue):
    r = sqs.send_message_batch(QueueUrl=queue, Entries=[
        {"Id": "ok1", "MessageBody": "a", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
        {"Id": "bad", "MessageBody": "x", "DelaySeconds": 1000},
        {"Id": "ok2", "MessageBody": "b"},
    ])
    assert [s["Id"] for s in r["Successful"]] == ["ok1", "ok2"]
    assert r["Successful"][0]["MD5OfMessageBody"] == hashlib.md5(b"a").hexdigest()
    assert r["Successful"][0]["MD5OfMessageAttributes"] == md5_of_attributes({"k": {"DataType": "String", "StringValue": "v"}})
    (f,) = r["Failed"]
    assert f["Id"] == "bad" and f["SenderFault"] is True and f["Code"] == "InvalidParameterValue"


def test_batch_request_errors(sqs, queue):
    expect_error("AWS.SimpleQueueService.EmptyBatchRequest", sqs.send_message_batch, QueueUrl=queue, Entries=[])
    expect_error("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", sqs.send_message_batch, QueueUrl=queue,
                 Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)],
                 message="Maximum number of entries per request are 10. You have sent 11.")
    expect_error("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", sqs.send_message_batch, QueueUrl=queue,
                 Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}], message="Id a repeated.")
    expect_error("AWS.SimpleQueueService.InvalidBatchEntryId", sqs.send_message_batch, QueueUrl=queue,
                 Entries=[{"Id": "a b", "MessageBody": "x"}])
    expect_error("AWS.SimpleQueueService.BatchRequestTooLong", sqs.send_message_batch, QueueUrl=queue,
                 Entries=[{"Id": str(i), "MessageBody": "x" * 400_000} for i in range(3)],
                 message="Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes.")


def test_delete_and_visibility_batches(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 3
    r = sqs.change_message_visibility_batch(QueueUrl=queue, Entries=[
        {"Id": "a", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "b", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
    ])
    assert [s["Id"] for s in r["Successful"]] == ["a"]
    assert r["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    r = sqs.delete_message_batch(QueueUrl=queue, Entries=[
        {"Id": "x", "ReceiptHandle": msgs[1]["ReceiptHandle"]},
        {"Id": "y", "ReceiptHandle": msgs[2]["ReceiptHandle"]},
        {"Id": "z", "ReceiptHandle": "garbage"},
    ])
    assert sorted(s["Id"] for s in r["Successful"]) == ["x", "y"]
    assert r["Failed"][0]["Id"] == "z"
    (m,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert m["MessageId"] == msgs[0]["MessageId"]


# ---- FIFO ---------------------------------------------------------------------------------


def test_fifo_ordering_per_group_and_blocking(sqs, fifo):
    for i in range(3):
        for g in ("a", "b"):
            sqs.send_message(QueueUrl=fifo, MessageBody=f"{g}{i}", MessageGroupId=g, MessageDeduplicationId=f"{g}{i}")
    first = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=1, AttributeNames=["All"])["Messages"]
    assert first[0]["Body"] == "a0"
    assert first[0]["Attributes"]["MessageGroupId"] == "a"
    assert len(first[0]["Attributes"]["SequenceNumber"]) == 20
    # Group a is blocked while a0 is in flight: only b's messages come, in order.
    rest = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["b0", "b1", "b2"]
    assert "Messages" not in sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=fifo, ReceiptHandle=first[0]["ReceiptHandle"])
    after = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in after] == ["a1", "a2"]


def test_fifo_deduplication(sqs, fifo):
    a = sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d1")
    b = sqs.send_message(QueueUrl=fifo, MessageBody="y", MessageGroupId="g", MessageDeduplicationId="d1")
    assert a["MessageId"] == b["MessageId"] and a["SequenceNumber"] == b["SequenceNumber"]
    c = sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d2")
    assert int(c["SequenceNumber"]) > int(a["SequenceNumber"])
    assert attrs(sqs, fifo, "ApproximateNumberOfMessages")["ApproximateNumberOfMessages"] == "2"


def test_fifo_content_based_deduplication(sqs):
    url = sqs.create_queue(QueueName=new_name(fifo=True),
                           Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    a = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"]
    (m,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageDeduplicationId"])["Messages"]
    assert m["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"same").hexdigest()


def test_fifo_parameter_errors(sqs, fifo):
    expect_error("MissingParameter", sqs.send_message, QueueUrl=fifo, MessageBody="x",
                 message="The request must contain the parameter MessageGroupId.")
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=fifo, MessageBody="x", MessageGroupId="g",
                 message="The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
    expect_error("InvalidParameterValue", sqs.send_message, QueueUrl=fifo, MessageBody="x", MessageGroupId="g",
                 MessageDeduplicationId="d", DelaySeconds=5,
                 message="Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.")
    sqs.send_message(QueueUrl=fifo, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d0", DelaySeconds=0)


def test_fifo_batch_and_receive_attempt_id(sqs, fifo):
    r = sqs.send_message_batch(QueueUrl=fifo, Entries=[
        {"Id": str(i), "MessageBody": str(i), "MessageGroupId": "g", "MessageDeduplicationId": str(i)} for i in range(3)])
    seqs = [int(s["SequenceNumber"]) for s in r["Successful"]]
    assert seqs == sorted(seqs)
    first = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=2, ReceiveRequestAttemptId="att")["Messages"]
    again = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=2, ReceiveRequestAttemptId="att")["Messages"]
    assert [m["ReceiptHandle"] for m in first] == [m["ReceiptHandle"] for m in again]
    assert [m["Body"] for m in first] == ["0", "1"]


# ---- dead-letter queues -------------------------------------------------------------------


def test_dead_letter_redrive_and_move_task(sqs):
    dlq = sqs.create_queue(QueueName=new_name("dlq"))["QueueUrl"]
    dlq_arn = attrs(sqs, dlq, "QueueArn")["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    src = sqs.create_queue(QueueName=new_name("src"), Attributes={"RedrivePolicy": policy})["QueueUrl"]
    assert json.loads(attrs(sqs, src, "RedrivePolicy")["RedrivePolicy"])["deadLetterTargetArn"] == dlq_arn
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        (m,) = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"]
        assert m["MessageId"] == sent["MessageId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    (dead,) = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], VisibilityTimeout=0)["Messages"]
    assert dead["MessageId"] == sent["MessageId"] and dead["Body"] == "poison"
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == attrs(sqs, src, "QueueArn")["QueueArn"]
    # Redrive it back to its source.
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert tasks[0]["Status"] == "COMPLETED" and tasks[0]["ApproximateNumberOfMessagesMoved"] == 1
    (back,) = sqs.receive_message(QueueUrl=src)["Messages"]
    assert back["Body"] == "poison"
    expect_error("ResourceNotFoundException", sqs.cancel_message_move_task, TaskHandle=handle, status=404)
    expect_error("InvalidParameterValue", sqs.start_message_move_task, SourceArn=attrs(sqs, src, "QueueArn")["QueueArn"])


def test_redrive_policy_validation(sqs):
    missing = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nope", "maxReceiveCount": 1})
    expect_error("InvalidParameterValue", sqs.create_queue, QueueName=new_name(), Attributes={"RedrivePolicy": missing})
    expect_error("InvalidAttributeValue", sqs.create_queue, QueueName=new_name(), Attributes={"RedrivePolicy": "{}"})
