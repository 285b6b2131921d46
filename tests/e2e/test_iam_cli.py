"""The AWS CLI (awscli v1 from PyPI) against IAM and STS: awsQuery requests, URL-encoded policy
documents decoded by the CLI, and `aws sts get-caller-identity` for the default and an IAM key.
Skipped when the `aws` command is not installed in the test venv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

_VENV_AWS = Path(sys.executable).parent / "aws"
AWS = str(_VENV_AWS) if _VENV_AWS.exists() else shutil.which("aws")

pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed (pip install awscli==1.46.3)")


@pytest.fixture
def aws(endpoint, tmp_path):
    def run(*args: str, key: str = "test", secret: str = "test", check: bool = True) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
            "AWS_PAGER": "",
        }
        proc = subprocess.run(
            [AWS, "--endpoint-url", endpoint, "--output", "json", *args], env=env, capture_output=True, text=True, timeout=60
        )
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    return run


def test_caller_identity_with_the_cli(aws):
    me = json.loads(aws("sts", "get-caller-identity").stdout)
    assert me == {"UserId": "000000000000", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root"}


def test_iam_with_the_cli(aws):
    account = "3" + str(uuid.uuid4().int)[:11]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = json.loads(aws("iam", "create-role", "--role-name", "cli-role", "--assume-role-policy-document", json.dumps(trust), key=account).stdout)
    assert role["Role"]["Arn"] == f"arn:aws:iam::{account}:role/cli-role"
    assert role["Role"]["AssumeRolePolicyDocument"] == trust
    aws("iam", "attach-role-policy", "--role-name", "cli-role", "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess", key=account)
    attached = json.loads(aws("iam", "list-attached-role-policies", "--role-name", "cli-role", key=account).stdout)
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["ReadOnlyAccess"]
    aws("iam", "create-user", "--user-name", "cli-user", key=account)
    key = json.loads(aws("iam", "create-access-key", "--user-name", "cli-user", key=account).stdout)["AccessKey"]
    me = json.loads(aws("sts", "get-caller-identity", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).stdout)
    assert me["Arn"] == f"arn:aws:iam::{account}:user/cli-user" and me["Account"] == account
    dup = aws("iam", "create-user", "--user-name", "cli-user", key=account, check=False)
    assert dup.returncode != 0 and "EntityAlreadyExists" in dup.stderr
    users = json.loads(aws("iam", "list-users", key=account).stdout)
    assert [u["UserName"] for u in users["Users"]] == ["cli-user"]
