"""Secrets Manager end to end: secrets and their versions, staging labels, scheduled deletion,
listing with filters, batch reads, tags, resource policies, rotation settings and random
passwords, with AWS's error codes and messages."""

from __future__ import annotations

import json
import re
import string
import time
import uuid

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from . import rsutil

NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED = "You can't perform this operation on the secret because it was marked for deletion."
ARN_RE = r"arn:aws:secretsmanager:us-east-1:000000000000:secret:{}-[A-Za-z0-9]{{6}}"


def expect_error(code: str, fn, *args, message: str | None = None, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    err = e.value.response["Error"]
    assert (err["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, 400), e.value.response
    if message is not None:
        assert err["Message"] == message
    return e.value.response


def new_name(tag: str = "s") -> str:
    return f"rs/{tag}/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sm(client):
    return client("secretsmanager")


@pytest.fixture
def raw_sm(client):
    """A client that sends what it is given, so the server's own validation answers."""
    return client("secretsmanager", config=Config(parameter_validation=False))


def stages(sm, secret_id):
    return sm.describe_secret(SecretId=secret_id)["VersionIdsToStages"]


def test_create_and_get_by_name_full_and_partial_arn(sm):
    name = new_name()
    token = str(uuid.uuid4())
    out = sm.create_secret(Name=name, SecretString="hunter2", Description="d", ClientRequestToken=token)
    assert re.fullmatch(ARN_RE.format(re.escape(name)), out["ARN"])
    assert out["Name"] == name and out["VersionId"] == token
    arn = out["ARN"]
    for secret_id in [name, arn, arn[:-7]]:
        got = sm.get_secret_value(SecretId=secret_id)
        assert got["SecretString"] == "hunter2"
        assert got["ARN"] == arn and got["Name"] == name
        assert got["VersionId"] == token and got["VersionStages"] == ["AWSCURRENT"]
        assert "SecretBinary" not in got
    expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=arn[:-6] + "XXXXXX", message=NOT_FOUND)
    expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=name + "-nope", message=NOT_FOUND)
    d = sm.describe_secret(SecretId=name)
    assert d["Description"] == "d" and d["VersionIdsToStages"] == {token: ["AWSCURRENT"]}
    assert "RotationEnabled" not in d and "DeletedDate" not in d
    assert d["LastAccessedDate"].timestamp() % 86400 == 0
    # A retried create (same token, same value) answers as the first one did.
    again = sm.create_secret(Name=name, SecretString="hunter2", ClientRequestToken=token)
    assert again["ARN"] == arn and again["VersionId"] == token
    expect_error(
        "ResourceExistsException", sm.create_secret, Name=name, SecretString="other",
        message=f"The operation failed because the secret {name} already exists.",
    )
    # The same token with another value names a version that already holds something else.
    expect_error(
        "ResourceExistsException", sm.create_secret, Name=name, SecretString="other", ClientRequestToken=token,
        message=f"You can't use ClientRequestToken {token} because that value is already in use for a version of secret {arn}.",
    )


def test_binary_secrets_and_value_rules(sm):
    name = new_name()
    sm.create_secret(Name=name, SecretBinary=b"\x00\x01binary")
    got = sm.get_secret_value(SecretId=name)
    assert got["SecretBinary"] == b"\x00\x01binary" and "SecretString" not in got
    expect_error("InvalidParameterException", sm.create_secret, Name=new_name(), SecretString="a", SecretBinary=b"b")
    expect_error("InvalidParameterException", sm.create_secret, Name="bad name!", SecretString="a")
    # Without a value there is no version yet.
    empty = new_name()
    out = sm.create_secret(Name=empty)
    assert "VersionId" not in out
    expect_error(
        "ResourceNotFoundException", sm.get_secret_value, SecretId=empty,
        message="Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    )
    assert "VersionIdsToStages" not in sm.describe_secret(SecretId=empty)


def test_put_secret_value_moves_current_and_previous(sm):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    put = sm.put_secret_value(SecretId=name, SecretString="two")
    v2 = put["VersionId"]
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    v3 = sm.put_secret_value(SecretId=name, SecretString="three")["VersionId"]
    assert stages(sm, name) == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "two"
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["SecretString"] == "one"
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["VersionStages"] == []
    assert sm.get_secret_value(SecretId=name, VersionId=v3, VersionStage="AWSCURRENT")["SecretString"] == "three"
    expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=name, VersionId=v1, VersionStage="AWSCURRENT")
    missing = str(uuid.uuid4())
    expect_error(
        "ResourceNotFoundException", sm.get_secret_value, SecretId=name, VersionId=missing,
        message=f"Secrets Manager can't find the specified secret value for VersionId: {missing}",
    )
    # Idempotent by token: the same value again changes nothing, another value is refused.
    same = sm.put_secret_value(SecretId=name, SecretString="three", ClientRequestToken=v3)
    assert same["VersionId"] == v3
    assert stages(sm, name) == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    expect_error(
        "ResourceExistsException", sm.put_secret_value, SecretId=name, SecretString="x", ClientRequestToken=v3,
        message=f"You can't use ClientRequestToken {v3} because that value is already in use for a version of secret {put['ARN']}.",
    )
    expect_error(
        "ResourceExistsException", sm.update_secret, SecretId=name, SecretString="x", ClientRequestToken=v3,
        message=f"You can't use ClientRequestToken {v3} because that value is already in use for a version of secret {put['ARN']}.",
    )
    assert sm.update_secret(SecretId=name, SecretString="three", ClientRequestToken=v3)["VersionId"] == v3
    # A pending version leaves AWSCURRENT where it is.
    pending = sm.put_secret_value(SecretId=name, SecretString="four", VersionStages=["AWSPENDING"])
    assert pending["VersionStages"] == ["AWSPENDING"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "three"
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING")["SecretString"] == "four"
    expect_error("InvalidParameterException", sm.put_secret_value, SecretId=name)
    expect_error("ResourceNotFoundException", sm.put_secret_value, SecretId=name + "x", SecretString="a", message=NOT_FOUND)


def test_list_secret_version_ids(sm):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2")["VersionId"]
    v3 = sm.put_secret_value(SecretId=name, SecretString="3")["VersionId"]
    out = sm.list_secret_version_ids(SecretId=name)
    assert out["Name"] == name and out["ARN"].startswith("arn:aws:secretsmanager:")
    ids = {v["VersionId"]: v["VersionStages"] for v in out["Versions"]}
    assert ids == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    assert all("CreatedDate" in v for v in out["Versions"])
    deprecated = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    assert {v["VersionId"] for v in deprecated} == {v1, v2, v3}
    page = sm.list_secret_version_ids(SecretId=name, MaxResults=1)
    assert len(page["Versions"]) == 1 and "NextToken" in page
    rest = sm.list_secret_version_ids(SecretId=name, MaxResults=1, NextToken=page["NextToken"])
    assert len(rest["Versions"]) == 1 and "NextToken" not in rest
    expect_error("ResourceNotFoundException", sm.list_secret_version_ids, SecretId=name + "x")


def test_update_secret_version_stage(sm):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="2", VersionStages=["AWSPENDING"])["VersionId"]
    # Moving AWSCURRENT needs the version that has it.
    expect_error(
        "InvalidParameterException", sm.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT",
        MoveToVersionId=v2,
    )
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=v2, RemoveFromVersionId=v1)
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSPENDING", "AWSCURRENT"]}
    expect_error(
        "InvalidParameterException", sm.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT",
        RemoveFromVersionId=v2,
    )
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPENDING", RemoveFromVersionId=v2)
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    # Custom labels.
    sm.update_secret_version_stage(SecretId=name, VersionStage="blue", MoveToVersionId=v1)
    assert sm.get_secret_value(SecretId=name, VersionStage="blue")["SecretString"] == "1"
    expect_error(
        "ResourceNotFoundException", sm.update_secret_version_stage, SecretId=name, VersionStage="x",
        MoveToVersionId=str(uuid.uuid4()),
    )


