"""IAM server certificates, SSH public keys and the credential report end to end: uploads checked
as AWS checks them (PEM certificates and keys, RSA keys of 2048 bits or more), the certificate's
expiry read from it, SSH keys in both encodings with their MD5 fingerprint, and the report's CSV."""

from __future__ import annotations

import csv
import io
import signal
from datetime import datetime, timezone

import pytest

from .conftest import make_client
from .test_iam import CERTS

from .rsutil import call_error as error

# Made with `openssl req -x509 -newkey ec` (valid for a century) and `ssh-keygen -t rsa` for
# these tests.
SERVER_CERT = """-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUWhWPP9O4I/kj2YM5MNdC/l0OoC8wCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQcnVzdHN0YWNrLXNlcnZlcjAgFw0yNjEyMDUxMTU4NDlaGA8y
MTI2MTExMTExNTg0OVowGzEZMBcGA1UEAwwQcnVzdHN0YWNrLXNlcnZlcjBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABGMCFSa4R8Cd+SK0s59XcGQL/BIRGvJ6p4dQ
MtqHnhSR5gjLgIqJoItgsag7jjB51O63RqKTQ+CORaucwbNIwE6jUzBRMB0GA1Ud
DgQWBBRN+0Q5IgXmbABdv9CK7oFllic+bDAfBgNVHSMEGDAWgBRN+0Q5IgXmbABd
v9CK7oFllic+bDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCP
EwbhgmtFpt+fUO0/gPL2s9/Ffv/b2pPOFZkYT4zIfAIgQxnXJzlbmhOT4AifBsYB
D6cxgqORZZVRgqQsFy9Fqb8=
-----END CERTIFICATE-----
"""
SERVER_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFuLRtkDpj1+AjRV9
Gy67jGGFuZbTmEMlfbFdir1oaWGhRANCAARjAhUmuEfAnfkitLOfV3BkC/wSERry
eqeHUDLah54UkeYIy4CKiaCLYLGoO44wedTut0aik0PgjkWrnMGzSMBO
-----END PRIVATE KEY-----
"""
SSH_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDlCCV3+1XwSJ5h9RUiRi9Nvwx9rxAAvyckoR2LNiLKeMRRoRJ5UUIfcsSqmhZy7uy4nHKYJGgrEq16RgZpONXn3UGKAq01wy5QW3XHNVNJhZgXRKx2SWH4lP7m2eGsD4HBHNDab3r/9ph911gKtkSvfQj2Ps07m7nfMzcdpXM8xY/9vHybzfaiQrOisHUKVlJzjiPX5uoxByuR7FV26EfwWdxjlB96F5hG6ElFr4TYiTlF7jWKjyKG14EBPpW34+Vk37hyQZnh64yfyS52eF82VxSFSP49p3pw0GfNSeAZuDiUkJiu0Dhl+as7RBufldIMCWPwF294/CVTyhT4kk13 a@test"
SSH_KEY_PEM = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5Qgld/tV8EieYfUVIkYv
Tb8Mfa8QAL8nJKEdizYiynjEUaESeVFCH3LEqpoWcu7suJxymCRoKxKtekYGaTjV
591BigKtNcMuUFt1xzVTSYWYF0Ssdklh+JT+5tnhrA+BwRzQ2m96//aYfddYCrZE
r30I9j7NO5u53zM3HaVzPMWP/bx8m832okKzorB1ClZSc44j1+bqMQcrkexVduhH
8FncY5QfeheYRuhJRa+E2Ik5Re41io8ihteBAT6Vt+PlZN+4ckGZ4euMn8kudnhf
NlcUhUj+Pad6cNBnzUngGbg4lJCYrtA4ZfmrO0Qbn5XSDAlj8BdvePwlU8oU+JJN
dwIDAQAB
-----END PUBLIC KEY-----
"""
SSH_KEY_MD5 = "c1:41:be:49:3e:52:35:b0:63:9d:2f:a9:4e:60:5c:9c"  # ssh-keygen -l -E md5
SSH_KEY_2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDWY1e4W4yoOFSykx2ihQkEB3nquGh7Qx6z1Hzj+BWPs6GbC9umuaV7mmwmylZNdaBgnZhDeB8KlpKHXTP43Xs02W41C+35RYA3NIuE1N1CaxkjvThpwkuDTRvGh+VMT6f7falcpJVj7CuNwwFAxSuvn9QT8X6Y6pqdaNQAG0hzvhY5+5UuDy/a7aomfDIj2GQSvwnUt/j6zXP9MB1uoVjYZTiI0O+LWK38MGoNqZEEBhJkfGUjP/vznpo5muXFOd7LLWIaMyro7KpkCp2BREVNFgGLy2mlsTFCNaR4ucss8SkNSPEDdDdg8R1zN2EQM4DW6FT/VmZMOGevz9WFEBa3"
SSH_KEY_1024 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCTvS53IJahukwoGvXO/WIKQdBZJbcEAfJ8i5PsAFLPwuRzhtC4/LKJqkULZX6kn8guzr6p7dQgKRPLKYRrByz1wzI9hR9gqktKuKRCXA7uT9AmLOZRPv9UmYqDItdso48ES/W57QLp236zBLXML8IBUrllLn/T9h/mMHVqTodr6w== root@vm"


