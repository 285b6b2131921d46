"""SNS with `--data-dir`: topics (attributes, tags), subscriptions (attributes, filter policies,
raw delivery), platform applications and endpoints survive a SIGKILL, and publishing after the
restart still reaches SQS subscribers."""

from __future__ import annotations

import json
import signal
import uuid

from .conftest import make_client


def snapshot(sns, topics: list[str]) -> dict:
    out = {"topics": sorted(t["TopicArn"] for t in sns.list_topics()["Topics"])}
    out["subscriptions"] = sorted(
        (s["SubscriptionArn"], s["TopicArn"], s["Protocol"], s["Endpoint"]) for s in sns.list_subscriptions()["Subscriptions"]
    )
    for arn in topics:
        out[arn] = {
            "attributes": sns.get_topic_attributes(TopicArn=arn)["Attributes"],
            "tags": sns.list_tags_for_resource(ResourceArn=arn)["Tags"],
            "subs": [
                sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
                for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
                if s["SubscriptionArn"].startswith("arn:")
            ],
        }
    return out


def test_topics_and_subscriptions_survive_a_sigkill(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    sns = make_client("sns", server.endpoint)
    sqs = make_client("sqs", server.endpoint)
    tag = uuid.uuid4().hex[:8]

    q = sqs.create_queue(QueueName=f"sub-{tag}")["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name=f"t-{tag}", Attributes={"DisplayName": "Mine ü"}, Tags=[{"Key": "team", "Value": "core"}])["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="Renamed ü")
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "env", "Value": "dev"}])
    sns.untag_resource(ResourceArn=topic, TagKeys=["team"])
    fifo = sns.create_topic(Name=f"f-{tag}.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    sub = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=q_arn, ReturnSubscriptionArn=True,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"kind": ["keep"]})},
    )["SubscriptionArn"]
    pending = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/hook", ReturnSubscriptionArn=True)["SubscriptionArn"]
    dropped = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com", ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=dropped)
    gone = sns.create_topic(Name=f"gone-{tag}")["TopicArn"]
    sns.subscribe(TopicArn=gone, Protocol="sqs", Endpoint=q_arn)
    sns.delete_topic(TopicArn=gone)

    before = snapshot(sns, [topic, fifo])
    assert before[topic]["attributes"]["DisplayName"] == "Renamed ü"
    assert before[topic]["attributes"]["SubscriptionsConfirmed"] == "1"
    assert before[topic]["attributes"]["SubscriptionsPending"] == "1"
    assert len(before["subscriptions"]) == 2
    server.stop(signal.SIGKILL)

    again = start_server("--data-dir", data)
    sns = make_client("sns", again.endpoint)
    sqs = make_client("sqs", again.endpoint)
    assert snapshot(sns, [topic, fifo]) == before
    assert gone not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    sub_attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert sub_attrs["RawMessageDelivery"] == "true" and json.loads(sub_attrs["FilterPolicy"]) == {"kind": ["keep"]}
    assert sns.get_subscription_attributes(SubscriptionArn=pending)["Attributes"]["PendingConfirmation"] == "true"

    # The restored subscription still filters and delivers raw to the restored queue.
    sns.publish(TopicArn=topic, Message="skip me", MessageAttributes={"kind": {"DataType": "String", "StringValue": "drop"}})
    sns.publish(TopicArn=topic, Message="deliver ✓", MessageAttributes={"kind": {"DataType": "String", "StringValue": "keep"}})
    q = q.replace(server.endpoint, again.endpoint)
    got = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    assert [m["Body"] for m in got] == ["deliver ✓"]
    # Subscribing the same endpoint again answers the restored subscription.
    assert sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn, ReturnSubscriptionArn=True)["SubscriptionArn"] == sub


def test_platform_applications_and_endpoints_survive_a_sigkill(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    sns = make_client("sns", server.endpoint)
    app = sns.create_platform_application(Name="push", Platform="APNS",
                                          Attributes={"PlatformCredential": "c", "PlatformPrincipal": "p"})["PlatformApplicationArn"]
    kept = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1", CustomUserData="u")["EndpointArn"]
    off = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t2")["EndpointArn"]
    sns.set_endpoint_attributes(EndpointArn=off, Attributes={"Enabled": "false"})
    dropped = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t3")["EndpointArn"]
    sns.delete_endpoint(EndpointArn=dropped)
    gone = sns.create_platform_application(Name="gone", Platform="GCM", Attributes={"PlatformCredential": "k"})["PlatformApplicationArn"]
    sns.create_platform_endpoint(PlatformApplicationArn=gone, Token="t")
    sns.delete_platform_application(PlatformApplicationArn=gone)

    def snapshot():
        return {
            "apps": sns.list_platform_applications()["PlatformApplications"],
            "endpoints": sorted((e["EndpointArn"], sorted(e["Attributes"].items()))
                                for e in sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]),
        }

    before = snapshot()
    assert [e[0] for e in before["endpoints"]] == sorted([kept, off])
    server.stop(signal.SIGKILL)

    again = start_server("--data-dir", data)
    sns = make_client("sns", again.endpoint)
    assert snapshot() == before
    # The same token still answers the restored endpoint; the disabled one still refuses.
    assert sns.create_platform_endpoint(PlatformApplicationArn=app, Token="t1", CustomUserData="u")["EndpointArn"] == kept
    try:
        sns.publish(TargetArn=off, Message="x")
        raise AssertionError("a disabled endpoint took a message")
    except sns.exceptions.EndpointDisabledException:
        pass
