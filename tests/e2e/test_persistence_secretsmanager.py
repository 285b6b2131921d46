"""Secrets Manager with `--data-dir`: secrets, their versions, staging labels, tags, policies,
rotation settings and scheduled deletions survive a SIGKILL and read back exactly."""

from __future__ import annotations

import signal
import uuid

import pytest
from botocore.exceptions import ClientError

from . import rsutil
from .conftest import make_client


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def snapshot(sm, names: list[str]) -> dict:
    """Everything the API tells about `names`: descriptions, versions with values, policies."""
    out = {}
    for name in names:
        d = strip(sm.describe_secret(SecretId=name))
        versions = strip(sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True))
        values = {}
        if "DeletedDate" not in d:
            for v in versions["Versions"]:
                got = strip(sm.get_secret_value(SecretId=name, VersionId=v["VersionId"]))
                values[v["VersionId"]] = got
        policy = strip(sm.get_resource_policy(SecretId=name))
        out[name] = {"describe": d, "versions": versions, "values": values, "policy": policy}
    out["list"] = [
        strip(e) for e in sm.list_secrets(IncludePlannedDeletion=True, SortBy="name")["SecretList"]
    ]
    return out


def test_secrets_survive_a_sigkill(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    sm = make_client("secretsmanager", server.endpoint)
    west = make_client("secretsmanager", server.endpoint, region_name="eu-west-1")
    tag = uuid.uuid4().hex[:8]
    main, binary, deleted, gone = (f"p/{tag}/main", f"p/{tag}/bin", f"p/{tag}/deleted", f"p/{tag}/gone")

    t1, t2, t3, t4 = (str(uuid.uuid4()) for _ in range(4))
    sm.create_secret(
        Name=main, SecretString="v1 ünïcode", Description="the main one", ClientRequestToken=t1,
        Tags=[{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "dev"}],
    )
    sm.put_secret_value(SecretId=main, SecretString="v2", ClientRequestToken=t2)
    sm.put_secret_value(SecretId=main, SecretString="v3", ClientRequestToken=t3)
    sm.rotate_secret(
        SecretId=main,
        RotationLambdaARN="arn:aws:lambda:us-east-1:000000000000:function:rot",
        RotationRules={"AutomaticallyAfterDays": 10},
        RotateImmediately=False,
    )
    sm.put_secret_value(SecretId=main, SecretString="pending", ClientRequestToken=t4, VersionStages=["AWSPENDING", "mine"])
    sm.update_secret_version_stage(SecretId=main, VersionStage="custom", MoveToVersionId=t1)
    sm.untag_resource(SecretId=main, TagKeys=["env"])
    sm.tag_resource(SecretId=main, Tags=[{"Key": "owner", "Value": "me"}])
    sm.put_resource_policy(
        SecretId=main,
        ResourcePolicy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}',
    )
    sm.get_secret_value(SecretId=main)  # records the access date

    sm.create_secret(Name=binary, SecretBinary=bytes(range(256)) * 3, KmsKeyId="alias/mine")
    sm.update_secret(SecretId=binary, Description="changed", SecretBinary=b"\x00\xff second")
    sm.create_secret(Name=deleted, SecretString="bye")
    sm.delete_secret(SecretId=deleted, RecoveryWindowInDays=7)
    sm.create_secret(Name=gone, SecretString="x")
    sm.delete_secret(SecretId=gone, ForceDeleteWithoutRecovery=True)
    west.create_secret(Name=main, SecretString="west")

    names = [main, binary, deleted]
    snapshot(sm, names)  # reads record today's access date; the next snapshot is stable
    before = snapshot(sm, names)
    assert before[main]["describe"]["VersionIdsToStages"] == {
        t1: ["custom"], t2: ["AWSPREVIOUS"], t3: ["AWSCURRENT"], t4: ["AWSPENDING", "mine"],
    }
    server.stop(signal.SIGKILL)

    server = start_server("--data-dir", data)
    sm = make_client("secretsmanager", server.endpoint)
    west = make_client("secretsmanager", server.endpoint, region_name="eu-west-1")
    after = snapshot(sm, names)
    assert after == before
    current = sm.get_secret_value(SecretId=binary)
    assert current["SecretBinary"] == b"\x00\xff second"
    assert sm.get_secret_value(SecretId=binary, VersionStage="AWSPREVIOUS")["SecretBinary"] == bytes(range(256)) * 3
    assert sm.get_secret_value(SecretId=main, VersionStage="custom")["SecretString"] == "v1 ünïcode"
    assert west.get_secret_value(SecretId=main)["SecretString"] == "west"
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId=gone)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"

    # The restarted server keeps writing through: a restore and a new version survive another kill.
    sm.restore_secret(SecretId=deleted)
    t5 = str(uuid.uuid4())
    sm.put_secret_value(SecretId=main, SecretString="v5", ClientRequestToken=t5)
    server.stop(signal.SIGKILL)

    server = start_server("--data-dir", data)
    sm = make_client("secretsmanager", server.endpoint)
    assert sm.get_secret_value(SecretId=deleted)["SecretString"] == "bye"
    assert "DeletedDate" not in sm.describe_secret(SecretId=deleted)
    assert sm.get_secret_value(SecretId=main)["VersionId"] == t5
    assert sm.get_secret_value(SecretId=main, VersionStage="AWSPREVIOUS")["VersionId"] == t3

    # A reset empties the data dir too.
    assert rsutil.request(server.port, "POST", "/_ruststack/reset").status == 200
    server.stop(signal.SIGKILL)
    server = start_server("--data-dir", data)
    sm = make_client("secretsmanager", server.endpoint)
    assert sm.list_secrets(IncludePlannedDeletion=True)["SecretList"] == []
