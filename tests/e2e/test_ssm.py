"""SSM Parameter Store end to end: types, versions, tiers, patterns, selectors, paths, filters,
history, labels, tags and AWS's errors for each."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def ssm(client):
    return client("ssm")


@pytest.fixture
def root():
    """A fresh path so tests on the shared server never see each other's parameters."""
    return f"/t{uuid.uuid4().hex[:10]}"


def error(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err["Error"]["Code"], err["Error"]["Message"]


def test_put_get_versions_and_overwrite(ssm, root):
    name = f"{root}/db/host"
    out = ssm.put_parameter(Name=name, Value="v1", Type="String", Description="the host")
    assert (out["Version"], out["Tier"]) == (1, "Standard")
    p = ssm.get_parameter(Name=name)["Parameter"]
    assert p["Name"] == name and p["Value"] == "v1" and p["Type"] == "String" and p["Version"] == 1
    assert p["ARN"] == f"arn:aws:ssm:us-east-1:000000000000:parameter{name}"
    assert p["DataType"] == "text" and "LastModifiedDate" in p
    assert error(ssm.put_parameter, Name=name, Value="v2", Type="String") == (
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
    )
    # Type may be left out on overwrite; the description carries over.
    assert ssm.put_parameter(Name=name, Value="v2", Overwrite=True)["Version"] == 2
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "v2"
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    assert [(m["Name"], m["Version"], m["Description"]) for m in meta] == [(name, 2, "the host")]
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Value"] == "v1"
    assert ssm.get_parameter(Name=f"{name}:1")["Parameter"]["Selector"] == ":1"
    code, msg = error(ssm.get_parameter, Name=f"{name}:9")
    assert code == "ParameterVersionNotFound" and "version 9" in msg


def test_missing_parameter_and_type_required(ssm, root):
    assert error(ssm.get_parameter, Name=f"{root}/nope") == ("ParameterNotFound", "")
    assert error(ssm.delete_parameter, Name=f"{root}/nope")[0] == "ParameterNotFound"
    assert error(ssm.put_parameter, Name=f"{root}/x", Value="v") == (
        "ValidationException",
        "A parameter type is required when you create a parameter.",
    )


def test_secure_string_and_string_list(ssm, root):
    ssm.put_parameter(Name=f"{root}/secret", Value="hunter2", Type="SecureString")
    hidden = ssm.get_parameter(Name=f"{root}/secret")["Parameter"]
    assert hidden["Type"] == "SecureString" and hidden["Value"] != "hunter2"
    shown = ssm.get_parameter(Name=f"{root}/secret", WithDecryption=True)["Parameter"]
    assert shown["Value"] == "hunter2"
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [f"{root}/secret"]}])["Parameters"]
    assert meta[0]["KeyId"] == "alias/aws/ssm"
    ssm.put_parameter(Name=f"{root}/list", Value="a,b,c", Type="StringList")
    assert ssm.get_parameter(Name=f"{root}/list")["Parameter"]["Value"] == "a,b,c"
    code, _ = error(ssm.put_parameter, Name=f"{root}/k", Value="v", Type="String", KeyId="alias/mine")
    assert code == "ValidationException"


def test_allowed_pattern(ssm, root):
    code, msg = error(ssm.put_parameter, Name=f"{root}/n", Value="abc", Type="String", AllowedPattern=r"^\d+$")
    assert code == "ParameterPatternMismatchException"
    assert msg == r"Parameter value, cannot be validated against allowedPattern: ^\d+$"
    assert ssm.put_parameter(Name=f"{root}/n", Value="123", Type="String", AllowedPattern=r"\d+")["Version"] == 1


@pytest.mark.parametrize(
    "name,code",
    [
        ("a/b", "ValidationException"),
        ("/a b", "ValidationException"),
        ("awsfoo", "ValidationException"),
        ("/SSM/x", "ValidationException"),
        ("/aws/x", "AccessDeniedException"),
        ("/" + "/".join(f"l{i}" for i in range(16)), "HierarchyLevelLimitExceededException"),
    ],
)
def test_invalid_names(ssm, name, code):
    assert error(ssm.put_parameter, Name=name, Value="v", Type="String")[0] == code


MALFORMED = (
    "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist of "
    "sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following "
    "3 symbols .-_"
)


