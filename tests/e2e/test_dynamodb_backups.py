"""DynamoDB on-demand backups (CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
RestoreTableFromBackup) and RestoreTableToPointInTime: snapshots, restored tables, AWS's errors,
paging, and backups kept across a restart with --data-dir."""

from __future__ import annotations

import datetime
import signal

import pytest

from . import ddbutil
from .conftest import make_client
from .ddbutil import raises


@pytest.fixture
def ddb(client):
    return client("dynamodb")


def fill(ddb, table, n, prefix="item"):
    for i in range(n):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"{prefix}{i}"}, "v": {"N": str(i)}})


def keys(ddb, table):
    return sorted(i["pk"]["S"] for i in ddb.scan(TableName=table, ConsistentRead=True)["Items"])


def test_backup_is_a_snapshot_restored_into_a_new_table(ddb):
    source = ddbutil.create(ddb, range_key=("sk", "N"), defs={"g": "S"}, GlobalSecondaryIndexes=[
        {"IndexName": "byg", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
         "Projection": {"ProjectionType": "ALL"}}])
    for i in range(5):
        ddb.put_item(TableName=source, Item={"pk": {"S": "a"}, "sk": {"N": str(i)}, "g": {"S": f"g{i % 2}"}})
    table = ddb.describe_table(TableName=source)["Table"]
    details = ddb.create_backup(TableName=source, BackupName="nightly.1")["BackupDetails"]
    assert details["BackupArn"].startswith(table["TableArn"] + "/backup/")
    assert details["BackupName"] == "nightly.1"
    assert details["BackupStatus"] == "AVAILABLE" and details["BackupType"] == "USER"
    assert details["BackupSizeBytes"] > 0
    assert isinstance(details["BackupCreationDateTime"], datetime.datetime)
    # Writes after the backup are not in it.
    ddb.put_item(TableName=source, Item={"pk": {"S": "b"}, "sk": {"N": "9"}, "g": {"S": "g0"}})

    described = ddb.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert described["BackupDetails"] == details
    src = described["SourceTableDetails"]
    assert src["TableName"] == source and src["TableArn"] == table["TableArn"]
    assert src["TableId"] == table["TableId"] and src["KeySchema"] == table["KeySchema"]
    assert src["ItemCount"] == 5 and src["BillingMode"] == "PAY_PER_REQUEST"
    assert src["TableCreationDateTime"] == table["CreationDateTime"]
    features = described["SourceTableFeatureDetails"]
    assert [g["IndexName"] for g in features["GlobalSecondaryIndexes"]] == ["byg"]
    assert features["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}

    target = ddbutil.name("restored")
    restored = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=details["BackupArn"])["TableDescription"]
    assert restored["TableName"] == target and restored["TableStatus"] == "ACTIVE"
    assert restored["ItemCount"] == 5
    assert restored["KeySchema"] == table["KeySchema"]
    assert sorted(restored["AttributeDefinitions"], key=str) == sorted(table["AttributeDefinitions"], key=str)
    assert restored["TableArn"] != table["TableArn"] and restored["TableId"] != table["TableId"]
    summary = restored["RestoreSummary"]
    assert summary["SourceBackupArn"] == details["BackupArn"]
    assert summary["SourceTableArn"] == table["TableArn"]
    assert summary["RestoreInProgress"] is False
    assert ddb.describe_table(TableName=target)["Table"]["RestoreSummary"] == summary
    # The restored table has the backed-up items and its own index.
    got = ddb.query(TableName=target, IndexName="byg", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "g0"}})
    assert sorted(i["sk"]["N"] for i in got["Items"]) == ["0", "2", "4"]
    # Source and restored tables are not linked.
    ddb.put_item(TableName=target, Item={"pk": {"S": "c"}, "sk": {"N": "1"}, "g": {"S": "g1"}})
    assert ddb.describe_table(TableName=source)["Table"]["ItemCount"] == 6
    assert len(ddb.scan(TableName=source)["Items"]) == 6 and len(ddb.scan(TableName=target)["Items"]) == 6
    assert "b" not in {i["pk"]["S"] for i in ddb.scan(TableName=target)["Items"]}


