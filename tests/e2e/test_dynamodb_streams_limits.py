"""DynamoDB limits added with the streams work: an ExclusiveStartKey outside the key condition,
the 4 MB aggregate size of a transaction, and the never-throttled batches."""

from __future__ import annotations

import pytest

from .ddbutil import create, raises

OUTSIDE = "The provided starting key is outside query boundaries based on provided conditions"


@pytest.fixture(scope="module")
def ddb(client):
    return client("dynamodb")


@pytest.fixture(scope="module")
def table(ddb):
    """pk (S) + sk (N), GSI byG (g, n); partitions a and b with sk 1..5."""
    t = create(
        ddb,
        range_key=("sk", "N"),
        defs={"g": "S", "n": "N"},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for p in ["a", "b"]:
        for sk in range(1, 6):
            ddb.put_item(
                TableName=t,
                Item={"pk": {"S": p}, "sk": {"N": str(sk)}, "g": {"S": p}, "n": {"N": str(sk)}},
            )
    return t


def start(pk, sk):
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def query(ddb, table, cond, values, **kw):
    return ddb.query(TableName=table, KeyConditionExpression=cond, ExpressionAttributeValues=values, **kw)


def test_start_key_inside_the_condition_pages_on(ddb, table):
    out = query(ddb, table, "pk = :p AND sk > :s", {":p": {"S": "a"}, ":s": {"N": "1"}}, ExclusiveStartKey=start("a", 3))
    assert [i["sk"]["N"] for i in out["Items"]] == ["4", "5"]
    back = query(
        ddb, table, "pk = :p", {":p": {"S": "a"}}, ExclusiveStartKey=start("a", 3), ScanIndexForward=False
    )
    assert [i["sk"]["N"] for i in back["Items"]] == ["2", "1"]


@pytest.mark.parametrize(
    "cond,values,esk",
    [
        ("pk = :p", {":p": {"S": "a"}}, start("b", 1)),  # another partition
        ("pk = :p AND sk > :s", {":p": {"S": "a"}, ":s": {"N": "3"}}, start("a", 3)),
        ("pk = :p AND sk < :s", {":p": {"S": "a"}, ":s": {"N": "3"}}, start("a", 4)),
        ("pk = :p AND sk BETWEEN :x AND :y", {":p": {"S": "a"}, ":x": {"N": "2"}, ":y": {"N": "3"}}, start("a", 5)),
        ("pk = :p AND sk = :s", {":p": {"S": "a"}, ":s": {"N": "2"}}, start("a", 1)),
    ],
)
def test_start_key_outside_the_condition(ddb, table, cond, values, esk):
    with raises("ValidationException", OUTSIDE):
        query(ddb, table, cond, values, ExclusiveStartKey=esk)


def test_start_key_outside_an_index_condition(ddb, table):
    inside = {**start("a", 2), "g": {"S": "a"}, "n": {"N": "2"}}
    out = query(ddb, table, "g = :g", {":g": {"S": "a"}}, IndexName="byG", ExclusiveStartKey=inside)
    assert [i["n"]["N"] for i in out["Items"]] == ["3", "4", "5"]
    outside = {**start("b", 2), "g": {"S": "b"}, "n": {"N": "2"}}
    with raises("ValidationException", OUTSIDE):
        query(ddb, table, "g = :g", {":g": {"S": "a"}}, IndexName="byG", ExclusiveStartKey=outside)


def big(pk, kb=390):
    return {"pk": {"S": pk}, "sk": {"N": "0"}, "blob": {"S": "x" * (kb * 1024)}}


def test_transaction_aggregate_size_is_4_mb(ddb, table):
    items = [{"Put": {"TableName": table, "Item": big(f"big-{i}")}} for i in range(11)]
    with raises("ValidationException", "Aggregate size of the items in the transaction exceeds the maximum of 4 MB"):
        ddb.transact_write_items(TransactItems=items)
    assert "Item" not in ddb.get_item(TableName=table, Key=start("big-0", 0))
    # Ten such items (3.8 MB) fit.
    ddb.transact_write_items(TransactItems=items[:10])
    assert "Item" in ddb.get_item(TableName=table, Key=start("big-9", 0))


def test_batches_are_never_throttled(ddb, table):
    out = ddb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": start(f"batch-{i}", i)}} for i in range(25)]}
    )
    assert out["UnprocessedItems"] == {}
    got = ddb.batch_get_item(RequestItems={table: {"Keys": [start(f"batch-{i}", i) for i in range(100 // 4)]}})
    assert got["UnprocessedKeys"] == {}
    assert len(got["Responses"][table]) == 25