def test_invalid_name_messages(ssm):
    reserved = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive)."
    assert error(ssm.put_parameter, Name="ssm_test", Value="v", Type="String") == ("ValidationException", reserved)
    assert error(ssm.put_parameter, Name="AWS_TEST", Value="v", Type="String") == ("ValidationException", reserved)
    assert error(ssm.put_parameter, Name="/SSM/a/b", Value="v", Type="String") == ("ValidationException", MALFORMED)
    assert error(ssm.put_parameter, Name="/a/b@c", Value="v", Type="String") == ("ValidationException", MALFORMED)
    assert error(ssm.put_parameter, Name="/aws_test/a", Value="v", Type="String") == (
        "AccessDeniedException",
        "No access to reserved parameter name: /aws_test/a.",
    )
    # GetParameter refuses a malformed name rather than answering ParameterNotFound.
    assert error(ssm.get_parameter, Name="xxx/yyy") == ("ValidationException", MALFORMED)
    assert error(ssm.get_parameter, Name="{test}-test") == ("ValidationException", MALFORMED)


@pytest.mark.parametrize("created", ["/with-slash", "without-slash"])
@pytest.mark.parametrize("stripped", [True, False])
def test_top_level_name_with_or_without_slash(ssm, created, stripped):
    # AWS treats `/x` and `x` as one parameter (one ARN), whichever form created it.
    suffix = uuid.uuid4().hex[:8]
    name = f"{created}-{suffix}"
    other = name.lstrip("/") if stripped else "/" + name.lstrip("/")
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    arn = ssm.get_parameter(Name=name)["Parameter"]["ARN"]
    assert arn == f"arn:aws:ssm:us-east-1:000000000000:parameter/{name.lstrip('/')}"
    got = ssm.get_parameter(Name=other)["Parameter"]
    assert (got["ARN"], got["Value"]) == (arn, "v1")
    assert len(ssm.get_parameters(Names=[other])["Parameters"]) == 1
    assert error(ssm.put_parameter, Name=other, Value="v2", Type="String")[0] == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name=other, Value="v2", Type="String", Overwrite=True)["Version"] == 2
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "v2"
    assert [h["Version"] for h in ssm.get_parameter_history(Name=other)["Parameters"]] == [1, 2]
    ssm.label_parameter_version(Name=other, Labels=["prod"])
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Version"] == 2
    for resource, key in ((name, "created"), (other, "other")):
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=resource, Tags=[{"Key": key, "Value": "v"}])
    for resource in (name, other):
        tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=resource)["TagList"]
        assert sorted(t["Key"] for t in tags) == ["created", "other"]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=other, TagKeys=["created"])
    assert [t["Key"] for t in ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]] == ["other"]
    ssm.delete_parameter(Name=other)
    assert ssm.get_parameters(Names=[name, other])["Parameters"] == []
    ssm.put_parameter(Name=name, Value="v", Type="String")
    assert ssm.delete_parameters(Names=[other])["DeletedParameters"] == [other]
    assert error(ssm.get_parameter, Name=name) == ("ParameterNotFound", "")


def test_fifteen_levels_allowed(ssm, root):
    name = root + "".join(f"/l{i}" for i in range(14))
    assert ssm.put_parameter(Name=name, Value="v", Type="String")["Version"] == 1


def test_tags_with_overwrite_rejected(ssm, root):
    code, msg = error(
        ssm.put_parameter, Name=f"{root}/x", Value="v", Type="String", Overwrite=True, Tags=[{"Key": "k", "Value": "v"}]
    )
    assert code == "ValidationException" and msg.startswith("Invalid request: tags and overwrite can't be used together.")


