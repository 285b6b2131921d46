"""CloudWatch Logs v2 delivery API: delivery sources, delivery destinations with their policies,
and deliveries pairing them; AWS's not-found and conflict errors; kept across a restart."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client

SOURCE_ARN = "arn:aws:cloudfront::000000000000:distribution/E1Q5F5862X9VJ5"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "logs:CreateDelivery", "Resource": "*",
}]})


def code(exc: pytest.ExceptionInfo) -> tuple[int, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def test_sources_destinations_and_deliveries(client):
    logs = client("logs")
    n = uuid.uuid4().hex[:8]
    src = logs.put_delivery_source(name=f"src-{n}", resourceArn=SOURCE_ARN, logType="ACCESS_LOGS",
                                   tags={"k": "v"})["deliverySource"]
    assert src == {
        "name": f"src-{n}", "arn": f"arn:aws:logs:us-east-1:000000000000:delivery-source:src-{n}",
        "resourceArns": [SOURCE_ARN], "service": "cloudfront", "logType": "ACCESS_LOGS", "tags": {"k": "v"},
    }
    assert logs.get_delivery_source(name=f"src-{n}")["deliverySource"] == src
    with pytest.raises(ClientError) as e:
        logs.put_delivery_source(name=f"src-{n}", resourceArn=SOURCE_ARN + "X", logType="ACCESS_LOGS")
    assert code(e) == (400, "ConflictException")

    dest = logs.put_delivery_destination(
        name=f"dst-{n}", outputFormat="json",
        deliveryDestinationConfiguration={"destinationResourceArn": "arn:aws:s3:::some-bucket"},
    )["deliveryDestination"]
    assert dest["arn"] == f"arn:aws:logs:us-east-1:000000000000:delivery-destination:dst-{n}"
    assert dest["deliveryDestinationType"] == "S3" and dest["outputFormat"] == "json"
    with pytest.raises(ClientError) as e:
        logs.put_delivery_destination(
            name=f"dst-{n}", outputFormat="plain",
            deliveryDestinationConfiguration={"destinationResourceArn": "arn:aws:s3:::some-bucket"},
        )
    assert code(e) == (400, "ValidationException")
    moved = logs.put_delivery_destination(
        name=f"dst-{n}", deliveryDestinationConfiguration={"destinationResourceArn": "arn:aws:s3:::other"},
    )["deliveryDestination"]
    assert moved["deliveryDestinationConfiguration"] == {"destinationResourceArn": "arn:aws:s3:::other"}
    assert moved["outputFormat"] == "json"
    cwl = logs.put_delivery_destination(
        name=f"cwl-{n}",
        deliveryDestinationConfiguration={"destinationResourceArn": "arn:aws:logs:us-east-1:000000000000:log-group:g"},
    )["deliveryDestination"]
    assert cwl["deliveryDestinationType"] == "CWL"
    names = [d["name"] for d in logs.describe_delivery_destinations()["deliveryDestinations"]]
    assert f"dst-{n}" in names and f"cwl-{n}" in names

    # Policies.
    assert logs.get_delivery_destination_policy(deliveryDestinationName=f"dst-{n}")["policy"] == {}
    out = logs.put_delivery_destination_policy(deliveryDestinationName=f"dst-{n}", deliveryDestinationPolicy=POLICY)
    assert out["policy"] == {"deliveryDestinationPolicy": POLICY}
    assert logs.get_delivery_destination_policy(deliveryDestinationName=f"dst-{n}")["policy"] == {
        "deliveryDestinationPolicy": POLICY}
    logs.delete_delivery_destination_policy(deliveryDestinationName=f"dst-{n}")
    assert logs.get_delivery_destination_policy(deliveryDestinationName=f"dst-{n}")["policy"] == {}
    for call in (
        lambda: logs.delete_delivery_destination_policy(deliveryDestinationName=f"dst-{n}"),
        lambda: logs.put_delivery_destination_policy(deliveryDestinationName="nope", deliveryDestinationPolicy=POLICY),
        lambda: logs.get_delivery_destination_policy(deliveryDestinationName="nope"),
        lambda: logs.get_delivery_destination(name="nope"),
        lambda: logs.get_delivery_source(name="nope"),
        lambda: logs.get_delivery(id="nope"),
        lambda: logs.delete_delivery(id="nope"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == (400, "ResourceNotFoundException")

    # Deliveries.
    delivery = logs.create_delivery(
        deliverySourceName=f"src-{n}", deliveryDestinationArn=dest["arn"], recordFields=["date"],
        fieldDelimiter=",", s3DeliveryConfiguration={"suffixPath": "AWSLogs/", "enableHiveCompatiblePath": True},
    )["delivery"]
    assert delivery["deliverySourceName"] == f"src-{n}" and delivery["deliveryDestinationArn"] == dest["arn"]
    assert delivery["deliveryDestinationType"] == "S3" and delivery["recordFields"] == ["date"]
    assert delivery["arn"] == f"arn:aws:logs:us-east-1:000000000000:delivery:{delivery['id']}"
    assert logs.get_delivery(id=delivery["id"])["delivery"] == delivery
    with pytest.raises(ClientError) as e:
        logs.create_delivery(deliverySourceName=f"src-{n}", deliveryDestinationArn=dest["arn"])
    assert code(e) == (400, "ConflictException")
    with pytest.raises(ClientError) as e:
        logs.create_delivery(deliverySourceName="nope", deliveryDestinationArn=dest["arn"])
    assert code(e) == (400, "ResourceNotFoundException")
    with pytest.raises(ClientError) as e:
        logs.create_delivery(deliverySourceName=f"src-{n}", deliveryDestinationArn=dest["arn"] + "x")
    assert code(e) == (400, "ResourceNotFoundException")
    second = logs.create_delivery(deliverySourceName=f"src-{n}", deliveryDestinationArn=cwl["arn"])["delivery"]
    listed = logs.describe_deliveries(deliverySourceNames=[f"src-{n}"])["deliveries"]
    assert sorted(d["id"] for d in listed) == sorted([delivery["id"], second["id"]])
    logs.update_delivery_configuration(id=delivery["id"], recordFields=["date", "time"])
    assert logs.get_delivery(id=delivery["id"])["delivery"]["recordFields"] == ["date", "time"]
    # In use: neither end of a delivery can go.
    with pytest.raises(ClientError) as e:
        logs.delete_delivery_source(name=f"src-{n}")
    assert code(e) == (400, "ConflictException")
    with pytest.raises(ClientError) as e:
        logs.delete_delivery_destination(name=f"dst-{n}")
    assert code(e) == (400, "ConflictException")
    logs.delete_delivery(id=delivery["id"])
    logs.delete_delivery(id=second["id"])
    assert logs.describe_deliveries(deliverySourceNames=[f"src-{n}"])["deliveries"] == []
    logs.delete_delivery_destination(name=f"dst-{n}")
    logs.delete_delivery_destination(name=f"cwl-{n}")
    logs.delete_delivery_source(name=f"src-{n}")
    with pytest.raises(ClientError) as e:
        logs.delete_delivery_source(name=f"src-{n}")
    assert code(e) == (400, "ResourceNotFoundException")
    with pytest.raises(ClientError) as e:
        logs.delete_delivery_destination(name=f"dst-{n}")
    assert code(e) == (400, "ResourceNotFoundException")


def test_describe_delivery_sources_pages(client):
    logs = client("logs")
    n = uuid.uuid4().hex[:8]
    arn = f"arn:aws:cloudfront::000000000000:distribution/{n}"
    for i in range(3):
        logs.put_delivery_source(name=f"p{n}-{i}", resourceArn=arn, logType="ACCESS_LOGS")
    page = logs.describe_delivery_sources(resourceArns=[arn], limit=2)
    assert [s["name"] for s in page["deliverySources"]] == [f"p{n}-0", f"p{n}-1"]
    rest = logs.describe_delivery_sources(resourceArns=[arn], limit=2, nextToken=page["nextToken"])
    assert [s["name"] for s in rest["deliverySources"]] == [f"p{n}-2"] and "nextToken" not in rest


def test_deliveries_survive_a_restart(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    logs = make_client("logs", server.endpoint)
    logs.put_delivery_source(name="s", resourceArn=SOURCE_ARN, logType="ACCESS_LOGS")
    dest = logs.put_delivery_destination(
        name="d", deliveryDestinationConfiguration={"destinationResourceArn": "arn:aws:s3:::b"})["deliveryDestination"]
    logs.put_delivery_destination_policy(deliveryDestinationName="d", deliveryDestinationPolicy=POLICY)
    delivery = logs.create_delivery(deliverySourceName="s", deliveryDestinationArn=dest["arn"])["delivery"]

    def snapshot(logs):
        return (
            logs.describe_delivery_sources()["deliverySources"],
            logs.describe_delivery_destinations()["deliveryDestinations"],
            logs.get_delivery_destination_policy(deliveryDestinationName="d")["policy"],
            logs.describe_deliveries()["deliveries"],
        )

    before = snapshot(logs)
    server.stop()
    server = start_server("--data-dir", data)
    after = snapshot(make_client("logs", server.endpoint))
    assert after == before and after[3][0]["id"] == delivery["id"] and after[2] == {"deliveryDestinationPolicy": POLICY}


def test_tags_by_arn_on_destinations_and_delivery_resources(client):
    logs = client("logs")
    n = uuid.uuid4().hex[:8]
    dest = logs.put_destination(destinationName=f"d-{n}", targetArn="arn:aws:kinesis:us-east-1:000000000000:stream/s",
                                roleArn="arn:aws:iam::000000000000:role/r", tags={"a": "1"})["destination"]
    src = logs.put_delivery_source(name=f"s-{n}", resourceArn=SOURCE_ARN, logType="ACCESS_LOGS")["deliverySource"]
    for arn, start in ((dest["arn"], {"a": "1"}), (src["arn"], {})):
        assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == start
        logs.tag_resource(resourceArn=arn, tags={"b": "2", "c": "3"})
        logs.untag_resource(resourceArn=arn, tagKeys=["c"])
        assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {**start, "b": "2"}
    assert logs.get_delivery_source(name=f"s-{n}")["deliverySource"]["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        logs.list_tags_for_resource(resourceArn=dest["arn"] + "-missing")
    assert code(e) == (400, "ResourceNotFoundException")
    logs.delete_destination(destinationName=f"d-{n}")
    logs.delete_delivery_source(name=f"s-{n}")
