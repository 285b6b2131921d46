"""IAM identity providers and console passwords end to end: OpenID Connect providers (ARN from
the URL, client ids, thumbprints, tags), SAML providers, login profiles and the account password
policy, with AWS's errors."""

from __future__ import annotations

import signal
from datetime import datetime

import pytest

from .rsutil import call_error as error

SAML_METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com"
  validUntil="2030-01-01T00:00:00Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
      Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
<!-- padding: AWS wants at least 1000 characters of metadata -->""" + "<!--" + "x" * 600 + "-->"


def test_oidc_provider_lifecycle(iam):
    url = "https://token.actions.githubusercontent.com"
    created = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40], Tags=[{"Key": "k", "Value": "v"}]
    )
    arn = created["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{iam.account}:oidc-provider/token.actions.githubusercontent.com"
    assert created["Tags"] == [{"Key": "k", "Value": "v"}]
    assert error(iam.create_open_id_connect_provider, Url=url, ThumbprintList=[]) == (
        409, "EntityAlreadyExists", f"Provider with url {url} already exists.")
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "token.actions.githubusercontent.com"
    assert got["ClientIDList"] == ["sts.amazonaws.com"] and got["ThumbprintList"] == ["a" * 40]
    assert isinstance(got["CreateDate"], datetime)

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="aud-2")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="aud-2")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["b" * 40, "c" * 40])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == ["aud-2"] and got["ThumbprintList"] == ["b" * 40, "c" * 40]

    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "a", "Value": "1"}])
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["k"])
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)
    assert tags["Tags"] == [{"Key": "a", "Value": "1"}] and tags["IsTruncated"] is False

    iam.create_open_id_connect_provider(Url="https://example.com/path/", ThumbprintList=[])
    arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert arns == [f"arn:aws:iam::{iam.account}:oidc-provider/example.com/path", arn]

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn) == (
        404, "NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}")
    assert error(iam.tag_open_id_connect_provider, OpenIDConnectProviderArn=arn, Tags=[])[1] == "NoSuchEntity"


def test_oidc_provider_errors(iam):
    assert error(iam.create_open_id_connect_provider, Url="example.org", ThumbprintList=[]) == (
        400, "InvalidInput", "Invalid Open ID Connect Provider URL")
    status, code, msg = error(iam.create_open_id_connect_provider, Url="https://a.example", ThumbprintList=["a" * 39])
    assert (status, code) == (400, "ValidationError") and "Member must have length greater than or equal to 40" in msg
    assert error(iam.create_open_id_connect_provider, Url="https://a.example", ThumbprintList=["a" * 40] * 6) == (
        400, "InvalidInput", "Thumbprint list must contain fewer than 5 entries.")
    assert error(
        iam.create_open_id_connect_provider, Url="https://a.example", ClientIDList=[str(i) for i in range(101)]
    ) == (409, "LimitExceeded", "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_oidc_tags_page(iam):
    tags = [{"Key": f"k{i}", "Value": str(i)} for i in range(5)]
    arn = iam.create_open_id_connect_provider(Url="https://p.example", ThumbprintList=[], Tags=tags)[
        "OpenIDConnectProviderArn"]
    first = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, MaxItems=3)
    assert first["Tags"] == tags[:3] and first["IsTruncated"] is True
    rest = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, Marker=first["Marker"])
    assert rest["Tags"] == tags[3:] and rest["IsTruncated"] is False


def test_saml_providers(iam):
    arn = iam.create_saml_provider(Name="corp-idp", SAMLMetadataDocument=SAML_METADATA)["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{iam.account}:saml-provider/corp-idp"
    assert error(iam.create_saml_provider, Name="corp-idp", SAMLMetadataDocument=SAML_METADATA) == (
        409, "EntityAlreadyExists", "Provider with name corp-idp already exists.")
    assert error(iam.create_saml_provider, Name="bad", SAMLMetadataDocument="x" * 1000) == (
        400, "InvalidInput", "Could not parse metadata")
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == SAML_METADATA
    assert got["ValidUntil"].year == 2030 and isinstance(got["CreateDate"], datetime)
    listed = iam.list_saml_providers()["SAMLProviderList"]
    assert [p["Arn"] for p in listed] == [arn]
    updated = SAML_METADATA.replace("2030-01-01", "2031-06-01")
    assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=updated)["SAMLProviderArn"] == arn
    assert iam.get_saml_provider(SAMLProviderArn=arn)["ValidUntil"].year == 2031
    iam.delete_saml_provider(SAMLProviderArn=arn)
    missing = (404, "NoSuchEntity", f"Manifest not found for arn {arn}")
    assert error(iam.get_saml_provider, SAMLProviderArn=arn) == missing
    assert error(iam.delete_saml_provider, SAMLProviderArn=arn) == missing
    assert iam.list_saml_providers()["SAMLProviderList"] == []


def test_login_profiles(iam):
    iam.create_user(UserName="ann")
    profile = iam.create_login_profile(UserName="ann", Password="Sup3r-secret", PasswordResetRequired=True)
    assert profile["LoginProfile"]["UserName"] == "ann" and profile["LoginProfile"]["PasswordResetRequired"] is True
    assert error(iam.create_login_profile, UserName="ANN", Password="x") == (
        409, "EntityAlreadyExists", "Login Profile for user ann already exists.")
    iam.update_login_profile(UserName="ann", PasswordResetRequired=False)
    got = iam.get_login_profile(UserName="ann")["LoginProfile"]
    assert got["PasswordResetRequired"] is False and isinstance(got["CreateDate"], datetime)
    assert error(iam.delete_user, UserName="ann") == (
        409, "DeleteConflict", "Cannot delete entity, must delete login profile first.")
    iam.delete_login_profile(UserName="ann")
    not_found = (404, "NoSuchEntity", "Login Profile for User ann cannot be found.")
    assert error(iam.get_login_profile, UserName="ann") == not_found
    assert error(iam.update_login_profile, UserName="ann", Password="x") == not_found
    assert error(iam.delete_login_profile, UserName="ann") == not_found
    assert error(iam.create_login_profile, UserName="nobody", Password="x") == (
        404, "NoSuchEntity", "The user with name nobody cannot be found.")
    iam.delete_user(UserName="ann")


def test_account_password_policy(iam):
    assert error(iam.get_account_password_policy) == (
        404, "NoSuchEntity", f"The Password Policy with domain name {iam.account} cannot be found.")
    assert error(iam.delete_account_password_policy) == (
        404, "NoSuchEntity", "The account policy with name PasswordPolicy cannot be found.")
    iam.update_account_password_policy(MinimumPasswordLength=10, RequireNumbers=True, MaxPasswordAge=90)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy == {
        "MinimumPasswordLength": 10,
        "RequireSymbols": False,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": False,
        "RequireLowercaseCharacters": False,
        "AllowUsersToChangePassword": False,
        "ExpirePasswords": True,
        "MaxPasswordAge": 90,
        "HardExpiry": False,
    }
    iam.create_user(UserName="bo")
    assert error(iam.create_login_profile, UserName="bo", Password="short1") == (
        400, "PasswordPolicyViolation", "Password does not conform to the account password policy.")
    assert error(iam.create_login_profile, UserName="bo", Password="longenough")[1] == "PasswordPolicyViolation"
    iam.create_login_profile(UserName="bo", Password="longenough1")
    status, code, msg = error(iam.update_account_password_policy, MinimumPasswordLength=2)
    assert (status, code) == (400, "ValidationError") and "greater than or equal to 6" in msg
    iam.update_account_password_policy(PasswordReusePrevention=3, HardExpiry=True)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert (policy["MinimumPasswordLength"], policy["MaxPasswordAge"], policy["ExpirePasswords"]) == (6, 0, False)
    assert (policy["PasswordReusePrevention"], policy["HardExpiry"]) == (3, True)
    iam.delete_account_password_policy()
    assert error(iam.get_account_password_policy)[1] == "NoSuchEntity"


def test_survive_a_restart(start_server, tmp_path):
    from .conftest import make_client

    flags = ("--data-dir", str(tmp_path / "state"))
    server = start_server(*flags)
    iam = make_client("iam", server.endpoint)
    oidc = iam.create_open_id_connect_provider(
        Url="https://oidc.example", ClientIDList=["aud"], ThumbprintList=["a" * 40], Tags=[{"Key": "k", "Value": "v"}]
    )["OpenIDConnectProviderArn"]
    saml = iam.create_saml_provider(Name="idp", SAMLMetadataDocument=SAML_METADATA)["SAMLProviderArn"]
    iam.create_user(UserName="u")
    iam.create_login_profile(UserName="u", Password="Passw0rd!x", PasswordResetRequired=True)
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=True)

    def read(iam):
        return (
            strip(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc)),
            strip(iam.get_saml_provider(SAMLProviderArn=saml)),
            strip(iam.get_login_profile(UserName="u")),
            strip(iam.get_account_password_policy()),
        )

    before = read(iam)
    server.stop(signal.SIGKILL)
    server = start_server(*flags)
    iam = make_client("iam", server.endpoint)
    assert read(iam) == before
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=oidc)
    iam.delete_account_password_policy()
    server.stop(signal.SIGKILL)
    server = start_server(*flags)
    iam = make_client("iam", server.endpoint)
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert error(iam.get_account_password_policy)[1] == "NoSuchEntity"
    assert iam.list_saml_providers()["SAMLProviderList"][0]["Arn"] == saml


def strip(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}