def test_tiers(ssm, root):
    big = "x" * 5000
    code, msg = error(ssm.put_parameter, Name=f"{root}/big", Value=big, Type="String")
    assert code == "ValidationException" and msg.startswith("Standard tier parameters support a maximum parameter value")
    assert ssm.put_parameter(Name=f"{root}/big", Value=big, Type="String", Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    assert ssm.put_parameter(Name=f"{root}/small", Value="s", Type="String", Tier="Intelligent-Tiering")["Tier"] == "Standard"
    ssm.put_parameter(Name=f"{root}/adv", Value="s", Type="String", Tier="Advanced")
    code, msg = error(ssm.put_parameter, Name=f"{root}/adv", Value="t", Type="String", Tier="Standard", Overwrite=True)
    assert code == "ValidationException" and "can't downgrade" in msg
    assert ssm.put_parameter(Name=f"{root}/adv", Value="t", Overwrite=True)["Tier"] == "Advanced"


def test_enum_validation(ssm, root):
    code, msg = error(ssm.put_parameter, Name=f"{root}/e", Value="v", Type="Nope")
    assert code == "ValidationException"
    assert "Member must satisfy enum value set: [String, StringList, SecureString]" in msg


def test_get_parameters_reports_invalid(ssm, root):
    ssm.put_parameter(Name=f"{root}/a", Value="1", Type="String")
    ssm.put_parameter(Name=f"{root}/b", Value="2", Type="String")
    out = ssm.get_parameters(Names=[f"{root}/a", f"{root}/b", f"{root}/missing", f"{root}/a:7"])
    assert sorted(p["Value"] for p in out["Parameters"]) == ["1", "2"]
    assert sorted(out["InvalidParameters"]) == sorted([f"{root}/missing", f"{root}/a:7"])
    code, _ = error(ssm.get_parameters, Names=[f"{root}/{i}" for i in range(11)])
    assert code == "ValidationException"


def test_get_parameters_by_path(ssm, root):
    for name in ["/a", "/a/b", "/a/b/c", "/b", "/b/x"]:
        ssm.put_parameter(Name=root + name, Value=name, Type="SecureString" if name == "/b" else "String")
    one = ssm.get_parameters_by_path(Path=root)["Parameters"]
    assert sorted(p["Name"] for p in one) == [root + "/a", root + "/b"]
    every = ssm.get_parameters_by_path(Path=root + "/", Recursive=True)["Parameters"]
    assert len(every) == 5
    assert [p["Name"] for p in ssm.get_parameters_by_path(Path=root + "/a", Recursive=True)["Parameters"]] == [
        root + "/a/b",
        root + "/a/b/c",
    ]
    secure = ssm.get_parameters_by_path(
        Path=root, ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}], WithDecryption=True
    )["Parameters"]
    assert [(p["Name"], p["Value"]) for p in secure] == [(root + "/b", "/b")]
    # Pages of two, each NextToken resuming where the last page stopped.
    names, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = ssm.get_parameters_by_path(Path=root, Recursive=True, MaxResults=2, **kw)
        assert len(page["Parameters"]) <= 2
        names += [p["Name"] for p in page["Parameters"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == sorted(root + n for n in ["/a", "/a/b", "/a/b/c", "/b", "/b/x"])
    code, msg = error(ssm.get_parameters_by_path, Path="no-slash")
    assert code == "ValidationException" and msg.startswith("The parameter doesn't meet the parameter name requirements.")
    code, msg = error(ssm.get_parameters_by_path, Path=root, ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert code == "InvalidFilterKey"
    assert error(ssm.get_parameters_by_path, Path=root, NextToken="garbage")[0] == "InvalidNextToken"


def test_describe_parameters_filters(ssm, root):
    ssm.put_parameter(Name=f"{root}/app/one", Value="1", Type="String", Tags=[{"Key": "team", "Value": "red"}])
    ssm.put_parameter(Name=f"{root}/app/two", Value="2", Type="StringList")
    ssm.put_parameter(Name=f"{root}/app/deep/three", Value="3", Type="String", Tier="Advanced")

    def names(**kw):
        return sorted(p["Name"] for p in ssm.describe_parameters(**kw)["Parameters"])

    assert names(ParameterFilters=[{"Key": "Path", "Values": [f"{root}/app"]}]) == [f"{root}/app/one", f"{root}/app/two"]
    assert len(names(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [f"{root}/app"]}])) == 3
    assert names(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"{root}/app/t"]}]) == [
        f"{root}/app/two"
    ]
    assert names(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]}, {"Key": "Type", "Values": ["StringList"]}]
    ) == [f"{root}/app/two"]
    assert names(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]}, {"Key": "Tier", "Values": ["Advanced"]}]
    ) == [f"{root}/app/deep/three"]
    assert names(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]}, {"Key": "tag:team", "Values": ["red"]}]
    ) == [f"{root}/app/one"]
    assert names(Filters=[{"Key": "Name", "Values": [f"{root}/app/o"]}]) == [f"{root}/app/one"]
    code, msg = error(
        ssm.describe_parameters,
        Filters=[{"Key": "Name", "Values": ["x"]}],
        ParameterFilters=[{"Key": "Name", "Values": ["x"]}],
    )
    assert (code, msg) == ("ValidationException", "You can use either Filters or ParameterFilters in a single request.")
    code, _ = error(ssm.describe_parameters, ParameterFilters=[{"Key": "Path", "Option": "Equals", "Values": [root]}])
    assert code == "InvalidFilterOption"
    code, _ = error(ssm.describe_parameters, ParameterFilters=[{"Key": "Label", "Values": ["x"]}])
    assert code == "InvalidFilterKey"
    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]}], PaginationConfig={"PageSize": 1}
    )
    assert [len(p["Parameters"]) for p in pages] == [1, 1, 1]


