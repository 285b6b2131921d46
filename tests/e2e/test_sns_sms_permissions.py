"""SNS account SMS settings and opt-outs (SetSMSAttributes, GetSMSAttributes,
CheckIfPhoneNumberIsOptedOut, ListPhoneNumbersOptedOut, OptInPhoneNumber), topic permissions
(AddPermission / RemovePermission editing the Policy attribute) and data protection policies;
all of it kept across a restart with --data-dir."""

from __future__ import annotations

import json
import signal
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client


def expect_error(code: str, fn, message: str | None = None, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    err = e.value.response["Error"]
    assert err["Code"] == code, e.value.response
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)
    if message is not None:
        assert err["Message"] == message
    return err


@pytest.fixture
def sns(client):
    return client("sns", region_name="ap-south-1")


def test_sms_attributes_merge_and_filter(sns):
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional", "MonthlySpendLimit": "2"})
    sns.set_sms_attributes(attributes={"DefaultSenderID": "Sender1"})
    got = sns.get_sms_attributes()["attributes"]
    assert {k: got[k] for k in ("DefaultSMSType", "MonthlySpendLimit", "DefaultSenderID")} == {
        "DefaultSMSType": "Transactional",
        "MonthlySpendLimit": "2",
        "DefaultSenderID": "Sender1",
    }
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}
    expect_error("InvalidParameter", sns.set_sms_attributes, attributes={"DefaultSMSType": "Loud"})
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}


def test_phone_numbers_are_not_opted_out_in_a_fresh_account(sns):
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+447428545375")["isOptedOut"] is False
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == []
    sns.opt_in_phone_number(phoneNumber="+447428545375")
    expect_error("InvalidParameter", sns.check_if_phone_number_is_opted_out, phoneNumber="+44742LALALA")
    expect_error("InvalidParameter", sns.opt_in_phone_number, phoneNumber="not-a-number")


def test_add_and_remove_permission_edit_the_topic_policy(sns):
    arn = sns.create_topic(Name=f"perm-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="one", AWSAccountId=["999999999999"], ActionName=["Publish"])
    sns.add_permission(
        TopicArn=arn, Label="two", AWSAccountId=["888888888888", "999999999999"], ActionName=["Publish", "Subscribe"]
    )
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert policy["Id"] == "__default_policy_ID"
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID", "one", "two"]
    assert policy["Statement"][1] == {
        "Sid": "one",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "SNS:Publish",
        "Resource": arn,
    }
    assert policy["Statement"][2]["Principal"] == {
        "AWS": ["arn:aws:iam::888888888888:root", "arn:aws:iam::999999999999:root"]
    }
    assert policy["Statement"][2]["Action"] == ["SNS:Publish", "SNS:Subscribe"]

    expect_error(
        "InvalidParameter", sns.add_permission, "Invalid parameter: Statement already exists",
        TopicArn=arn, Label="one", AWSAccountId=["1"], ActionName=["Publish"],
    )
    expect_error(
        "InvalidParameter", sns.add_permission, "Invalid parameter: Policy statement action out of service scope!",
        TopicArn=arn, Label="three", AWSAccountId=["1"], ActionName=["CreateTopic"],
    )
    expect_error(
        "NotFound", sns.add_permission, "Topic does not exist",
        TopicArn=arn + "-missing", Label="x", AWSAccountId=["1"], ActionName=["Publish"],
    )

    sns.remove_permission(TopicArn=arn, Label="one")
    sns.remove_permission(TopicArn=arn, Label="never-added")
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["__default_statement_ID", "two"]
    expect_error("NotFound", sns.remove_permission, "Topic does not exist", TopicArn=arn + "-missing", Label="two")


def test_data_protection_policy(sns):
    arn = sns.create_topic(Name=f"dp-{uuid.uuid4().hex[:8]}")["TopicArn"]
    assert sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"] == ""
    doc = json.dumps({
        "Name": "basic", "Version": "2021-06-01",
        "Statement": [{
            "Sid": "deny", "DataDirection": "Inbound", "Principal": ["*"],
            "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
            "Operation": {"Deny": {}},
        }],
    })
    sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=doc)
    assert sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"] == doc
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DataProtectionPolicy"] == doc
    expect_error("InvalidParameter", sns.put_data_protection_policy, ResourceArn=arn, DataProtectionPolicy="{nope")
    expect_error("NotFound", sns.get_data_protection_policy, ResourceArn=arn + "-missing")


def test_settings_and_permissions_survive_a_sigkill(start_server, tmp_path):
    data = str(tmp_path / "state")
    server = start_server("--data-dir", data)
    sns = make_client("sns", server.endpoint)
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Promotional"})
    arn = sns.create_topic(Name="kept")["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="kept", AWSAccountId=["999999999999"], ActionName=["Publish"])
    before = sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]
    server.stop(signal.SIGKILL)

    again = start_server("--data-dir", data)
    sns = make_client("sns", again.endpoint)
    assert sns.get_sms_attributes()["attributes"] == {"DefaultSMSType": "Promotional"}
    assert json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]) == json.loads(before)
