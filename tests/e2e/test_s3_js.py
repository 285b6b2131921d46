"""The AWS SDK for JavaScript v3 with default settings (aws-chunked uploads with a CRC32 trailer)
puts and gets an object. Skipped when node or npm is missing; installs its package on first use."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zlib
import base64
from pathlib import Path

import pytest

from .s3util import new_bucket_name

JS_DIR = Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def node_modules():
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed for the JavaScript SDK test")
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-s3").is_dir():
        r = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS_DIR, capture_output=True, text=True, timeout=600,
        )
        if r.returncode != 0:
            pytest.skip(f"npm install failed (offline?): {r.stderr[-500:]}")
    return JS_DIR


def test_js_sdk_put_and_get(node_modules, endpoint):
    bucket = new_bucket_name("js")
    r = subprocess.run(
        ["node", "s3_put_get.mjs", endpoint, bucket], cwd=node_modules, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    body = ("hello from the JavaScript SDK " * 1000).encode()
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert seen["same"] is True and seen["length"] == len(body)
    assert seen["etag"] == '"%s"' % hashlib.md5(body).hexdigest()
    assert seen["putCrc32"] == crc
    assert seen["getCrc32"] == crc
