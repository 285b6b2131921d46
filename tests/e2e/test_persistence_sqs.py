"""SQS with `--data-dir`: queues (attributes, tags, policy), their messages (bodies, attributes,
MD5s, an in-flight one, a FIFO queue's order and deduplication) survive a SIGKILL."""

from __future__ import annotations

import json
import signal
import time
import uuid

from .conftest import make_client

ATTRS = {
    "s": {"DataType": "String", "StringValue": "ünïcode"},
    "n": {"DataType": "Number", "StringValue": "42"},
    "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
}


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def receive_all(sqs, url: str, **kw) -> list[dict]:
    out = []
    for _ in range(10):
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"],
            VisibilityTimeout=60, **kw,
        ).get("Messages", [])
        if not got:
            break
        out += got
    return out


def test_queues_and_messages_survive_a_sigkill(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    sqs = make_client("sqs", server.endpoint)
    tag = uuid.uuid4().hex[:8]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}]})

    dlq = sqs.create_queue(QueueName=f"dlq-{tag}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    std = sqs.create_queue(
        QueueName=f"std-{tag}",
        Attributes={
            "VisibilityTimeout": "45", "MessageRetentionPeriod": "3600", "Policy": policy,
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
        },
        tags={"team": "core", "env": "dev"},
    )["QueueUrl"]
    sqs.untag_queue(QueueUrl=std, TagKeys=["env"])
    sqs.add_permission(QueueUrl=std, Label="l1", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    fifo = sqs.create_queue(
        QueueName=f"fifo-{tag}.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    gone = sqs.create_queue(QueueName=f"gone-{tag}")["QueueUrl"]
    sqs.send_message(QueueUrl=gone, MessageBody="lost")
    sqs.delete_queue(QueueUrl=gone)

    sent = {}
    r = sqs.send_message(QueueUrl=std, MessageBody="first ✓", MessageAttributes=ATTRS)
    sent[r["MessageId"]] = ("first ✓", r["MD5OfMessageBody"], r["MD5OfMessageAttributes"])
    batch = sqs.send_message_batch(
        QueueUrl=std,
        Entries=[{"Id": f"e{i}", "MessageBody": f"batch {i}", "MessageAttributes": {"i": {"DataType": "Number", "StringValue": str(i)}}} for i in range(3)],
    )
    for e in batch["Successful"]:
        sent[e["MessageId"]] = (f"batch {e['Id'][1:]}", e["MD5OfMessageBody"], e["MD5OfMessageAttributes"])
    deleted = sqs.send_message(QueueUrl=std, MessageBody="deleted")
    # One message in flight when the server dies, one deleted.
    got = receive_all(sqs, std)
    assert len(got) == 5
    by_body = {m["Body"]: m for m in got}
    in_flight = by_body["batch 1"]
    sqs.delete_message(QueueUrl=std, ReceiptHandle=by_body["deleted"]["ReceiptHandle"])
    for m in got:
        if m["Body"] not in ("batch 1", "deleted"):
            sqs.change_message_visibility(QueueUrl=std, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    assert deleted["MessageId"] not in sent

    fifo_sent = []
    for i, group in enumerate(["a", "b", "a", "a"]):
        r = sqs.send_message(QueueUrl=fifo, MessageBody=f"fifo {i}", MessageGroupId=group)
        fifo_sent.append((r["MessageId"], r["SequenceNumber"]))
    dup = sqs.send_message(QueueUrl=fifo, MessageBody="fifo 0", MessageGroupId="a")
    assert dup["MessageId"] == fifo_sent[0][0]

    std_attrs = sqs.get_queue_attributes(QueueUrl=std, AttributeNames=["All"])["Attributes"]
    assert std_attrs["ApproximateNumberOfMessages"] == "3" and std_attrs["ApproximateNumberOfMessagesNotVisible"] == "1"
    before = {
        "list": sqs.list_queues(QueueNamePrefix=f"")["QueueUrls"],
        "std": std_attrs,
        "fifo": sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"],
        "tags": sqs.list_queue_tags(QueueUrl=std)["Tags"],
        "sources": sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"],
    }
    server.stop(signal.SIGKILL)

    again = start_server("--data-dir", data)
    sqs = make_client("sqs", again.endpoint)
    # Queue URLs carry the host the client used: compare by path.
    swap = lambda u: u.replace(server.endpoint, again.endpoint)
    std, fifo, dlq = swap(std), swap(fifo), swap(dlq)
    after = {
        "list": sqs.list_queues(QueueNamePrefix=f"")["QueueUrls"],
        "std": sqs.get_queue_attributes(QueueUrl=std, AttributeNames=["All"])["Attributes"],
        "fifo": sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"],
        "tags": sqs.list_queue_tags(QueueUrl=std)["Tags"],
        "sources": sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"],
    }
    assert after["list"] == [swap(u) for u in before["list"]]
    assert after["sources"] == [swap(u) for u in before["sources"]]
    assert after["std"] == before["std"] and after["fifo"] == before["fifo"] and after["tags"] == before["tags"]
    assert json.loads(after["std"]["Policy"]) == json.loads(policy)

    # The visible messages come back exactly; the in-flight one stays hidden until released.
    got = receive_all(sqs, std)
    assert sorted(m["Body"] for m in got) == ["batch 0", "batch 2", "first ✓"]
    for m in got:
        body, md5_body, md5_attrs = sent[m["MessageId"]]
        assert (m["Body"], m["MD5OfBody"], m["MD5OfMessageAttributes"]) == (body, md5_body, md5_attrs)
        assert m["Attributes"]["ApproximateReceiveCount"] == "2"
    first = next(m for m in got if m["Body"] == "first ✓")
    assert first["MessageAttributes"] == ATTRS
    # The receipt handle from before the crash still works on the in-flight message.
    sqs.change_message_visibility(QueueUrl=std, ReceiptHandle=in_flight["ReceiptHandle"], VisibilityTimeout=0)
    (back,) = receive_all(sqs, std)
    assert back["MessageId"] == in_flight["MessageId"] and back["Body"] == "batch 1"
    assert back["Attributes"]["ApproximateReceiveCount"] == "2"
    assert back["MessageAttributes"] == in_flight["MessageAttributes"]

    # FIFO: order within groups, deduplication and sequence numbers carry on.
    dup = sqs.send_message(QueueUrl=fifo, MessageBody="fifo 0", MessageGroupId="a")
    assert dup["MessageId"] == fifo_sent[0][0]
    new = sqs.send_message(QueueUrl=fifo, MessageBody="fifo 4", MessageGroupId="b")
    assert int(new["SequenceNumber"]) > int(fifo_sent[-1][1])
    order = []
    while True:
        got = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        for m in got:
            order.append((m["Attributes"]["MessageGroupId"], m["Body"], m["Attributes"]["SequenceNumber"]))
            sqs.delete_message(QueueUrl=fifo, ReceiptHandle=m["ReceiptHandle"])
    assert [b for g, b, _ in order if g == "a"] == ["fifo 0", "fifo 2", "fifo 3"]
    assert [b for g, b, _ in order if g == "b"] == ["fifo 1", "fifo 4"]
    assert {s for _, _, s in order} == {s for _, s in fifo_sent} | {new["SequenceNumber"]}

    # Long polling still wakes on a send.
    start = time.monotonic()
    sqs.send_message(QueueUrl=dlq, MessageBody="late")
    got = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=5).get("Messages", [])
    assert [m["Body"] for m in got] == ["late"] and time.monotonic() - start < 4
