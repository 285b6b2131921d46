"""DynamoDB Streams through boto3 ('dynamodbstreams'): streams created and closed by CreateTable,
UpdateTable and DeleteTable, the four view types, the five iterator types, paging with
NextShardIterator, TTL deletions as service deletions, and the errors."""

from __future__ import annotations

import base64
import datetime
import time

import pytest

from .ddbutil import create, name, raises


@pytest.fixture(scope="module")
def ddb(client):
    return client("dynamodb")


@pytest.fixture(scope="module")
def streams(client):
    return client("dynamodbstreams")


def stream_table(ddb, view="NEW_AND_OLD_IMAGES", **extra):
    table = create(ddb, range_key=("sk", "N"), StreamSpecification={"StreamEnabled": True, "StreamViewType": view}, **extra)
    return table, ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def shard_of(streams, arn):
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 1
    return shards[0]["ShardId"]


def iterator(streams, arn, kind="TRIM_HORIZON", **kw):
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn), ShardIteratorType=kind, **kw)[
        "ShardIterator"
    ]


def read_all(streams, arn, kind="TRIM_HORIZON", **kw):
    return streams.get_records(ShardIterator=iterator(streams, arn, kind, **kw))["Records"]


def write_three(ddb, table):
    """INSERT, MODIFY, REMOVE of one item (plus a no-op put, which AWS does not record)."""
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "one"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "one"}})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "two"}},
    )
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})


KEYS = {"pk": {"S": "a"}, "sk": {"N": "1"}}
ONE = {**KEYS, "v": {"S": "one"}}
TWO = {**KEYS, "v": {"S": "two"}}


@pytest.mark.parametrize(
    "view,images",
    [
        ("KEYS_ONLY", [{}, {}, {}]),
        ("NEW_IMAGE", [{"NewImage": ONE}, {"NewImage": TWO}, {}]),
        ("OLD_IMAGE", [{}, {"OldImage": ONE}, {"OldImage": TWO}]),
        (
            "NEW_AND_OLD_IMAGES",
            [{"NewImage": ONE}, {"OldImage": ONE, "NewImage": TWO}, {"OldImage": TWO}],
        ),
    ],
)
def test_view_types_shape_the_records(ddb, streams, view, images):
    table, arn = stream_table(ddb, view)
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    write_three(ddb, table)
    records = read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    sequence_numbers = []
    for record, expected in zip(records, images):
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "us-east-1"
        assert len(record["eventID"]) == 32
        assert "userIdentity" not in record
        body = record["dynamodb"]
        assert body["Keys"] == KEYS
        assert body["StreamViewType"] == view
        assert body["SizeBytes"] > 0
        assert body["ApproximateCreationDateTime"] >= before
        assert body["ApproximateCreationDateTime"].microsecond == 0
        assert {k: body[k] for k in ("NewImage", "OldImage") if k in body} == expected
        assert len(body["SequenceNumber"]) == 21 and body["SequenceNumber"].isdigit()
        sequence_numbers.append(body["SequenceNumber"])
    assert sequence_numbers == sorted(sequence_numbers) and len(set(sequence_numbers)) == 3
    assert len({r["eventID"] for r in records}) == 3


def test_list_describe_and_table_agree(ddb, streams):
    table, arn = stream_table(ddb, "KEYS_ONLY")
    t = ddb.describe_table(TableName=table)["Table"]
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert arn == f"{t['TableArn']}/stream/{t['LatestStreamLabel']}"
    listed = streams.list_streams(TableName=table)
    assert listed["Streams"] == [{"StreamArn": arn, "TableName": table, "StreamLabel": t["LatestStreamLabel"]}]
    assert "LastEvaluatedStreamArn" not in listed
    d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert d["StreamArn"] == arn
    assert d["StreamLabel"] == t["LatestStreamLabel"]
    assert d["StreamStatus"] == "ENABLED"
    assert d["StreamViewType"] == "KEYS_ONLY"
    assert d["TableName"] == table
    assert d["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert isinstance(d["CreationRequestDateTime"], datetime.datetime)
    (shard,) = d["Shards"]
    assert shard["ShardId"].startswith("shardId-")
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
    assert len(shard["SequenceNumberRange"]["StartingSequenceNumber"]) == 21
    # Nothing after the only shard, and it has no children.
    assert streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=shard["ShardId"])["StreamDescription"][
        "Shards"
    ] == []
    child = streams.describe_stream(StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard["ShardId"]})
    assert child["StreamDescription"]["Shards"] == []
    # A table without a stream has none.
    plain = create(ddb)
    t = ddb.describe_table(TableName=plain)["Table"]
    assert "LatestStreamArn" not in t and "StreamSpecification" not in t
    assert streams.list_streams(TableName=plain)["Streams"] == []


