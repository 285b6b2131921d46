"""DynamoDB with `--data-dir`: tables, items, global and local secondary indexes, committed and
cancelled transactions, TTL deletions, tags and stream records survive a SIGKILL and read back
exactly; eight writers killed mid-flight lose no acknowledged PutItem; conditional writes still
have exactly one winner."""

from __future__ import annotations

import hashlib
import random
import signal
import sqlite3
import threading
import time

import pytest
from botocore.exceptions import ClientError

from . import rsutil
from .conftest import make_client


def ddb(server):
    return make_client("dynamodb", server.endpoint)


def streams(server):
    return make_client("dynamodbstreams", server.endpoint)


def create_orders(db):
    db.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "amount", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_status",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        LocalSecondaryIndexes=[{
            "IndexName": "by_amount",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "amount", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        Tags=[{"Key": "team", "Value": "storage"}],
    )


def order(pk: str, sk: int, status: str | None, amount: int, **extra) -> dict:
    item = {"pk": {"S": pk}, "sk": {"N": str(sk)}, "amount": {"N": str(amount)}, **extra}
    if status is not None:
        item["status"] = {"S": status}
    return item


RICH = {
    "bin": {"B": bytes(range(256))},
    "ss": {"SS": ["a", "ü", "日本"]},
    "ns": {"NS": ["1", "-0.5", "12345678901234567890123456789012345678"]},
    "bs": {"BS": [b"\x00", b"\xff\xfe"]},
    "m": {"M": {"nested": {"L": [{"NULL": True}, {"BOOL": False}, {"N": "3.14"}]}}},
    "empty": {"S": ""},
}


