"""STS end to end: caller identity for default, numeric and IAM-issued keys; AssumeRole (and with
a web identity or SAML) into roles of other accounts, whose sessions then act in that account;
session and federation tokens; GetAccessKeyInfo; and keys that `--enforce-sigv4` accepts once IAM creates them and
refuses once they are deactivated or deleted."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

TRUST = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
)


def error(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    err = e.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def account_id():
    return "2" + str(uuid.uuid4().int)[:11]


@pytest.fixture
def role_in_other_account(client):
    """A role `x-…` in a fresh account, created with that account's 12-digit key."""
    account = account_id()
    iam = client("iam", aws_access_key_id=account)
    name = f"x-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, MaxSessionDuration=7200)["Role"]
    return account, role


def test_caller_identity_of_default_and_numeric_keys(client):
    me = client("sts").get_caller_identity()
    assert (me["Account"], me["Arn"], me["UserId"]) == ("000000000000", "arn:aws:iam::000000000000:root", "000000000000")
    other = client("sts", aws_access_key_id="123456789012").get_caller_identity()
    assert (other["Account"], other["Arn"]) == ("123456789012", "arn:aws:iam::123456789012:root")


def test_assume_role_acts_in_the_role_account(client, role_in_other_account):
    account, role = role_in_other_account
    out = client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="sess", DurationSeconds=900)
    creds = out["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds["AccessKeyId"]) and len(creds["SecretAccessKey"]) == 40
    assert len(creds["SessionToken"]) > 100
    remaining = creds["Expiration"] - datetime.now(timezone.utc)
    assert timedelta(seconds=800) < remaining <= timedelta(seconds=900)
    assumed = f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/sess"
    assert out["AssumedRoleUser"] == {"AssumedRoleId": f"{role['RoleId']}:sess", "Arn": assumed}
    session = dict(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    me = client("sts", **session).get_caller_identity()
    assert (me["Account"], me["Arn"], me["UserId"]) == (account, assumed, f"{role['RoleId']}:sess")
    # Resources created with the session belong to the role's account.
    name = f"/sts/{uuid.uuid4().hex}"
    client("ssm", **session).put_parameter(Name=name, Value="v", Type="String")
    assert client("ssm", aws_access_key_id=account).get_parameter(Name=name)["Parameter"]["Value"] == "v"
    assert error(client("ssm").get_parameter, Name=name)[1] == "ParameterNotFound"
    assert client("sts").get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == account
    assert error(client("sts", **session).get_session_token) == (
        403,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    )


def test_assume_role_errors(client, role_in_other_account):
    account, role = role_in_other_account
    sts = client("sts")
    missing = f"arn:aws:iam::{account}:role/nope"
    assert error(sts.assume_role, RoleArn=missing, RoleSessionName="ss") == (
        403,
        "AccessDenied",
        f"User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: {missing}",
    )
    assert error(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="ss", DurationSeconds=10000) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    status, code, msg = error(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="bad name!")
    assert (status, code) == (400, "ValidationError") and "roleSessionName" in msg
    assert error(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="ss", Policy="not json")[1] == "MalformedPolicyDocument"
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ss", Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
    assert 0 < out["PackedPolicySize"] <= 100


def test_session_token_keeps_the_caller(client):
    out = client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    assert out["AccessKeyId"].startswith("ASIA")
    me = client(
        "sts",
        aws_access_key_id=out["AccessKeyId"],
        aws_secret_access_key=out["SecretAccessKey"],
        aws_session_token=out["SessionToken"],
    ).get_caller_identity()
    assert me["Arn"] == "arn:aws:iam::000000000000:root"


def remaining(creds) -> timedelta:
    return creds["Expiration"] - datetime.now(timezone.utc)


def test_federation_token(client):
    iam = client("iam")
    user = f"fed-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    as_user = client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    out = as_user.get_federation_token(Name="Bob", Policy=policy)
    assert out["FederatedUser"] == {
        "FederatedUserId": "000000000000:Bob",
        "Arn": "arn:aws:sts::000000000000:federated-user/Bob",
    }
    assert 0 < out["PackedPolicySize"] <= 100
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    # A user's federation session lasts 12 hours by default.
    assert timedelta(hours=11, minutes=50) < remaining(creds) <= timedelta(hours=12)
    session = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                   aws_session_token=creds["SessionToken"])
    me = client("sts", **session).get_caller_identity()
    assert (me["Account"], me["Arn"], me["UserId"]) == (
        "000000000000", "arn:aws:sts::000000000000:federated-user/Bob", "000000000000:Bob")
    assert error(client("sts", **session).get_federation_token, Name="Eve") == (
        403, "AccessDenied", "Cannot call GetFederationToken with session credentials")

    # The root user's sessions are cut to one hour.
    root = client("sts").get_federation_token(Name="Root", DurationSeconds=7200)["Credentials"]
    assert timedelta(minutes=59) < remaining(root) <= timedelta(hours=1)
    assert remaining(client("sts").get_session_token()["Credentials"]) <= timedelta(hours=1)

    status, code, msg = error(client("sts").get_federation_token, Name="no spaces")
    assert (status, code) == (400, "ValidationError") and "at 'name' failed to satisfy constraint" in msg
    status, code, msg = error(client("sts").get_federation_token, Name="Bob", Policy="{" + " " * 2048 + "}")
    assert (status, code) == (400, "ValidationError")
    assert "at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048" in msg
    assert error(client("sts").get_federation_token, Name="Bob", Policy="nope")[1] == "MalformedPolicyDocument"


def test_access_key_info(client):
    assert client("sts").get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")["Account"] == "000000000000"


def jwt(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc({'alg': 'RS256', 'typ': 'JWT'})}.{enc(claims)}.c2ln"


def test_assume_role_with_web_identity(client, role_in_other_account):
    account, role = role_in_other_account
    token = jwt({"sub": "user-1", "aud": "my-app", "iss": "https://issuer.example.com"})
    out = client("sts").assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="web", WebIdentityToken=token)
    assert out["SubjectFromWebIdentityToken"] == "user-1"
    assert (out["Audience"], out["Provider"]) == ("my-app", "https://issuer.example.com")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/web"
    c = out["Credentials"]
    me = client(
        "sts", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"]
    ).get_caller_identity()
    assert me["Account"] == account
    status, code, _ = error(
        client("sts").assume_role_with_web_identity, RoleArn=role["Arn"], RoleSessionName="web", WebIdentityToken="garbage-token"
    )
    assert (status, code) == (400, "InvalidIdentityToken")


