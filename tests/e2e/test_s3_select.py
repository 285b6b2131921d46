"""S3 Select end to end: SelectObjectContent over JSON documents and lines and CSV (plain, GZIP,
BZIP2), projections, WHERE, LIMIT and aggregates, JSON and CSV output, answered as the event
stream boto3 parses (Records, Stats with the byte counts, End)."""

from __future__ import annotations

import bz2
import gzip
import json

import pytest
from botocore.exceptions import ClientError

from .s3util import expect_error, new_bucket_name

CSV = "name,city,age\nann,Oslo,31\nbob,\"Rome, IT\",45\ncid,Oslo,27\n"


@pytest.fixture
def s3(client):
    return client("s3")


@pytest.fixture
def bucket(s3):
    name = new_bucket_name("sel")
    s3.create_bucket(Bucket=name)
    return name


def select(s3, bucket, key, sql, inp, out=None):
    resp = s3.select_object_content(
        Bucket=bucket, Key=key, Expression=sql, ExpressionType="SQL",
        InputSerialization=inp, OutputSerialization=out or {"JSON": {}},
    )
    events = list(resp["Payload"])
    records = b"".join(e["Records"]["Payload"] for e in events if "Records" in e)
    stats = [e["Stats"]["Details"] for e in events if "Stats" in e]
    assert events[-1] == {"End": {}} and len(stats) == 1
    return records, stats[0]


def test_json_document_select_all_and_count(s3, bucket):
    body = json.dumps({"a1": "b1", "a2": "b2", "a3": None})
    s3.put_object(Bucket=bucket, Key="doc.json", Body=body)
    inp = {"JSON": {"Type": "DOCUMENT"}}
    records, stats = select(s3, bucket, "doc.json", "SELECT * FROM S3Object", inp, {"JSON": {"RecordDelimiter": ","}})
    assert records == b'{"a1":"b1","a2":"b2","a3":null},'
    assert stats == {"BytesScanned": len(body), "BytesProcessed": len(body), "BytesReturned": len(records)}
    records, stats = select(s3, bucket, "doc.json", "SELECT count(*) FROM S3Object", inp)
    assert records == b'{"_1":1}\n' and stats["BytesReturned"] == 9


def test_json_paths_where_limit_and_member_order(s3, bucket):
    body = "".join(json.dumps({"z": {f"b{i}": "s"}, "c": f"d{i}", "n": i}) for i in range(5))
    s3.put_object(Bucket=bucket, Key="long.json", Body=body)
    inp = {"JSON": {"Type": "DOCUMENT"}}
    records, _ = select(s3, bucket, "long.json", "select * from s3object[*].z", inp, {"JSON": {"RecordDelimiter": ","}})
    assert records == b"".join(b'{"b%d":"s"},' % i for i in range(5))
    records, stats = select(s3, bucket, "long.json", "select * from s3object[*] s where s.c = 'd2'", inp)
    assert records == b'{"z":{"b2":"s"},"c":"d2","n":2}\n'
    assert stats["BytesScanned"] == len(body)
    records, _ = select(s3, bucket, "long.json", "select s.c, s.n * 10 as tens from s3object s where s.n >= 3 limit 1", inp)
    assert records == b'{"c":"d3","tens":30}\n'
    # An array document is one record; a path into it that leads nowhere gives an empty record.
    s3.put_object(Bucket=bucket, Key="list.json", Body=json.dumps([{"staff": [{"name": "x"}]}]))
    records, _ = select(s3, bucket, "list.json", "select * from s3object s", inp)
    assert json.loads(records) == {"_1": [{"staff": [{"name": "x"}]}]}
    records, _ = select(s3, bucket, "list.json", "select * from s3object[*].staff[*] s", inp)
    assert records == b"{}\n"


