"""CloudWatch Logs end to end: groups, streams, PutLogEvents batch rules, GetLogEvents tokens,
FilterLogEvents patterns, retention and tags, with AWS's error codes and messages."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

NOT_FOUND_GROUP = "The specified log group does not exist."
NOT_FOUND_STREAM = "The specified log stream does not exist."


def expect_error(code: str, fn, *args, message: str | None = None, status: int = 400, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    err = e.value.response["Error"]
    assert (err["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), e.value.response
    if message is not None:
        assert err["Message"] == message
    return e.value.response


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def logs(client):
    return client("logs")


@pytest.fixture
def group(logs):
    name = f"/rs/test/{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name)
    yield name
    try:
        logs.delete_log_group(logGroupName=name)
    except ClientError:
        pass


@pytest.fixture
def stream(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    return "s1"


def test_create_describe_delete_group(logs):
    name = f"/rs/g/{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name, tags={"team": "a"})
    expect_error("ResourceAlreadyExistsException", logs.create_log_group, logGroupName=name)
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert len(groups) == 1
    g = groups[0]
    assert g["logGroupName"] == name
    assert g["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}:*"
    assert g["logGroupArn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}"
    assert g["storedBytes"] == 0 and g["metricFilterCount"] == 0
    assert g["logGroupClass"] == "STANDARD"
    assert "retentionInDays" not in g
    assert abs(g["creationTime"] - now_ms()) < 60_000
    logs.delete_log_group(logGroupName=name)
    expect_error("ResourceNotFoundException", logs.delete_log_group, logGroupName=name, message=NOT_FOUND_GROUP)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []


def test_invalid_group_name(logs):
    expect_error("InvalidParameterException", logs.create_log_group, logGroupName="bad name!")


def test_describe_groups_prefix_pattern_and_pages(logs):
    base = f"/rs/page/{uuid.uuid4().hex[:8]}"
    names = [f"{base}/g{i:02}" for i in range(7)]
    for n in names:
        logs.create_log_group(logGroupName=n)
    try:
        seen, token = [], None
        while True:
            kw = {"nextToken": token} if token else {}
            page = logs.describe_log_groups(logGroupNamePrefix=base, limit=3, **kw)
            assert len(page["logGroups"]) <= 3
            seen += [g["logGroupName"] for g in page["logGroups"]]
            token = page.get("nextToken")
            if not token:
                break
        assert seen == names
        by_pattern = logs.describe_log_groups(logGroupNamePattern=base.split("/")[-1] + "/g0")["logGroups"]
        assert len(by_pattern) == 7
        assert set(by_pattern[0]) == {"logGroupName", "creationTime", "arn"}
        assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePattern="g03")["logGroups"]] == [names[3]]
        expect_error(
            "InvalidParameterException", logs.describe_log_groups, logGroupNamePrefix=base, logGroupNamePattern="g",
        )
        # The paginator follows the same tokens.
        pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=base, PaginationConfig={"PageSize": 2})
        assert [g["logGroupName"] for p in pages for g in p["logGroups"]] == names
    finally:
        for n in names:
            logs.delete_log_group(logGroupName=n)


def test_streams_create_describe_order_delete(logs, group):
    for s in ["b", "a", "c"]:
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    expect_error("ResourceAlreadyExistsException", logs.create_log_stream, logGroupName=group, logStreamName="a")
    expect_error(
        "ResourceNotFoundException", logs.create_log_stream, logGroupName=group + "x", logStreamName="a",
        message=NOT_FOUND_GROUP,
    )
    out = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in out] == ["a", "b", "c"]
    assert out[0]["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:log-stream:a"
    assert "lastEventTimestamp" not in out[0]
    desc = logs.describe_log_streams(logGroupName=group, descending=True)["logStreams"]
    assert [s["logStreamName"] for s in desc] == ["c", "b", "a"]
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b")["logStreams"]] == ["b"]
    # Order by last event: the stream written last comes last.
    t = now_ms()
    logs.put_log_events(logGroupName=group, logStreamName="c", logEvents=[{"timestamp": t - 2000, "message": "x"}])
    logs.put_log_events(logGroupName=group, logStreamName="a", logEvents=[{"timestamp": t, "message": "y"}])
    by_time = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    assert by_time[0]["logStreamName"] == "a"
    assert by_time[0]["lastEventTimestamp"] == t and by_time[0]["firstEventTimestamp"] == t
    expect_error(
        "InvalidParameterException", logs.describe_log_streams, logGroupName=group, orderBy="LastEventTime",
        logStreamNamePrefix="a",
    )
    page = logs.describe_log_streams(logGroupName=group, limit=2)
    assert len(page["logStreams"]) == 2 and "nextToken" in page
    rest = logs.describe_log_streams(logGroupName=group, limit=2, nextToken=page["nextToken"])
    assert [s["logStreamName"] for s in rest["logStreams"]] == ["c"] and "nextToken" not in rest
    # By ARN identifier.
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    assert len(logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]) == 3
    logs.delete_log_stream(logGroupName=group, logStreamName="b")
    expect_error(
        "ResourceNotFoundException", logs.delete_log_stream, logGroupName=group, logStreamName="b",
        message=NOT_FOUND_STREAM,
    )
    expect_error("ResourceNotFoundException", logs.describe_log_streams, logGroupName=group + "-nope")
    expect_error("InvalidParameterException", logs.describe_log_streams)


def test_put_and_get_events(logs, group, stream):
    t = now_ms()
    out = logs.put_log_events(
        logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t + i, "message": f"line {i}"} for i in range(5)],
    )
    assert len(out["nextSequenceToken"]) == 56
    assert "rejectedLogEventsInfo" not in out
    # Sequence tokens are accepted and ignored, even stale ones.
    logs.put_log_events(
        logGroupName=group, logStreamName=stream, sequenceToken="0" * 56,
        logEvents=[{"timestamp": t + 5, "message": "line 5"}],
    )
    got = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    assert [e["message"] for e in got["events"]] == [f"line {i}" for i in range(6)]
    assert all(abs(e["ingestionTime"] - t) < 60_000 for e in got["events"])
    # startTime inclusive, endTime exclusive.
    window = logs.get_log_events(logGroupName=group, logStreamName=stream, startTime=t + 1, endTime=t + 3, startFromHead=True)
    assert [e["message"] for e in window["events"]] == ["line 1", "line 2"]
    # Without startFromHead the newest events come back.
    tail = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2)
    assert [e["message"] for e in tail["events"]] == ["line 4", "line 5"]
    expect_error(
        "ResourceNotFoundException", logs.get_log_events, logGroupName=group, logStreamName="nope",
        message=NOT_FOUND_STREAM,
    )
    expect_error(
        "ResourceNotFoundException", logs.put_log_events, logGroupName=group, logStreamName="nope",
        logEvents=[{"timestamp": t, "message": "x"}], message=NOT_FOUND_STREAM,
    )
    expect_error(
        "ResourceNotFoundException", logs.put_log_events, logGroupName=group + "x", logStreamName=stream,
        logEvents=[{"timestamp": t, "message": "x"}], message=NOT_FOUND_GROUP,
    )


def test_get_log_events_tokens_page_and_repeat_at_the_end(logs, group, stream):
    t = now_ms()
    logs.put_log_events(
        logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t + i, "message": f"m{i}"} for i in range(7)],
    )
    seen = []
    page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=3)
    assert re.fullmatch(r"f/\d{56}/s", page["nextForwardToken"])
    assert re.fullmatch(r"b/\d{56}/s", page["nextBackwardToken"])
    token = None
    while True:
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        token = page["nextForwardToken"]
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=3, nextToken=token)
    assert seen == [f"m{i}" for i in range(7)]
    # New events appear on the next call with the final forward token.
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": t + 10, "message": "late"}])
    more = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, nextToken=token)
    assert [e["message"] for e in more["events"]] == ["late"]
    # Backward paging from the tail.
    back = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=3)
    assert [e["message"] for e in back["events"]] == ["m5", "m6", "late"]
    older = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=3, nextToken=back["nextBackwardToken"])
    assert [e["message"] for e in older["events"]] == ["m2", "m3", "m4"]
    first = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=3, nextToken=older["nextBackwardToken"])
    assert [e["message"] for e in first["events"]] == ["m0", "m1"]
    end = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=3, nextToken=first["nextBackwardToken"])
    assert end["events"] == [] and end["nextBackwardToken"] == first["nextBackwardToken"]
    expect_error(
        "InvalidParameterException", logs.get_log_events, logGroupName=group, logStreamName=stream, nextToken="garbage",
    )


def test_put_log_events_batch_rules(logs, client, group, stream):
    t = now_ms()
    expect_error(
        "InvalidParameterException", logs.put_log_events, logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}],
        message="Log events in a single PutLogEvents request must be in chronological order.",
    )
    expect_error(
        "InvalidParameterException", logs.put_log_events, logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t - 25 * 3600_000, "message": "a"}, {"timestamp": t, "message": "b"}],
    )
    big = "x" * 300_000
    expect_error(
        "InvalidParameterException", logs.put_log_events, logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t, "message": big} for _ in range(4)],
    )
    expect_error(
        "InvalidParameterException", logs.put_log_events, logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t, "message": "x"}] * 10_001,
    )
    raw = client("logs", config=Config(parameter_validation=False))
    expect_error("InvalidParameterException", raw.put_log_events, logGroupName=group, logStreamName=stream, logEvents=[])
    assert logs.get_log_events(logGroupName=group, logStreamName=stream)["events"] == []


def test_too_old_too_new_and_expired_events_are_reported(logs, group, stream):
    t = now_ms()
    day = 86_400_000
    out = logs.put_log_events(
        logGroupName=group, logStreamName=stream,
        logEvents=[
            {"timestamp": t - 15 * day, "message": "old"},
            {"timestamp": t - 15 * day + 1, "message": "old2"},
            {"timestamp": t, "message": "ok"},
            {"timestamp": t + 3 * 3600_000, "message": "future"},
        ],
    )
    info = out["rejectedLogEventsInfo"]
    assert info == {"tooOldLogEventEndIndex": 2, "tooNewLogEventStartIndex": 3}
    got = logs.get_log_events(logGroupName=group, logStreamName=stream)
    assert [e["message"] for e in got["events"]] == ["ok"]
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    out = logs.put_log_events(
        logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t - 2 * day, "message": "expired"}, {"timestamp": t, "message": "fresh"}],
    )
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    # Events that outlive a newly shortened retention are no longer returned.
    logs.delete_retention_policy(logGroupName=group)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": t - 2 * day, "message": "aged"}])
    assert "aged" in [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]]
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    for read in (logs.get_log_events(logGroupName=group, logStreamName=stream), logs.filter_log_events(logGroupName=group)):
        assert [e["message"] for e in read["events"]] == ["ok", "fresh"]


def test_filter_log_events_patterns(logs, group):
    t = now_ms()
    lines = {
        "api": [
            "INFO request ok",
            "ERROR request failed: timeout",
            '{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}',
            '{"level": "INFO", "latency": 20, "user": {"id": "u-2"}}',
        ],
        "worker": ["WARN disk low", "ERROR worker crashed", "Exiting worker ERROR"],
    }
    offset = 0
    for s, messages in lines.items():
        logs.create_log_stream(logGroupName=group, logStreamName=s)
        logs.put_log_events(
            logGroupName=group, logStreamName=s,
            logEvents=[{"timestamp": t + offset + i * 10, "message": m} for i, m in enumerate(messages)],
        )
        offset += 1

    def f(pattern, **kw):
        out = logs.filter_log_events(logGroupName=group, filterPattern=pattern, **kw)
        return [e["message"] for e in out["events"]]

    everything = logs.filter_log_events(logGroupName=group)
    assert len(everything["events"]) == 7
    # Interleaved by time across streams.
    stamps = [e["timestamp"] for e in everything["events"]]
    assert stamps == sorted(stamps)
    e0 = everything["events"][0]
    assert set(e0) >= {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    assert sorted(s["logStreamName"] for s in everything["searchedLogStreams"]) == ["api", "worker"]

    assert f("ERROR") == [
        "ERROR request failed: timeout", "ERROR worker crashed",
        '{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}', "Exiting worker ERROR",
    ]
    assert f("ERROR timeout") == ["ERROR request failed: timeout"]
    assert f('"request failed"') == ["ERROR request failed: timeout"]
    assert sorted(f("?WARN ?timeout")) == sorted(["ERROR request failed: timeout", "WARN disk low"])
    assert f("ERROR -Exiting -timeout -level") == ["ERROR worker crashed"]
    assert f('{ $.level = "ERROR" }') == ['{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}']
    assert f("{ $.latency < 100 }") == ['{"level": "INFO", "latency": 20, "user": {"id": "u-2"}}']
    assert f('{ $.user.id = "u-*" && $.latency > 100 }') == ['{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}']
    assert f("%ERROR|WARN% -Exiting -level") == ["WARN disk low", "ERROR request failed: timeout", "ERROR worker crashed"]
    assert f("{ $.level = %^ERR% }") == ['{"level": "ERROR", "latency": 250, "user": {"id": "u-1"}}']
    assert f("[level, what, verb = crashed]") == ["ERROR worker crashed"]
    assert f("[first = INFO, ...]") == ["INFO request ok"]
    assert f("[..., last = ERROR]") == ["Exiting worker ERROR"]
    assert f("ERROR", logStreamNames=["worker"]) == ["ERROR worker crashed", "Exiting worker ERROR"]
    assert f("", logStreamNamePrefix="wor") == lines["worker"]
    assert f("", startTime=t + 1, endTime=t + 11) == ["WARN disk low", "ERROR request failed: timeout", "ERROR worker crashed"]
    expect_error("InvalidParameterException", logs.filter_log_events, logGroupName=group, filterPattern="{ $.level = }")
    expect_error(
        "InvalidParameterException", logs.filter_log_events, logGroupName=group, logStreamNames=["api"],
        logStreamNamePrefix="a",
    )
    expect_error("ResourceNotFoundException", logs.filter_log_events, logGroupName=group + "x", message=NOT_FOUND_GROUP)

    # Pages of 3 cover every event once.
    seen, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        page = logs.filter_log_events(logGroupName=group, limit=3, **kw)
        seen += [e["eventId"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [e["eventId"] for e in everything["events"]]


def test_retention_policy(logs, group):
    logs.put_retention_policy(logGroupName=group, retentionInDays=14)
    g = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert g["retentionInDays"] == 14
    expect_error("InvalidParameterException", logs.put_retention_policy, logGroupName=group, retentionInDays=4)
    expect_error(
        "ResourceNotFoundException", logs.put_retention_policy, logGroupName=group + "x", retentionInDays=7,
        message=NOT_FOUND_GROUP,
    )
    logs.delete_retention_policy(logGroupName=group)
    g = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert "retentionInDays" not in g
    expect_error("ResourceNotFoundException", logs.delete_retention_policy, logGroupName=group + "x")


def test_tags_by_name_and_by_arn(logs, group):
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    logs.tag_log_group(logGroupName=group, tags={"a": "1", "b": "2"})
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"a": "1", "b": "2"}
    logs.untag_log_group(logGroupName=group, tags=["a"])
    logs.tag_resource(resourceArn=arn, tags={"c": "3"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2", "c": "3"}
    logs.untag_resource(resourceArn=arn, tagKeys=["b", "c"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    expect_error("ResourceNotFoundException", logs.list_tags_for_resource, resourceArn=arn + "x")
    expect_error("ResourceNotFoundException", logs.list_tags_for_resource, resourceArn=arn.replace("us-east-1", "eu-west-1"))
    expect_error("ResourceNotFoundException", logs.list_tags_log_group, logGroupName=group + "x", message=NOT_FOUND_GROUP)
    logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(45)})
    expect_error("TooManyTagsException", logs.tag_resource, resourceArn=arn, tags={f"n{i}": "v" for i in range(6)})
    assert len(logs.list_tags_for_resource(resourceArn=arn)["tags"]) == 45
    expect_error("InvalidParameterException", logs.tag_resource, resourceArn=arn, tags={})


def test_state_is_per_region(logs, client, group):
    west = client("logs", region_name="us-west-2")
    assert west.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    expect_error("ResourceNotFoundException", west.delete_log_group, logGroupName=group)


def test_tail_style_follow_polling(logs, group, stream):
    """What `aws logs tail --follow` (CLI v2) does: page FilterLogEvents from a start time with
    interleaved=True, then poll from the newest timestamp seen, skipping event ids already shown."""
    t = now_ms()
    logs.put_log_events(
        logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": t + i, "message": f"a{i}"} for i in range(3)]
    )
    shown: dict[str, str] = {}
    since = t - 300_000

    def poll():
        nonlocal since
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, startTime=since, interleaved=True, PaginationConfig={"PageSize": 2}
        )
        for page in pages:
            for e in page["events"]:
                if e["eventId"] not in shown:
                    shown[e["eventId"]] = e["message"]
                    since = max(since, e["timestamp"])

    poll()
    assert list(shown.values()) == ["a0", "a1", "a2"]
    # Same timestamp as the last one shown, then later ones: each appears exactly once.
    logs.put_log_events(
        logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t + 2, "message": "b0"}, {"timestamp": t + 5, "message": "b1"}],
    )
    poll()
    poll()
    assert list(shown.values()) == ["a0", "a1", "a2", "b0", "b1"]


def test_export_tasks_without_any(logs, client):
    # An account that never exported lists none (test_logs_export.py creates tasks in the default one).
    fresh = client("logs", aws_access_key_id="210987654321")
    assert fresh.describe_export_tasks()["exportTasks"] == []
    assert logs.describe_export_tasks(taskId=str(uuid.uuid4()))["exportTasks"] == []
    expect_error("ResourceNotFoundException", logs.cancel_export_task, taskId=str(uuid.uuid4()),
                 message="The specified export task does not exist.")
