"""IAM end to end over awsQuery: users, groups, roles, managed policies with versions, inline
policies, attachments, instance profiles, access keys, service-linked roles, tags, paging, the
account summary, and AWS's errors (NoSuchEntity, EntityAlreadyExists, DeleteConflict,
LimitExceeded, MalformedPolicyDocument)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from .rsutil import call_error as error

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
CERTS = [  # self-signed EC certificates made with openssl for these tests
    """-----BEGIN CERTIFICATE-----
MIIBjjCCATOgAwIBAgIUGWDZ2Zex+YcCHs7zEJfT1OLCfbYwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQcnVzdHN0YWNrLXRlc3QtMTAgFw0yNjEyMDUxMTAzMDRaGA8y
MTI2MTExMTExMDMwNFowGzEZMBcGA1UEAwwQcnVzdHN0YWNrLXRlc3QtMTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABJrNCjSsyfeDOZja1+lO8Azq+fDjKwT02UV0
zyOwtKOfzt4WPhNy4sASX0FjUSbEihEhnQM47g/n36PZT3OpC5qjUzBRMB0GA1Ud
DgQWBBQzj2/eqE95JWjjJ/bZBd8rlKLNgzAfBgNVHSMEGDAWgBQzj2/eqE95JWjj
J/bZBd8rlKLNgzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDI
S7yJBQCJkkKMyKjpllWHCAuTg6DywuOKBvsAet66cgIhAM5kCn/dlkMU8UlWKr+8
wrtyGb1BakeqopLxE9S3L/vQ
-----END CERTIFICATE-----
""",
    """-----BEGIN CERTIFICATE-----
MIIBjDCCATOgAwIBAgIULaXGpqVYBkKZk5kq+TUO/3Bj0i8wCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQcnVzdHN0YWNrLXRlc3QtMjAgFw0yNjEyMDUxMTAzMDRaGA8y
MTI2MTExMTExMDMwNFowGzEZMBcGA1UEAwwQcnVzdHN0YWNrLXRlc3QtMjBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABDvdabQc8hp+psc01WAgCJAshZjpgTMBpuMR
+ffxRvCebyM3TPkAS1zKx8WB6hVau+g2nVK2JWx148V/n9j37eejUzBRMB0GA1Ud
DgQWBBQIFDYnuo8/80MkVmyF55+6rlwZqTAfBgNVHSMEGDAWgBQIFDYnuo8/80Mk
VmyF55+6rlwZqTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCICDa
iOqapUsiLfoWKc/mTX06b+I+klQHxw8U6vfr9sP0AiAMQtd36DS4bqYKg8BOrKYz
3kvEu59PQRL2y1i1NbJ/bQ==
-----END CERTIFICATE-----
""",
    """-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUW4Uqkr4+nKBczOXYyQkWdR85+QwwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQcnVzdHN0YWNrLXRlc3QtMzAgFw0yNjEyMDUxMTAzMDRaGA8y
