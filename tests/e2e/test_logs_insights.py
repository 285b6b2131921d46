"""CloudWatch Logs Insights (a subset): StartQuery over a time range of one or more log groups,
GetQueryResults (Complete at once, @ptr on every row, statistics), DescribeQueries, StopQuery;
fields, filter, sort, limit and stats count() by; MalformedQueryException for a bad query."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError


def rows(result: dict) -> list[dict]:
    return [{f["field"]: f["value"] for f in row} for row in result["results"]]


@pytest.fixture
def group(client):
    logs = client("logs")
    name = f"/insights/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="a")
    logs.create_log_stream(logGroupName=name, logStreamName="b")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=name, logStreamName="a", logEvents=[
        {"timestamp": now - 3000, "message": json.dumps({"level": "ERROR", "ms": 30, "path": "/x"})},
        {"timestamp": now - 1000, "message": json.dumps({"level": "INFO", "ms": 10, "path": "/y"})},
    ])
    logs.put_log_events(logGroupName=name, logStreamName="b", logEvents=[
        {"timestamp": now - 2000, "message": json.dumps({"level": "ERROR", "ms": 20, "path": "/x"})},
        {"timestamp": now - 500, "message": "plain text line"},
    ])
    return name, now


def run(logs, group: str, now: int, query: str, **kw) -> dict:
    qid = logs.start_query(logGroupName=group, startTime=now // 1000 - 60, endTime=now // 1000 + 60,
                           queryString=query, **kw)["queryId"]
    out = logs.get_query_results(queryId=qid)
    assert out["status"] == "Complete"
    return out


def test_fields_filter_sort_limit(client, group):
    logs = client("logs")
    name, now = group
    out = run(logs, name, now, "fields @message")
    assert [r["@message"] for r in rows(out)] == [
        "plain text line",
        json.dumps({"level": "INFO", "ms": 10, "path": "/y"}),
        json.dumps({"level": "ERROR", "ms": 20, "path": "/x"}),
        json.dumps({"level": "ERROR", "ms": 30, "path": "/x"}),
    ]
    assert all(set(r) == {"@message", "@ptr"} for r in rows(out))
    assert out["statistics"]["recordsScanned"] == 4.0 and out["statistics"]["recordsMatched"] == 4.0
    out = run(logs, name, now, "fields @timestamp, @logStream, ms | filter level = 'ERROR' | sort ms desc | limit 1")
    (row,) = rows(out)
    assert row["ms"] == "30" and row["@logStream"] == "a"
    assert row["@timestamp"].count(":") == 2 and len(row["@timestamp"]) == 23
    assert out["statistics"]["recordsMatched"] == 2.0
    out = run(logs, name, now, "filter @message like /plain/ | fields @message")
    assert [r["@message"] for r in rows(out)] == ["plain text line"]
    out = run(logs, name, now, "fields @message", limit=2)
    assert len(out["results"]) == 2


def test_stats_count_by(client, group):
    logs = client("logs")
    name, now = group
    out = run(logs, name, now, "filter ispresent(level) | stats count(*) as n by level | sort n desc")
    assert rows(out) == [{"level": "ERROR", "n": "2"}, {"level": "INFO", "n": "1"}]
    out = run(logs, name, now, "stats count(*)")
    assert rows(out) == [{"count(*)": "4"}]


def test_time_range_queries_and_errors(client, group):
    logs = client("logs")
    name, now = group
    # A range after every event finds none.
    qid = logs.start_query(logGroupName=name, startTime=now // 1000 + 30, endTime=now // 1000 + 60,
                           queryString="fields @message")["queryId"]
    assert logs.get_query_results(queryId=qid)["results"] == []
    described = logs.describe_queries(logGroupName=name)["queries"]
    assert described[0]["queryId"] == qid and described[0]["status"] == "Complete"
    assert described[0]["queryString"] == "fields @message" and described[0]["logGroupName"] == name
    assert logs.describe_queries(logGroupName=name, status="Running")["queries"] == []
    assert logs.stop_query(queryId=qid)["success"] is False
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName=name + "-missing", startTime=0, endTime=1, queryString="fields @message")
    r = e.value.response
    assert (r["Error"]["Code"], r["Error"]["Message"]) == (
        "ResourceNotFoundException", "The specified log group does not exist.")
    with pytest.raises(ClientError) as e:
        logs.start_query(logGroupName=name, startTime=0, endTime=1, queryString="fields @message | bogus x")
    r = e.value.response
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 400 and r["Error"]["Code"] == "MalformedQueryException"
    assert "queryCompileError" in r
    with pytest.raises(ClientError) as e:
        logs.get_query_results(queryId="00000000-0000-4000-8000-000000000000")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
