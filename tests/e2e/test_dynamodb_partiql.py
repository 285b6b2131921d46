"""DynamoDB PartiQL through boto3: ExecuteStatement (SELECT/INSERT/UPDATE/DELETE with
parameters), BatchExecuteStatement and ExecuteTransaction."""

from __future__ import annotations

import pytest

from .ddbutil import create, raises


@pytest.fixture(scope="module")
def ddb(client):
    return client("dynamodb")


@pytest.fixture(scope="module")
def table(ddb):
    return create(ddb, range_key=("sk", "N"))


def test_insert_select_update_delete(ddb, table):
    ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': ?, 'sk': 1, 'name': 'one', 'tags': <<'a', 'b'>>}}", Parameters=[{"S": "p"}])
    ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'p', 'sk': 2, 'name': 'two', 'n': 10}}")
    with raises("DuplicateItemException", "Duplicate primary key exists in table"):
        ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'p', 'sk': 2}}")
    out = ddb.execute_statement(Statement=f'SELECT * FROM "{table}" WHERE pk = ?', Parameters=[{"S": "p"}])
    assert [i["sk"]["N"] for i in out["Items"]] == ["1", "2"]
    assert sorted(out["Items"][0]["tags"]["SS"]) == ["a", "b"]
    out = ddb.execute_statement(Statement=f'SELECT "name" FROM "{table}" WHERE pk = \'p\' AND sk >= 2')
    assert out["Items"] == [{"name": {"S": "two"}}]
    ddb.execute_statement(
        Statement=f"UPDATE \"{table}\" SET n = n + 5 SET extra = ? REMOVE \"name\" WHERE pk = 'p' AND sk = 2",
        Parameters=[{"BOOL": True}],
    )
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "p"}, "sk": {"N": "2"}})["Item"]
    assert item["n"] == {"N": "15"} and item["extra"] == {"BOOL": True} and "name" not in item
    with raises("ConditionalCheckFailedException"):
        ddb.execute_statement(Statement=f"UPDATE \"{table}\" SET n = 1 WHERE pk = 'p' AND sk = 99")
    with raises("ValidationException", "Where clause does not contain a mandatory equality on all key attributes"):
        ddb.execute_statement(Statement=f"DELETE FROM \"{table}\" WHERE pk = 'p'")
    ddb.execute_statement(Statement=f"DELETE FROM \"{table}\" WHERE pk = 'p' AND sk = 1")
    out = ddb.execute_statement(Statement=f"SELECT * FROM \"{table}\" WHERE pk = 'p'")
    assert len(out["Items"]) == 1


def test_select_pagination_and_errors(ddb, table):
    for i in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": "page"}, "sk": {"N": str(i)}})
    seen, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        out = ddb.execute_statement(Statement=f"SELECT * FROM \"{table}\" WHERE pk = 'page'", Limit=2, **kw)
        seen += [i["sk"]["N"] for i in out["Items"]]
        token = out.get("NextToken")
        if not token:
            break
    assert seen == ["0", "1", "2", "3", "4"]
    with raises("ValidationException", "Number of parameters in request and statement don't match."):
        ddb.execute_statement(Statement=f"SELECT * FROM \"{table}\" WHERE pk = ?")
    with raises("ValidationException"):
        ddb.execute_statement(Statement="SELEKT * FROM x")
    with raises("ResourceNotFoundException"):
        ddb.execute_statement(Statement="SELECT * FROM \"missing-table\"")


def test_batch_and_transaction(ddb, table):
    out = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'b', 'sk': 1}}"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'b', 'sk': 1}}"},
        ]
    )["Responses"]
    assert "Error" not in out[0]
    assert out[1]["Error"]["Code"] == "DuplicateItem"
    out = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = ? AND sk = ?", "Parameters": [{"S": "b"}, {"N": "1"}]},
            {"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'b' AND sk = 2"},
        ]
    )["Responses"]
    assert out[0]["Item"] == {"pk": {"S": "b"}, "sk": {"N": "1"}}
    assert "Item" not in out[1]
    ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'tx', 'sk': 1}}"},
            {"Statement": f"UPDATE \"{table}\" SET v = 1 WHERE pk = 'b' AND sk = 1"},
        ]
    )
    with raises("TransactionCanceledException") as info:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'tx', 'sk': 2}}"},
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'pk': 'tx', 'sk': 1}}"},
            ]
        )
    assert [r["Code"] for r in info.value.response["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "tx"}, "sk": {"N": "2"}})
    out = ddb.execute_transaction(
        TransactStatements=[{"Statement": f"SELECT * FROM \"{table}\" WHERE pk = 'b' AND sk = 1"}]
    )
    assert out["Responses"] == [{"Item": {"pk": {"S": "b"}, "sk": {"N": "1"}, "v": {"N": "1"}}}]
