"""DynamoDB Query and Scan through boto3: key conditions, sort order, GSI and LSI, Limit and
pagination round trips, filters applied after Limit, Select, segments, and the errors."""

from __future__ import annotations

import pytest

from .ddbutil import create, raises


@pytest.fixture(scope="module")
def ddb(client):
    return client("dynamodb")


@pytest.fixture(scope="module")
def table(ddb):
    """pk (S) + sk (N); GSI byG (g, n) ALL; LSI byL (pk, l) KEYS_ONLY; 3 partitions."""
    t = create(
        ddb,
        range_key=("sk", "N"),
        defs={"g": "S", "n": "N", "l": "S"},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byL",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    for p in ["a", "b", "c"]:
        for sk in [-5, 1, 2, 10, 100, 1.5]:
            item = {"pk": {"S": p}, "sk": {"N": str(sk)}, "v": {"N": str(sk)}, "tag": {"S": f"{p}-{sk}"}}
            if sk != 100:
                item["g"] = {"S": "even" if float(sk) % 2 == 0 else "odd"}
                item["n"] = {"N": str(sk)}
            if p == "a":
                item["l"] = {"S": f"L{sk}"}
            ddb.put_item(TableName=t, Item=item)
    return t


def sks(items):
    return [i["sk"]["N"] for i in items]


def q(ddb, table, cond, values, **kw):
    return ddb.query(TableName=table, KeyConditionExpression=cond, ExpressionAttributeValues=values, **kw)


def test_key_conditions_sort_numerically(ddb, table):
    a = {":p": {"S": "a"}}
    assert sks(q(ddb, table, "pk = :p", a)["Items"]) == ["-5", "1", "1.5", "2", "10", "100"]
    assert sks(q(ddb, table, "pk = :p", a, ScanIndexForward=False)["Items"]) == ["100", "10", "2", "1.5", "1", "-5"]
    cases = {
        "sk = :x": ["2"],
        "sk < :x": ["-5", "1", "1.5"],
        "sk <= :x": ["-5", "1", "1.5", "2"],
        "sk > :x": ["10", "100"],
        "sk >= :x": ["2", "10", "100"],
    }
    for cond, expected in cases.items():
        out = q(ddb, table, f"pk = :p AND {cond}", a | {":x": {"N": "2"}})
        assert sks(out["Items"]) == expected, cond
        assert out["Count"] == out["ScannedCount"] == len(expected)
    out = q(ddb, table, "pk = :p AND sk BETWEEN :lo AND :hi", a | {":lo": {"N": "1"}, ":hi": {"N": "10"}})
    assert sks(out["Items"]) == ["1", "1.5", "2", "10"]
    out = q(ddb, table, "#k = :p", a, ExpressionAttributeNames={"#k": "pk"}, Select="COUNT")
    assert out["Count"] == 6 and "Items" not in out


def test_begins_with_on_string_sort_key(ddb):
    t = create(ddb, range_key=("sk", "S"))
    for sk in ["apple", "apricot", "banana", "ap", "a\u00e9"]:
        ddb.put_item(TableName=t, Item={"pk": {"S": "x"}, "sk": {"S": sk}})
    out = q(ddb, t, "pk = :p AND begins_with(sk, :s)", {":p": {"S": "x"}, ":s": {"S": "ap"}})
    assert [i["sk"]["S"] for i in out["Items"]] == ["ap", "apple", "apricot"]
    out = q(ddb, t, "pk = :p AND sk > :s", {":p": {"S": "x"}, ":s": {"S": "b"}})
    assert [i["sk"]["S"] for i in out["Items"]] == ["banana"]


def test_limit_pagination_round_trip_and_filter_after_limit(ddb, table):
    a = {":p": {"S": "a"}}
    seen, start, pages = [], None, 0
    while True:
        kw = {"Limit": 4} | ({"ExclusiveStartKey": start} if start else {})
        out = q(ddb, table, "pk = :p", a, **kw)
        seen += sks(out["Items"])
        pages += 1
        start = out.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "sk"}
    assert seen == ["-5", "1", "1.5", "2", "10", "100"] and pages == 2
    # The filter applies to the items Limit read: 3 read, 1 matches.
    out = q(ddb, table, "pk = :p", a | {":v": {"N": "1"}}, Limit=3, FilterExpression="v = :v")
    assert out["Count"] == 1 and out["ScannedCount"] == 3
    assert out["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "1.5"}}
    # A start key from another partition is refused, as AWS does.
    with raises("ValidationException", "The provided starting key is outside query boundaries based on provided conditions"):
        q(ddb, table, "pk = :p", {":p": {"S": "b"}}, ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"N": "1"}})
    out = q(ddb, table, "pk = :p", a, ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"N": "2"}}, ScanIndexForward=False)
    assert sks(out["Items"]) == ["1.5", "1", "-5"]
    pages = ddb.get_paginator("query").paginate(
        TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues=a, PaginationConfig={"PageSize": 2}
    )
    assert [s for p in pages for s in sks(p["Items"])] == ["-5", "1", "1.5", "2", "10", "100"]


