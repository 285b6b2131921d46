"""DynamoDB exports to S3 (ExportTableToPointInTime, DescribeExport, ListExports) and imports from
S3 (ImportTable, DescribeImport, ListImports): the files AWS writes, statuses, counts and errors."""

from __future__ import annotations

import gzip
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError


def wait(fn, key, status_key):
    for _ in range(200):
        out = fn()[key]
        if out[status_key] != "IN_PROGRESS":
            return out
        time.sleep(0.05)
    raise AssertionError(f"still IN_PROGRESS: {out}")


def error(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]


@pytest.fixture
def table(client):
    ddb = client("dynamodb")
    name = f"t{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb.describe_table(TableName=name)["Table"]


@pytest.fixture
def bucket(client):
    name = f"b{uuid.uuid4().hex[:12]}"
    client("s3").create_bucket(Bucket=name)
    return name


def enable_pitr(ddb, name):
    ddb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def test_export_writes_items_and_manifests(client, table, bucket):
    ddb, s3 = client("dynamodb"), client("s3")
    name, arn = table["TableName"], table["TableArn"]
    enable_pitr(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "bin": {"B": b"bar"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "n": {"N": "1.5"}, "l": {"L": [{"S": "x"}]}})
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="exp")["ExportDescription"]
    assert started["ExportStatus"] == "IN_PROGRESS"
    assert started["ExportArn"].startswith(f"{arn}/export/")
    done = wait(lambda: ddb.describe_export(ExportArn=started["ExportArn"]), "ExportDescription", "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ItemCount"] == 2 and done["BilledSizeBytes"] > 0
    assert (done["ExportFormat"], done["ExportType"], done["S3Bucket"], done["S3Prefix"]) == (
        "DYNAMODB_JSON", "FULL_EXPORT", bucket, "exp"
    )
    export_id = started["ExportArn"].rsplit("/", 1)[1]
    base = f"exp/AWSDynamoDB/{export_id}"
    assert done["ExportManifest"] == f"{base}/manifest-summary.json"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="exp/")["Contents"]]
    for name_ in ("_started", "manifest-files.json", "manifest-summary.json"):
        assert f"{base}/{name_}" in keys
    summary = json.loads(s3.get_object(Bucket=bucket, Key=f"{base}/manifest-summary.json")["Body"].read())
    assert (summary["exportArn"], summary["itemCount"], summary["outputFormat"]) == (
        started["ExportArn"], 2, "DYNAMODB_JSON"
    )
    files = [json.loads(line) for line in
             s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read().splitlines()]
    assert [f["itemCount"] for f in files] == [2]
    data = gzip.decompress(s3.get_object(Bucket=bucket, Key=files[0]["dataFileS3Key"])["Body"].read())
    rows = [json.loads(r) for r in data.decode().splitlines()]
    assert {"Item": {"pk": {"S": "a"}, "bin": {"B": "YmFy"}}} in rows
    assert {"Item": {"pk": {"S": "b"}, "n": {"N": "1.5"}, "l": {"L": [{"S": "x"}]}}} in rows
    summaries = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert summaries == [{"ExportArn": started["ExportArn"], "ExportStatus": "COMPLETED", "ExportType": "FULL_EXPORT"}]


def test_export_errors(client, table, bucket):
    ddb = client("dynamodb")
    name, arn = table["TableName"], table["TableArn"]
    missing = arn + "x"
    err = error(ddb.export_table_to_point_in_time, TableArn=missing, S3Bucket=bucket)
    assert (err["Code"], err["Message"]) == ("TableNotFoundException", f"Table not found: {missing}")
    err = error(ddb.export_table_to_point_in_time, TableArn=arn, S3Bucket=bucket)
    assert (err["Code"], err["Message"]) == (
        "PointInTimeRecoveryUnavailableException", f"Point in time recovery is not enabled for table '{name}'"
    )
    enable_pitr(ddb, name)
    err = error(ddb.export_table_to_point_in_time, TableArn=arn, S3Bucket=bucket, ExportFormat="ION")
    assert err["Code"] == "ValidationException" and "ION" in err["Message"]
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=f"missing-{uuid.uuid4().hex}")
    done = wait(lambda: ddb.describe_export(ExportArn=started["ExportDescription"]["ExportArn"]),
                "ExportDescription", "ExportStatus")
    assert done["ExportStatus"] == "FAILED"
    assert done["FailureCode"] == "S3NoSuchBucket"
    assert "The specified bucket does not exist" in done["FailureMessage"]
    err = error(ddb.describe_export, ExportArn=f"{arn}/export/01234567890123-abcdef01")
    assert err["Code"] == "ExportNotFoundException"


