"""Parameter Store with `--data-dir`: parameters with their versions, labels, tags, tiers and
policies survive a SIGKILL and read back exactly."""

from __future__ import annotations

import json
import signal
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def snapshot(ssm, root: str, names: list[str]) -> dict:
    """Everything the API tells about the parameters under `root`."""
    out = {
        "by_path": strip(ssm.get_parameters_by_path(Path=root, Recursive=True, WithDecryption=True, MaxResults=10)),
        "describe": strip(
            ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [root]}])
        ),
    }
    for name in names:
        out[name] = {
            "history": strip(ssm.get_parameter_history(Name=name, WithDecryption=True, MaxResults=50)),
            "tags": strip(ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)),
            "encrypted": strip(ssm.get_parameter(Name=name)),
        }
    return out


def test_parameters_survive_a_sigkill(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    ssm = make_client("ssm", server.endpoint)
    root = f"/persist/{uuid.uuid4().hex[:8]}"
    plain, secure, advanced, many, deleted = (f"{root}/{n}" for n in ("plain", "app/secure", "adv", "many", "gone"))

    ssm.put_parameter(Name=plain, Value="v1 ünïcode", Type="String", Description="first",
                      Tags=[{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "dev"}])
    ssm.put_parameter(Name=plain, Value="v2", Overwrite=True, AllowedPattern="v[0-9]+")
    ssm.put_parameter(Name=plain, Value="v3", Overwrite=True)
    ssm.label_parameter_version(Name=plain, ParameterVersion=1, Labels=["first", "old"])
    ssm.label_parameter_version(Name=plain, ParameterVersion=3, Labels=["prod"])
    ssm.unlabel_parameter_version(Name=plain, ParameterVersion=1, Labels=["old"])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=plain, Tags=[{"Key": "owner", "Value": "me"}])
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=plain, TagKeys=["env"])
    ssm.put_parameter(Name=secure, Value="s3cr3t", Type="SecureString", KeyId="alias/mine")
    policy = json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2099-01-01T00:00:00.000Z"}}])
    ssm.put_parameter(Name=advanced, Value="x" * 6000, Type="String", Tier="Advanced", Policies=policy)
    ssm.put_parameter(Name=deleted, Value="bye", Type="StringList")
    ssm.delete_parameter(Name=deleted)
    # 103 versions: the oldest three are dropped, the rest are kept in order.
    ssm.put_parameter(Name=many, Value="0", Type="String")
    for i in range(1, 103):
        ssm.put_parameter(Name=many, Value=str(i), Overwrite=True)
    ssm.label_parameter_version(Name=many, ParameterVersion=50, Labels=["mid"])

    names = [plain, secure, advanced, many]
    before = snapshot(ssm, root, names)
    assert [p["Labels"] for p in before[plain]["history"]["Parameters"]] == [["first"], [], ["prod"]]
    server.stop(signal.SIGKILL)

    server = start_server("--data-dir", data)
    ssm = make_client("ssm", server.endpoint)
    assert snapshot(ssm, root, names) == before
    assert ssm.get_parameter(Name=f"{plain}:first")["Parameter"]["Value"] == "v1 ünïcode"
    assert ssm.get_parameter(Name=f"{plain}:prod")["Parameter"]["Value"] == "v3"
    assert ssm.get_parameter(Name=secure, WithDecryption=True)["Parameter"]["Value"] == "s3cr3t"
    assert ssm.get_parameter(Name=advanced)["Parameter"]["Value"] == "x" * 6000
    assert ssm.get_parameter(Name=f"{many}:mid")["Parameter"]["Value"] == "49"
    history = ssm.get_parameter_history(Name=many, MaxResults=50)
    assert history["Parameters"][0]["Version"] == 4 and history["Parameters"][0]["Value"] == "3"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name=deleted)
    assert e.value.response["Error"]["Code"] == "ParameterNotFound"

    # The restarted server keeps versioning from where it was and keeps writing through.
    assert ssm.put_parameter(Name=plain, Value="v4", Overwrite=True)["Version"] == 4
    assert ssm.delete_parameters(Names=[secure, "nope"])["DeletedParameters"] == [secure]
    server.stop(signal.SIGKILL)

    server = start_server("--data-dir", data)
    ssm = make_client("ssm", server.endpoint)
    got = ssm.get_parameter(Name=plain)["Parameter"]
    assert (got["Value"], got["Version"]) == ("v4", 4)
    assert ssm.get_parameters(Names=[secure])["InvalidParameters"] == [secure]
