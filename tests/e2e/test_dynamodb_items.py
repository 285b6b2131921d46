"""DynamoDB item operations through boto3: Put/Get/Update/Delete with conditions, return values,
the expression language's errors, AWS's value validation, numbers, limits and legacy parameters."""

from __future__ import annotations

import concurrent.futures

import pytest
from botocore.exceptions import ClientError

from .ddbutil import create, error, raises


@pytest.fixture(scope="module")
def ddb(client):
    return client("dynamodb")


@pytest.fixture(scope="module")
def table(ddb):
    return create(ddb)


@pytest.fixture(scope="module")
def ranged(ddb):
    return create(ddb, range_key=("sk", "N"))


def key(pk):
    return {"pk": {"S": pk}}


def test_put_get_delete_round_trip(ddb, table):
    item = {
        "pk": {"S": "rt"},
        "s": {"S": ""},
        "n": {"N": "0001.50"},
        "b": {"B": b"\x00\x01"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"x"]},
        "m": {"M": {"deep": {"L": [{"NULL": True}, {"BOOL": False}]}}},
    }
    assert "Attributes" not in ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key=key("rt"), ConsistentRead=True)["Item"]
    assert got["n"] == {"N": "1.5"}
    assert got["s"] == {"S": ""}
    assert got["b"] == {"B": b"\x00\x01"}
    assert sorted(got["ns"]["NS"]) == ["1", "2.5"]
    assert got["m"] == item["m"]
    got = ddb.get_item(TableName=table, Key=key("rt"), ProjectionExpression="n, m.deep[1], #s", ExpressionAttributeNames={"#s": "s"})["Item"]
    assert got == {"n": {"N": "1.5"}, "s": {"S": ""}, "m": {"M": {"deep": {"L": [{"BOOL": False}]}}}}
    old = ddb.delete_item(TableName=table, Key=key("rt"), ReturnValues="ALL_OLD")["Attributes"]
    assert old["pk"] == {"S": "rt"}
    assert "Item" not in ddb.get_item(TableName=table, Key=key("rt"))