def test_gsi_query_and_pagination(ddb, table):
    out = q(ddb, table, "g = :g AND n > :z", {":g": {"S": "even"}, ":z": {"N": "0"}}, IndexName="byG")
    assert [(i["pk"]["S"], i["n"]["N"]) for i in out["Items"]] == [("a", "2"), ("b", "2"), ("c", "2"), ("a", "10"), ("b", "10"), ("c", "10")]
    got, start = [], None
    while True:
        kw = {"Limit": 4} | ({"ExclusiveStartKey": start} if start else {})
        out = q(ddb, table, "g = :g", {":g": {"S": "even"}}, IndexName="byG", **kw)
        got += [i["tag"]["S"] for i in out["Items"]]
        start = out.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "sk", "g", "n"}
    assert len(got) == 6 and len(set(got)) == 6
    # Items without the index key are not in the (sparse) index.
    scan = ddb.scan(TableName=table, IndexName="byG")
    assert scan["Count"] == 15
    with raises("ValidationException", "Consistent reads are not supported on global secondary indexes"):
        q(ddb, table, "g = :g", {":g": {"S": "even"}}, IndexName="byG", ConsistentRead=True)


def test_lsi_query_keys_only(ddb, table):
    out = q(ddb, table, "pk = :p AND begins_with(l, :l)", {":p": {"S": "a"}, ":l": {"S": "L1"}}, IndexName="byL")
    assert [i["l"]["S"] for i in out["Items"]] == ["L1", "L1.5", "L10", "L100"]
    assert set(out["Items"][0]) == {"pk", "sk", "l"}
    out = q(ddb, table, "pk = :p", {":p": {"S": "b"}}, IndexName="byL")
    assert out["Count"] == 0


def test_query_errors(ddb, table):
    with raises("ValidationException", "Query condition missed key schema element: pk"):
        q(ddb, table, "sk = :x", {":x": {"N": "1"}})
    with raises("ValidationException", "Invalid operator used in KeyConditionExpression: OR"):
        q(ddb, table, "pk = :p OR sk = :x", {":p": {"S": "a"}, ":x": {"N": "1"}})
    with raises("ValidationException", "Query key condition not supported"):
        q(ddb, table, "pk > :p", {":p": {"S": "a"}})
    with raises("ValidationException", "One or more parameter values were invalid: Condition parameter type does not match schema type"):
        q(ddb, table, "pk = :p", {":p": {"N": "1"}})
    with raises("ValidationException", "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"):
        q(ddb, table, "pk = :p", {":p": {"S": "a"}, ":x": {"N": "1"}}, FilterExpression="sk > :x")
    with raises("ValidationException", "The table does not have the specified index: nope"):
        q(ddb, table, "pk = :p", {":p": {"S": "a"}}, IndexName="nope")
    with raises("ValidationException", "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."):
        ddb.query(TableName=table)
    with raises("ValidationException", "The provided starting key is invalid: The provided key element does not match the schema"):
        q(ddb, table, "pk = :p", {":p": {"S": "a"}}, ExclusiveStartKey={"pk": {"S": "a"}})


def test_legacy_key_conditions_and_query_filter(ddb, table):
    out = ddb.query(
        TableName=table,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "c"}]},
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "2"}]},
        },
        QueryFilter={"v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}},
    )
    assert sks(out["Items"]) == ["1.5", "2"] and out["ScannedCount"] == 3