def test_list_streams_pages(ddb, streams):
    arns = sorted(stream_table(ddb)[1] for _ in range(3))
    seen = []
    start = None
    while True:
        kw = {"ExclusiveStartStreamArn": start} if start else {}
        page = streams.list_streams(Limit=2, **kw)
        seen += [s["StreamArn"] for s in page["Streams"]]
        assert len(page["Streams"]) <= 2
        start = page.get("LastEvaluatedStreamArn")
        if not start:
            break
    assert len(seen) == len(set(seen))
    assert set(arns) <= set(seen)


def test_iterator_types(ddb, streams):
    table, arn = stream_table(ddb, "NEW_IMAGE")
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "sk": {"N": str(i)}})
    latest = iterator(streams, arn, "LATEST")
    all_records = read_all(streams, arn)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in all_records]
    assert len(seqs) == 3
    at = read_all(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seqs[1])
    assert [r["dynamodb"]["SequenceNumber"] for r in at] == seqs[1:]
    after = read_all(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[1])
    assert [r["dynamodb"]["SequenceNumber"] for r in after] == seqs[2:]
    assert read_all(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[2]) == []
    # LATEST starts after the newest record: only later writes show.
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "sk": {"N": "9"}})
    out = streams.get_records(ShardIterator=latest)
    assert [r["dynamodb"]["Keys"]["sk"]["N"] for r in out["Records"]] == ["9"]
    assert out["Records"][0]["dynamodb"]["SequenceNumber"] > seqs[2]
    # AT_TIMESTAMP: from the first record at or after the time; a future time is refused.
    first_time = all_records[0]["dynamodb"]["ApproximateCreationDateTime"]
    assert len(read_all(streams, arn, "AT_TIMESTAMP", Timestamp=first_time)) == 4
    with raises("ValidationException"):
        iterator(streams, arn, "AT_TIMESTAMP", Timestamp=time.time() + 3600)


def test_paging_with_next_shard_iterator(ddb, streams):
    table, arn = stream_table(ddb, "KEYS_ONLY")
    for i in range(25):
        ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}})
    it = iterator(streams, arn)
    pages = []
    for _ in range(4):
        out = streams.get_records(ShardIterator=it, Limit=10)
        pages.append([int(r["dynamodb"]["Keys"]["sk"]["N"]) for r in out["Records"]])
        # An open shard always has a next iterator, even when nothing is new.
        it = out["NextShardIterator"]
    assert pages == [list(range(10)), list(range(10, 20)), list(range(20, 25)), []]
    ddb.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"N": "99"}})
    assert [r["dynamodb"]["Keys"]["sk"]["N"] for r in streams.get_records(ShardIterator=it)["Records"]] == ["99"]


def test_transactions_and_batches_are_recorded(ddb, streams):
    table, arn = stream_table(ddb, "NEW_IMAGE")
    ddb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": str(i)}}}} for i in range(3)]}
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "b"}, "sk": {"N": "0"}}}},
        ]
    )
    names = [r["eventName"] for r in read_all(streams, arn)]
    assert names == ["INSERT"] * 4 + ["REMOVE"]


def test_disable_closes_the_shard_and_enable_creates_a_new_stream(ddb, streams):
    table, arn = stream_table(ddb, "NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    it = iterator(streams, arn)
    with raises("ValidationException", f"Table already has an enabled stream: arn:aws:dynamodb:us-east-1:000000000000:table/{table}"):
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    t = ddb.describe_table(TableName=table)["Table"]
    assert "StreamSpecification" not in t
    assert t["LatestStreamArn"] == arn  # the latest stream is still named after disabling
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "2"}})  # not recorded
    d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert d["StreamStatus"] == "DISABLED"
    rng = d["Shards"][0]["SequenceNumberRange"]
    assert rng["EndingSequenceNumber"] == rng["StartingSequenceNumber"]
    out = streams.get_records(ShardIterator=it)
    assert len(out["Records"]) == 1
    assert "NextShardIterator" not in out  # the closed shard is read to its end

    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    t = ddb.describe_table(TableName=table)["Table"]
    new_arn = t["LatestStreamArn"]
    assert new_arn != arn
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    listed = {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]}
    assert listed == {arn, new_arn}
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
    records = read_all(streams, new_arn)
    assert [r["eventName"] for r in records] == ["REMOVE"]
    assert "OldImage" not in records[0]["dynamodb"]


