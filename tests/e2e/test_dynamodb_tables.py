"""DynamoDB table operations through boto3: create/describe/list/update/delete with AWS's
validation, waiters, TTL, tags, limits, endpoints, continuous backups."""

from __future__ import annotations

import pytest

from .ddbutil import create, name, raises


@pytest.fixture(scope="module")
def ddb(client):
    return client("dynamodb")


def test_create_describe_and_waiter(ddb):
    table = name()
    out = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "N"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byL",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    desc = out["TableDescription"]
    assert desc["TableStatus"] == "ACTIVE"
    ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    t = ddb.describe_table(TableName=table)["Table"]
    assert t["TableName"] == table
    assert t["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}"
    assert t["ItemCount"] == 0 and t["TableSizeBytes"] == 0
    assert t["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert {d["AttributeName"]: d["AttributeType"] for d in t["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "N",
        "g": "S",
        "l": "N",
    }
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert "CreationDateTime" in t
    gsi = t["GlobalSecondaryIndexes"][0]
    assert gsi["IndexName"] == "byG" and gsi["IndexStatus"] == "ACTIVE"
    assert gsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}
    assert gsi["IndexArn"].endswith(f"table/{table}/index/byG")
    assert t["LocalSecondaryIndexes"][0]["IndexName"] == "byL"
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "x"}})
    t = ddb.describe_table(TableName=table)["Table"]
    assert t["ItemCount"] == 1 and t["TableSizeBytes"] > 0
    assert t["GlobalSecondaryIndexes"][0]["ItemCount"] == 1
    assert t["LocalSecondaryIndexes"][0]["ItemCount"] == 0
    ddb.delete_table(TableName=table)
    ddb.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 3})


def test_on_demand_billing_summary(ddb):
    table = create(ddb)
    t = ddb.describe_table(TableName=table)["Table"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 0


def test_duplicate_and_missing_tables(ddb):
    table = create(ddb)
    with raises("ResourceInUseException", f"Table already exists: {table}"):
        create(ddb, table)
    with raises("ResourceNotFoundException", "Requested resource not found: Table: nope-x not found"):
        ddb.delete_table(TableName="nope-x")
    with raises("ResourceNotFoundException", "Requested resource not found: Table: nope-x not found"):
        ddb.describe_table(TableName="nope-x")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            dict(AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "x", "AttributeType": "S"}]),
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            dict(AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}]),
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]",
        ),
        (
            dict(BillingMode="PROVISIONED"),
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
        (
            dict(BillingMode="PAY_PER_REQUEST", ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}),
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            dict(
                BillingMode="PAY_PER_REQUEST",
                LocalSecondaryIndexes=[
                    {
                        "IndexName": "lsi1",
                        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
            ),
            "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
        ),
    ],
)
def test_create_table_validation(ddb, kwargs, message):
    args = dict(
        TableName=name(),
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    args.update(kwargs)
    with raises("ValidationException", message):
        ddb.create_table(**args)


def test_too_many_gsis(ddb):
    gsis = [
        {"IndexName": f"gsi{i:02}", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}
        for i in range(21)
    ]
    with raises("ValidationException"):
        create(ddb, GlobalSecondaryIndexes=gsis)


def test_list_tables_pagination(ddb, reset_state):
    tables = sorted(create(ddb, name("list")) for _ in range(5))
    out = ddb.list_tables(Limit=2)
    assert out["TableNames"] == tables[:2]
    assert out["LastEvaluatedTableName"] == tables[1]
    out = ddb.list_tables(Limit=2, ExclusiveStartTableName=out["LastEvaluatedTableName"])
    assert out["TableNames"] == tables[2:4]
    out = ddb.list_tables(Limit=2, ExclusiveStartTableName=out["LastEvaluatedTableName"])
    assert out["TableNames"] == tables[4:]
    assert "LastEvaluatedTableName" not in out
    pages = ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
    assert [t for p in pages for t in p["TableNames"]] == tables


def test_update_table_gsi_billing_and_protection(ddb):
    table = create(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    out = ddb.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {"Create": {"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}}
        ],
    )
    assert out["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexName"] == "byG"
    # The new index is backfilled.
    q = ddb.query(TableName=table, IndexName="byG", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "x"}})
    assert q["Count"] == 1
    out = ddb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byG"}}])
    assert "GlobalSecondaryIndexes" not in out["TableDescription"]
    out = ddb.update_table(TableName=table, BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2})
    assert out["TableDescription"]["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    ddb.update_table(TableName=table, DeletionProtectionEnabled=True)
    with raises("ValidationException"):
        ddb.delete_table(TableName=table)
    ddb.update_table(TableName=table, DeletionProtectionEnabled=False)
    assert ddb.delete_table(TableName=table)["TableDescription"]["TableStatus"] == "DELETING"


def test_ttl(ddb):
    table = create(ddb)
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    out = ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert out["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "exp"}
    d = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert d == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    with raises("ValidationException", "TimeToLive is already enabled"):
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})