def test_update_secret(sm):
    name = new_name()
    v1 = sm.create_secret(Name=name, SecretString="1")["VersionId"]
    out = sm.update_secret(SecretId=name, Description="new", KmsKeyId="alias/mine")
    assert "VersionId" not in out and out["Name"] == name
    d = sm.describe_secret(SecretId=name)
    assert d["Description"] == "new" and d["KmsKeyId"] == "alias/mine"
    assert d["VersionIdsToStages"] == {v1: ["AWSCURRENT"]}
    v2 = sm.update_secret(SecretId=name, SecretString="2")["VersionId"]
    assert stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "2"
    expect_error("ResourceNotFoundException", sm.update_secret, SecretId=name + "x", Description="x", message=NOT_FOUND)


def test_delete_schedule_restore_and_force(sm):
    name = new_name()
    arn = sm.create_secret(Name=name, SecretString="v")["ARN"]
    msg = "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."
    for days in (6, 31):
        expect_error("InvalidParameterException", sm.delete_secret, SecretId=name, RecoveryWindowInDays=days, message=msg)
    expect_error(
        "InvalidParameterException", sm.delete_secret, SecretId=name, RecoveryWindowInDays=7,
        ForceDeleteWithoutRecovery=True,
    )
    before = time.time()
    out = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert out["ARN"] == arn and out["Name"] == name
    assert abs(out["DeletionDate"].timestamp() - (before + 7 * 86400)) < 120
    expect_error("InvalidRequestException", sm.get_secret_value, SecretId=name, message=MARKED)
    expect_error("InvalidRequestException", sm.put_secret_value, SecretId=name, SecretString="x", message=MARKED)
    expect_error("InvalidRequestException", sm.update_secret, SecretId=name, Description="x", message=MARKED)
    expect_error("InvalidRequestException", sm.tag_resource, SecretId=name, Tags=[{"Key": "k", "Value": "v"}])
    expect_error("InvalidRequestException", sm.delete_secret, SecretId=name)
    expect_error("InvalidRequestException", sm.create_secret, Name=name, SecretString="again")
    assert "DeletedDate" in sm.describe_secret(SecretId=name)
    listed = [s["Name"] for s in sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]]
    assert listed == []
    planned = sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}], IncludePlannedDeletion=True)["SecretList"]
    assert [s["Name"] for s in planned] == [name] and "DeletedDate" in planned[0]
    restored = sm.restore_secret(SecretId=arn)
    assert (restored["ARN"], restored["Name"]) == (arn, name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)
    forced = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert abs(forced["DeletionDate"].timestamp() - time.time()) < 120
    expect_error("ResourceNotFoundException", sm.describe_secret, SecretId=name, message=NOT_FOUND)
    expect_error("ResourceNotFoundException", sm.restore_secret, SecretId=name, message=NOT_FOUND)
    # The name is free again.
    sm.create_secret(Name=name, SecretString="new")
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_list_secrets_filters_sorting_and_pages(sm):
    base = f"rs-list-{uuid.uuid4().hex[:8]}"
    names = [f"{base}/{c}" for c in "cab"]
    for i, n in enumerate(names):
        sm.create_secret(
            Name=n, SecretString="x", Description=f"desc {i}",
            Tags=[{"Key": "env", "Value": "prod" if i else "dev"}, {"Key": f"{base}-k{i}", "Value": "v"}],
        )
        time.sleep(0.01)
    by_prefix = [{"Key": "name", "Values": [base]}]
    created = [s["Name"] for s in sm.list_secrets(Filters=by_prefix)["SecretList"]]
    assert created == names
    assert [s["Name"] for s in sm.list_secrets(Filters=by_prefix, SortOrder="desc")["SecretList"]] == names[::-1]
    assert [s["Name"] for s in sm.list_secrets(Filters=by_prefix, SortBy="name")["SecretList"]] == sorted(names)
    entry = sm.list_secrets(Filters=by_prefix)["SecretList"][0]
    assert set(entry) >= {"ARN", "Name", "Description", "Tags", "SecretVersionsToStages", "CreatedDate", "LastChangedDate"}
    tag_value = [{"Key": "name", "Values": [base]}, {"Key": "tag-value", "Values": ["prod"]}]
    assert [s["Name"] for s in sm.list_secrets(Filters=tag_value)["SecretList"]] == names[1:]
    negated = [{"Key": "name", "Values": [base]}, {"Key": "tag-value", "Values": ["!prod"]}]
    assert [s["Name"] for s in sm.list_secrets(Filters=negated)["SecretList"]] == names[:1]
    tag_key = [{"Key": "tag-key", "Values": [f"{base}-k2"]}]
    assert [s["Name"] for s in sm.list_secrets(Filters=tag_key)["SecretList"]] == [names[2]]
    desc = [{"Key": "name", "Values": [base]}, {"Key": "description", "Values": ["desc 1"]}]
    assert [s["Name"] for s in sm.list_secrets(Filters=desc)["SecretList"]] == [names[1]]
    everywhere = [{"Key": "all", "Values": [base.upper()]}]
    assert len(sm.list_secrets(Filters=everywhere)["SecretList"]) == 3
    # Pages.
    seen, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = sm.list_secrets(Filters=by_prefix, MaxResults=2, **kw)
        assert len(page["SecretList"]) <= 2
        seen += [s["Name"] for s in page["SecretList"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    paged = sm.get_paginator("list_secrets").paginate(Filters=by_prefix, PaginationConfig={"PageSize": 1})
    assert [s["Name"] for p in paged for s in p["SecretList"]] == names
    expect_error("ValidationException", sm.list_secrets, Filters=[{"Key": "nope", "Values": ["x"]}])
    expect_error("InvalidNextTokenException", sm.list_secrets, NextToken="garbage")


def test_batch_get_secret_value(sm):
    base = f"rs-batch-{uuid.uuid4().hex[:8]}"
    a, b = f"{base}/a", f"{base}/b"
    sm.create_secret(Name=a, SecretString="A")
    arn_b = sm.create_secret(Name=b, SecretBinary=b"B")["ARN"]
    out = sm.batch_get_secret_value(SecretIdList=[a, arn_b, f"{base}/missing"])
    values = {v["Name"]: v for v in out["SecretValues"]}
    assert values[a]["SecretString"] == "A" and values[b]["SecretBinary"] == b"B"
    assert values[a]["VersionStages"] == ["AWSCURRENT"]
    assert [(e["SecretId"], e["ErrorCode"]) for e in out["Errors"]] == [(f"{base}/missing", "ResourceNotFoundException")]
    filtered = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [base]}])
    assert sorted(v["Name"] for v in filtered["SecretValues"]) == [a, b]
    page = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [base]}], MaxResults=1)
    assert len(page["SecretValues"]) == 1 and "NextToken" in page
    expect_error("InvalidParameterException", sm.batch_get_secret_value)
    expect_error(
        "InvalidParameterException", sm.batch_get_secret_value, SecretIdList=[a], Filters=[{"Key": "name", "Values": [a]}]
    )
    sm.delete_secret(SecretId=a)
    out = sm.batch_get_secret_value(SecretIdList=[a])
    assert out["SecretValues"] == [] and out["Errors"][0]["ErrorCode"] == "InvalidRequestException"