def import_table(ddb, bucket, name, prefix=None, fmt="DYNAMODB_JSON", compression="NONE", **extra):
    source = {"S3Bucket": bucket}
    if prefix is not None:
        source["S3KeyPrefix"] = prefix
    params = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    started = ddb.import_table(S3BucketSource=source, InputFormat=fmt, InputCompressionType=compression,
                               TableCreationParameters=params, **extra)["ImportTableDescription"]
    assert started["ImportStatus"] == "IN_PROGRESS"
    return wait(lambda: ddb.describe_import(ImportArn=started["ImportArn"]), "ImportTableDescription", "ImportStatus")


def test_import_json_gzip_prefix_and_bad_records(client, bucket):
    ddb, s3 = client("dynamodb"), client("s3")
    two_on_a_line = json.dumps({"Item": {"pk": {"S": "b"}}}) + json.dumps({"Item": {"pk": {"S": "c"}}})
    s3.put_object(Bucket=bucket, Key="in/one.json.gz",
                  Body=gzip.compress((json.dumps({"Item": {"pk": {"S": "a"}}}) + "\n" + two_on_a_line).encode()))
    s3.put_object(Bucket=bucket, Key="out/other", Body=b"{}")
    name = f"imp{uuid.uuid4().hex[:8]}"
    done = import_table(ddb, bucket, name, prefix="in/", compression="GZIP")
    assert done["ImportStatus"] == "COMPLETED", done
    assert (done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]) == (3, 3, 0)
    assert done["ProcessedSizeBytes"] > 0
    assert sorted(i["pk"]["S"] for i in ddb.scan(TableName=name)["Items"]) == ["a", "b", "c"]
    assert any(s["ImportArn"] == done["ImportArn"] for s in ddb.list_imports()["ImportSummaryList"])
    # The table exists now: a second import into it conflicts.
    err = error(import_table, ddb=ddb, bucket=bucket, name=name)
    assert err["Code"] == "ImportConflictException"

    s3.put_object(Bucket=bucket, Key="bad/x", Body=json.dumps({"Item": {"pk": {"S": "ok"}}}) + "\n{\"pk\": {\"S\": \"no\"}}")
    name2 = f"imp{uuid.uuid4().hex[:8]}"
    done = import_table(ddb, bucket, name2, prefix="bad/")
    assert done["ImportStatus"] == "FAILED"
    assert (done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]) == (2, 1, 1)
    assert [i["pk"]["S"] for i in ddb.scan(TableName=name2)["Items"]] == ["ok"]


def test_import_csv(client, bucket):
    ddb, s3 = client("dynamodb"), client("s3")
    s3.put_object(Bucket=bucket, Key="c.csv", Body=b'pk,city\nk1,"Paris, FR"\nk2,\n')
    name = f"imp{uuid.uuid4().hex[:8]}"
    done = import_table(ddb, bucket, name, fmt="CSV")
    assert done["ImportStatus"] == "COMPLETED", done
    items = sorted(ddb.scan(TableName=name)["Items"], key=lambda i: i["pk"]["S"])
    assert items == [{"pk": {"S": "k1"}, "city": {"S": "Paris, FR"}}, {"pk": {"S": "k2"}}]


def test_import_missing_bucket_and_validation(client):
    ddb = client("dynamodb")
    name = f"imp{uuid.uuid4().hex[:8]}"
    done = import_table(ddb, f"missing-{uuid.uuid4().hex}", name)
    assert done["ImportStatus"] == "FAILED"
    assert done["FailureCode"] == "S3NoSuchBucket"
    assert "The specified bucket does not exist" in done["FailureMessage"]
    assert done["TableArn"].endswith(f":table/{name}")
    assert name not in ddb.list_tables()["TableNames"]
    err = error(
        ddb.import_table,
        S3BucketSource={"S3Bucket": "whatever"},
        InputFormat="DYNAMODB_JSON",
        TableCreationParameters={
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PROVISIONED",
        },
    )
    assert err["Message"] == (
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
        "specified when BillingMode is PROVISIONED"
    )
    assert name not in ddb.list_tables()["TableNames"]
    err = error(ddb.describe_import, ImportArn="arn:aws:dynamodb:us-east-1:000000000000:table/x/import/01234567890123-abcdef01")
    assert err["Code"] == "ImportNotFoundException"
