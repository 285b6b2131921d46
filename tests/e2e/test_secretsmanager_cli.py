"""The AWS CLI against Secrets Manager (awscli v1 from PyPI, which shares
botocore with boto3). Skipped when the `aws` command is not installed in the test venv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

_VENV_AWS = Path(sys.executable).parent / "aws"
AWS = str(_VENV_AWS) if _VENV_AWS.exists() else shutil.which("aws")

pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed (pip install awscli==1.46.3)")


@pytest.fixture
def aws(endpoint, tmp_path):
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_PAGER": "",
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [AWS, "--endpoint-url", endpoint, "--output", "json", *args],
            env=env, capture_output=True, text=True, timeout=60,
        )
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    return run


def test_secret_lifecycle_with_the_cli(aws):
    name = f"rs/cli/{uuid.uuid4().hex[:10]}"
    created = json.loads(aws("secretsmanager", "create-secret", "--name", name, "--secret-string", '{"user":"a"}').stdout)
    assert created["Name"] == name and created["ARN"].split(":secret:")[1].startswith(name + "-")
    got = json.loads(aws("secretsmanager", "get-secret-value", "--secret-id", name).stdout)
    assert json.loads(got["SecretString"]) == {"user": "a"}
    aws("secretsmanager", "put-secret-value", "--secret-id", name, "--secret-string", "two")
    prev = json.loads(
        aws("secretsmanager", "get-secret-value", "--secret-id", name, "--version-stage", "AWSPREVIOUS").stdout
    )
    assert prev["SecretString"] == '{"user":"a"}'
    listed = json.loads(aws("secretsmanager", "list-secrets", "--filters", f"Key=name,Values={name}").stdout)
    assert [s["Name"] for s in listed["SecretList"]] == [name]
    password = json.loads(aws("secretsmanager", "get-random-password", "--password-length", "20").stdout)
    assert len(password["RandomPassword"]) == 20
    aws("secretsmanager", "delete-secret", "--secret-id", name, "--recovery-window-in-days", "7")
    failed = aws("secretsmanager", "get-secret-value", "--secret-id", name, check=False)
    assert failed.returncode != 0
    assert "InvalidRequestException" in failed.stderr and "marked for deletion" in failed.stderr
    aws("secretsmanager", "delete-secret", "--secret-id", name, "--force-delete-without-recovery")
    missing = aws("secretsmanager", "describe-secret", "--secret-id", name, check=False)
    assert "ResourceNotFoundException" in missing.stderr
