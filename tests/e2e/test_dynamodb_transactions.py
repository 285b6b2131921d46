"""DynamoDB BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems through boto3."""

from __future__ import annotations

import uuid

import pytest

from .ddbutil import create, raises


@pytest.fixture(scope="module")
def ddb(client):
    return client("dynamodb")


@pytest.fixture(scope="module")
def table(ddb):
    return create(ddb)


def key(pk):
    return {"pk": {"S": pk}}


def test_batch_write_and_get(ddb, table):
    other = create(ddb)
    ddb.batch_write_item(
        RequestItems={
            table: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}, "v": {"N": str(i)}}}} for i in range(20)],
            other: [{"PutRequest": {"Item": {"pk": {"S": "o"}}}}],
        }
    )
    out = ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": key("b0")}}]})
    assert out["UnprocessedItems"] == {}
    out = ddb.batch_get_item(
        RequestItems={
            table: {"Keys": [key(f"b{i}") for i in range(5)], "ProjectionExpression": "v"},
            other: {"Keys": [key("o"), key("missing")]},
        }
    )
    assert sorted(i["v"]["N"] for i in out["Responses"][table]) == ["1", "2", "3", "4"]
    assert out["Responses"][other] == [{"pk": {"S": "o"}}]
    assert out["UnprocessedKeys"] == {}


def test_batch_limits_and_duplicates(ddb, table):
    with raises("ValidationException", "Provided list of item keys contains duplicates"):
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": key("d")}}, {"DeleteRequest": {"Key": key("d")}}]})
    with raises("ValidationException", "Provided list of item keys contains duplicates"):
        ddb.batch_get_item(RequestItems={table: {"Keys": [key("d"), key("d")]}})
    other = create(ddb)
    with raises("ValidationException", "Too many items requested for the BatchGetItem call"):
        ddb.batch_get_item(
            RequestItems={
                table: {"Keys": [key(f"k{i}") for i in range(60)]},
                other: {"Keys": [key(f"k{i}") for i in range(41)]},
            }
        )
    with raises("ValidationException", "Too many items requested for the BatchWriteItem call"):
        ddb.batch_write_item(
            RequestItems={
                table: [{"PutRequest": {"Item": key(f"k{i}")}} for i in range(20)],
                other: [{"PutRequest": {"Item": key(f"k{i}")}} for i in range(6)],
            }
        )
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.batch_get_item(RequestItems={"missing-table": {"Keys": [key("a")]}})


def test_transaction_commits_all(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "t-acct"}, "bal": {"N": "100"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "t-gone"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "t-check"}, "bal": {"N": "0"}})
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": key("t-acct"),
                    "UpdateExpression": "SET bal = bal - :amt",
                    "ConditionExpression": "bal >= :amt",
                    "ExpressionAttributeValues": {":amt": {"N": "30"}},
                }
            },
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t-new"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Delete": {"TableName": table, "Key": key("t-gone")}},
            {"ConditionCheck": {"TableName": table, "Key": key("t-check"), "ConditionExpression": "attribute_exists(bal)"}},
        ]
    )
    assert ddb.get_item(TableName=table, Key=key("t-acct"))["Item"]["bal"] == {"N": "70"}
    assert "Item" in ddb.get_item(TableName=table, Key=key("t-new"))
    assert "Item" not in ddb.get_item(TableName=table, Key=key("t-gone"))
    out = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": key("t-acct"), "ProjectionExpression": "bal"}},
            {"Get": {"TableName": table, "Key": key("t-gone")}},
        ]
    )
    assert out["Responses"] == [{"Item": {"bal": {"N": "70"}}}, {}]


def test_cancelled_transaction_changes_nothing(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "c-1"}, "v": {"N": "1"}})
    with raises(
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
    ) as info:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "c-2"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key("c-1"),
                        "UpdateExpression": "SET v = :two",
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    reasons = info.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Message"] == "The conditional request failed"
    assert reasons[1]["Item"] == {"pk": {"S": "c-1"}, "v": {"N": "1"}}
    assert "Item" not in ddb.get_item(TableName=table, Key=key("c-2"))
    assert ddb.get_item(TableName=table, Key=key("c-1"))["Item"]["v"] == {"N": "1"}


def test_transaction_validation(ddb, table):
    with raises("ValidationException", "Transaction request cannot include multiple operations on one item"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": key("same")}},
                {"Delete": {"TableName": table, "Key": key("same")}},
            ]
        )
    with raises("ValidationException"):
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": key(f"m{i}")}} for i in range(101)])
    with raises("ResourceNotFoundException"):
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "missing-table", "Item": key("a")}}])


def test_client_request_token_is_idempotent(ddb, table):
    token = uuid.uuid4().hex
    items = [
        {
            "Update": {
                "TableName": table,
                "Key": key("idem"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
    assert ddb.get_item(TableName=table, Key=key("idem"))["Item"]["n"] == {"N": "1"}
    items[0]["Update"]["ExpressionAttributeValues"][":one"] = {"N": "2"}
    with raises("IdempotentParameterMismatchException"):
        ddb.transact_write_items(TransactItems=items, ClientRequestToken=token)
