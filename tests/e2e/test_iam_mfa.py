"""IAM MFA devices end to end: virtual devices (serial from path and name, seed and QR code once,
listing by assignment), enabling and deactivating devices for users, the account summary's
counts, and AWS's errors."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest

from .rsutil import call_error as error


def test_virtual_mfa_devices(iam):
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="phone", Tags=[{"Key": "k", "Value": "v"}])[
        "VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{iam.account}:mfa/phone"
    seed = device["Base32StringSeed"].decode("ascii")
    assert len(seed) == 64 and base64.b32decode(seed)
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    assert device["Tags"] == [{"Key": "k", "Value": "v"}]
    assert error(iam.create_virtual_mfa_device, VirtualMFADeviceName="phone") == (
        409, "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
    other = iam.create_virtual_mfa_device(Path="/team/", VirtualMFADeviceName="phone")["VirtualMFADevice"]
    assert other["SerialNumber"] == f"arn:aws:iam::{iam.account}:mfa/team/phone"
    status, code, _ = error(iam.create_virtual_mfa_device, Path="team", VirtualMFADeviceName="x")
    assert (status, code) == (400, "ValidationError")

    iam.create_user(UserName="mia")
    iam.enable_mfa_device(UserName="mia", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
    assert error(iam.enable_mfa_device, UserName="mia", SerialNumber=serial, AuthenticationCode1="123456",
                 AuthenticationCode2="654321") == (409, "EntityAlreadyExists", "MFA Device is already in use.")
    missing = f"arn:aws:iam::{iam.account}:mfa/none"
    assert error(iam.enable_mfa_device, UserName="mia", SerialNumber=missing, AuthenticationCode1="123456",
                 AuthenticationCode2="654321") == (
        404, "NoSuchEntity", f"VirtualMFADevice with serial number {missing} doesn't exist.")

    listed = iam.list_mfa_devices(UserName="mia")
    assert [d["SerialNumber"] for d in listed["MFADevices"]] == [serial] and listed["IsTruncated"] is False
    assert listed["MFADevices"][0]["UserName"] == "mia" and isinstance(listed["MFADevices"][0]["EnableDate"], datetime)
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in assigned] == [serial]
    assert assigned[0]["User"]["UserName"] == "mia" and "Base32StringSeed" not in assigned[0]
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [other["SerialNumber"]]
    assert len(iam.list_virtual_mfa_devices()["VirtualMFADevices"]) == 2
    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["MFADevices"], summary["MFADevicesInUse"]) == (2, 1)

    assert error(iam.delete_virtual_mfa_device, SerialNumber=serial)[:2] == (409, "DeleteConflict")
    assert error(iam.delete_user, UserName="mia") == (
        409, "DeleteConflict", "Cannot delete entity, must delete MFA device first.")
    iam.deactivate_mfa_device(UserName="mia", SerialNumber=serial)
    assert error(iam.deactivate_mfa_device, UserName="mia", SerialNumber=serial) == (
        404, "NoSuchEntity", f"MFA Device with serial number {serial} does not exist.")
    assert iam.list_mfa_devices(UserName="mia")["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error(iam.delete_virtual_mfa_device, SerialNumber=serial) == (
        404, "NoSuchEntity", f"VirtualMFADevice with serial number {serial} doesn't exist.")
    iam.delete_user(UserName="mia")


def test_hardware_serials_and_paging(iam):
    iam.create_user(UserName="hw")
    for n in range(3):
        iam.enable_mfa_device(UserName="hw", SerialNumber=f"GAHT{n:08d}", AuthenticationCode1="111111",
                              AuthenticationCode2="222222")
    first = iam.list_mfa_devices(UserName="hw", MaxItems=2)
    assert [d["SerialNumber"] for d in first["MFADevices"]] == ["GAHT00000000", "GAHT00000001"]
    assert first["IsTruncated"] is True
    rest = iam.list_mfa_devices(UserName="hw", Marker=first["Marker"])
    assert [d["SerialNumber"] for d in rest["MFADevices"]] == ["GAHT00000002"] and rest["IsTruncated"] is False
    iam.create_user(UserName="other")
    assert error(iam.enable_mfa_device, UserName="other", SerialNumber="GAHT00000000", AuthenticationCode1="111111",
                 AuthenticationCode2="222222")[1] == "EntityAlreadyExists"
    assert error(iam.list_mfa_devices, UserName="nobody")[1] == "NoSuchEntity"
    for n in range(4):
        iam.create_virtual_mfa_device(VirtualMFADeviceName=f"v{n}")
    page = iam.list_virtual_mfa_devices(MaxItems=3)
    assert len(page["VirtualMFADevices"]) == 3 and page["IsTruncated"] is True
    assert len(iam.list_virtual_mfa_devices(Marker=page["Marker"])["VirtualMFADevices"]) == 1