def test_server_certificates(iam):
    meta = iam.upload_server_certificate(
        ServerCertificateName="web", Path="/cloudfront/", CertificateBody=SERVER_CERT, PrivateKey=SERVER_KEY,
        CertificateChain=CERTS[0] + CERTS[1], Tags=[{"Key": "k", "Value": "v"}],
    )["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::{iam.account}:server-certificate/cloudfront/web"
    assert meta["ServerCertificateId"].startswith("ASCA") and len(meta["ServerCertificateId"]) == 21
    assert meta["Expiration"] == datetime(2126, 11, 11, 11, 58, 49, tzinfo=timezone.utc)
    assert error(iam.upload_server_certificate, ServerCertificateName="WEB", CertificateBody=SERVER_CERT,
                 PrivateKey=SERVER_KEY) == (
        409, "EntityAlreadyExists", "The Server Certificate with name WEB already exists.")
    assert error(iam.upload_server_certificate, ServerCertificateName="x", CertificateBody="certbody",
                 PrivateKey=SERVER_KEY) == (
        400, "MalformedCertificate", "Unable to parse certificate. Please ensure the certificate is in PEM format.")
    assert error(iam.upload_server_certificate, ServerCertificateName="x", CertificateBody=SERVER_CERT,
                 PrivateKey="key")[:2] == (400, "MalformedCertificate")

    got = iam.get_server_certificate(ServerCertificateName="web")["ServerCertificate"]
    assert got["CertificateBody"] == SERVER_CERT and got["CertificateChain"] == CERTS[0] + CERTS[1]
    assert got["Tags"] == [{"Key": "k", "Value": "v"}] and "PrivateKey" not in got
    assert got["ServerCertificateMetadata"] == meta

    iam.upload_server_certificate(ServerCertificateName="api", CertificateBody=SERVER_CERT, PrivateKey=SERVER_KEY)
    names = [c["ServerCertificateName"] for c in iam.list_server_certificates()["ServerCertificateMetadataList"]]
    assert names == ["api", "web"]
    first = iam.list_server_certificates(MaxItems=1)
    assert first["IsTruncated"] is True
    rest = iam.list_server_certificates(Marker=first["Marker"])
    assert [c["ServerCertificateName"] for c in rest["ServerCertificateMetadataList"]] == ["web"]
    only = iam.list_server_certificates(PathPrefix="/cloudfront/")["ServerCertificateMetadataList"]
    assert [c["ServerCertificateName"] for c in only] == ["web"]
    assert iam.get_account_summary()["SummaryMap"]["ServerCertificates"] == 2

    iam.delete_server_certificate(ServerCertificateName="web")
    missing = (404, "NoSuchEntity", "The Server Certificate with name web cannot be found.")
    assert error(iam.get_server_certificate, ServerCertificateName="web") == missing
    assert error(iam.delete_server_certificate, ServerCertificateName="web") == missing


def test_ssh_public_keys(iam):
    iam.create_user(UserName="dev")
    key = iam.upload_ssh_public_key(UserName="dev", SSHPublicKeyBody=SSH_KEY)["SSHPublicKey"]
    key_id = key["SSHPublicKeyId"]
    assert key_id.startswith("APKA") and len(key_id) == 20
    assert (key["UserName"], key["Status"], key["Fingerprint"]) == ("dev", "Active", SSH_KEY_MD5)
    assert key["SSHPublicKeyBody"] == SSH_KEY and isinstance(key["UploadDate"], datetime)

    pem = iam.get_ssh_public_key(UserName="dev", SSHPublicKeyId=key_id, Encoding="PEM")["SSHPublicKey"]
    assert pem["SSHPublicKeyBody"] == SSH_KEY_PEM and pem["Fingerprint"] == SSH_KEY_MD5
    assert iam.get_ssh_public_key(UserName="dev", SSHPublicKeyId=key_id, Encoding="SSH")["SSHPublicKey"][
        "SSHPublicKeyBody"] == SSH_KEY
    iam.create_user(UserName="other")
    # The same key in PEM form is the same key.
    assert error(iam.upload_ssh_public_key, UserName="other", SSHPublicKeyBody=SSH_KEY_PEM)[:2] == (
        400, "DuplicateSSHPublicKey")
    second = iam.upload_ssh_public_key(UserName="dev", SSHPublicKeyBody=SSH_KEY_2)["SSHPublicKey"]["SSHPublicKeyId"]
    assert error(iam.upload_ssh_public_key, UserName="dev", SSHPublicKeyBody=SSH_KEY_1024)[:2] == (
        400, "InvalidPublicKey")
    assert error(iam.upload_ssh_public_key, UserName="dev", SSHPublicKeyBody=CERTS[0]) == (
        400, "UnrecognizedPublicKeyEncoding", "Unrecognized public key encoding.")
    assert error(iam.upload_ssh_public_key, UserName="nobody", SSHPublicKeyBody=SSH_KEY)[1] == "NoSuchEntity"

    iam.update_ssh_public_key(UserName="dev", SSHPublicKeyId=key_id, Status="Inactive")
    listed = iam.list_ssh_public_keys(UserName="dev")
    assert [(k["SSHPublicKeyId"], k["Status"]) for k in listed["SSHPublicKeys"]] == [
        (key_id, "Inactive"), (second, "Active")]
    assert listed["IsTruncated"] is False
    page = iam.list_ssh_public_keys(UserName="dev", MaxItems=1)
    assert page["IsTruncated"] is True and len(page["SSHPublicKeys"]) == 1
    assert error(iam.delete_user, UserName="dev") == (
        409, "DeleteConflict", "Cannot delete entity, must delete SSH public keys first.")
    missing = (404, "NoSuchEntity", "The Public Key with id APKANOTAKEY000000000 cannot be found.")
    assert error(iam.get_ssh_public_key, UserName="dev", SSHPublicKeyId="APKANOTAKEY000000000", Encoding="SSH") == missing
    assert error(iam.update_ssh_public_key, UserName="dev", SSHPublicKeyId="APKANOTAKEY000000000",
                 Status="Active") == missing
    iam.delete_ssh_public_key(UserName="dev", SSHPublicKeyId=key_id)
    iam.delete_ssh_public_key(UserName="dev", SSHPublicKeyId=second)
    assert error(iam.delete_ssh_public_key, UserName="dev", SSHPublicKeyId=key_id)[1] == "NoSuchEntity"
    assert iam.list_ssh_public_keys(UserName="dev")["SSHPublicKeys"] == []
    iam.delete_user(UserName="dev")


def test_credential_report(iam):
    assert error(iam.get_credential_report) == (
        410, "ReportNotPresent", "Unable to locate credential report. Please generate a new report.")
    iam.create_user(UserName="zed", Path="/ops/")
    iam.create_login_profile(UserName="zed", Password="Passw0rd!")
    iam.create_access_key(UserName="zed")
    iam.create_user(UserName="amy")
    started = iam.generate_credential_report()
    assert started["State"] == "STARTED"
    assert started["Description"] == "No report exists. Starting a new report generation task"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv" and isinstance(report["GeneratedTime"], datetime)
    rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
    assert [r["user"] for r in rows] == ["<root_account>", "amy", "zed"]
    root, amy, zed = rows
    assert root["arn"] == f"arn:aws:iam::{iam.account}:root" and root["password_enabled"] == "not_supported"
    assert (amy["password_enabled"], amy["password_last_changed"], amy["access_key_1_active"]) == ("false", "N/A", "false")
    assert zed["arn"] == f"arn:aws:iam::{iam.account}:user/ops/zed"
    assert (zed["password_enabled"], zed["access_key_1_active"], zed["access_key_2_active"]) == ("true", "true", "false")
    assert datetime.fromisoformat(zed["access_key_1_last_rotated"]).tzinfo is not None
    assert zed["mfa_active"] == "false" and zed["cert_1_active"] == "false"


def test_survive_a_restart(start_server, tmp_path):
    flags = ("--data-dir", str(tmp_path / "state"))
    server = start_server(*flags)
    iam = make_client("iam", server.endpoint)
    iam.upload_server_certificate(ServerCertificateName="web", CertificateBody=SERVER_CERT, PrivateKey=SERVER_KEY)
    iam.create_user(UserName="u")
    key_id = iam.upload_ssh_public_key(UserName="u", SSHPublicKeyBody=SSH_KEY)["SSHPublicKey"]["SSHPublicKeyId"]
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="phone")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName="u", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
    iam.generate_credential_report()

    def read(iam):
        out = (
            iam.get_server_certificate(ServerCertificateName="web")["ServerCertificate"],
            iam.get_ssh_public_key(UserName="u", SSHPublicKeyId=key_id, Encoding="SSH")["SSHPublicKey"],
            iam.list_virtual_mfa_devices()["VirtualMFADevices"],
            iam.list_mfa_devices(UserName="u")["MFADevices"],
            iam.get_credential_report()["Content"],
        )
        return out

    before = read(iam)
    server.stop(signal.SIGKILL)
    server = start_server(*flags)
    assert read(make_client("iam", server.endpoint)) == before
