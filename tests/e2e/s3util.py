"""Shared helpers of the S3 end-to-end tests."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


def new_bucket_name(tag: str = "b") -> str:
    return f"rs-{tag}-{uuid.uuid4().hex[:16]}"


def error_of(excinfo) -> tuple[str, int, str]:
    resp = excinfo.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"].get("Message", "")


def expect_error(code: str, status: int, fn, *args, message: str | None = None, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    got_code, got_status, got_message = error_of(e)
    assert (got_code, got_status) == (code, status), e.value.response
    if message is not None:
        assert got_message == message
    return e.value.response