def test_tags(ddb):
    table = create(ddb, Tags=[{"Key": "a", "Value": "1"}])
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with raises("ResourceNotFoundException"):
        ddb.list_tags_of_resource(ResourceArn=arn + "-missing")


def test_limits_endpoints_backups(ddb):
    limits = ddb.describe_limits()
    assert limits["TableMaxReadCapacityUnits"] == 40000
    assert limits["AccountMaxWriteCapacityUnits"] == 80000
    ep = ddb.describe_endpoints()["Endpoints"]
    assert ep == [{"Address": "dynamodb.us-east-1.amazonaws.com", "CachePeriodInMinutes": 1440}]
    table = create(ddb)
    cb = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert cb["ContinuousBackupsStatus"] == "ENABLED"
    assert cb["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    with raises("TableNotFoundException", "Table not found: nope-x"):
        ddb.describe_continuous_backups(TableName="nope-x")


def test_point_in_time_recovery(ddb):
    table = create(ddb)
    out = ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )["ContinuousBackupsDescription"]
    pitr = out["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED" and pitr["RecoveryPeriodInDays"] == 35
    assert pitr["EarliestRestorableDateTime"] <= pitr["LatestRestorableDateTime"]
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7}
    )
    pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED" and pitr["RecoveryPeriodInDays"] == 7
    with raises("ValidationException"):
        ddb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36}
        )
    out = ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )["ContinuousBackupsDescription"]
    assert out["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    with raises("TableNotFoundException", "Table not found: nope-x"):
        ddb.update_continuous_backups(TableName="nope-x", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def test_resource_policies(ddb):
    import json

    table = create(ddb)
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    missing = "Resource-based policy not found for the provided ResourceArn: "

    def doc(action):
        statement = {"Principal": {"AWS": "000000000000"}, "Effect": "Allow", "Action": [action], "Resource": "*"}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    with raises("PolicyNotFoundException", missing + arn):
        ddb.get_resource_policy(ResourceArn=arn)
    with raises("PolicyNotFoundException", missing + arn):
        ddb.delete_resource_policy(ResourceArn=arn)
    first = ddb.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:*"), ExpectedRevisionId="NO_POLICY")["RevisionId"]
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert got["RevisionId"] == first and json.loads(got["Policy"])["Statement"][0]["Action"] == ["dynamodb:*"]
    # The same document again is a no-op; another one is a later revision (they compare as strings).
    assert ddb.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:*"))["RevisionId"] == first
    second = ddb.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:GetItem"), ExpectedRevisionId=first)["RevisionId"]
    assert second > first
    with raises(
        "PolicyNotFoundException",
        missing + f"Requested update for policy with revision id {first}, but the policy associated to target table {table} has revision id {second}.",
    ):
        ddb.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:PutItem"), ExpectedRevisionId=first)
    with raises(
        "PolicyNotFoundException",
        missing + f"Requested policy update expecting none to be present for table {table}, but a policy exists with revision id {second}.",
    ):
        ddb.put_resource_policy(ResourceArn=arn, Policy=doc("dynamodb:PutItem"), ExpectedRevisionId="NO_POLICY")
    with raises(
        "PolicyNotFoundException",
        missing + f"Requested update for policy with revision id unknown, but the policy associated to target table {table} has revision id {second}.",
    ):
        ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId="unknown")
    assert ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=second)["RevisionId"] == second
    with raises("PolicyNotFoundException"):
        ddb.get_resource_policy(ResourceArn=arn)
    for call in [
        lambda: ddb.get_resource_policy(ResourceArn=arn + "x"),
        lambda: ddb.delete_resource_policy(ResourceArn=arn + "x"),
        lambda: ddb.put_resource_policy(ResourceArn=arn + "x", Policy=doc("dynamodb:*")),
    ]:
        with raises("ResourceNotFoundException", f"Requested resource not found: Table: {table}x not found"):
            call()
    # CreateTable attaches a policy too.
    other = create(ddb, ResourcePolicy=doc("dynamodb:Query"))
    other_arn = ddb.describe_table(TableName=other)["Table"]["TableArn"]
    assert "dynamodb:Query" in ddb.get_resource_policy(ResourceArn=other_arn)["Policy"]


def test_ttl_expiry_deletes_items(ddb):
    import time

    table = create(ddb)
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    now = int(time.time())
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "exp": {"N": str(now - 10)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "new"}, "exp": {"N": str(now + 3600)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "text"}, "exp": {"S": str(now - 10)}})
    deadline = time.time() + 5
    while time.time() < deadline and "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "old"}}):
        time.sleep(0.2)
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "old"}})
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "new"}})
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "text"}})