def test_backup_errors(ddb):
    missing = "arn:aws:dynamodb:us-east-1:000000000000:table/none/backup/01623095754481-2cfcd6f9"
    with raises("BackupNotFoundException", f"Backup not found: {missing}"):
        ddb.describe_backup(BackupArn=missing)
    with raises("BackupNotFoundException", f"Backup not found: {missing}"):
        ddb.delete_backup(BackupArn=missing)
    with raises("BackupNotFoundException", f"Backup not found: {missing}"):
        ddb.restore_table_from_backup(TargetTableName=ddbutil.name(), BackupArn=missing)
    with raises("TableNotFoundException", "Table not found: no-such-table"):
        ddb.create_backup(TableName="no-such-table", BackupName="bk1")
    with raises("ValidationException"):
        ddb.create_backup(TableName="no-such-table", BackupName="n/a")
    table = ddbutil.create(ddb)
    arn = ddb.create_backup(TableName=table, BackupName="bk1")["BackupDetails"]["BackupArn"]
    with raises("TableAlreadyExistsException", f"Table already exists: {table}"):
        ddb.restore_table_from_backup(TargetTableName=table, BackupArn=arn)


def test_list_backups_filters_pages_and_delete(ddb):
    a, b = ddbutil.create(ddb), ddbutil.create(ddb)
    table_a = ddb.describe_table(TableName=a)["Table"]["TableArn"]
    arns = [ddb.create_backup(TableName=t, BackupName=f"bk-{n}")["BackupDetails"]["BackupArn"]
            for t in (a, b) for n in range(3)]
    assert len(set(arns)) == 6
    mine = ddb.list_backups(TableName=a)["BackupSummaries"]
    assert sorted(s["BackupArn"] for s in mine) == sorted(arns[:3])
    assert all(s["TableName"] == a and s["TableArn"] == table_a and s["BackupType"] == "USER" for s in mine)
    assert len(ddb.list_backups(TableName=table_a)["BackupSummaries"]) == 3
    assert ddb.list_backups(TableName="no-such-table")["BackupSummaries"] == []
    assert ddb.list_backups(TableName=a, BackupType="SYSTEM")["BackupSummaries"] == []
    assert len(ddb.list_backups(TableName=a, BackupType="ALL")["BackupSummaries"]) == 3
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    assert ddb.list_backups(TableName=a, TimeRangeLowerBound=future)["BackupSummaries"] == []
    assert len(ddb.list_backups(TableName=a, TimeRangeUpperBound=future)["BackupSummaries"]) == 3

    seen, start = [], {}
    while True:
        page = ddb.list_backups(TableName=b, Limit=2, **start)
        assert len(page["BackupSummaries"]) <= 2
        seen += [s["BackupArn"] for s in page["BackupSummaries"]]
        if "LastEvaluatedBackupArn" not in page:
            break
        assert page["LastEvaluatedBackupArn"] == seen[-1]
        start = {"ExclusiveStartBackupArn": page["LastEvaluatedBackupArn"]}
    assert seen == arns[3:], "oldest first"
    everything = [s["BackupArn"] for s in ddb.list_backups()["BackupSummaries"]]
    assert [a for a in everything if a in arns] == arns

    # A backup outlives its table; a deleted one is gone.
    ddb.delete_table(TableName=a)
    deleted = ddb.delete_backup(BackupArn=arns[0])["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    assert deleted["SourceTableDetails"]["TableName"] == a
    assert sorted(s["BackupArn"] for s in ddb.list_backups(TableName=a)["BackupSummaries"]) == sorted(arns[1:3])
    with raises("BackupNotFoundException"):
        ddb.describe_backup(BackupArn=arns[0])
    restored = ddbutil.name()
    ddb.restore_table_from_backup(TargetTableName=restored, BackupArn=arns[1])
    assert keys(ddb, restored) == []


def test_restore_overrides(ddb):
    source = ddbutil.name()
    ddb.create_table(
        TableName=source,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
        GlobalSecondaryIndexes=[{"IndexName": "byg", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"},
                                 "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}],
    )
    fill(ddb, source, 3)
    arn = ddb.create_backup(TableName=source, BackupName="plain")["BackupDetails"]["BackupArn"]
    same = ddb.restore_table_from_backup(TargetTableName=ddbutil.name(), BackupArn=arn)["TableDescription"]
    assert same["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert same["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert [g["IndexName"] for g in same["GlobalSecondaryIndexes"]] == ["byg"]
    changed = ddb.restore_table_from_backup(
        TargetTableName=ddbutil.name(), BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST",
        GlobalSecondaryIndexOverride=[])["TableDescription"]
    assert changed["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert "GlobalSecondaryIndexes" not in changed
    assert changed["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert changed["ItemCount"] == 3


def test_restore_table_to_point_in_time(ddb):
    source = ddbutil.create(ddb)
    fill(ddb, source, 4)
    target = ddbutil.name()
    with raises("PointInTimeRecoveryUnavailableException", f"Point in time recovery is not enabled for table '{source}'"):
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target)
    with raises("TableNotFoundException", "Table not found: no-such-table"):
        ddb.restore_table_to_point_in_time(SourceTableName="no-such-table", TargetTableName=target)
    with raises("TableAlreadyExistsException", f"Table already exists: {source}"):
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=source)
    ddb.update_continuous_backups(TableName=source,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    with raises("InvalidRestoreTimeException"):
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target,
                                           RestoreDateTime=datetime.datetime(2020, 1, 1))
    with raises("ValidationException"):
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target,
                                           UseLatestRestorableTime=True, RestoreDateTime=datetime.datetime(2020, 1, 1))
    arn = ddb.describe_table(TableName=source)["Table"]["TableArn"]
    restored = ddb.restore_table_to_point_in_time(SourceTableArn=arn, TargetTableName=target,
                                                  UseLatestRestorableTime=True)["TableDescription"]
    assert restored["TableName"] == target and restored["ItemCount"] == 4
    assert restored["RestoreSummary"]["SourceTableArn"] == arn
    assert "SourceBackupArn" not in restored["RestoreSummary"]
    assert restored["RestoreSummary"]["RestoreInProgress"] is False
    assert keys(ddb, target) == keys(ddb, source)
    # The restored table does not inherit point-in-time recovery.
    pitr = ddb.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"


def test_backups_survive_a_restart(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    ddb = make_client("dynamodb", server.endpoint)
    table = ddbutil.create(ddb)
    fill(ddb, table, 7)
    arn = ddb.create_backup(TableName=table, BackupName="keep")["BackupDetails"]["BackupArn"]
    gone = ddb.create_backup(TableName=table, BackupName="drop")["BackupDetails"]["BackupArn"]
    ddb.delete_backup(BackupArn=gone)
    before = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
    server.stop(signal.SIGKILL)

    server = start_server("--data-dir", data)
    ddb = make_client("dynamodb", server.endpoint)
    assert ddb.describe_backup(BackupArn=arn)["BackupDescription"] == before
    assert [s["BackupArn"] for s in ddb.list_backups()["BackupSummaries"]] == [arn]
    target = ddbutil.name()
    ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
    assert keys(ddb, target) == [f"item{i}" for i in range(7)]
    summary = ddb.describe_table(TableName=target)["Table"]["RestoreSummary"]
    server.stop(signal.SIGKILL)

    server = start_server("--data-dir", data)
    ddb = make_client("dynamodb", server.endpoint)
    assert ddb.describe_table(TableName=target)["Table"]["RestoreSummary"] == summary
    assert keys(ddb, target) == [f"item{i}" for i in range(7)]

