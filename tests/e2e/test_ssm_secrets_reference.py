"""Parameter Store reading Secrets Manager secrets through /aws/reference/secretsmanager/<id>:
values, selectors (version id or staging label), SourceResult and AWS's errors."""

from __future__ import annotations

import json
import uuid

import pytest
from .rsutil import call_error

PREFIX = "/aws/reference/secretsmanager/"
NEEDS_DECRYPTION = "WithDecryption flag must be True for retrieving a Secret Manager secret."
BAD_SELECTOR = (
    "Invalid parameter name. Please use correct syntax for referencing a version/label  <name>:<version/label>"
)


@pytest.fixture
def ssm(client):
    return client("ssm")


@pytest.fixture
def sm(client):
    return client("secretsmanager")


@pytest.fixture
def name():
    return f"ref-{uuid.uuid4().hex[:10]}"


def test_current_value_and_source_result(ssm, sm, name):
    created = sm.create_secret(Name=f"{name}/nested", SecretString="first")
    sm.put_secret_value(SecretId=f"{name}/nested", SecretString="second")
    current = sm.get_secret_value(SecretId=f"{name}/nested")
    p = ssm.get_parameter(Name=f"{PREFIX}{name}/nested", WithDecryption=True)["Parameter"]
    assert p["Name"] == f"{PREFIX}{name}/nested"
    assert (p["Type"], p["Value"], p["Version"]) == ("SecureString", "second", 0)
    assert p["ARN"] == created["ARN"]
    assert p["LastModifiedDate"] == current["CreatedDate"]
    assert "Selector" not in p and "DataType" not in p
    source = json.loads(p["SourceResult"])
    assert source["ARN"] == created["ARN"] and source["name"] == f"{name}/nested"
    assert source["versionId"] == current["VersionId"]
    assert source["secretString"] == "second" and source["versionStages"] == ["AWSCURRENT"]


def test_selectors_pick_a_stage_or_a_version_id(ssm, sm, name):
    first = sm.create_secret(Name=name, SecretString="first")["VersionId"]
    sm.put_secret_value(SecretId=name, SecretString="second")
    p = ssm.get_parameter(Name=f"{PREFIX}{name}:AWSPREVIOUS", WithDecryption=True)["Parameter"]
    assert (p["Name"], p["Selector"], p["Value"]) == (f"{PREFIX}{name}", ":AWSPREVIOUS", "first")
    assert json.loads(p["SourceResult"])["versionStages"] == ["AWSPREVIOUS"]
    p = ssm.get_parameter(Name=f"{PREFIX}{name}:{first}", WithDecryption=True)["Parameter"]
    assert (p["Selector"], p["Value"]) == (f":{first}", "first")
    p = ssm.get_parameter(Name=f"{PREFIX}{name}:AWSCURRENT", WithDecryption=True)["Parameter"]
    assert p["Value"] == "second"
    assert call_error(ssm.get_parameter, Name=f"{PREFIX}{name}:NOSUCH", WithDecryption=True) == (
        400,
        "ParameterNotFound",
        f"An error occurred (ParameterNotFound) when referencing Secrets Manager: "
        f"Secret aws/reference/secretsmanager/{name}:NOSUCH not found.",
    )


def test_decryption_is_required(ssm, sm, name):
    sm.create_secret(Name=name, SecretString="v")
    for kw in ({"WithDecryption": False}, {}):
        assert call_error(ssm.get_parameter, Name=f"{PREFIX}{name}", **kw) == (
            400,
            "ValidationException",
            NEEDS_DECRYPTION,
        )
    # Checked before the secret is looked up.
    assert call_error(ssm.get_parameter, Name=f"{PREFIX}absent-{name}")[2] == NEEDS_DECRYPTION


def test_missing_secret_and_malformed_selectors(ssm, name):
    assert call_error(ssm.get_parameter, Name=f"{PREFIX}{name}", WithDecryption=True) == (
        400,
        "ParameterNotFound",
        f"An error occurred (ParameterNotFound) when referencing Secrets Manager: "
        f"Secret aws/reference/secretsmanager/{name}null not found.",
    )
    for bad in (f"{name}:AWSCURRENT:extra", f"{name}:", f"arn:aws:secretsmanager:us-east-1:000000000000:secret:{name}"):
        assert call_error(ssm.get_parameter, Name=f"{PREFIX}{bad}") == (400, "ValidationException", BAD_SELECTOR)


def test_secret_scheduled_for_deletion(ssm, sm, name):
    sm.create_secret(Name=name, SecretString="v")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert call_error(ssm.get_parameter, Name=f"{PREFIX}{name}", WithDecryption=True) == (
        400,
        "ValidationException",
        "Invalid Request to Secrets Manager",
    )


def test_binary_secret_has_no_value(ssm, sm, name):
    sm.create_secret(Name=name, SecretBinary=b"abc")
    p = ssm.get_parameter(Name=f"{PREFIX}{name}", WithDecryption=True)["Parameter"]
    assert p["Type"] == "SecureString" and "Value" not in p
    assert json.loads(p["SourceResult"])["secretBinary"] == "YWJj"


def test_get_parameters_lists_what_it_cannot_answer(ssm, sm, name):
    sm.create_secret(Name=name, SecretString="first")
    sm.put_secret_value(SecretId=name, SecretString="second")
    plain = f"/{name}-plain"
    ssm.put_parameter(Name=plain, Value="plain", Type="String")
    missing, unknown, malformed = f"{PREFIX}absent-{name}", f"{PREFIX}{name}:NOSUCH", f"{PREFIX}{name}:a:b"
    out = ssm.get_parameters(
        Names=[f"{PREFIX}{name}", f"{PREFIX}{name}:AWSPREVIOUS", missing, unknown, malformed, plain],
        WithDecryption=True,
    )
    assert sorted(p["Value"] for p in out["Parameters"]) == ["first", "plain", "second"]
    assert sorted(out["InvalidParameters"]) == sorted([missing, unknown, malformed])
    out = ssm.get_parameters(Names=[f"{PREFIX}{name}", plain])
    assert [p["Value"] for p in out["Parameters"]] == ["plain"]
    assert out["InvalidParameters"] == [f"{PREFIX}{name}"]


def test_only_reads_are_allowed(ssm, sm, name):
    sm.create_secret(Name=name, SecretString="v")
    status, code, message = call_error(
        ssm.put_parameter, Name=f"{PREFIX}{name}", Value="x", Type="String", Overwrite=True
    )
    assert (status, code) == (400, "AccessDeniedException")
    assert message == f"No access to reserved parameter name: {PREFIX}{name}."
    assert call_error(ssm.delete_parameter, Name=f"{PREFIX}{name}")[:2] == (400, "ParameterNotFound")
    # The secret is untouched.
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"