def test_tags(sm):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x", Tags=[{"Key": "a", "Value": "1"}])
    sm.tag_resource(SecretId=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "one"}])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "a", "Value": "one"}, {"Key": "b", "Value": "2"}]
    sm.untag_resource(SecretId=name, TagKeys=["a", "zzz"])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "b", "Value": "2"}]
    expect_error("ResourceNotFoundException", sm.tag_resource, SecretId=name + "x", Tags=[{"Key": "a", "Value": "1"}])
    expect_error(
        "InvalidParameterException", sm.tag_resource, SecretId=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    )


def test_get_random_password_options(sm):
    p = sm.get_random_password()["RandomPassword"]
    assert len(p) == 32
    punctuation = set(string.punctuation)
    assert any(c.islower() for c in p) and any(c.isupper() for c in p)
    assert any(c.isdigit() for c in p) and any(c in punctuation for c in p)
    p = sm.get_random_password(PasswordLength=64, ExcludePunctuation=True, ExcludeUppercase=True, ExcludeCharacters="abc")["RandomPassword"]
    assert len(p) == 64 and re.fullmatch(r"[d-z0-9]+", p)
    p = sm.get_random_password(PasswordLength=50, ExcludeNumbers=True, ExcludeLowercase=True, IncludeSpace=True)["RandomPassword"]
    assert " " in p and not any(c.isdigit() or c.islower() for c in p)
    p = sm.get_random_password(PasswordLength=4, RequireEachIncludedType=False, ExcludeNumbers=True, ExcludePunctuation=True)["RandomPassword"]
    assert len(p) == 4 and p.isalpha()
    expect_error(
        "InvalidParameterException", sm.get_random_password, ExcludeNumbers=True, ExcludePunctuation=True,
        ExcludeUppercase=True, ExcludeLowercase=True,
    )
    expect_error("ValidationException", sm.get_random_password, PasswordLength=4097)


