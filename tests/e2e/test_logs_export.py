"""CloudWatch Logs export tasks to S3: CreateExportTask writes the events of the range as AWS lays
them out, DescribeExportTasks and CancelExportTask see the task, with AWS's errors."""

from __future__ import annotations

import gzip
import time
import uuid

import pytest
from botocore.exceptions import ClientError


def error(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]


@pytest.fixture
def group(client):
    name = f"/export/{uuid.uuid4().hex[:8]}"
    client("logs").create_log_group(logGroupName=name)
    return name


@pytest.fixture
def bucket(client):
    name = f"logs-{uuid.uuid4().hex[:12]}"
    client("s3").create_bucket(Bucket=name)
    return name


def test_export_writes_events_of_the_range(client, group, bucket):
    logs, s3 = client("logs"), client("s3")
    now = int(time.time() * 1000)
    logs.create_log_stream(logGroupName=group, logStreamName="app/one")
    logs.create_log_stream(logGroupName=group, logStreamName="empty")
    logs.put_log_events(logGroupName=group, logStreamName="app/one", logEvents=[
        {"timestamp": now - 60_000, "message": "too early"},
        {"timestamp": now, "message": "hello"},
        {"timestamp": now + 1, "message": "world"},
    ])
    task_id = logs.create_export_task(
        logGroupName=group, fromTime=now - 1000, to=now + 1, destination=bucket, destinationPrefix="out"
    )["taskId"]
    assert len(task_id) == 36
    task = logs.describe_export_tasks(taskId=task_id)["exportTasks"][0]
    assert task["status"] == {"code": "COMPLETED", "message": "Completed successfully"}
    assert (task["logGroupName"], task["destination"], task["destinationPrefix"], task["from"], task["to"]) == (
        group, bucket, "out", now - 1000, now + 1
    )
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["aws-logs-write-test", f"out/{task_id}/app/one/000000.gz"]
    assert s3.get_object(Bucket=bucket, Key="aws-logs-write-test")["Body"].read() == b"Permission Check Successful"
    lines = gzip.decompress(s3.get_object(Bucket=bucket, Key=keys[1])["Body"].read()).decode().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["hello", "world"]
    assert lines[0].split(" ", 1)[0].endswith("Z") and "T" in lines[0]
    err = error(logs.cancel_export_task, taskId=task_id)
    assert (err["Code"], err["Message"]) == ("InvalidOperationException", "The specified export task has already finished")
    assert any(t["taskId"] == task_id for t in logs.describe_export_tasks(statusCode="COMPLETED")["exportTasks"])
    assert all(t["taskId"] != task_id for t in logs.describe_export_tasks(statusCode="FAILED")["exportTasks"])


def test_export_default_prefix_and_errors(client, group, bucket):
    logs = client("logs")
    task_id = logs.create_export_task(logGroupName=group, fromTime=1, to=2, destination=bucket)["taskId"]
    assert logs.describe_export_tasks(taskId=task_id)["exportTasks"][0]["destinationPrefix"] == "exportedlogs"
    err = error(logs.create_export_task, logGroupName=group, fromTime=1, to=2, destination=f"no-{uuid.uuid4().hex}")
    assert (err["Code"], err["Message"]) == (
        "InvalidParameterException", "The given bucket does not exist. Please make sure the bucket is valid."
    )
    err = error(logs.create_export_task, logGroupName=group + "x", fromTime=1, to=2, destination=bucket)
    assert (err["Code"], err["Message"]) == ("ResourceNotFoundException", "The specified log group does not exist.")
    assert logs.describe_export_tasks(taskId=str(uuid.uuid4()))["exportTasks"] == []
    err = error(logs.cancel_export_task, taskId=str(uuid.uuid4()))
    assert (err["Code"], err["Message"]) == ("ResourceNotFoundException", "The specified export task does not exist.")