def test_json_lines_aggregates(s3, bucket):
    lines = "\n".join(json.dumps({"k": k, "v": v}) for k, v in (("a", 1), ("b", 5), ("a", 3))) + "\n"
    s3.put_object(Bucket=bucket, Key="rows.jsonl", Body=lines)
    records, _ = select(
        s3, bucket, "rows.jsonl", "SELECT count(*) AS cnt, sum(s.v), max(s.v), avg(s.v) FROM S3Object s WHERE s.k = 'a'",
        {"JSON": {"Type": "LINES"}},
    )
    assert json.loads(records) == {"cnt": 2, "_2": 4, "_3": 3, "_4": 2}


def test_csv_headers_quotes_and_csv_output(s3, bucket):
    s3.put_object(Bucket=bucket, Key="people.csv", Body=CSV)
    use = {"CSV": {"FileHeaderInfo": "USE"}}
    records, _ = select(s3, bucket, "people.csv", "SELECT s.name, s.city FROM S3Object s WHERE s.city LIKE 'Rome%'", use)
    assert records == b'{"name":"bob","city":"Rome, IT"}\n'
    records, _ = select(s3, bucket, "people.csv", "SELECT count(*) FROM S3Object", use)
    assert records == b'{"_1":3}\n'
    # Without a header every line is a record, with positional names.
    records, _ = select(s3, bucket, "people.csv", "SELECT count(*) FROM S3Object", {"CSV": {}}, {"CSV": {"RecordDelimiter": "_"}})
    assert records == b"4_"
    records, _ = select(s3, bucket, "people.csv", "SELECT s._1, s._3 FROM S3Object s WHERE s._2 = 'Oslo'", {"CSV": {}}, {"CSV": {}})
    assert records == b"ann,31\ncid,27\n"
    # CSV output quotes what needs it, with the requested delimiters.
    records, _ = select(s3, bucket, "people.csv", "SELECT * FROM S3Object", use, {"CSV": {"FieldDelimiter": ";"}})
    assert records == b'ann;Oslo;31\nbob;Rome, IT;45\ncid;Oslo;27\n'
    records, _ = select(s3, bucket, "people.csv", "SELECT * FROM S3Object", use, {"CSV": {}})
    assert records == b'ann,Oslo,31\nbob,"Rome, IT",45\ncid,Oslo,27\n'


@pytest.mark.parametrize("kind,compress", [("GZIP", gzip.compress), ("BZIP2", bz2.compress)])
def test_compressed_objects(s3, bucket, kind, compress):
    raw = CSV.encode()
    body = compress(raw)
    s3.put_object(Bucket=bucket, Key="c", Body=body)
    records, stats = select(
        s3, bucket, "c", "SELECT count(*) FROM S3Object", {"CSV": {"FileHeaderInfo": "IGNORE"}, "CompressionType": kind},
    )
    assert records == b'{"_1":3}\n'
    assert stats == {"BytesScanned": len(body), "BytesProcessed": len(raw), "BytesReturned": len(records)}
    resp = expect_error(
        "InvalidCompressionFormat", 400, s3.select_object_content, Bucket=bucket, Key="c",
        Expression="SELECT * FROM S3Object", ExpressionType="SQL",
        InputSerialization={"CSV": {}, "CompressionType": "BZIP2" if kind == "GZIP" else "GZIP"},
        OutputSerialization={"CSV": {}},
    )
    assert resp["Error"]["Message"]


def test_errors(s3, bucket):
    resp = expect_error(
        "NoSuchKey", 404, s3.select_object_content, Bucket=bucket, Key="unknown",
        Expression="SELECT count(*) FROM S3Object", ExpressionType="SQL",
        InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}},
        message="The specified key does not exist.",
    )
    assert resp["Error"]["Key"] == "unknown"
    s3.put_object(Bucket=bucket, Key="doc.json", Body=b"{}")
    with pytest.raises(ClientError) as e:
        s3.select_object_content(
            Bucket=bucket, Key="doc.json", Expression="SELEC * FROM S3Object", ExpressionType="SQL",
            InputSerialization={"JSON": {"Type": "DOCUMENT"}}, OutputSerialization={"JSON": {}},
        )
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Code"].startswith("Parse")