def test_stream_outlives_its_table(ddb, streams):
    table, arn = stream_table(ddb, "KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    ddb.delete_table(TableName=table)
    d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert d["StreamStatus"] == "DISABLED"
    assert [r["eventName"] for r in read_all(streams, arn)] == ["INSERT"]


def test_ttl_deletions_are_service_deletions(ddb, streams):
    table, arn = stream_table(ddb, "NEW_AND_OLD_IMAGES")
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}, "sk": {"N": "1"}, "exp": {"N": str(int(time.time()) - 10)}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "gone"}, "sk": {"N": "2"}})  # nothing there: no record
    ddb.put_item(TableName=table, Item={"pk": {"S": "user"}, "sk": {"N": "1"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "user"}, "sk": {"N": "1"}})
    deadline = time.time() + 10
    while True:
        records = read_all(streams, arn)
        removes = [r for r in records if r["eventName"] == "REMOVE"]
        if len(removes) == 2 or time.time() > deadline:
            break
        time.sleep(0.3)
    by_key = {r["dynamodb"]["Keys"]["pk"]["S"]: r for r in removes}
    assert set(by_key) == {"gone", "user"}
    assert by_key["gone"]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert by_key["gone"]["dynamodb"]["OldImage"]["exp"]["N"]
    assert "userIdentity" not in by_key["user"]


def forge(it: str, **change) -> str:
    """Rewrites the position or issue time inside one of our iterators (tests of refusals only)."""
    prefix, payload = it.rsplit("|", 1)
    after, issued = base64.b64decode(payload).decode().split(":")
    after = change.get("after", after)
    issued = change.get("issued", issued)
    return f"{prefix}|{base64.b64encode(f'{after}:{issued}'.encode()).decode()}"


def test_errors(ddb, streams):
    table, arn = stream_table(ddb)
    shard = shard_of(streams, arn)
    missing = arn.replace(table, table + "-missing")
    with raises("ResourceNotFoundException", f"Requested resource not found: Stream: {missing} not found"):
        streams.describe_stream(StreamArn=missing)
    with raises("ResourceNotFoundException"):
        streams.get_shard_iterator(StreamArn=missing, ShardId=shard, ShardIteratorType="LATEST")
    with raises("ValidationException"):
        streams.describe_stream(StreamArn="arn:aws:dynamodb:us-east-1:000000000000:table/x/nostream")
    with raises("ResourceNotFoundException", "Requested resource not found: Shard does not exist"):
        streams.get_shard_iterator(
            StreamArn=arn, ShardId="shardId-00000000000000000000-00000000", ShardIteratorType="LATEST"
        )
    with raises("ValidationException"):
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER")
    with raises("ValidationException"):
        # Well formed, but no such record yet.
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber="1" + "9" * 20
        )
    with raises("ValidationException"):
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="BOGUS")
    with raises(
        "ValidationException",
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000",
    ):
        streams.get_records(ShardIterator=iterator(streams, arn), Limit=1001)
    with raises("ValidationException"):
        streams.list_streams(Limit=101)
    with raises("ValidationException", "Invalid ShardIterator"):
        streams.get_records(ShardIterator="not-an-iterator")
    it = iterator(streams, arn)
    old = str(int(time.time() * 1000) - 16 * 60 * 1000)
    with raises("ExpiredIteratorException", "The provided iterator exceeds the maximum age allowed."):
        streams.get_records(ShardIterator=forge(it, issued=old))
    # Iterators of a deleted stream, and of another region, find nothing.
    other = name()
    with raises("ResourceNotFoundException"):
        streams.get_records(ShardIterator=forge(it).replace(table, other))
