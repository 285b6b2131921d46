"""IAM with `--data-dir`: users, groups, roles, managed and inline policies, instance profiles and
access keys and signing certificates survive a SIGKILL and read back exactly; an access key created before the restart
still signs requests under `--enforce-sigv4` before any IAM call, and a deleted one stays refused."""

from __future__ import annotations

import json
import signal

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client
from .test_iam import CERTS

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}],
})


def doc(action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def snapshot(iam) -> dict:
    """Everything IAM's read operations tell about the account."""
    out: dict = {"root": strip(iam.get_user()), "summary": strip(iam.get_account_summary())}
    out["root_certs"] = strip(iam.list_signing_certificates())
    out["users"] = strip(iam.list_users())
    for u in out["users"]["Users"]:
        name = u["UserName"]
        out[f"user/{name}"] = {
            "get": strip(iam.get_user(UserName=name)),
            "keys": strip(iam.list_access_keys(UserName=name)),
            "certs": strip(iam.list_signing_certificates(UserName=name)),
            "groups": strip(iam.list_groups_for_user(UserName=name)),
            "attached": strip(iam.list_attached_user_policies(UserName=name)),
            "inline": {p: strip(iam.get_user_policy(UserName=name, PolicyName=p))
                       for p in iam.list_user_policies(UserName=name)["PolicyNames"]},
            "tags": strip(iam.list_user_tags(UserName=name)),
        }
    out["groups"] = strip(iam.list_groups())
    for g in out["groups"]["Groups"]:
        name = g["GroupName"]
        out[f"group/{name}"] = {
            "get": strip(iam.get_group(GroupName=name)),
            "attached": strip(iam.list_attached_group_policies(GroupName=name)),
            "inline": {p: strip(iam.get_group_policy(GroupName=name, PolicyName=p))
                       for p in iam.list_group_policies(GroupName=name)["PolicyNames"]},
        }
    out["roles"] = strip(iam.list_roles())
    for r in out["roles"]["Roles"]:
        name = r["RoleName"]
        out[f"role/{name}"] = {
            "get": strip(iam.get_role(RoleName=name)),
            "attached": strip(iam.list_attached_role_policies(RoleName=name)),
            "inline": {p: strip(iam.get_role_policy(RoleName=name, PolicyName=p))
                       for p in iam.list_role_policies(RoleName=name)["PolicyNames"]},
            "profiles": strip(iam.list_instance_profiles_for_role(RoleName=name)),
        }
    out["policies"] = strip(iam.list_policies(Scope="Local"))
    for p in out["policies"]["Policies"]:
        arn = p["Arn"]
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        out[f"policy/{arn}"] = {
            "get": strip(iam.get_policy(PolicyArn=arn)),
            "versions": [strip(iam.get_policy_version(PolicyArn=arn, VersionId=v["VersionId"])) for v in versions],
            "entities": strip(iam.list_entities_for_policy(PolicyArn=arn)),
            "tags": strip(iam.list_policy_tags(PolicyArn=arn)),
        }
    out["profiles"] = strip(iam.list_instance_profiles())
    return out


def code_of(fn, **kw) -> str:
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"]


def test_iam_survives_a_sigkill_and_keys_still_sign(start_server, tmp_path):
    data = str(tmp_path / "state")
    creds = tmp_path / "credentials"
    creds.write_text("111111111111 secret111\n")
    flags = ("--data-dir", data, "--enforce-sigv4", "--credentials", str(creds))
    server = start_server(*flags)
    iam = make_client("iam", server.endpoint)

    boundary = iam.create_policy(PolicyName="Boundary", PolicyDocument=doc("s3:*"))["Policy"]["Arn"]
    policy = iam.create_policy(
        PolicyName="Shared", Path="/team/", PolicyDocument=doc("sqs:*"), Description="shared",
        Tags=[{"Key": "k", "Value": "v"}],
    )["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=doc("sns:*"), SetAsDefault=True)
    iam.create_user(UserName="Alice", Path="/people/", PermissionsBoundary=boundary,
                    Tags=[{"Key": "team", "Value": "core"}])
    iam.create_user(UserName="bob")
    iam.update_user(UserName="bob", NewUserName="Robert", NewPath="/renamed/")
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="Alice")
    iam.add_user_to_group(GroupName="devs", UserName="Robert")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST, Description="the app", MaxSessionDuration=7200,
                    Tags=[{"Key": "env", "Value": "dev"}])
    iam.create_instance_profile(InstanceProfileName="app-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    for attach in (
        lambda: iam.attach_user_policy(UserName="Alice", PolicyArn=policy),
        lambda: iam.attach_group_policy(GroupName="devs", PolicyArn=policy),
        lambda: iam.attach_role_policy(RoleName="app", PolicyArn=policy),
        lambda: iam.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ):
        attach()
    iam.put_user_policy(UserName="Alice", PolicyName="own", PolicyDocument=doc("s3:GetObject"))
    iam.put_group_policy(GroupName="devs", PolicyName="grp", PolicyDocument=doc("logs:*"))
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=doc("dynamodb:*"))
    key = iam.create_access_key(UserName="Alice")["AccessKey"]
    spare = iam.create_access_key(UserName="Alice")["AccessKey"]
    iam.update_access_key(UserName="Alice", AccessKeyId=spare["AccessKeyId"], Status="Inactive")
    robert_key = iam.create_access_key(UserName="Robert")["AccessKey"]
    cert = iam.upload_signing_certificate(UserName="Alice", CertificateBody=CERTS[0])["Certificate"]
    iam.update_signing_certificate(UserName="Alice", CertificateId=cert["CertificateId"], Status="Inactive")
    iam.upload_signing_certificate(CertificateBody=CERTS[1])  # the root user's
    # A role in another account, for AssumeRole after the restart.
    other = make_client("iam", server.endpoint, aws_access_key_id="111111111111", aws_secret_access_key="secret111")
    other.create_role(RoleName="x", AssumeRolePolicyDocument=TRUST)

    before = snapshot(iam)
    other_before = strip(other.get_role(RoleName="x"))
    assert [u["UserName"] for u in before["users"]["Users"]] == ["Alice", "Robert"]
    server.stop(signal.SIGKILL)

    server = start_server(*flags)
    alice = dict(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    # The first request after the restart is signed with Alice's key and assumes a role of an
    # account no IAM call has loaded yet.
    assumed = make_client("sts", server.endpoint, **alice).assume_role(
        RoleArn="arn:aws:iam::111111111111:role/x", RoleSessionName="after-restart"
    )
    assert assumed["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111111111111:assumed-role/x/after-restart"
    me = make_client("sts", server.endpoint, **alice).get_caller_identity()
    assert me["Arn"] == "arn:aws:iam::000000000000:user/people/Alice"
    robert = make_client("sts", server.endpoint, aws_access_key_id=robert_key["AccessKeyId"],
                         aws_secret_access_key=robert_key["SecretAccessKey"]).get_caller_identity()
    assert robert["Arn"] == "arn:aws:iam::000000000000:user/renamed/Robert"
    inactive = make_client("sts", server.endpoint, aws_access_key_id=spare["AccessKeyId"],
                           aws_secret_access_key=spare["SecretAccessKey"])
    assert code_of(inactive.get_caller_identity) == "InvalidClientTokenId"

    iam = make_client("iam", server.endpoint)
    assert snapshot(iam) == before
    other = make_client("iam", server.endpoint, aws_access_key_id="111111111111", aws_secret_access_key="secret111")
    assert strip(other.get_role(RoleName="x")) == other_before

    # Writes after the restart are stored too: the deleted key stays refused after another kill,
    # the reactivated one signs.
    iam.delete_access_key(UserName="Alice", AccessKeyId=key["AccessKeyId"])
    iam.update_access_key(UserName="Alice", AccessKeyId=spare["AccessKeyId"], Status="Active")
    iam.detach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    server.stop(signal.SIGKILL)

    server = start_server(*flags)
    deleted = make_client("sts", server.endpoint, **alice)
    assert code_of(deleted.get_caller_identity) == "InvalidClientTokenId"
    revived = make_client("sts", server.endpoint, aws_access_key_id=spare["AccessKeyId"],
                          aws_secret_access_key=spare["SecretAccessKey"])
    assert revived.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:user/people/Alice"
    iam = make_client("iam", server.endpoint)
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]] == [policy]
    keys = iam.list_access_keys(UserName="Alice")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(spare["AccessKeyId"], "Active")]
