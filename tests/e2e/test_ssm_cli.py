"""The AWS CLI (awscli v1 from PyPI, sharing botocore with boto3) against Parameter Store.
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
            [AWS, "--endpoint-url", endpoint, "--output", "json", *args], env=env, capture_output=True, text=True, timeout=60
        )
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    return run


def test_parameters_with_the_cli(aws):
    root = f"/cli{uuid.uuid4().hex[:8]}"
    put = json.loads(aws("ssm", "put-parameter", "--name", f"{root}/db/url", "--value", "postgres://x", "--type", "String").stdout)
    assert put == {"Version": 1, "Tier": "Standard"}
    aws("ssm", "put-parameter", "--name", f"{root}/db/pass", "--value", "s3cret", "--type", "SecureString")
    got = json.loads(aws("ssm", "get-parameter", "--name", f"{root}/db/pass", "--with-decryption").stdout)
    assert got["Parameter"]["Value"] == "s3cret"
    # The CLI's auto-pagination walks NextToken over pages of one.
    listed = json.loads(aws("ssm", "get-parameters-by-path", "--path", root, "--recursive", "--page-size", "1").stdout)
    assert sorted(p["Name"] for p in listed["Parameters"]) == [f"{root}/db/pass", f"{root}/db/url"]
    value = aws("ssm", "get-parameter", "--name", f"{root}/db/url", "--query", "Parameter.Value", "--output", "text").stdout
    assert value.strip() == "postgres://x"
    missing = aws("ssm", "get-parameter", "--name", f"{root}/nope", check=False)
    assert missing.returncode != 0 and "ParameterNotFound" in missing.stderr
    aws("ssm", "delete-parameter", "--name", f"{root}/db/url")