def all_pages(method, **kw) -> list:
    items, start = [], None
    while True:
        page = method(**kw, **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def snapshot(server) -> dict:
    db, st = ddb(server), streams(server)
    out: dict = {"tables": db.list_tables()["TableNames"]}
    desc = db.describe_table(TableName="orders")["Table"]
    out["orders"] = {k: desc.get(k) for k in (
        "ItemCount", "TableSizeBytes", "KeySchema", "AttributeDefinitions", "TableArn", "TableId",
        "CreationDateTime", "StreamSpecification", "LatestStreamArn", "LatestStreamLabel", "BillingModeSummary")}
    out["gsis"] = sorted((g["IndexName"], g["ItemCount"], str(g["KeySchema"])) for g in desc["GlobalSecondaryIndexes"])
    out["lsis"] = [(x["IndexName"], x["ItemCount"]) for x in desc["LocalSecondaryIndexes"]]
    out["tags"] = db.list_tags_of_resource(ResourceArn=desc["TableArn"])["Tags"]
    out["get"] = {
        (pk, sk): db.get_item(TableName="orders", Key={"pk": {"S": pk}, "sk": {"N": str(sk)}}).get("Item")
        for pk in ("a", "b", "t") for sk in range(1, 6)
    }
    out["scan"] = all_pages(db.scan, TableName="orders", Limit=2)
    out["gsi_query"] = all_pages(
        db.query, TableName="orders", IndexName="by_status", Limit=2,
        KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "open"}})
    out["gsi_query_desc"] = db.query(
        TableName="orders", IndexName="by_status", ScanIndexForward=False,
        KeyConditionExpression="#s = :s AND sk > :z", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "shipped"}, ":z": {"N": "0"}})["Items"]
    out["lsi_query"] = db.query(
        TableName="orders", IndexName="by_amount",
        KeyConditionExpression="pk = :p AND amount BETWEEN :lo AND :hi",
        ExpressionAttributeValues={":p": {"S": "a"}, ":lo": {"N": "10"}, ":hi": {"N": "1000"}})["Items"]
    out["new_gsi"] = db.query(
        TableName="orders", IndexName="by_amount_global",
        KeyConditionExpression="amount = :a", ExpressionAttributeValues={":a": {"N": "50"}})["Items"]
    out["ttl"] = db.describe_time_to_live(TableName="sessions")["TimeToLiveDescription"]
    out["sessions"] = sorted(
        (i["id"]["S"], i["exp"]["N"]) for i in db.scan(TableName="sessions", ConsistentRead=True)["Items"])
    arn = desc["LatestStreamArn"]
    shard = st.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    it = st.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
    records = st.get_records(ShardIterator=it["ShardIterator"], Limit=1000)["Records"]
    out["shard"] = (shard["ShardId"], shard["SequenceNumberRange"].get("StartingSequenceNumber"))
    out["records"] = [
        (r["eventID"], r["eventName"], r["dynamodb"]["SequenceNumber"], r["dynamodb"]["Keys"],
         r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage"), r["dynamodb"]["SizeBytes"])
        for r in records
    ]
    return out


def test_tables_items_indexes_transactions_ttl_and_streams_survive_a_sigkill(start_server, tmp_path):
    data = tmp_path / "state"
    server = start_server("--data-dir", str(data))
    db = ddb(server)
    create_orders(db)
    db.put_item(TableName="orders", Item=order("a", 1, "open", 10, **RICH))
    db.put_item(TableName="orders", Item=order("a", 2, "open", 500))
    db.put_item(TableName="orders", Item=order("a", 3, None, 20))
    db.put_item(TableName="orders", Item=order("b", 1, "shipped", 70))
    db.update_item(
        TableName="orders", Key={"pk": {"S": "a"}, "sk": {"N": "2"}},
        UpdateExpression="SET #s = :s, note = :n ADD visits :one",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "shipped"}, ":n": {"S": "moved index"}, ":one": {"N": "1"}})
    db.put_item(TableName="orders", Item=order("a", 4, "open", 30))
    db.delete_item(TableName="orders", Key={"pk": {"S": "a"}, "sk": {"N": "4"}})
    db.batch_write_item(RequestItems={"orders": [
        {"PutRequest": {"Item": order("b", 2, "open", 50)}},
        {"PutRequest": {"Item": order("b", 3, "open", 50)}},
        {"DeleteRequest": {"Key": {"pk": {"S": "b"}, "sk": {"N": "1"}}}},
    ]})
    # A committed transaction, and a cancelled one that must leave no trace.
    db.transact_write_items(TransactItems=[
        {"Put": {"TableName": "orders", "Item": order("t", 1, "open", 100),
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": "orders", "Key": {"pk": {"S": "b"}, "sk": {"N": "2"}},
                    "UpdateExpression": "SET amount = :a", "ExpressionAttributeValues": {":a": {"N": "51"}}}},
        {"ConditionCheck": {"TableName": "orders", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}},
                            "ConditionExpression": "attribute_exists(pk)"}},
    ])
    with pytest.raises(ClientError) as cancelled:
        db.transact_write_items(TransactItems=[
            {"Put": {"TableName": "orders", "Item": order("t", 2, "open", 1)}},
            {"Delete": {"TableName": "orders", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}},
            {"ConditionCheck": {"TableName": "orders", "Key": {"pk": {"S": "a"}, "sk": {"N": "9"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    db.execute_statement(Statement="INSERT INTO orders VALUE {'pk': 't', 'sk': 3, 'amount': 7, 'status': 'open'}")
    # A GSI added to a table with items (backfilled), then a tag and an untag.
    db.update_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "amount", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by_amount_global", "KeySchema": [{"AttributeName": "amount", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    arn = db.describe_table(TableName="orders")["Table"]["TableArn"]
    db.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}, {"Key": "gone", "Value": "x"}])
    db.untag_resource(ResourceArn=arn, TagKeys=["gone"])
    # A TTL table: an expired item is deleted by the sweeper, the others stay.
    db.create_table(
        TableName="sessions", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    db.update_time_to_live(TableName="sessions", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    now = int(time.time())
    db.put_item(TableName="sessions", Item={"id": {"S": "live"}, "exp": {"N": str(now + 3600)}})
    db.put_item(TableName="sessions", Item={"id": {"S": "dead"}, "exp": {"N": str(now - 10)}})
    deadline = time.time() + 10
    while db.get_item(TableName="sessions", Key={"id": {"S": "dead"}}).get("Item"):
        assert time.time() < deadline, "the TTL sweeper did not delete the expired item"
        time.sleep(0.2)
    # A deleted table stays deleted.
    db.create_table(
        TableName="dropped", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    db.put_item(TableName="dropped", Item={"id": {"S": "x"}})
    db.delete_table(TableName="dropped")

    before = snapshot(server)
    assert before["tables"] == ["orders", "sessions"]
    assert before["orders"]["ItemCount"] == 7
    assert before["get"][("a", 1)] == order("a", 1, "open", 10, **RICH)
    assert before["get"][("t", 2)] is None and before["get"][("a", 4)] is None
    assert [i["sk"]["N"] for i in before["gsi_query"]] == ["1", "1", "2", "3", "3"]
    assert [i["pk"]["S"] for i in before["lsi_query"]] == ["a", "a", "a"]
    assert sorted(i["sk"]["N"] for i in before["new_gsi"]) == ["3"]
    assert before["sessions"] == [("live", str(now + 3600))]
    assert dict((t["Key"], t["Value"]) for t in before["tags"]) == {"team": "storage", "env": "test"}
    events = [r[1] for r in before["records"]]
    assert events.count("INSERT") == 9 and events.count("REMOVE") == 2 and events.count("MODIFY") == 2

    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", str(data))
    after = snapshot(server)
    assert after == before

    # Writing goes on where it stopped: conditions see the stored items, records keep their order.
    db = ddb(server)
    with pytest.raises(ClientError) as exists:
        db.put_item(TableName="orders", Item=order("t", 1, "open", 1), ConditionExpression="attribute_not_exists(pk)")
    assert exists.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    db.put_item(TableName="orders", Item=order("c", 1, "open", 5))
    records = snapshot(server)["records"]
    assert records[:-1] == before["records"]
    assert records[-1][1] == "INSERT" and records[-1][2] > before["records"][-1][2]
    db.delete_table(TableName="orders")
    db.delete_table(TableName="sessions")
    server.stop(signal.SIGKILL)

    server = start_server("--data-dir", str(data))
    assert ddb(server).list_tables()["TableNames"] == []
    with sqlite3.connect(f"file:{data / 'kv.sqlite'}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT tree, count(*) FROM kv WHERE tree = 'dynamodb/tables' OR tree = 'dynamodb/items'"
            " OR tree LIKE 'dynamodb/index/%' GROUP BY tree").fetchall()
    assert rows == [], "deleted tables leave no definition, item or index entry behind"


def test_eight_writers_crash_loses_no_acknowledged_item(start_server, tmp_path):
    data = tmp_path / "state"
    server = start_server("--data-dir", str(data))
    setup = ddb(server)
    setup.create_table(
        TableName="crash", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "w", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_writer", "KeySchema": [{"AttributeName": "w", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST")

    attempted: dict[str, str] = {}  # id → digest of the payload sent (ids are unique)
    acked: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int):
        db = ddb(server)
        rng = random.Random(n)
        i = 0
        while not stop.is_set():
            key = f"w{n}-{i:05d}"
            payload = rng.randbytes(rng.choice([1, 100, 4096, 60_000]))
            with lock:
                attempted[key] = hashlib.sha256(payload).hexdigest()
            try:
                db.put_item(TableName="crash", Item={"id": {"S": key}, "w": {"N": str(n)}, "p": {"B": payload}})
            except Exception:
                return
            with lock:
                acked.add(key)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(random.uniform(1.0, 2.5))
    server.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acked) > 20, "the writers barely wrote anything before the kill"

    server = start_server("--data-dir", str(data))
    db = ddb(server)
    stored = {i["id"]["S"]: hashlib.sha256(i["p"]["B"]).hexdigest() for i in all_pages(db.scan, TableName="crash")}
    missing = sorted(acked - set(stored))
    assert missing == [], f"acknowledged writes lost: {missing[:10]}"
    for key, digest in stored.items():
        assert attempted.get(key) == digest, f"{key} is not a payload any writer sent (half-written?)"
    by_index = sum(
        len(all_pages(db.query, TableName="crash", IndexName="by_writer", KeyConditionExpression="w = :w",
                      ExpressionAttributeValues={":w": {"N": str(n)}}))
        for n in range(8))
    assert by_index == len(stored)


def test_conditional_puts_race_to_exactly_one_winner_on_disk(start_server, tmp_path):
    server = start_server("--data-dir", str(tmp_path / "state"))
    setup = ddb(server)
    setup.create_table(
        TableName="race", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    outcomes: list[str] = []
    barrier = threading.Barrier(16)

    def contender(n: int):
        db = ddb(server)
        barrier.wait()
        try:
            db.put_item(TableName="race", Item={"id": {"S": "prize"}, "winner": {"N": str(n)}},
                        ConditionExpression="attribute_not_exists(id)")
            outcomes.append(f"won {n}")
        except ClientError as e:
            outcomes.append(e.response["Error"]["Code"])

    threads = [threading.Thread(target=contender, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("ConditionalCheckFailedException") == 15
    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", str(tmp_path / "state"))
    item = ddb(server).get_item(TableName="race", Key={"id": {"S": "prize"}})["Item"]
    assert winners == [f"won {item['winner']['N']}"]


def test_reset_forgets_tables_in_memory_and_on_disk(start_server, tmp_path):
    data = tmp_path / "state"
    server = start_server("--data-dir", str(data))
    db = ddb(server)
    create_orders(db)
    db.put_item(TableName="orders", Item=order("a", 1, "open", 1))
    r = rsutil.request(server.port, "POST", "/_ruststack/reset")
    assert r.status == 200
    assert db.list_tables()["TableNames"] == []
    with pytest.raises(ClientError) as gone:
        db.get_item(TableName="orders", Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # A table created after the reset is stored as usual.
    create_orders(db)
    db.put_item(TableName="orders", Item=order("b", 2, None, 2))
    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", str(data))
    db = ddb(server)
    assert db.list_tables()["TableNames"] == ["orders"]
    assert [i["pk"]["S"] for i in db.scan(TableName="orders")["Items"]] == ["b"]


def test_a_transaction_retried_with_its_token_after_a_restart_is_not_applied_twice(start_server, tmp_path):
    data = tmp_path / "state"
    server = start_server("--data-dir", str(data))
    db = ddb(server)
    db.create_table(
        TableName="counters", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    bump = [{"Update": {"TableName": "counters", "Key": {"id": {"S": "c"}},
                        "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    db.transact_write_items(TransactItems=bump, ClientRequestToken="token-1")
    server.stop(signal.SIGKILL)

    server = start_server("--data-dir", str(data))
    db = ddb(server)
    db.transact_write_items(TransactItems=bump, ClientRequestToken="token-1")
    assert db.get_item(TableName="counters", Key={"id": {"S": "c"}})["Item"]["n"] == {"N": "1"}
    other = [{"Put": {"TableName": "counters", "Item": {"id": {"S": "d"}}}}]
    with pytest.raises(ClientError) as mismatch:
        db.transact_write_items(TransactItems=other, ClientRequestToken="token-1")
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    db.transact_write_items(TransactItems=bump, ClientRequestToken="token-2")
    assert db.get_item(TableName="counters", Key={"id": {"S": "c"}})["Item"]["n"] == {"N": "2"}