def test_numbers_are_exact(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "num"}, "v": {"N": "0.1"}, "big": {"N": "9" * 38}})
    out = ddb.update_item(
        TableName=table,
        Key=key("num"),
        UpdateExpression="SET v = v + :d",
        ExpressionAttributeValues={":d": {"N": "0.2"}},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {"v": {"N": "0.3"}}
    assert ddb.get_item(TableName=table, Key=key("num"))["Item"]["big"] == {"N": "9" * 38}
    for text in ["+3", ".123", "0001.23", "1e3"]:
        ddb.put_item(TableName=table, Item={"pk": {"S": "num2"}, "v": {"N": text}})
    assert ddb.get_item(TableName=table, Key=key("num2"))["Item"]["v"] == {"N": "1000"}
    for text, message in [
        ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
        (" 1", "The parameter cannot be converted to a numeric value:  1"),
        ("1E126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("1E-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
    ]:
        with raises("ValidationException", message):
            ddb.put_item(TableName=table, Item={"pk": {"S": "bad"}, "v": {"N": text}})


def test_value_validation(ddb, table, ranged):
    cases = [
        (
            {"pk": {"S": "v"}, "x": {"M": {"y": {"NS": []}}}},
            "1 validation error detected: One or more parameter values were invalid: An number set  may not be empty",
        ),
        (
            {"pk": {"S": "v"}, "x": {"SS": []}},
            "1 validation error detected: One or more parameter values were invalid: An string set  may not be empty",
        ),
        ({"pk": {"S": "v"}, "x": {"SS": ["a", "a"]}}, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
        ({"pk": {"S": "v"}, "x": {"NULL": False}}, "One or more parameter values were invalid: Null attribute value types must have the value of true"),
        ({"pk": {"S": ""}}, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"),
        ({"pk": {"N": "1"}}, "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"),
        ({"x": {"S": "1"}}, "One or more parameter values were invalid: Missing the key pk in the item"),
        ({"pk": {"S": "x" * 2049}}, "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"),
        ({"pk": {"S": "v"}, "big": {"S": "x" * (400 * 1024)}}, "Item size has exceeded the maximum allowed size"),
    ]
    for item, message in cases:
        with raises("ValidationException", message):
            ddb.put_item(TableName=table, Item=item)
    srange = create(ddb, range_key=("sk", "S"))
    message = "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    with raises("ValidationException", message):
        ddb.put_item(TableName=srange, Item={"pk": {"S": "a"}, "sk": {"S": "x" * 1025}})
    with raises("ValidationException", "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"):
        ddb.put_item(TableName=ranged, Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
    with raises("ValidationException", "The provided key element does not match the schema"):
        ddb.get_item(TableName=ranged, Key={"pk": {"S": "a"}})
    with raises("ValidationException", "The provided key element does not match the schema"):
        ddb.get_item(TableName=table, Key={"pk": {"N": "1"}})
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.get_item(TableName="missing-table", Key=key("a"))


def test_conditions_and_return_values_on_failure(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}, "v": {"N": "1"}}, ConditionExpression="attribute_not_exists(pk)")
    with raises("ConditionalCheckFailedException", "The conditional request failed") as info:
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "c"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.value.response["Item"] == {"pk": {"S": "c"}, "v": {"N": "1"}}
    ddb.update_item(
        TableName=table,
        Key=key("c"),
        UpdateExpression="SET v = v + :one",
        ConditionExpression="v = :one AND begins_with(pk, :c) AND size(pk) = :one",
        ExpressionAttributeValues={":one": {"N": "1"}, ":c": {"S": "c"}},
    )
    with raises("ConditionalCheckFailedException"):
        ddb.delete_item(TableName=table, Key=key("c"), ConditionExpression="v = :one", ExpressionAttributeValues={":one": {"N": "1"}})
    ddb.delete_item(TableName=table, Key=key("c"), ConditionExpression="v IN (:one, :two)", ExpressionAttributeValues={":one": {"N": "1"}, ":two": {"N": "2"}})


def test_update_return_values(ddb, table):
    ddb.put_item(
        TableName=table,
        Item={"pk": {"S": "u"}, "a": {"N": "1"}, "b": {"S": "x"}, "l": {"L": [{"N": "1"}]}, "s2": {"SS": ["p", "r"]}},
    )
    common = dict(TableName=table, Key=key("u"), ExpressionAttributeValues={":v": {"N": "5"}})
    out = ddb.update_item(UpdateExpression="SET a = :v", ReturnValues="UPDATED_OLD", **common)
    assert out["Attributes"] == {"a": {"N": "1"}}
    out = ddb.update_item(UpdateExpression="ADD a :v", ReturnValues="UPDATED_NEW", **common)
    assert out["Attributes"] == {"a": {"N": "10"}}
    out = ddb.update_item(UpdateExpression="SET c = :v", ReturnValues="ALL_OLD", **common)
    assert "c" not in out["Attributes"] and out["Attributes"]["a"] == {"N": "10"}
    out = ddb.update_item(UpdateExpression="SET d = :v", ReturnValues="ALL_NEW", **common)
    assert out["Attributes"]["c"] == {"N": "5"} and out["Attributes"]["d"] == {"N": "5"}
    out = ddb.update_item(UpdateExpression="SET d = :v", ReturnValues="NONE", **common)
    assert "Attributes" not in out
    out = ddb.update_item(
        TableName=table,
        Key=key("u"),
        UpdateExpression="SET l = list_append(l, :l), e = if_not_exists(e, :z) REMOVE b ADD s :s DELETE s2 :s2",
        ExpressionAttributeValues={":l": {"L": [{"N": "2"}]}, ":z": {"N": "0"}, ":s": {"SS": ["p", "q"]}, ":s2": {"SS": ["p"]}},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert out["l"] == {"L": [{"N": "1"}, {"N": "2"}]}
    assert out["e"] == {"N": "0"} and "b" not in out
    assert sorted(out["s"]["SS"]) == ["p", "q"] and out["s2"] == {"SS": ["r"]}
    with raises("ValidationException", "Return values set to invalid value"):
        ddb.put_item(TableName=table, Item=key("u"), ReturnValues="ALL_NEW")
    with raises("ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"):
        ddb.update_item(UpdateExpression="SET pk = :v", **common)
    with raises("ValidationException", "An operand in the update expression has an incorrect data type"):
        ddb.update_item(TableName=table, Key=key("u"), UpdateExpression="SET a = l + :v", ExpressionAttributeValues={":v": {"N": "5"}})


def test_update_creates_item(ddb, table):
    out = ddb.update_item(
        TableName=table,
        Key=key("new"),
        UpdateExpression="SET #c = if_not_exists(#c, :zero) + :one",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {"pk": {"S": "new"}, "count": {"N": "1"}}


ENVELOPE = "1 validation error detected: "


# PutItem, UpdateItem and DeleteItem report their expression checks in AWS's request-validation
# envelope; the structural checks (expressions mixed with legacy parameters, maps without
# expressions) stay bare.
@pytest.mark.parametrize(
    "kwargs,message",
    [
        (
            dict(ConditionExpression="a = :v", ExpressionAttributeValues={":v": {"S": "x"}, ":w": {"S": "y"}}),
            ENVELOPE + "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}",
        ),
        (
            dict(ConditionExpression="a = :x", ExpressionAttributeValues={":v": {"S": "x"}}),
            ENVELOPE
            + "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :x",
        ),
        (
            dict(ConditionExpression="#n = :v", ExpressionAttributeValues={":v": {"S": "x"}}),
            ENVELOPE
            + "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #n",
        ),
        (
            dict(ConditionExpression="a = :v", ExpressionAttributeNames={"#n": "x"}, ExpressionAttributeValues={":v": {"S": "x"}}),
            ENVELOPE + "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}",
        ),
        (
            dict(ConditionExpression="name = :v", ExpressionAttributeValues={":v": {"S": "x"}}),
            ENVELOPE + "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name",
        ),
        (
            dict(ConditionExpression="a = = :v", ExpressionAttributeValues={":v": {"S": "x"}}),
            ENVELOPE + 'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :v"',
        ),
        (
            dict(ConditionExpression="foo(a)"),
            ENVELOPE + "Invalid ConditionExpression: Invalid function name; function: foo",
        ),
        (
            dict(ConditionExpression="attribute_exists(a)", ExpressionAttributeValues={}),
            ENVELOPE + "ExpressionAttributeValues must not be empty",
        ),
        (
            dict(ExpressionAttributeValues={":v": {"S": "x"}}),
            "ExpressionAttributeValues can only be specified when using expressions",
        ),
        (
            dict(ConditionExpression="a = :v", ExpressionAttributeValues={":v": {"SS": []}}),
            ENVELOPE + "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            dict(ConditionExpression="attribute_exists(a)", Expected={"a": {"Exists": True, "Value": {"S": "x"}}}),
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
    ],
)
def test_expression_errors(ddb, table, kwargs, message):
    with raises("ValidationException", message):
        ddb.put_item(TableName=table, Item=key("e"), **kwargs)
    if "Expected" not in kwargs:
        with raises("ValidationException", message):
            ddb.delete_item(TableName=table, Key=key("e"), **kwargs)


def test_write_expressions_are_checked_before_the_table(ddb):
    with raises("ValidationException", ENVELOPE + "Value provided in ExpressionAttributeNames unused in expressions: keys: {#c}"):
        ddb.delete_item(
            TableName="no-such-table",
            Key=key("a"),
            ConditionExpression="attribute_not_exists(b)",
            ExpressionAttributeNames={"#c": "c"},
        )


def test_update_expression_errors(ddb, table):
    cases = [
        ("ADD x :one SET a = :one ADD y :one", 'The "ADD" section can only be used once in an update expression;'),
        ("SET a = :one SET b = :one", 'The "SET" section can only be used once in an update expression;'),
        ("REMOVE a SET b = :one REMOVE c", 'The "REMOVE" section can only be used once in an update expression;'),
        (
            "SET a.b = :one, a.b = :one",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, b]",
        ),
    ]
    for expression, detail in cases:
        with raises("ValidationException", ENVELOPE + "Invalid UpdateExpression: " + detail):
            ddb.update_item(
                TableName=table, Key=key("u"), UpdateExpression=expression, ExpressionAttributeValues={":one": {"N": "1"}}
            )
    with raises("ValidationException", ENVELOPE + "Invalid UpdateExpression: The expression can not be empty;"):
        ddb.update_item(TableName=table, Key=key("u"), UpdateExpression="", ExpressionAttributeValues={":o": {"N": "1"}})
    with raises("ValidationException", ENVELOPE + "ExpressionAttributeValues must not be empty"):
        ddb.update_item(TableName=table, Key=key("u"), UpdateExpression="SET a = :v", ExpressionAttributeValues={})
    ddb.put_item(TableName=table, Item={"pk": {"S": "u"}, "s": {"SS": ["a"]}})
    with raises("ValidationException", ENVELOPE + "One or more parameter values were invalid: An string set  may not be empty"):
        ddb.update_item(TableName=table, Key=key("u"), UpdateExpression="ADD s :e", ExpressionAttributeValues={":e": {"SS": []}})
    assert ddb.get_item(TableName=table, Key=key("u"))["Item"]["s"] == {"SS": ["a"]}
    # The key checks are not in the envelope.
    with raises("ValidationException", "The provided key element does not match the schema"):
        ddb.update_item(TableName=table, Key={"pk": {"N": "1"}}, UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": {"N": "1"}})


def test_reads_and_transactions_report_expression_errors_bare(ddb, table):
    unused = "Value provided in ExpressionAttributeNames unused in expressions: keys: {#c}"
    with raises("ValidationException", unused):
        ddb.get_item(TableName=table, Key=key("a"), ProjectionExpression="pk", ExpressionAttributeNames={"#c": "c"})
    with raises("ValidationException", unused):
        ddb.scan(TableName=table, ProjectionExpression="pk", ExpressionAttributeNames={"#c": "c"})
    # Reads check their expressions before looking the table up, too.
    with raises("ValidationException", unused):
        ddb.scan(TableName="no-such-table", ProjectionExpression="pk", ExpressionAttributeNames={"#c": "c"})
    with raises("ValidationException", unused):
        ddb.query(TableName="no-such-table", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}, ExpressionAttributeNames={"#c": "c"})
    with raises("ValidationException", unused):
        # BatchGetItem checks its expressions before looking the table up.
        ddb.batch_get_item(
            RequestItems={"no-such-table": {"Keys": [key("a")], "ProjectionExpression": "pk", "ExpressionAttributeNames": {"#c": "c"}}}
        )
    with raises("ValidationException", unused):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": key("a"), "ConditionExpression": "attribute_not_exists(pk)", "ExpressionAttributeNames": {"#c": "c"}}}
            ]
        )


def test_table_name_may_be_an_arn(ddb):
    table = create(ddb)
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.put_item(TableName=arn, Item={"pk": {"S": "arn"}, "b": {"B": b"\x28\xb5"}})
    ddb.transact_write_items(
        TransactItems=[
            {"Update": {"TableName": arn, "Key": key("arn"), "UpdateExpression": "SET x = :x", "ExpressionAttributeValues": {":x": {"S": "1"}}}},
            {"ConditionCheck": {"TableName": table, "Key": key("other"), "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    )
    ddb.batch_write_item(RequestItems={arn: [{"PutRequest": {"Item": key("arn2")}}]})
    got = ddb.batch_get_item(RequestItems={arn: {"Keys": [key("arn")]}})["Responses"]
    assert got == {arn: [{"pk": {"S": "arn"}, "b": {"B": b"\x28\xb5"}, "x": {"S": "1"}}]}
    assert ddb.get_item(TableName=arn, Key=key("arn2"))["Item"] == key("arn2")
    assert ddb.scan(TableName=arn)["Count"] == 2
    other_account = arn.replace(arn.split(":")[4], "111122223333")
    with raises("ResourceNotFoundException", "Requested resource not found"):
        ddb.get_item(TableName=other_account, Key=key("arn"))


def test_return_consumed_capacity(ddb, table):
    out = ddb.put_item(TableName=table, Item={"pk": {"S": "cap"}, "x": {"S": "y" * 1500}}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 2.0}
    out = ddb.get_item(TableName=table, Key=key("cap"), ReturnConsumedCapacity="INDEXES", ConsistentRead=True)
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert out["ConsumedCapacity"]["Table"] == {"CapacityUnits": 1.0}
    out = ddb.get_item(TableName=table, Key=key("cap"), ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 0.5


def test_legacy_parameters(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "leg"}, "v": {"N": "1"}, "w": {"S": "x"}}, Expected={"pk": {"Exists": False}})
    with raises("ConditionalCheckFailedException"):
        ddb.put_item(TableName=table, Item={"pk": {"S": "leg"}}, Expected={"pk": {"Exists": False}})
    ddb.update_item(
        TableName=table,
        Key=key("leg"),
        AttributeUpdates={"v": {"Action": "ADD", "Value": {"N": "2"}}, "w": {"Action": "DELETE"}, "z": {"Value": {"S": "new"}}},
        Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}},
    )
    got = ddb.get_item(TableName=table, Key=key("leg"), AttributesToGet=["v", "w", "z"])["Item"]
    assert got == {"v": {"N": "3"}, "z": {"S": "new"}}
    with raises("ConditionalCheckFailedException"):
        ddb.delete_item(
            TableName=table,
            Key=key("leg"),
            Expected={"v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}, "z": {"Exists": True, "Value": {"S": "new"}}},
            ConditionalOperator="AND",
        )
    ddb.delete_item(
        TableName=table,
        Key=key("leg"),
        Expected={"v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}, "z": {"Exists": True, "Value": {"S": "new"}}},
        ConditionalOperator="OR",
    )


def test_sixteen_concurrent_conditional_puts(ddb, table):
    def put(i):
        try:
            ddb.put_item(TableName=table, Item={"pk": {"S": "race"}, "who": {"N": str(i)}}, ConditionExpression="attribute_not_exists(pk)")
            return "ok"
        except ClientError as e:
            return error(type("I", (), {"value": e})())[0]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(put, range(16)))
    assert results.count("ok") == 1, results
    assert results.count("ConditionalCheckFailedException") == 15, results


def test_hostile_nesting_is_a_validation_error(ddb, table):
    deep = "(" * 1000 + "a = :v" + ")" * 1000
    with raises("ValidationException"):
        ddb.put_item(TableName=table, Item=key("deep"), ConditionExpression=deep[:4000], ExpressionAttributeValues={":v": {"S": "x"}})
    value = {"S": "x"}
    for _ in range(40):
        value = {"L": [value]}
    with raises("ValidationException", "One or more parameter values were invalid: Nesting Levels have exceeded supported limits"):
        ddb.put_item(TableName=table, Item={"pk": {"S": "deep"}, "v": value})