MTI2MTExMTExMDMwNFowGzEZMBcGA1UEAwwQcnVzdHN0YWNrLXRlc3QtMzBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABH5ZZgtaLPtkMusMSp/WHoFgDEZ7DVMOLkSR
aJKbz6uU1zp/+yIPceFW5b0MKWGrDFROznF0+k0UhsRIU1adX1ajUzBRMB0GA1Ud
DgQWBBQPyaYZfuAlqf3qvaDQeX4mxF6XYjAfBgNVHSMEGDAWgBQPyaYZfuAlqf3q
vaDQeX4mxF6XYjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIEeh
uftm1WaVZLd/PWs7YGdFuxnOdDTbqQPao/uBTtrxAiEAlS+wHCbv7jPGXFBcrp+p
1Hv4AoT2Nhj4lUOW3P3bjFg=
-----END CERTIFICATE-----
""",
]


@pytest.fixture
def iam(client):
    # Each test acts in its own account, so listings and counts are its own.
    account = str(uuid.uuid4().int)[:12].rjust(12, "1")
    c = client("iam", aws_access_key_id=account)
    c.account = account
    return c


def test_users_lifecycle(iam):
    user = iam.create_user(UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "a"}])["User"]
    assert user["Arn"] == f"arn:aws:iam::{iam.account}:user/eng/alice"
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", user["UserId"])
    assert user["Path"] == "/eng/" and isinstance(user["CreateDate"], datetime)
    assert user["CreateDate"].tzinfo is not None
    assert abs((datetime.now(timezone.utc) - user["CreateDate"]).total_seconds()) < 60
    assert error(iam.create_user, UserName="ALICE") == (409, "EntityAlreadyExists", "User with name ALICE already exists.")
    got = iam.get_user(UserName="alice")["User"]
    assert got["UserId"] == user["UserId"] and got["Tags"] == [{"Key": "team", "Value": "a"}]
    assert error(iam.get_user, UserName="bob") == (404, "NoSuchEntity", "The user with name bob cannot be found.")
    iam.update_user(UserName="alice", NewUserName="alice2", NewPath="/ops/")
    assert iam.get_user(UserName="alice2")["User"]["Arn"] == f"arn:aws:iam::{iam.account}:user/ops/alice2"
    iam.delete_user(UserName="alice2")
    assert error(iam.get_user, UserName="alice2")[1] == "NoSuchEntity"


def test_invalid_names_are_validation_errors(iam):
    status, code, msg = error(iam.create_user, UserName="bad name!")
    assert (status, code) == (400, "ValidationError")
    assert "failed to satisfy constraint: Member must satisfy regular expression pattern" in msg


def test_list_users_paging_and_prefix(iam):
    for i in range(5):
        iam.create_user(UserName=f"u{i}", Path="/a/" if i % 2 else "/")
    first = iam.list_users(MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["u0", "u1"] and first["IsTruncated"] is True
    second = iam.list_users(MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in second["Users"]] == ["u2", "u3"]
    last = iam.list_users(MaxItems=2, Marker=second["Marker"])
    assert [u["UserName"] for u in last["Users"]] == ["u4"] and last["IsTruncated"] is False and "Marker" not in last
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/a/")["Users"]] == ["u1", "u3"]
    names = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}) for u in p["Users"]]
    assert names == ["u0", "u1", "u2", "u3", "u4"]


def test_groups_and_membership(iam):
    group = iam.create_group(GroupName="devs")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{iam.account}:group/devs" and group["GroupId"].startswith("AGPA")
    assert error(iam.create_group, GroupName="devs")[1] == "EntityAlreadyExists"
    iam.create_user(UserName="carol")
    iam.add_user_to_group(GroupName="devs", UserName="carol")
    got = iam.get_group(GroupName="devs")
    assert [u["UserName"] for u in got["Users"]] == ["carol"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="carol")["Groups"]] == ["devs"]
    assert error(iam.delete_group, GroupName="devs") == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must remove users from group first.",
    )
    assert error(iam.add_user_to_group, GroupName="nope", UserName="carol")[2] == "The group with name nope cannot be found."
    iam.remove_user_from_group(GroupName="devs", UserName="carol")
    iam.update_group(GroupName="devs", NewGroupName="developers")
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["developers"]
    iam.delete_group(GroupName="developers")


def test_roles(iam, client):
    role = iam.create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST), Description="d", MaxSessionDuration=7200, Path="/svc/"
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::{iam.account}:role/svc/fn" and re.fullmatch(r"AROA[A-Z2-7]{17}", role["RoleId"])
    # botocore decodes the URL-encoded document IAM returns.
    assert role["AssumeRolePolicyDocument"] == TRUST
    got = iam.get_role(RoleName="fn")["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("d", 7200)
    assert error(iam.create_role, RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST)) == (
        409,
        "EntityAlreadyExists",
        "Role with name fn already exists.",
    )
    iam.update_role(RoleName="fn", Description="new", MaxSessionDuration=3600)
    assert iam.get_role(RoleName="fn")["Role"]["Description"] == "new"
    assert iam.update_role_description(RoleName="fn", Description="newer")["Role"]["Description"] == "newer"
    trust2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    iam.update_assume_role_policy(RoleName="fn", PolicyDocument=json.dumps(trust2))
    assert iam.get_role(RoleName="fn")["Role"]["AssumeRolePolicyDocument"] == trust2
    unchecked = client("iam", aws_access_key_id=iam.account, config=Config(parameter_validation=False))
    status, code, msg = error(unchecked.create_role, RoleName="x", AssumeRolePolicyDocument=json.dumps(TRUST), MaxSessionDuration=50000)
    assert (status, code) == (400, "ValidationError")
    assert msg == (
        "1 validation error detected: Value '50000' at 'maxSessionDuration' failed to satisfy constraint: "
        "Member must have value less than or equal to 43200"
    )
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/svc/")["Roles"]] == ["fn"]
    iam.delete_role(RoleName="fn")
    assert error(iam.get_role, RoleName="fn") == (404, "NoSuchEntity", "The role with name fn cannot be found.")


@pytest.mark.parametrize(
    "doc,message",
    [
        ("not json", "Syntax errors in policy."),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}), "Missing required field Principal"),
        (json.dumps({"Version": "2012-10-17", "Statement": [{"Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}), "Missing required field Effect"),
    ],
)
def test_malformed_trust_policies(iam, doc, message):
    assert error(iam.create_role, RoleName="r", AssumeRolePolicyDocument=doc) == (400, "MalformedPolicyDocument", message)


@pytest.mark.parametrize(
    "doc,message",
    [
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}, "Policy statement must contain actions."),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}, "Policy statement must contain resources."),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}, "Invalid effect"),
        ({"Version": "1999-01-01", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}, "The policy failed legacy parsing"),
    ],
)
def test_malformed_identity_policies(iam, doc, message):
    assert error(iam.create_policy, PolicyName="p", PolicyDocument=json.dumps(doc)) == (400, "MalformedPolicyDocument", message)


def test_managed_policies_and_versions(iam):
    policy = iam.create_policy(PolicyName="read", PolicyDocument=json.dumps(POLICY), Description="r")["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{iam.account}:policy/read" and re.fullmatch(r"ANPA[A-Z2-7]{17}", policy["PolicyId"])
    assert (policy["DefaultVersionId"], policy["AttachmentCount"], policy["IsAttachable"]) == ("v1", 0, True)
    assert error(iam.create_policy, PolicyName="read", PolicyDocument=json.dumps(POLICY)) == (
        409,
        "EntityAlreadyExists",
        "A policy called read already exists. Duplicate names are not allowed.",
    )
    doc2 = {**POLICY, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc2), SetAsDefault=True)["PolicyVersion"]
    assert (v2["VersionId"], v2["IsDefaultVersion"]) == ("v2", True)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] == POLICY
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(POLICY))
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v5", "v4", "v3", "v2", "v1"]
    assert error(iam.create_policy_version, PolicyArn=arn, PolicyDocument=json.dumps(POLICY)) == (
        409,
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
    )
    assert error(iam.delete_policy_version, PolicyArn=arn, VersionId="v2") == (
        409,
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
    )
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert error(iam.delete_policy, PolicyArn=arn)[1] == "DeleteConflict"
    for v in ["v2", "v3", "v4", "v5"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    # Version numbers are never reused.
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(POLICY))["PolicyVersion"]["VersionId"] == "v6"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v6")
    assert error(iam.get_policy_version, PolicyArn=arn, VersionId="v9")[1] == "NoSuchEntity"
    iam.delete_policy(PolicyArn=arn)
    assert error(iam.get_policy, PolicyArn=arn) == (404, "NoSuchEntity", f"Policy {arn} was not found.")


def test_attach_detach_and_entities(iam):
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_user_policy(UserName="u", PolicyArn=arn)
    iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    aws_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    iam.attach_role_policy(RoleName="r", PolicyArn=aws_arn)
    assert iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"] == [
        {"PolicyName": "p", "PolicyArn": arn},
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": aws_arn},
    ]
    assert iam.list_attached_user_policies(UserName="u")["AttachedPolicies"] == [{"PolicyName": "p", "PolicyArn": arn}]
    assert iam.list_attached_group_policies(GroupName="g")["AttachedPolicies"] == [{"PolicyName": "p", "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == ["u"]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["g"]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["r"]
    assert iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")["PolicyUsers"] == []
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]] == ["p"]
    assert error(iam.attach_role_policy, RoleName="r", PolicyArn="arn:aws:iam::aws:policy/Nope") == (
        404,
        "NoSuchEntity",
        "Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable.",
    )
    assert error(iam.delete_policy, PolicyArn=arn) == (409, "DeleteConflict", "Cannot delete a policy attached to entities.")
    assert error(iam.delete_role, RoleName="r") == (409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
    assert error(iam.delete_user, UserName="u")[2] == "Cannot delete entity, must detach all policies first."
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    iam.detach_role_policy(RoleName="r", PolicyArn=aws_arn)
    assert error(iam.detach_role_policy, RoleName="r", PolicyArn=arn)[1] == "NoSuchEntity"
    iam.detach_user_policy(UserName="u", PolicyArn=arn)
    iam.detach_group_policy(GroupName="g", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)


def test_attached_policy_limit(iam):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    for i in range(10):
        arn = iam.create_policy(PolicyName=f"p{i}", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    arn = iam.create_policy(PolicyName="p10", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    assert error(iam.attach_role_policy, RoleName="r", PolicyArn=arn) == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
    )


def test_aws_managed_policy(iam):
    p = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["Policy"]
    assert (p["PolicyName"], p["DefaultVersionId"], p["Path"]) == ("AdministratorAccess", "v1", "/")
    doc = iam.get_policy_version(PolicyArn=p["Arn"], VersionId="v1")["PolicyVersion"]["Document"]
    assert doc["Statement"][0]["Action"] == "*"
    names = [x["PolicyName"] for x in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]]
    assert "AdministratorAccess" in names and "AmazonS3FullAccess" in names


def test_inline_policies(iam):
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    for kind, owner in [("user", "u"), ("group", "g"), ("role", "r")]:
        cap = kind.capitalize()
        put = getattr(iam, f"put_{kind}_policy")
        put(**{f"{cap}Name": owner, "PolicyName": "inline", "PolicyDocument": json.dumps(POLICY)})
        got = getattr(iam, f"get_{kind}_policy")(**{f"{cap}Name": owner, "PolicyName": "inline"})
        assert got["PolicyDocument"] == POLICY and got[f"{cap}Name"] == owner and got["PolicyName"] == "inline"
        assert getattr(iam, f"list_{kind}_policies")(**{f"{cap}Name": owner})["PolicyNames"] == ["inline"]
        assert error(getattr(iam, f"get_{kind}_policy"), **{f"{cap}Name": owner, "PolicyName": "nope"}) == (
            404,
            "NoSuchEntity",
            f"The {kind} policy with name nope cannot be found.",
        )
        status, code, _ = error(put, **{f"{cap}Name": owner, "PolicyName": "bad", "PolicyDocument": "{"})
        assert (status, code) == (400, "MalformedPolicyDocument")
    assert error(iam.delete_role, RoleName="r")[2] == "Cannot delete entity, must delete policies first."
    big = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [f"s3:Get{i:04}" for i in range(200)], "Resource": "*"}]}
    assert error(iam.put_user_policy, UserName="u", PolicyName="big", PolicyDocument=json.dumps(big)) == (
        409,
        "LimitExceeded",
        "Maximum policy size of 2048 bytes exceeded for user u",
    )
    for kind, owner in [("user", "u"), ("group", "g"), ("role", "r")]:
        getattr(iam, f"delete_{kind}_policy")(**{f"{kind.capitalize()}Name": owner, "PolicyName": "inline"})
    iam.delete_role(RoleName="r")


def test_instance_profiles(iam):
    profile = iam.create_instance_profile(InstanceProfileName="ip", Path="/x/")["InstanceProfile"]
    assert profile["Arn"] == f"arn:aws:iam::{iam.account}:instance-profile/x/ip" and profile["Roles"] == []
    assert profile["InstanceProfileId"].startswith("AIPA")
    assert error(iam.create_instance_profile, InstanceProfileName="ip")[1] == "EntityAlreadyExists"
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_role(RoleName="r2", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="r")
    assert [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"]["Roles"]] == ["r"]
    assert error(iam.add_role_to_instance_profile, InstanceProfileName="ip", RoleName="r2") == (
        409,
        "LimitExceeded",
        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
    )
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="r")["InstanceProfiles"]] == ["ip"]
    assert error(iam.delete_role, RoleName="r")[2] == "Cannot delete entity, must remove roles from instance profile first."
    assert error(iam.delete_instance_profile, InstanceProfileName="ip")[1] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName="ip", RoleName="r")
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]] == ["ip"]
    iam.delete_instance_profile(InstanceProfileName="ip")
    assert error(iam.get_instance_profile, InstanceProfileName="ip") == (404, "NoSuchEntity", "Instance Profile ip cannot be found.")


def test_access_keys(iam):
    iam.create_user(UserName="k")
    key = iam.create_access_key(UserName="k")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", key["AccessKeyId"]) and len(key["SecretAccessKey"]) == 40
    assert (key["UserName"], key["Status"]) == ("k", "Active")
    iam.create_access_key(UserName="k")
    assert error(iam.create_access_key, UserName="k") == (409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
    listed = iam.list_access_keys(UserName="k")["AccessKeyMetadata"]
    assert len(listed) == 2 and all(m["UserName"] == "k" for m in listed)
    iam.update_access_key(UserName="k", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    statuses = {m["AccessKeyId"]: m["Status"] for m in iam.list_access_keys(UserName="k")["AccessKeyMetadata"]}
    assert statuses[key["AccessKeyId"]] == "Inactive"
    assert iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["UserName"] == "k"
    assert error(iam.delete_user, UserName="k")[2] == "Cannot delete entity, must delete access keys first."
    for m in listed:
        iam.delete_access_key(UserName="k", AccessKeyId=m["AccessKeyId"])
    assert error(iam.delete_access_key, UserName="k", AccessKeyId=key["AccessKeyId"]) == (
        404,
        "NoSuchEntity",
        f"The Access Key with id {key['AccessKeyId']} cannot be found.",
    )
    iam.delete_user(UserName="k")


def test_service_linked_roles(iam):
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] == ["autoscaling.amazonaws.com"]
    status, code, msg = error(iam.create_service_linked_role, AWSServiceName="autoscaling.amazonaws.com")
    assert (status, code) == (400, "InvalidInput") and "has been taken in this account" in msg
    assert error(iam.delete_role, RoleName="AWSServiceRoleForAutoScaling")[1] == "UnmodifiableEntity"
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling")["DeletionTaskId"]
    assert task.startswith("task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling/")
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    assert error(iam.get_role, RoleName="AWSServiceRoleForAutoScaling")[1] == "NoSuchEntity"


def test_tags(iam):
    iam.create_user(UserName="t")
    iam.tag_user(UserName="t", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_user(UserName="t", Tags=[{"Key": "A", "Value": "3"}])
    assert iam.list_user_tags(UserName="t")["Tags"] == [{"Key": "A", "Value": "3"}, {"Key": "b", "Value": "2"}]
    iam.untag_user(UserName="t", TagKeys=["b"])
    assert iam.list_user_tags(UserName="t")["Tags"] == [{"Key": "A", "Value": "3"}]
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST), Tags=[{"Key": "k", "Value": "v"}])
    assert iam.get_role(RoleName="r")["Role"]["Tags"] == [{"Key": "k", "Value": "v"}]
    iam.tag_role(RoleName="r", Tags=[{"Key": "k2", "Value": "v2"}])
    iam.untag_role(RoleName="r", TagKeys=["k"])
    assert iam.list_role_tags(RoleName="r")["Tags"] == [{"Key": "k2", "Value": "v2"}]
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "x", "Value": "y"}])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "x", "Value": "y"}]
    iam.untag_policy(PolicyArn=arn, TagKeys=["x"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == []
    iam.create_instance_profile(InstanceProfileName="ip")
    iam.tag_instance_profile(InstanceProfileName="ip", Tags=[{"Key": "x", "Value": "y"}])
    assert iam.list_instance_profile_tags(InstanceProfileName="ip")["Tags"] == [{"Key": "x", "Value": "y"}]
    iam.untag_instance_profile(InstanceProfileName="ip", TagKeys=["x"])
    assert iam.list_instance_profile_tags(InstanceProfileName="ip")["Tags"] == []
    assert error(iam.tag_user, UserName="t", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]) == (
        409,
        "LimitExceeded",
        "The number of tags has reached the maximum limit.",
    )
    assert error(iam.tag_user, UserName="nobody", Tags=[{"Key": "a", "Value": "b"}])[1] == "NoSuchEntity"


def test_account_summary_and_global_state(iam, client):
    iam.create_user(UserName="s")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(POLICY))
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Users"], summary["Roles"], summary["Policies"], summary["Groups"]) == (1, 1, 1, 0)
    assert summary["AccessKeysPerUserQuota"] == 2 and summary["UsersQuota"] == 5000
    # IAM is global: another region's client sees the same users.
    other = client("iam", aws_access_key_id=iam.account, region_name="eu-west-1")
    assert [u["UserName"] for u in other.list_users()["Users"]] == ["s"]


def test_error_document_is_aws_query_shape(iam):
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="ghost")
    resp = e.value.response
    assert resp["Error"]["Type"] == "Sender"
    assert resp["ResponseMetadata"]["RequestId"]


def test_invalid_principals(iam):
    def trust(principal):
        return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})

    assert error(iam.create_role, RoleName="r", AssumeRolePolicyDocument=trust({"AWS": "bob"})) == (
        400,
        "MalformedPolicyDocument",
        'Invalid principal in policy: "AWS":"bob"',
    )
    assert error(iam.create_role, RoleName="r", AssumeRolePolicyDocument=trust({"Service": "lambda"}))[2] == (
        'Invalid principal in policy: "SERVICE":"lambda"'
    )
    assert iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust({"AWS": "123456789012"}))["Role"]["RoleName"] == "r"


def test_optional_attributes_per_operation(iam):
    """Create/Get show a boundary and tags only when set; listings never show them."""
    boundary = iam.create_policy(PolicyName="b", PolicyDocument=json.dumps(POLICY))["Policy"]
    assert "Tags" not in boundary and "Description" not in boundary
    tagged = iam.create_policy(
        PolicyName="t", PolicyDocument=json.dumps(POLICY), Description="d", Tags=[{"Key": "k", "Value": "v"}], Path="/p/"
    )["Policy"]
    # CreatePolicy never echoes the description; GetPolicy does, and always has a (maybe empty) tag list.
    assert "Description" not in tagged and tagged["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_policy(PolicyArn=tagged["Arn"])["Policy"]
    assert got["Description"] == "d" and got["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_policy(PolicyArn=boundary["Arn"])["Policy"]
    assert "Description" not in got and got["Tags"] == []
    (listed,) = iam.list_policies(PathPrefix="/p/")["Policies"]
    assert "Description" not in listed and "Tags" not in listed
    tags = [{"Key": "k", "Value": "v"}]
    role = iam.create_role(
        RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=boundary["Arn"], Tags=tags
    )["Role"]
    user = iam.create_user(UserName="u", PermissionsBoundary=boundary["Arn"], Tags=tags)["User"]
    for entity in (role, user, iam.get_role(RoleName="r")["Role"], iam.get_user(UserName="u")["User"]):
        assert entity["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary["Arn"] and entity["Tags"] == tags
    (listed_role,) = iam.list_roles()["Roles"]
    (listed_user,) = iam.list_users()["Users"]
    for entity in (listed_role, listed_user):
        assert "PermissionsBoundary" not in entity and "Tags" not in entity and "RoleLastUsed" not in entity
    plain = iam.create_role(RoleName="plain", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    assert "PermissionsBoundary" not in plain and "Tags" not in plain


def test_permissions_boundary(iam):
    arn = iam.create_policy(PolicyName="b", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
    user = iam.create_user(UserName="u", PermissionsBoundary=arn)["User"]
    assert user["PermissionsBoundary"] == {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert (policy["PermissionsBoundaryUsageCount"], policy["AttachmentCount"]) == (1, 0)
    boundary = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert [u["UserName"] for u in boundary["PolicyUsers"]] == ["u"]
    assert iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsPolicy")["PolicyUsers"] == []
    listed = iam.list_policies(Scope="Local", OnlyAttached=True, PolicyUsageFilter="PermissionsBoundary")["Policies"]
    assert [p["PolicyName"] for p in listed] == ["b"]
    assert iam.list_policies(Scope="Local", OnlyAttached=True, PolicyUsageFilter="PermissionsPolicy")["Policies"] == []
    missing = f"arn:aws:iam::{iam.account}:policy/none"
    assert error(iam.create_role, RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=missing) == (
        404,
        "NoSuchEntity",
        f"Scope ARN: {missing} does not exist or is not attachable.",
    )


def test_signing_certificates(iam):
    iam.create_user(UserName="signer")
    cert = iam.upload_signing_certificate(UserName="signer", CertificateBody=CERTS[0])["Certificate"]
    assert (cert["UserName"], cert["Status"], cert["CertificateBody"]) == ("signer", "Active", CERTS[0])
    assert re.fullmatch(r"[A-Z0-9]{24,128}", cert["CertificateId"]) and "UploadDate" in cert
    iam.update_signing_certificate(UserName="signer", CertificateId=cert["CertificateId"], Status="Inactive")
    (listed,) = iam.list_signing_certificates(UserName="signer")["Certificates"]
    assert (listed["CertificateId"], listed["Status"], listed["CertificateBody"]) == (cert["CertificateId"], "Inactive", CERTS[0])
    # The same certificate cannot belong to two users of the account.
    iam.create_user(UserName="other")
    assert error(iam.upload_signing_certificate, UserName="other", CertificateBody=CERTS[0])[:2] == (409, "DuplicateCertificate")
    second = iam.upload_signing_certificate(UserName="signer", CertificateBody=CERTS[1])["Certificate"]
    assert error(iam.upload_signing_certificate, UserName="signer", CertificateBody=CERTS[2]) == (
        409, "LimitExceeded", "Cannot exceed quota for CertificatesPerUser: 2"
    )
    assert error(iam.upload_signing_certificate, UserName="other", CertificateBody="notacert")[:2] == (400, "MalformedCertificate")
    assert error(iam.delete_user, UserName="signer") == (
        409, "DeleteConflict", "Cannot delete entity, must delete signing certificates first."
    )
    fake = "x" * 32
    for call, kw in [
        (iam.update_signing_certificate, {"Status": "Active"}),
        (iam.delete_signing_certificate, {}),
    ]:
        assert error(call, UserName="signer", CertificateId=fake, **kw) == (
            404, "NoSuchEntity", f"The Certificate with id {fake} cannot be found."
        )
    unknown = (404, "NoSuchEntity", "The user with name nobody cannot be found.")
    assert error(iam.upload_signing_certificate, UserName="nobody", CertificateBody=CERTS[2]) == unknown
    assert error(iam.update_signing_certificate, UserName="nobody", CertificateId=fake, Status="Active") == unknown
    assert error(iam.list_signing_certificates, UserName="nobody") == unknown
    assert error(iam.delete_signing_certificate, UserName="nobody", CertificateId=fake) == unknown
    for c in (cert, second):
        iam.delete_signing_certificate(UserName="signer", CertificateId=c["CertificateId"])
    assert iam.list_signing_certificates(UserName="signer")["Certificates"] == []
    iam.delete_user(UserName="signer")