def test_scan_filter_projection_segments(ddb, table):
    out = ddb.scan(TableName=table, FilterExpression="v >= :x", ExpressionAttributeValues={":x": {"N": "10"}}, ProjectionExpression="tag")
    assert sorted(i["tag"]["S"] for i in out["Items"]) == ["a-10", "a-100", "b-10", "b-100", "c-10", "c-100"]
    assert out["ScannedCount"] == 18
    total = 0
    seen = set()
    for seg in range(3):
        items = ddb.scan(TableName=table, Segment=seg, TotalSegments=3)["Items"]
        total += len(items)
        seen |= {i["tag"]["S"] for i in items}
    assert total == 18 and len(seen) == 18
    with raises(
        "ValidationException",
        "The Segment parameter is zero-based and must be less than parameter TotalSegments",
    ):
        ddb.scan(TableName=table, Segment=3, TotalSegments=3)
    pages = list(ddb.get_paginator("scan").paginate(TableName=table, PaginationConfig={"PageSize": 5}))
    assert sum(p["Count"] for p in pages) == 18 and len(pages) == 4
    out = ddb.scan(TableName=table, ScanFilter={"g": {"ComparisonOperator": "NULL"}})
    assert out["Count"] == 3


ENVELOPE = "1 validation error detected: "


@pytest.mark.parametrize("op", ["query", "scan"])
def test_select_errors(ddb, table, op):
    def read(**kwargs):
        if op == "query":
            key = "g" if kwargs.get("IndexName") == "byG" else "pk"
            kwargs.setdefault("KeyConditionExpression", f"{key} = :k")
            kwargs.setdefault("ExpressionAttributeValues", {":k": {"S": "a"}})
        return getattr(ddb, op)(TableName=table, **kwargs)

    assert read(Select="COUNT")["Count"] >= 0
    assert read(IndexName="byG", Select="ALL_PROJECTED_ATTRIBUTES")["Count"] >= 0
    # AWS lists Select's values in its own order.
    with raises(
        "ValidationException",
        ENVELOPE
        + "Value 'count' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
    ):
        read(Select="count")
    with raises("ValidationException", ENVELOPE + "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"):
        read(Select="ALL_PROJECTED_ATTRIBUTES")
    with raises(
        "ValidationException",
        ENVELOPE + "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
    ):
        read(Select="SPECIFIC_ATTRIBUTES")
    for select, what in [("ALL_ATTRIBUTES", "ALL_ATTRIBUTES"), ("ALL_PROJECTED_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"), ("COUNT", "only the Count")]:
        with raises("ValidationException", ENVELOPE + f"Cannot specify the ProjectionExpression when choosing to get {what}"):
            read(IndexName="byG", Select=select, ProjectionExpression="g")
    if op == "scan":
        with raises("ValidationException", ENVELOPE + "Cannot specify the AttributesToGet when choosing to get only the Count"):
            read(Select="COUNT", AttributesToGet=["pk"])
    # Checked before the table is looked up.
    with raises("ValidationException", ENVELOPE + "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"):
        getattr(ddb, op)(TableName="no-such-table", Select="ALL_PROJECTED_ATTRIBUTES")


def test_between_takes_scalar_operands(ddb, table):
    for values in [{":lo": {"NULL": True}, ":hi": {"N": "100"}}, {":lo": {"N": "1"}, ":hi": {"BOOL": True}}]:
        kind = "NULL" if ":lo" in values and "NULL" in values[":lo"] else "BOOL"
        with raises(
            "ValidationException",
            f"Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: {kind}",
        ):
            ddb.scan(TableName=table, FilterExpression="v BETWEEN :lo AND :hi", ExpressionAttributeValues=values)


def test_one_megabyte_page_cap(ddb):
    t = create(ddb)
    blob = "x" * (100 * 1024)
    for i in range(15):
        ddb.put_item(TableName=t, Item={"pk": {"S": f"k{i:02}"}, "d": {"S": blob}})
    out = ddb.scan(TableName=t, FilterExpression="pk = :none", ExpressionAttributeValues={":none": {"S": "none"}})
    assert out["Count"] == 0
    assert out["ScannedCount"] == 11
    assert "LastEvaluatedKey" in out
    rest = ddb.scan(TableName=t, ExclusiveStartKey=out["LastEvaluatedKey"])
    assert rest["Count"] == 4 and "LastEvaluatedKey" not in rest


