"""Lambda invoked by other services: SNS subscriptions and Secrets Manager rotation.

The functions reach our S3 and Secrets Manager through `AWS_ENDPOINT_URL`, as real functions
reach AWS, and leave what they saw in S3 for the test to read.
"""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from .lambda_fixtures.zips import make_zip
from .rsutil import unique

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture
def lam(client):
    return client("lambda")


@pytest.fixture
def s3(client):
    return client("s3")


def create_function(lam, name: str, code: str, **kw) -> str:
    out = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler", Timeout=30,
        Code={"ZipFile": make_zip({"index.py": code})}, **kw,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    return out["FunctionArn"]


def wait_for_object(s3, bucket: str, key: str, timeout: float = 20.0) -> bytes:
    deadline = time.time() + timeout
    while True:
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as e:
            if e.response["Error"]["Code"] != "NoSuchKey" or time.time() > deadline:
                raise
        time.sleep(0.2)


SNS_RECORDER = """
import boto3, json, os
def handler(event, context):
    record = event["Records"][0]
    boto3.client("s3").put_object(
        Bucket=os.environ["BUCKET"], Key=record["Sns"]["MessageId"], Body=json.dumps(event).encode())
    return "ok"
"""


def test_sns_delivers_the_published_message_to_a_subscribed_function(client, lam, s3):
    sns = client("sns")
    bucket = unique("sns-lambda")
    s3.create_bucket(Bucket=bucket)
    name = unique("sns-fn")
    arn = create_function(lam, name, SNS_RECORDER, Environment={"Variables": {"BUCKET": bucket}})
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    try:
        sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn, ReturnSubscriptionArn=True)
        message_id = sns.publish(
            TopicArn=topic, Message="hello lambda", Subject="greeting",
            MessageAttributes={"colour": {"DataType": "String", "StringValue": "blue"}},
        )["MessageId"]
        event = json.loads(wait_for_object(s3, bucket, message_id))
        assert len(event["Records"]) == 1
        record = event["Records"][0]
        assert record["EventSource"] == "aws:sns"
        assert record["EventVersion"] == "1.0"
        assert record["EventSubscriptionArn"] == sub["SubscriptionArn"]
        note = record["Sns"]
        assert note["Type"] == "Notification"
        assert note["MessageId"] == message_id
        assert note["TopicArn"] == topic
        assert note["Subject"] == "greeting"
        assert note["Message"] == "hello lambda"
        assert note["MessageAttributes"] == {"colour": {"Type": "String", "Value": "blue"}}
    finally:
        sns.delete_topic(TopicArn=topic)
        lam.delete_function(FunctionName=name)


# A rotation function in the shape of AWS's templates: createSecret stages a new value as
# AWSPENDING under the token, finishSecret moves AWSCURRENT to it. Each step leaves its event in S3.
ROTATOR = """
import boto3, json, os
def handler(event, context):
    sm = boto3.client("secretsmanager")
    s3 = boto3.client("s3")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    s3.put_object(Bucket=os.environ["BUCKET"], Key=f"{token}/{step}", Body=json.dumps(event).encode())
    if step == "createSecret":
        sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        try:
            sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except sm.exceptions.ResourceNotFoundException:
            sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString="rotated-" + token,
                                VersionStages=["AWSPENDING"])
    elif step == "finishSecret":
        versions = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
        current = next(v for v, stages in versions.items() if "AWSCURRENT" in stages)
        if current != token:
            sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                           MoveToVersionId=token, RemoveFromVersionId=current)
"""