def test_top_level_names_lie_under_the_root_path(ssm):
    tag = uuid.uuid4().hex[:8]
    bare, slashed, nested = f"bare{tag}", f"/slashed{tag}", f"/nested{tag}/child"
    for name in (bare, slashed, nested):
        ssm.put_parameter(Name=name, Value=name, Type="String")

    def by_path(**kw):
        names = []
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/", **kw):
            names += [p["Name"] for p in page["Parameters"]]
        return names

    one_level = by_path()
    assert bare in one_level and slashed in one_level and nested not in one_level
    assert {bare, slashed, nested} <= set(by_path(Recursive=True))

    def described(filters):
        names = []
        for page in ssm.get_paginator("describe_parameters").paginate(ParameterFilters=filters):
            names += [p["Name"] for p in page["Parameters"]]
        return names

    at_root = described([{"Key": "Path", "Values": ["/"]}])
    assert bare in at_root and slashed in at_root and nested not in at_root
    # Contains sees a top-level name with its slash; Equals and BeginsWith without it.
    assert described([{"Key": "Name", "Option": "Contains", "Values": [f"/bare{tag}"]}]) == [bare]
    assert described([{"Key": "Name", "Values": [f"/bare{tag}"]}]) == [bare]
    assert described([{"Key": "Name", "Option": "BeginsWith", "Values": [f"slashed{tag}"]}]) == [slashed]
    for name in (bare, slashed, nested):
        ssm.delete_parameter(Name=name)


def test_describe_filter_errors(ssm):
    def fails(filters):
        return error(ssm.describe_parameters, ParameterFilters=filters)

    assert fails([{"Key": "Name", "Values": ["a"]}, {"Key": "Name", "Values": ["b"]}]) == (
        "InvalidFilterKey",
        "The following filter is duplicated in the request: Name. A request can contain only one occurrence of a specific filter.",
    )
    assert fails([{"Key": "Type", "Values": ["Str"]}]) == (
        "InvalidFilterValue",
        "The following filter value is not valid: Str. Valid values include: [String, StringList, SecureString].",
    )
    assert fails([{"Key": "Tier", "Values": ["Gold"]}]) == (
        "InvalidFilterValue",
        "The following filter value is not valid: Gold. Valid values include: [Standard, Advanced, Intelligent-Tiering].",
    )
    assert fails([{"Key": "Path", "Values": ["/aws"]}]) == (
        "ValidationException",
        "Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). "
        "When using global parameters, please specify within a global namespace.",
    )
    # AWS's public namespace may be listed by path (RustStack holds none of its parameters).
    assert ssm.get_parameters_by_path(Path="/aws/service/global-infrastructure/regions")["Parameters"] == []


def test_delete_parameters(ssm, root):
    ssm.put_parameter(Name=f"{root}/x", Value="1", Type="String")
    ssm.put_parameter(Name=f"{root}/y", Value="1", Type="String")
    out = ssm.delete_parameters(Names=[f"{root}/x", f"{root}/y", f"{root}/z"])
    assert sorted(out["DeletedParameters"]) == [f"{root}/x", f"{root}/y"]
    assert out["InvalidParameters"] == [f"{root}/z"]
    ssm.put_parameter(Name=f"{root}/w", Value="1", Type="String")
    ssm.delete_parameter(Name=f"{root}/w")
    assert error(ssm.get_parameter, Name=f"{root}/w")[0] == "ParameterNotFound"