def test_consumed_capacity_by_index(ddb, table):
    out = q(ddb, table, "g = :g", {":g": {"S": "odd"}}, IndexName="byG", ReturnConsumedCapacity="INDEXES")
    cap = out["ConsumedCapacity"]
    assert cap["TableName"] == table and cap["Table"] == {"CapacityUnits": 0.0}
    assert cap["GlobalSecondaryIndexes"] == {"byG": {"CapacityUnits": cap["CapacityUnits"]}}
    out = ddb.put_item(
        TableName=table,
        Item={"pk": {"S": "cap"}, "sk": {"N": "1"}, "g": {"S": "x"}, "n": {"N": "1"}, "l": {"S": "y"}},
        ReturnConsumedCapacity="INDEXES",
    )
    cap = out["ConsumedCapacity"]
    assert cap["Table"] == {"CapacityUnits": 1.0}
    assert cap["GlobalSecondaryIndexes"] == {"byG": {"CapacityUnits": 1.0}}
    assert cap["LocalSecondaryIndexes"] == {"byL": {"CapacityUnits": 1.0}}
    assert cap["CapacityUnits"] == 3.0
    ddb.delete_item(TableName=table, Key={"pk": {"S": "cap"}, "sk": {"N": "1"}})


def test_item_collection_metrics_for_tables_with_lsi(ddb, table):
    out = ddb.put_item(
        TableName=table, Item={"pk": {"S": "icm"}, "sk": {"N": "1"}}, ReturnItemCollectionMetrics="SIZE"
    )
    assert out["ItemCollectionMetrics"]["ItemCollectionKey"] == {"pk": {"S": "icm"}}
    assert len(out["ItemCollectionMetrics"]["SizeEstimateRangeGB"]) == 2
    out = ddb.delete_item(TableName=table, Key={"pk": {"S": "icm"}, "sk": {"N": "1"}}, ReturnItemCollectionMetrics="NONE")
    assert "ItemCollectionMetrics" not in out
    plain = create(ddb)
    out = ddb.put_item(TableName=plain, Item={"pk": {"S": "x"}}, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in out


def test_multi_attribute_index_keys(ddb):
    """A GSI keyed on two partition key attributes and two sort key attributes."""
    t = create(
        ddb,
        defs={"tn": "S", "rg": "S", "dy": "S", "sq": "N"},
        GlobalSecondaryIndexes=[
            {
                "IndexName": "multi",
                "KeySchema": [
                    {"AttributeName": "tn", "KeyType": "HASH"},
                    {"AttributeName": "rg", "KeyType": "HASH"},
                    {"AttributeName": "dy", "KeyType": "RANGE"},
                    {"AttributeName": "sq", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    schema = ddb.describe_table(TableName=t)["Table"]["GlobalSecondaryIndexes"][0]["KeySchema"]
    assert [(k["AttributeName"], k["KeyType"]) for k in schema] == [
        ("tn", "HASH"), ("rg", "HASH"), ("dy", "RANGE"), ("sq", "RANGE")
    ]
    rows = [("1", "a", "eu", "d1", 30), ("2", "a", "eu", "d1", 4), ("3", "a", "eu", "d2", 1), ("4", "a", "us", "d1", 1), ("5", "b", "eu", "d1", 1)]
    for pk, tenant, region, day, seq in rows:
        ddb.put_item(TableName=t, Item={"pk": {"S": pk}, "tn": {"S": tenant}, "rg": {"S": region}, "dy": {"S": day}, "sq": {"N": str(seq)}})
    # Sparse: an item missing any key attribute is not in the index.
    ddb.put_item(TableName=t, Item={"pk": {"S": "6"}, "tn": {"S": "a"}, "rg": {"S": "eu"}, "dy": {"S": "d1"}})
    values = {":t": {"S": "a"}, ":r": {"S": "eu"}, ":d": {"S": "d1"}, ":s": {"N": "5"}}

    def query(cond, **kwargs):
        used = {k: v for k, v in values.items() if k in cond}
        return ddb.query(TableName=t, IndexName="multi", KeyConditionExpression=cond, ExpressionAttributeValues=used, **kwargs)

    # Sorted by (day, seq) numerically, not by the table key.
    out = query("tn = :t AND rg = :r")
    assert [i["pk"]["S"] for i in out["Items"]] == ["2", "1", "3"]
    assert [i["pk"]["S"] for i in query("tn = :t AND rg = :r", ScanIndexForward=False)["Items"]] == ["3", "1", "2"]
    assert [i["pk"]["S"] for i in query("tn = :t AND rg = :r AND dy = :d")["Items"]] == ["2", "1"]
    assert [i["pk"]["S"] for i in query("tn = :t AND rg = :r AND dy > :d")["Items"]] == ["3"]
    assert [i["pk"]["S"] for i in query("tn = :t AND rg = :r AND dy = :d AND sq > :s")["Items"]] == ["1"]
    page = query("tn = :t AND rg = :r", Limit=1)
    assert set(page["LastEvaluatedKey"]) == {"pk", "tn", "rg", "dy", "sq"}
    rest = query("tn = :t AND rg = :r", ExclusiveStartKey=page["LastEvaluatedKey"])
    assert [i["pk"]["S"] for i in rest["Items"]] == ["1", "3"]
    with raises("ValidationException", "Query condition missed key schema element: rg"):
        query("tn = :t")
    with raises(
        "ValidationException",
        "RANGE key attributes dy must have equality conditions specified in the query because a condition is present on key attribute sq",
    ):
        query("tn = :t AND rg = :r AND sq > :s")
    with raises("ValidationException", "Query key condition not supported"):
        query("tn = :t AND rg = :r AND dy > :d AND sq = :s")
    # The legacy KeyConditions reach the same checks.
    out = ddb.query(
        TableName=t,
        IndexName="multi",
        KeyConditions={
            "tn": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
            "rg": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "eu"}]},
            "dy": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "d1"}]},
            "sq": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "10"}]},
        },
    )
    assert [i["pk"]["S"] for i in out["Items"]] == ["2"]
    # Index key values are type-checked on every key attribute.
    with raises("ValidationException", "One or more parameter values were invalid: Type mismatch for Index Key sq Expected: N Actual: S IndexName: multi"):
        ddb.put_item(TableName=t, Item={"pk": {"S": "7"}, "sq": {"S": "x"}})
    # An index added later is backfilled.
    ddb.update_table(
        TableName=t,
        AttributeDefinitions=[{"AttributeName": "rg", "AttributeType": "S"}, {"AttributeName": "sq", "AttributeType": "N"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "later",
                    "KeySchema": [
                        {"AttributeName": "rg", "KeyType": "HASH"},
                        {"AttributeName": "sq", "KeyType": "RANGE"},
                        {"AttributeName": "pk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    out = ddb.query(TableName=t, IndexName="later", KeyConditionExpression="rg = :r AND sq = :one", ExpressionAttributeValues={":r": {"S": "eu"}, ":one": {"N": "1"}})
    assert [i["pk"]["S"] for i in out["Items"]] == ["3", "5"]


def test_key_schema_limits(ddb):
    defs = [{"AttributeName": n, "AttributeType": "S"} for n in ["pk", "a", "b"]]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "a", "KeyType": "RANGE"}, {"AttributeName": "b", "KeyType": "RANGE"}]
    # Tables keep one partition key attribute and one sort key attribute.
    with raises(
        "ValidationException",
        "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), KeySchemaElement(attributeName=a, keyType=RANGE), KeySchemaElement(attributeName=b, keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
    ):
        ddb.create_table(TableName="three-keys", KeySchema=schema, AttributeDefinitions=defs, BillingMode="PAY_PER_REQUEST")
    with raises("ValidationException"):
        ddb.create_table(
            TableName="five-hash",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ["pk", "a", "b", "c", "d", "e"]],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "wide",
                    "KeySchema": [{"AttributeName": n, "KeyType": "HASH"} for n in ["a", "b", "c", "d", "e"]],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