def test_resource_policy(sm):
    name = new_name()
    arn = sm.create_secret(Name=name, SecretString="x")["ARN"]
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                       "Action": "secretsmanager:GetSecretValue", "Resource": "*"}],
    })
    out = sm.put_resource_policy(SecretId=name, ResourcePolicy=policy)
    assert out["ARN"] == arn and out["Name"] == name
    assert json.loads(sm.get_resource_policy(SecretId=name)["ResourcePolicy"]) == json.loads(policy)
    expect_error("MalformedPolicyDocumentException", sm.put_resource_policy, SecretId=name, ResourcePolicy="{not json")
    public = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
    expect_error("PublicPolicyException", sm.put_resource_policy, SecretId=name, ResourcePolicy=public, BlockPublicPolicy=True)
    assert sm.delete_resource_policy(SecretId=name)["Name"] == name
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    expect_error("ResourceNotFoundException", sm.get_resource_policy, SecretId=name + "x")


def test_rotation_settings(sm):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    expect_error("InvalidRequestException", sm.rotate_secret, SecretId=name)
    fn = "arn:aws:lambda:us-east-1:000000000000:function:rotator"
    out = sm.rotate_secret(
        SecretId=name, RotationLambdaARN=fn, RotationRules={"AutomaticallyAfterDays": 10}, RotateImmediately=False,
    )
    assert out["Name"] == name and len(out["VersionId"]) >= 32
    d = sm.describe_secret(SecretId=name)
    assert d["RotationEnabled"] is True and d["RotationLambdaARN"] == fn
    assert d["RotationRules"] == {"AutomaticallyAfterDays": 10}
    assert abs(d["NextRotationDate"].timestamp() - (time.time() + 10 * 86400)) < 120
    sm.rotate_secret(SecretId=name, RotationRules={"ScheduleExpression": "rate(4 hours)"}, RotateImmediately=False)
    assert sm.describe_secret(SecretId=name)["RotationRules"] == {"ScheduleExpression": "rate(4 hours)"}
    expect_error(
        "InvalidParameterException", sm.rotate_secret, SecretId=name, RotationRules={"ScheduleExpression": "sometimes"}
    )
    cancelled = sm.cancel_rotate_secret(SecretId=name)
    assert cancelled["Name"] == name
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False
    expect_error("ResourceNotFoundException", sm.rotate_secret, SecretId=name + "x", RotationLambdaARN=fn)


def test_state_is_per_region(sm, client):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    west = client("secretsmanager", region_name="eu-west-1")
    expect_error("ResourceNotFoundException", west.get_secret_value, SecretId=name, message=NOT_FOUND)


def test_error_body_is_aws_json(ruststack):
    body = json.dumps({"SecretId": "rs/definitely/missing"})
    r = rsutil.request(
        ruststack.port, "POST", "/", body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "secretsmanager.GetSecretValue",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/secretsmanager/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    assert r.status == 400
    doc = json.loads(r.body)
    assert rsutil.json_error_type(r.body) == "ResourceNotFoundException"
    assert doc["message"] == NOT_FOUND


def test_validation_errors(raw_sm):
    expect_error("ValidationException", raw_sm.get_secret_value, SecretId="")
    expect_error("ValidationException", raw_sm.put_secret_value, SecretId="x", SecretString="a", ClientRequestToken="short")
    expect_error("ValidationException", raw_sm.get_random_password, PasswordLength=0)


def test_binary_round_trip_through_base64(sm):
    name = new_name()
    data = bytes(range(256))
    sm.create_secret(Name=name, SecretBinary=data)
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == data