def test_rotate_secret_runs_the_four_steps_and_promotes_the_new_version(client, lam, s3):
    sm = client("secretsmanager")
    bucket = unique("rotation")
    s3.create_bucket(Bucket=bucket)
    name = unique("rotator")
    fn_arn = create_function(lam, name, ROTATOR, Environment={"Variables": {"BUCKET": bucket}})
    secret = sm.create_secret(Name=unique("secret"), SecretString="original")
    try:
        out = sm.rotate_secret(SecretId=secret["ARN"], RotationLambdaARN=fn_arn,
                               RotationRules={"AutomaticallyAfterDays": 30})
        token = out["VersionId"]
        assert token != secret["VersionId"]
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            event = json.loads(wait_for_object(s3, bucket, f"{token}/{step}"))
            assert event["Step"] == step
            assert event["SecretId"] == secret["ARN"]
            assert event["ClientRequestToken"] == token
        deadline = time.time() + 20
        while sm.get_secret_value(SecretId=secret["ARN"])["VersionId"] != token and time.time() < deadline:
            time.sleep(0.2)
        current = sm.get_secret_value(SecretId=secret["ARN"])
        assert current["VersionId"] == token
        assert current["SecretString"] == "rotated-" + token
        previous = sm.get_secret_value(SecretId=secret["ARN"], VersionStage="AWSPREVIOUS")
        assert previous["VersionId"] == secret["VersionId"] and previous["SecretString"] == "original"
        described = sm.describe_secret(SecretId=secret["ARN"])
        assert described["RotationEnabled"] is True
        assert described["RotationLambdaARN"] == fn_arn
        assert "LastRotatedDate" in described
        assert described["VersionIdsToStages"][token] == ["AWSCURRENT"]
    finally:
        sm.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
        lam.delete_function(FunctionName=name)


STREAM_RECORDER = """
import boto3, json, os
def handler(event, context):
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=key, Body=json.dumps(record).encode())
"""


@pytest.mark.parametrize("start", ["TRIM_HORIZON", "LATEST"])
def test_dynamodb_stream_mapping_delivers_insert_records(client, lam, s3, start):
    ddb = client("dynamodb")
    bucket = unique("stream-lambda")
    s3.create_bucket(Bucket=bucket)
    table = unique("streamed")
    stream_arn = ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}, "v": {"N": "0"}})
    name = unique("stream-fn")
    create_function(lam, name, STREAM_RECORDER, Environment={"Variables": {"BUCKET": bucket}})
    mapping = lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream_arn, StartingPosition=start, BatchSize=10)
    try:
        assert mapping["State"] == "Creating"
        assert mapping["EventSourceArn"] == stream_arn
        assert mapping["StartingPosition"] == start
        assert mapping["BatchSize"] == 10
        got = lam.get_event_source_mapping(UUID=mapping["UUID"])
        assert got["State"] == "Enabled" and got["FunctionArn"].endswith(f":function:{name}")
        ddb.put_item(TableName=table, Item={"pk": {"S": "after"}, "v": {"N": "1"}})
        record = json.loads(wait_for_object(s3, bucket, "after"))
        assert record["eventName"] == "INSERT"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"] == stream_arn
        assert record["awsRegion"] == "us-east-1"
        assert record["dynamodb"]["NewImage"] == {"pk": {"S": "after"}, "v": {"N": "1"}}
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        # TRIM_HORIZON also delivers what was written before the mapping; LATEST does not.
        if start == "TRIM_HORIZON":
            assert json.loads(wait_for_object(s3, bucket, "before"))["eventName"] == "INSERT"
        else:
            with pytest.raises(ClientError) as e:
                s3.get_object(Bucket=bucket, Key="before")
            assert e.value.response["Error"]["Code"] == "NoSuchKey"
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        lam.delete_function(FunctionName=name)
        ddb.delete_table(TableName=table)


def test_dynamodb_stream_mapping_needs_a_starting_position(client, lam):
    ddb = client("dynamodb")
    table = unique("nostart")
    stream_arn = ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]["LatestStreamArn"]
    name = unique("nostart-fn")
    create_function(lam, name, STREAM_RECORDER)
    try:
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    finally:
        lam.delete_function(FunctionName=name)
        ddb.delete_table(TableName=table)
