"""Secrets Manager multi-Region secrets (CreateSecret with AddReplicaRegions,
ReplicateSecretToRegions, RemoveRegionsFromReplication, StopReplicationToReplica): replicas are
readable in their region under the primary's ARN with the region changed, follow the primary's
changes, refuse their own, show in DescribeSecret's ReplicationStatus; and ValidateResourcePolicy."""

from __future__ import annotations

import json
import signal
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client

NOT_ON_REPLICA = "Operation not permitted on a replica secret. Call must be made in primary secret's region."


def expect_error(code: str, fn, message: str | None = None, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    err = e.value.response["Error"]
    assert err["Code"] == code, e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if message is not None:
        assert err["Message"] == message
    return err


@pytest.fixture
def regions(client):
    return client("secretsmanager", region_name="us-east-1"), client("secretsmanager", region_name="eu-west-3")


def test_replicas_are_readable_follow_the_primary_and_refuse_changes(regions):
    east, west = regions
    name = f"rep-{uuid.uuid4().hex[:8]}"
    created = east.create_secret(Name=name, SecretString="s1", AddReplicaRegions=[{"Region": "eu-west-3"}])
    assert [(s["Region"], s["Status"]) for s in created["ReplicationStatus"]] == [("eu-west-3", "InSync")]
    arn = created["ARN"]
    replica_arn = arn.replace(":us-east-1:", ":eu-west-3:")

    primary = east.describe_secret(SecretId=arn)
    assert primary["PrimaryRegion"] == "us-east-1"
    assert primary["ReplicationStatus"][0]["Region"] == "eu-west-3"
    replica = west.describe_secret(SecretId=replica_arn)
    assert (replica["ARN"], replica["Name"], replica["PrimaryRegion"]) == (replica_arn, name, "us-east-1")
    assert replica["VersionIdsToStages"] == primary["VersionIdsToStages"]
    assert west.get_secret_value(SecretId=replica_arn)["SecretString"] == "s1"
    listed = [s for s in west.list_secrets()["SecretList"] if s["Name"] == name]
    assert listed[0]["PrimaryRegion"] == "us-east-1"

    east.put_secret_value(SecretId=arn, SecretString="s2")
    east.tag_resource(SecretId=arn, Tags=[{"Key": "team", "Value": "core"}])
    assert west.get_secret_value(SecretId=name)["SecretString"] == "s2"
    assert west.describe_secret(SecretId=name)["Tags"] == [{"Key": "team", "Value": "core"}]

    for call, kw in [
        (west.put_secret_value, {"SecretString": "x"}),
        (west.update_secret, {"Description": "x"}),
        (west.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
        (west.untag_resource, {"TagKeys": ["team"]}),
        (west.put_resource_policy, {"ResourcePolicy": "not even json"}),
        (west.get_resource_policy, {}),
        (west.delete_resource_policy, {}),
        (west.delete_secret, {}),
        (west.restore_secret, {}),
        (west.replicate_secret_to_regions, {"AddReplicaRegions": [{"Region": "eu-north-1"}]}),
        (west.remove_regions_from_replication, {"RemoveReplicaRegions": ["us-east-1"]}),
    ]:
        expect_error("InvalidParameterException", call, NOT_ON_REPLICA, SecretId=replica_arn, **kw)

    expect_error(
        "InvalidParameterException", east.delete_secret,
        f"You can't delete secret {arn} that still has replica regions [eu-west-3]", SecretId=arn,
    )
    expect_error(
        "InvalidParameterException", east.replicate_secret_to_regions, "Invalid replica region.",
        SecretId=arn, AddReplicaRegions=[{"Region": "us-east-1"}],
    )

    removed = east.remove_regions_from_replication(SecretId=arn, RemoveReplicaRegions=["eu-west-3"])
    assert removed["ARN"] == arn and removed["ReplicationStatus"] == []
    east.remove_regions_from_replication(SecretId=arn, RemoveReplicaRegions=["eu-west-3"])
    expect_error("ResourceNotFoundException", west.describe_secret, SecretId=replica_arn)
    assert "ReplicationStatus" not in east.describe_secret(SecretId=arn)
    east.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


def test_replicating_over_an_existing_secret_fails_unless_forced(regions):
    east, west = regions
    name = f"dup-{uuid.uuid4().hex[:8]}"
    arn = east.create_secret(Name=name, SecretString="mine")["ARN"]
    theirs = west.create_secret(Name=name, SecretString="theirs")["ARN"]

    out = east.replicate_secret_to_regions(SecretId=arn, AddReplicaRegions=[{"Region": "eu-west-3"}])
    status = out["ReplicationStatus"][0]
    assert (status["Region"], status["Status"]) == ("eu-west-3", "Failed")
    assert status["StatusMessage"] == f"Replication failed: Secret name {name} already exists in region eu-west-3."
    assert east.describe_secret(SecretId=arn)["ReplicationStatus"][0]["Status"] == "Failed"
    assert west.get_secret_value(SecretId=theirs)["SecretString"] == "theirs"

    out = east.replicate_secret_to_regions(
        SecretId=arn, AddReplicaRegions=[{"Region": "eu-west-3"}], ForceOverwriteReplicaSecret=True
    )
    assert out["ReplicationStatus"][0]["Status"] == "InSync"
    expect_error("ResourceNotFoundException", west.get_secret_value, SecretId=theirs)
    assert west.get_secret_value(SecretId=name)["SecretString"] == "mine"
    east.remove_regions_from_replication(SecretId=arn, RemoveReplicaRegions=["eu-west-3"])


def test_stop_replication_promotes_the_replica(regions):
    east, west = regions
    name = f"promo-{uuid.uuid4().hex[:8]}"
    arn = east.create_secret(Name=name, SecretString="v1", AddReplicaRegions=[{"Region": "eu-west-3"}])["ARN"]
    replica_arn = arn.replace(":us-east-1:", ":eu-west-3:")
    assert west.stop_replication_to_replica(SecretId=replica_arn)["ARN"] == replica_arn
    assert "ReplicationStatus" not in east.describe_secret(SecretId=arn)
    standalone = west.describe_secret(SecretId=replica_arn)
    assert "PrimaryRegion" not in standalone
    west.put_secret_value(SecretId=replica_arn, SecretString="own")
    east.put_secret_value(SecretId=arn, SecretString="v2")
    assert west.get_secret_value(SecretId=replica_arn)["SecretString"] == "own"
    expect_error("InvalidRequestException", west.stop_replication_to_replica, SecretId=replica_arn)
    expect_error("ResourceNotFoundException", west.stop_replication_to_replica, SecretId=f"missing-{name}")


def test_validate_resource_policy(regions):
    east, _ = regions
    name = f"pol-{uuid.uuid4().hex[:8]}"
    east.create_secret(Name=name, SecretString="v")
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*",
        }],
    })
    out = east.validate_resource_policy(SecretId=name, ResourcePolicy=policy)
    assert out["PolicyValidationPassed"] is True and out["ValidationErrors"] == []
    assert east.validate_resource_policy(ResourcePolicy=policy)["PolicyValidationPassed"] is True
    expect_error("MalformedPolicyDocumentException", east.validate_resource_policy, ResourcePolicy="{not json")
    expect_error("ResourceNotFoundException", east.validate_resource_policy, SecretId=f"missing-{name}", ResourcePolicy=policy)


def test_replicas_survive_a_sigkill(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    east = make_client("secretsmanager", server.endpoint, region_name="us-east-1")
    arn = east.create_secret(Name="kept", SecretString="v1", AddReplicaRegions=[{"Region": "eu-west-3"}])["ARN"]
    east.put_secret_value(SecretId=arn, SecretString="v2")
    west = make_client("secretsmanager", server.endpoint, region_name="eu-west-3")
    assert west.get_secret_value(SecretId="kept")["SecretString"] == "v2"
    server.stop(signal.SIGKILL)

    again = start_server("--data-dir", data)
    west = make_client("secretsmanager", again.endpoint, region_name="eu-west-3")
    east = make_client("secretsmanager", again.endpoint, region_name="us-east-1")
    assert west.get_secret_value(SecretId="kept")["SecretString"] == "v2"
    assert west.describe_secret(SecretId="kept")["PrimaryRegion"] == "us-east-1"
    assert east.describe_secret(SecretId=arn)["ReplicationStatus"][0]["Status"] == "InSync"
    expect_error("InvalidParameterException", west.put_secret_value, NOT_ON_REPLICA, SecretId="kept", SecretString="x")