def test_history_and_labels(ssm, root):
    name = f"{root}/h"
    for i in range(1, 4):
        ssm.put_parameter(Name=name, Value=f"v{i}", Type="String", Overwrite=True)
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, "v1"), (2, "v2"), (3, "v3")]
    assert history[0]["LastModifiedUser"] == "arn:aws:iam::000000000000:root"
    page = ssm.get_parameter_history(Name=name, MaxResults=2)
    assert len(page["Parameters"]) == 2 and "NextToken" in page
    rest = ssm.get_parameter_history(Name=name, MaxResults=2, NextToken=page["NextToken"])
    assert [h["Version"] for h in rest["Parameters"]] == [3] and "NextToken" not in rest

    out = ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["prod", "1bad", "awsx"])
    assert out["ParameterVersion"] == 1 and sorted(out["InvalidLabels"]) == ["1bad", "awsx"]
    p = ssm.get_parameter(Name=f"{name}:prod")["Parameter"]
    assert (p["Value"], p["Selector"], p["Name"]) == ("v1", ":prod", name)
    # Moving the label to the latest version (no ParameterVersion given).
    assert ssm.label_parameter_version(Name=name, Labels=["prod"])["ParameterVersion"] == 3
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Value"] == "v3"
    labels = {h["Version"]: h["Labels"] for h in ssm.get_parameter_history(Name=name)["Parameters"]}
    assert labels == {1: [], 2: [], 3: ["prod"]}
    by_label = ssm.get_parameters_by_path(Path=root, ParameterFilters=[{"Key": "Label", "Values": ["prod"]}])
    assert [p["Value"] for p in by_label["Parameters"]] == ["v3"]
    assert error(ssm.get_parameter, Name=f"{name}:nolabel")[0] == "ParameterVersionNotFound"
    code, msg = error(ssm.label_parameter_version, Name=name, ParameterVersion=2, Labels=[f"l{i}" for i in range(11)])
    assert code == "ValidationException" and "Member must have length less than or equal to 10" in msg
    assert error(ssm.label_parameter_version, Name=name, ParameterVersion=9, Labels=["x"])[0] == "ParameterVersionNotFound"
    out = ssm.unlabel_parameter_version(Name=name, ParameterVersion=3, Labels=["prod", "ghost"])
    assert (out["RemovedLabels"], out["InvalidLabels"]) == (["prod"], ["ghost"])


def test_label_limit(ssm, root):
    name = f"{root}/ll"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    ssm.label_parameter_version(Name=name, Labels=[f"l{i}" for i in range(10)])
    code, msg = error(ssm.label_parameter_version, Name=name, Labels=["eleven"])
    assert code == "ParameterVersionLabelLimitExceeded"


def test_tags(ssm, root):
    name = f"{root}/tagged"
    ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "a", "Value": "1"}])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "3"), ("b", "2")]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["a"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == [{"Key": "b", "Value": "2"}]
    assert error(ssm.list_tags_for_resource, ResourceType="Parameter", ResourceId=f"{root}/none")[0] == "InvalidResourceId"
    code, _ = error(
        ssm.add_tags_to_resource,
        ResourceType="Parameter",
        ResourceId=name,
        Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)],
    )
    assert code == "TooManyTagsError"


def test_policies_need_advanced_tier(ssm, root):
    policy = json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2099-01-01T00:00:00.000Z"}}])
    ssm.put_parameter(Name=f"{root}/p", Value="v", Type="String", Tier="Advanced", Policies=policy)
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [f"{root}/p"]}])["Parameters"][0]
    assert meta["Policies"][0]["PolicyType"] == "Expiration"
    code, _ = error(ssm.put_parameter, Name=f"{root}/q", Value="v", Type="String", Policies="not json")
    assert code == "InvalidPolicyAttributeException"


def test_regions_are_separate(client, root):
    east, west = client("ssm"), client("ssm", region_name="eu-west-1")
    east.put_parameter(Name=f"{root}/r", Value="v", Type="String")
    assert error(west.get_parameter, Name=f"{root}/r")[0] == "ParameterNotFound"
    p = east.get_parameter(Name=f"arn:aws:ssm:us-east-1:000000000000:parameter{root}/r")["Parameter"]
    assert p["Value"] == "v"


def test_hundred_versions_kept(ssm, root):
    name = f"{root}/many"
    for i in range(100):
        ssm.put_parameter(Name=name, Value=str(i), Type="String", Overwrite=True)
    # The 101st version drops the oldest.
    assert ssm.put_parameter(Name=name, Value="100", Overwrite=True)["Version"] == 101
    history = ssm.get_parameter_history(Name=name, MaxResults=50)["Parameters"]
    assert history[0]["Version"] == 2
    assert error(ssm.get_parameter, Name=f"{name}:1")[0] == "ParameterVersionNotFound"
    # A labelled oldest version cannot be dropped.
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["keep"])
    code, msg = error(ssm.put_parameter, Name=name, Value="x", Overwrite=True)
    assert code == "ParameterMaxVersionLimitExceeded" and "Version 2, the oldest version, can't be deleted" in msg


def test_data_types(ssm, root):
    assert ssm.put_parameter(Name=f"{root}/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    assert ssm.get_parameter(Name=f"{root}/ami")["Parameter"]["DataType"] == "aws:ec2:image"
    assert error(ssm.put_parameter, Name=f"{root}/ami2", Value="nope", Type="String", DataType="aws:ec2:image")[0] == (
        "ValidationException"
    )
    code, msg = error(ssm.put_parameter, Name=f"{root}/t", Value="v", Type="String", DataType="Text")
    assert (code, msg) == ("ValidationException", "The following data type is not supported: Text (Data type names are all lowercase.)")