def test_assume_role_with_saml(client, role_in_other_account):
    account, role = role_in_other_account
    assertion = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        "<saml:Issuer>https://idp.example.com/saml</saml:Issuer><saml:Assertion><saml:Subject>"
        '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice@example.com</saml:NameID>'
        "</saml:Subject><saml:AttributeStatement>"
        '<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName">'
        "<saml:AttributeValue>alice</saml:AttributeValue></saml:Attribute>"
        "</saml:AttributeStatement></saml:Assertion></samlp:Response>"
    )
    out = client("sts").assume_role_with_saml(
        RoleArn=role["Arn"],
        PrincipalArn=f"arn:aws:iam::{account}:saml-provider/MyIdP",
        SAMLAssertion=base64.b64encode(assertion.encode()).decode(),
    )
    assert (out["Subject"], out["SubjectType"], out["Issuer"]) == ("alice@example.com", "persistent", "https://idp.example.com/saml")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/alice"
    import hashlib

    expected = base64.b64encode(hashlib.sha1(f"https://idp.example.com/saml{account}/MyIdP".encode()).digest()).decode()
    assert out["NameQualifier"] == expected
    assert error(
        client("sts").assume_role_with_saml,
        RoleArn=role["Arn"],
        PrincipalArn=f"arn:aws:iam::{account}:saml-provider/MyIdP",
        SAMLAssertion="!!!not base64!!!",
    )[1] == "InvalidIdentityToken"


@pytest.fixture(scope="module")
def strict(start_module_server, tmp_path_factory):
    """A server that verifies signatures; the numeric key 111111111111 acts in its own account."""
    creds = tmp_path_factory.mktemp("sts") / "credentials"
    creds.write_text("111111111111 secret111\n")
    return start_module_server("--enforce-sigv4", "--credentials", str(creds))


def test_iam_keys_under_enforced_sigv4(strict, client):
    endpoint = strict.endpoint
    iam = client("iam", endpoint_url=endpoint)
    user = iam.create_user(UserName="alice")["User"]
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = dict(endpoint_url=endpoint, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])

    me = client("sts", **alice).get_caller_identity()
    assert (me["Account"], me["Arn"], me["UserId"]) == ("000000000000", user["Arn"], user["UserId"])
    assert client("iam", **alice).get_user()["User"]["UserName"] == "alice"

    wrong = {**alice, "aws_secret_access_key": "x" * 40}
    assert error(client("sts", **wrong).get_caller_identity)[1] == "SignatureDoesNotMatch"

    # A role in account 111111111111, created with that account's key.
    other = client("iam", endpoint_url=endpoint, aws_access_key_id="111111111111", aws_secret_access_key="secret111")
    other.create_role(RoleName="x", AssumeRolePolicyDocument=TRUST)
    out = client("sts", **alice).assume_role(RoleArn="arn:aws:iam::111111111111:role/x", RoleSessionName="alice-s")
    c = out["Credentials"]
    session = dict(
        endpoint_url=endpoint,
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )
    me = client("sts", **session).get_caller_identity()
    assert (me["Account"], me["Arn"]) == ("111111111111", "arn:aws:sts::111111111111:assumed-role/x/alice-s")
    # The session acts in 111111111111: its IAM sees that account's role.
    assert [r["RoleName"] for r in client("iam", **session).list_roles()["Roles"]] == ["x"]
    assert error(client("iam", **session).get_user) == (
        400,
        "ValidationError",
        "Must specify userName when calling with non-User credentials",
    )

    # Inactive keys are unknown; active again, they work; deleted, they are gone.
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert error(client("sts", **alice).get_caller_identity)[1] == "InvalidClientTokenId"
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Active")
    assert client("sts", **alice).get_caller_identity()["Arn"] == user["Arn"]
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    assert error(client("sts", **alice).get_caller_identity)[1] == "InvalidClientTokenId"
