"""Helpers of the DynamoDB end-to-end tests: unique table names and table creation."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


def name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create(ddb, table: str | None = None, hash_type: str = "S", range_key: tuple[str, str] | None = None, **extra):
    """A PAY_PER_REQUEST table keyed by `pk` (and `range_key` = (name, type))."""
    table = table or name()
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    defs = {"pk": hash_type}
    if range_key:
        keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        defs[range_key[0]] = range_key[1]
    defs.update(extra.pop("defs", {}))
    ddb.create_table(
        TableName=table,
        KeySchema=keys,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": v} for k, v in defs.items()],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return table


def error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def raises(code: str, message: str | None = None):
    """Context manager: the call fails with `code` (and exactly `message` when given)."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(ClientError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            got_code, got_message = error(self.info)
            assert got_code == code, (got_code, got_message)
            if message is not None:
                assert got_message == message, (got_message, message)
            assert self.info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            return handled

    return _Check()
