"""CloudWatch Logs with `--data-dir`: groups (retention, tags), streams and their events survive a
SIGKILL and read back exactly, through GetLogEvents paging and FilterLogEvents."""

from __future__ import annotations

import signal
import time
import uuid

from .conftest import make_client


def now_ms() -> int:
    return int(time.time() * 1000)


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def all_events(logs, group: str, stream: str) -> list[dict]:
    """Every event of a stream, read forward 2 at a time until the token repeats."""
    out, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=2, **kw)
        out += page["events"]
        if page["nextForwardToken"] == token:
            return out
        token = page["nextForwardToken"]


def snapshot(logs, group: str) -> dict:
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    return {
        "group": logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"],
        "tags": logs.list_tags_log_group(logGroupName=group)["tags"],
        "streams": streams,
        "events": {s["logStreamName"]: all_events(logs, group, s["logStreamName"]) for s in streams},
        "filtered": strip(logs.filter_log_events(logGroupName=group, filterPattern="ERROR")),
    }


def test_log_groups_streams_and_events_survive_a_sigkill(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    logs = make_client("logs", server.endpoint)
    west = make_client("logs", server.endpoint, region_name="eu-west-1")
    group = f"/persist/{uuid.uuid4().hex[:8]}"
    gone = group + "-gone"
    t = now_ms() - 60_000

    logs.create_log_group(logGroupName=group, tags={"team": "core", "env": "dev"})
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    logs.untag_log_group(logGroupName=group, tags=["env"])
    logs.create_log_stream(logGroupName=group, logStreamName="app")
    logs.create_log_stream(logGroupName=group, logStreamName="worker ü")
    logs.put_log_events(
        logGroupName=group, logStreamName="app",
        logEvents=[{"timestamp": t + i, "message": f"app {i} {'ERROR' if i % 3 == 0 else 'ok'} ünï"} for i in range(7)],
    )
    # Out-of-order batches and equal timestamps keep time, then arrival order.
    logs.put_log_events(
        logGroupName=group, logStreamName="worker ü",
        logEvents=[{"timestamp": t + 3, "message": "w first"}, {"timestamp": t + 3, "message": "w ERROR second"}],
    )
    logs.put_log_events(logGroupName=group, logStreamName="worker ü", logEvents=[{"timestamp": t, "message": "w earlier"}])
    logs.put_log_events(logGroupName=group, logStreamName="app", logEvents=[{"timestamp": t + 3, "message": "app late"}])
    logs.create_log_group(logGroupName=gone)
    logs.create_log_stream(logGroupName=gone, logStreamName="s")
    logs.put_log_events(logGroupName=gone, logStreamName="s", logEvents=[{"timestamp": t, "message": "deleted"}])
    logs.delete_log_group(logGroupName=gone)
    logs.create_log_stream(logGroupName=group, logStreamName="dropped")
    logs.delete_log_stream(logGroupName=group, logStreamName="dropped")
    west.create_log_group(logGroupName=group)

    before = snapshot(logs, group)
    assert [e["message"] for e in before["events"]["worker ü"]] == ["w earlier", "w first", "w ERROR second"]
    assert [e["message"] for e in before["events"]["app"]][3:5] == ["app 3 ERROR ünï", "app late"]
    assert len(before["filtered"]["events"]) == 4
    server.stop(signal.SIGKILL)

    again = start_server("--data-dir", data)
    logs = make_client("logs", again.endpoint)
    west = make_client("logs", again.endpoint, region_name="eu-west-1")
    assert snapshot(logs, group) == before
    assert logs.describe_log_groups(logGroupNamePrefix=gone)["logGroups"] == []
    assert [g["logGroupName"] for g in west.describe_log_groups(logGroupNamePrefix=group)["logGroups"]] == [group]

    # Writing continues where it stopped: new events sort after the old ones of equal time.
    logs.put_log_events(logGroupName=group, logStreamName="worker ü", logEvents=[{"timestamp": t + 3, "message": "w third"}])
    messages = [e["message"] for e in all_events(logs, group, "worker ü")]
    assert messages == ["w earlier", "w first", "w ERROR second", "w third"]
    tail = logs.get_log_events(logGroupName=group, logStreamName="app", limit=2)
    assert [e["message"] for e in tail["events"]] == ["app 5 ok ünï", "app 6 ERROR ünï"]
    # FilterLogEvents pages across both streams by time with its tokens.
    seen, token = [], None
    while True:
        kw = {"nextToken": token} if token else {}
        page = logs.filter_log_events(logGroupName=group, limit=3, **kw)
        seen += [(e["logStreamName"], e["message"]) for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    assert len(seen) == 8 + 4
    assert seen[0] == ("app", "app 0 ERROR ünï") and seen[1] == ("worker ü", "w earlier")
