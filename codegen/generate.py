#!/usr/bin/env python3
"""Generates crates/<svc>/src/generated.rs from botocore's service models.

Reads codegen/services/<service>.toml and botocore's `data/<service>/<newest version>/service-2.json.gz`,
writes one rustfmt-formatted `generated.rs` per service (plus Cargo.toml and lib.rs for a new
crate). `--check` writes nothing and exits 1 naming the files that are stale.
See codegen/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

BOTOCORE_VERSION = "1.44.8"
ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "codegen" / "services"

PROTOCOLS = {
    "json": "AwsJson",
    "query": "AwsQuery",
    "rest-xml": "RestXml",
    "rest-json": "RestJson",
}
LOCATIONS = {
    None: "Body",
    "uri": "Uri",
    "querystring": "Query",
    "header": "Header",
    "headers": "Headers",
    "statusCode": "StatusCode",
}
TIMESTAMP_FORMATS = {
    "iso8601": "Iso8601",
    "rfc822": "Rfc822",
    "unixTimestamp": "UnixTimestamp",
}
SCALAR_TYPES = {
    "string": "String",
    "integer": "i32",
    "long": "i64",
    "float": "f32",
    "double": "f64",
    "boolean": "bool",
    "blob": "ruststack_core::Blob",
    "timestamp": "ruststack_core::Timestamp",
}

# Struct names are the shape name with its first letter uppercased. Shapes whose name would shadow
# a prelude/std item that generated code (or serde's derive) names unqualified get `Shape`
# appended (S3 has an `Error` shape). Other names cannot collide: we never import into `types`.
RESERVED_TYPE_NAMES = {"Box", "Default", "Error", "Option", "Result", "Self", "String", "Vec"}

RUST_KEYWORDS = {
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do",
    "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in",
    "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe",
    "unsized", "use", "virtual", "where", "while", "yield",
}
# Keywords that cannot be raw identifiers.
NON_RAW_KEYWORDS = {"crate", "self", "Self", "super", "_"}

# Acronyms that AWS runs together (`SSEKMSKeyId`, `SSES3`): an all-caps word made only of these
# is split into them, so the field is `sse_kms_key_id` rather than `ssekms_key_id`.
RUN_TOGETHER_ACRONYMS = {"SSE", "KMS", "S3", "ACL", "ARN", "ID", "MFA"}

WORD_RE = re.compile(
    r"[A-Z]{2,}s(?![a-z])"  # plural acronym: ARNs, IDs
    r"|[A-Z]+(?=[A-Z][a-z])"  # acronym before a capitalised word: the `E` of ETag
    r"|[A-Z]?[a-z]+"  # word
    r"|[A-Z]+"  # trailing acronym
    r"|[0-9]+"
)


def split_acronym(word: str) -> list[str]:
    """Splits an all-caps word into known acronyms when it consists of two or more of them."""
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for a in RUN_TOGETHER_ACRONYMS:
            if word.startswith(a, i) and best[i + len(a)] is None:
                best[i + len(a)] = best[i] + [a]
    parts = best[n]
    return parts if parts and len(parts) > 1 else [word]


def snake_case(name: str) -> str:
    words: list[str] = []
    for w in WORD_RE.findall(name):
        # Digits belong to the word before them: Ipv6, MD5, CRC64, S3.
        if w.isdigit() and words:
            words[-1] += w
        else:
            words.append(w)
    out: list[str] = []
    for w in words:
        out.extend(split_acronym(w) if w.isupper() else [w])
    return "_".join(w.lower() for w in out) or "field"


def field_ident(name: str) -> str:
    if name in NON_RAW_KEYWORDS:
        return name + "_"
    if name in RUST_KEYWORDS:
        return "r#" + name
    return name


def lit(s: str) -> str:
    """A Rust string literal; raw when the text holds quotes, backslashes or control chars."""
    if re.fullmatch(r"[ -!#-\[\]-~]*", s):
        return f'"{s}"'
    hashes = "#"
    while f'"{hashes}' in s:
        hashes += "#"
    return f'r{hashes}"{s}"{hashes}'


def int_bound(v) -> str:
    if v is None:
        return "None"
    v = max(min(round(v), 2**63 - 1), -(2**63))
    return f"Some({v})"


def range_lit(shape: dict) -> str:
    lo, hi = shape.get("min"), shape.get("max")
    if lo is None and hi is None:
        return "Range::NONE"
    return f"Range {{ min: {int_bound(lo)}, max: {int_bound(hi)} }}"


def load_model(service_dir: str) -> tuple[dict, str]:
    try:
        import botocore
    except ImportError:
        sys.exit("generate.py: botocore is not installed: pip install -r codegen/requirements.txt")
    if botocore.__version__ != BOTOCORE_VERSION:
        sys.exit(
            f"generate.py: botocore {botocore.__version__} installed, {BOTOCORE_VERSION} pinned: "
            "pip install -r codegen/requirements.txt"
        )
    base = Path(botocore.__file__).parent / "data" / service_dir
    # API versions are ISO dates, so the newest sorts last.
    versions = sorted(d.name for d in base.iterdir() if (d / "service-2.json.gz").exists())
    if not versions:
        sys.exit(f"generate.py: no service-2.json.gz under {base}")
    with gzip.open(base / versions[-1] / "service-2.json.gz", "rt", encoding="utf-8") as f:
        return json.load(f), versions[-1]


def strongly_connected(graph: dict[str, set[str]]) -> dict[str, int]:
    """Tarjan's algorithm (iterative): node -> component number."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                c = len(set(comp.values()))
                while True:
                    n = stack.pop()
                    on_stack.discard(n)
                    comp[n] = c
                    if n == node:
                        break
    return comp


class ServiceGen:
    def __init__(self, name: str, cfg: dict, model: dict, version_dir: str, all_ops: bool):
        self.name = name
        self.cfg = cfg
        self.model = model
        self.version_dir = version_dir
        self.meta = model["metadata"]
        self.shapes: dict = model["shapes"]
        # An event stream (S3 SelectObjectContent) is framed by its handler: on the wire it is an
        # opaque streamed body, so it is generated as a streaming blob.
        for shape in self.shapes.values():
            if shape.get("eventstream"):
                shape.clear()
                shape.update({"type": "blob", "streaming": True})
        self.all_ops = dict(sorted(model["operations"].items()))
        quirks = cfg.get("quirks", {})
        self.xml_names: dict[str, str] = dict(quirks.get("xml_names", {}))
        self.xml_namespace = self.meta.get("xmlNamespace", quirks.get("xml_namespace", ""))
        for shape in self.xml_names:
            if shape not in self.shapes:
                sys.exit(f"generate.py: {name}: quirk names unknown shape {shape}")
        # awsQuery wire names a JSON model lacks (SQS serves both protocols from its JSON model):
        # `members` maps "Shape.Member" to the member's query/XML name (for a flattened list, the
        # name each item repeats under); `entries` maps a map shape to its [key, value] names.
        query = quirks.get("query", {})
        self.query_members: dict[str, str] = dict(query.get("members", {}))
        self.query_entries: dict[str, list[str]] = dict(query.get("entries", {}))
        for ref in self.query_members:
            shape, _, member = ref.partition(".")
            if member not in self.shapes.get(shape, {}).get("members", {}):
                sys.exit(f"generate.py: {name}: query quirk names unknown member {ref}")
        # Enums the service itself does not enforce (SQS's ReceiveMessage takes message system
        # attribute names in the QueueAttributeName list, and answers unknown queue attribute
        # names with its own InvalidAttributeName): generated without their value sets.
        self.open_enums: set[str] = set(quirks.get("open_enums", []))
        # Success statuses the model leaves at 200 but AWS answers otherwise (S3 PutBucketTagging: 204).
        self.statuses: dict[str, int] = dict(quirks.get("status", {}))
        for op in self.statuses:
            if op not in self.all_ops:
                sys.exit(f"generate.py: {name}: status quirk names unknown operation {op}")
        for shape in self.open_enums:
            if "enum" not in self.shapes.get(shape, {}):
                sys.exit(f"generate.py: {name}: open_enums names {shape}, which is not an enum")
        for shape, names in self.query_entries.items():
            if self.shapes.get(shape, {}).get("type") != "map" or len(names) != 2:
                sys.exit(f"generate.py: {name}: query quirk entries need a map shape and two names: {shape}")
        if all_ops:
            served = list(self.all_ops)
        else:
            served = cfg["operations"]
            unknown = [op for op in served if op not in self.all_ops]
            if unknown:
                sys.exit(f"generate.py: {name}: unknown operations {unknown}")
        self.ops = [self.all_ops[op] for op in sorted(set(served))]
        # An operation's input/output `locationName` names the document root (S3 SelectObjectContent).
        for op in self.ops:
            for io in ("input", "output"):
                ref = op.get(io)
                if ref and "locationName" in ref:
                    self.xml_names.setdefault(ref["shape"], ref["locationName"])
        self.reachable = self._reachable()
        self.ids = {n: i for i, n in enumerate(self.reachable)}
        if len(self.reachable) > 65535:
            sys.exit(f"generate.py: {name}: too many shapes for a u16 ShapeId")
        self.structs = [n for n in self.reachable if self._is_struct(n)]
        self.type_names = self._type_names()
        self.boxed = self._boxed_edges()
        self.non_clone = self._non_clone()

    # ---- analysis -------------------------------------------------------------------------

    def _is_struct(self, name: str) -> bool:
        s = self.shapes[name]
        return s["type"] == "structure" and not s.get("document")

    def _targets(self, name: str) -> list[str]:
        s = self.shapes[name]
        t = s["type"]
        if t == "structure":
            return [m["shape"] for m in s.get("members", {}).values()]
        if t == "list":
            return [s["member"]["shape"]]
        if t == "map":
            return [s["key"]["shape"], s["value"]["shape"]]
        return []

    def _reachable(self) -> list[str]:
        seen: set[str] = set()
        todo = [op[io]["shape"] for op in self.ops for io in ("input", "output") if io in op]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo.extend(self._targets(n))
        return sorted(seen)

    def _type_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        used: set[str] = set()
        for n in self.structs:
            t = re.sub(r"\W", "_", n)
            t = t[0].upper() + t[1:]
            if t in RESERVED_TYPE_NAMES:
                t += "Shape"
            base, i = t, 2
            while t in used:
                t, i = f"{base}{i}", i + 1
            used.add(t)
            names[n] = t
        return names

    def _payload_stream(self, name: str) -> str | None:
        """The payload member of a structure when it targets a blob (carried as a StreamingBody)."""
        s = self.shapes[name]
        p = s.get("payload")
        if p and self.shapes[s["members"][p]["shape"]]["type"] == "blob":
            return p
        return None

    def _boxed_edges(self) -> set[tuple[str, str]]:
        # A struct field holding a struct inline (bare or in Option) makes the types' sizes depend
        # on each other; box exactly the inline edges that stay within a cycle.
        graph: dict[str, set[str]] = {n: set() for n in self.structs}
        for n in self.structs:
            for t in self._targets(n):
                if t in graph:
                    graph[n].add(t)
        comp = strongly_connected(graph)
        return {(a, b) for a in graph for b in graph[a] if comp[a] == comp[b]}

    def _non_clone(self) -> set[str]:
        non_clone = {n for n in self.structs if self._payload_stream(n)}
        changed = True
        while changed:
            changed = False
            for n in self.structs:
                if n not in non_clone and any(
                    self._contains(n, bad) for bad in non_clone
                ):
                    non_clone.add(n)
                    changed = True
        return non_clone

    def _contains(self, name: str, struct: str) -> bool:
        """Whether `name`'s fields hold `struct`, directly or inside lists and maps."""
        todo, seen = list(self._targets(name)), set()
        while todo:
            t = todo.pop()
            if t == struct:
                return True
            if t in seen or self._is_struct(t):
                continue
            seen.add(t)
            todo.extend(self._targets(t))
        return False

    # ---- model tables ---------------------------------------------------------------------

    def shape_kind(self, name: str) -> str:
        s = self.shapes[name]
        t = s["type"]
        if t == "structure":
            if s.get("document"):
                return "ShapeKind::Document"
            required = set(s.get("required", []))
            members = ", ".join(
                self.member_lit(name, m, mm, m in required) for m, mm in s.get("members", {}).items()
            )
            payload = f'Some({lit(s["payload"])})' if "payload" in s else "None"
            xml_name = s.get("locationName") or self.xml_names.get(name, "")
            return (
                f"ShapeKind::Structure(Structure {{ members: &[{members}], payload: {payload}, "
                f"xml_name: {lit(xml_name)}, union: {str(bool(s.get('union'))).lower()} }})"
            )
        if t == "list":
            m = s["member"]
            return (
                f"ShapeKind::List(List {{ member: {self.ids[m['shape']]}, "
                f"member_name: {lit(m.get('locationName', ''))}, "
                f"flattened: {str(bool(s.get('flattened'))).lower()}, length: {range_lit(s)} }})"
            )
        if t == "map":
            k, v = s["key"], s["value"]
            key_name, value_name = self.query_entries.get(
                name, [k.get("locationName", ""), v.get("locationName", "")]
            )
            return (
                f"ShapeKind::Map(Map {{ key: {self.ids[k['shape']]}, value: {self.ids[v['shape']]}, "
                f"key_name: {lit(key_name)}, "
                f"value_name: {lit(value_name)}, "
                f"flattened: {str(bool(s.get('flattened'))).lower()}, length: {range_lit(s)} }})"
            )
        if t == "string":
            enum = "" if name in self.open_enums else ", ".join(lit(v) for v in s.get("enum", []))
            return (
                f"ShapeKind::String(StringShape {{ enum_values: &[{enum}], length: {range_lit(s)}, "
                f"pattern: {lit(s.get('pattern', ''))} }})"
            )
        if t in ("integer", "long"):
            return f"ShapeKind::Integer({range_lit(s)})"
        if t in ("float", "double"):
            return f"ShapeKind::Float({range_lit(s)})"
        if t == "boolean":
            return "ShapeKind::Boolean"
        if t == "blob":
            streaming = str(bool(s.get("streaming"))).lower()
            return f"ShapeKind::Blob(BlobShape {{ streaming: {streaming}, length: {range_lit(s)} }})"
        if t == "timestamp":
            return f"ShapeKind::Timestamp({self.ts_format(s.get('timestampFormat'))})"
        sys.exit(f"generate.py: {self.name}: shape {name} has unsupported type {t}")

    def ts_format(self, fmt: str | None) -> str:
        if fmt is None:
            return "None"
        if fmt not in TIMESTAMP_FORMATS:
            sys.exit(f"generate.py: {self.name}: unknown timestampFormat {fmt}")
        return f"Some(TimestampFormat::{TIMESTAMP_FORMATS[fmt]})"

    def member_lit(self, owner: str, name: str, m: dict, required: bool) -> str:
        target = self.shapes[m["shape"]]
        # Only what differs from MEMBER is spelled out, to keep the tables short.
        fields = [f"name: {lit(name)}", f"shape: {self.ids[m['shape']]}"]
        loc = m.get("location")
        if loc not in LOCATIONS:
            sys.exit(f"generate.py: {self.name}: member {name} has unknown location {loc}")
        if loc:
            fields.append(f"location: Location::{LOCATIONS[loc]}")
        location_name = self.query_members.get(f"{owner}.{name}") or m.get("locationName")
        if location_name and loc in ("header", "headers"):
            # HTTP names are case-insensitive and `http` keeps them lowercase: compare as stored.
            location_name = location_name.lower()
        if location_name:
            fields.append(f"location_name: {lit(location_name)}")
        if required:
            fields.append("required: true")
        if m.get("flattened") or target.get("flattened"):
            fields.append("flattened: true")
        if m.get("xmlAttribute"):
            fields.append("xml_attribute: true")
        if m.get("xmlNamespace", {}).get("uri"):
            fields.append(f"xml_namespace: {lit(m['xmlNamespace']['uri'])}")
        fmt = m.get("timestampFormat") or (
            target.get("timestampFormat") if target["type"] == "timestamp" else None
        )
        if fmt:
            fields.append(f"timestamp_format: {self.ts_format(fmt)}")
        if m.get("idempotencyToken"):
            fields.append("idempotency_token: true")
        return f"Member {{ {', '.join(fields)}, ..MEMBER }}"

    def route_lit(self, op: dict) -> str:
        headers: list[str] = []
        query: list[str] = []
        if "input" in op:
            s = self.shapes[op["input"]["shape"]]
            for m in s.get("required", []):
                mm = s["members"][m]
                if mm.get("location") == "header":
                    headers.append(mm.get("locationName", m).lower())
                elif mm.get("location") == "querystring":
                    query.append(mm.get("locationName", m))
        http = op["http"]
        return (
            f"Route {{ name: {lit(op['name'])}, method: {lit(http['method'])}, "
            f"uri: {lit(http['requestUri'])}, required_headers: &[{', '.join(lit(h) for h in headers)}], "
            f"required_query: &[{', '.join(lit(q) for q in query)}] }}"
        )

    def operation_lit(self, op: dict) -> str:
        http = op["http"]
        inp = f"Some({self.ids[op['input']['shape']]})" if "input" in op else "None"
        out = f"Some({self.ids[op['output']['shape']]})" if "output" in op else "None"
        wrapper = op.get("output", {}).get("resultWrapper", "")
        return (
            f"Operation {{ name: {lit(op['name'])}, method: {lit(http['method'])}, "
            f"uri: {lit(http['requestUri'])}, input: {inp}, output: {out}, "
            f"result_wrapper: {lit(wrapper)}, status: {self.statuses.get(op['name'], http.get('responseCode', 200))} }}"
        )

    # ---- Rust types -----------------------------------------------------------------------

    def rust_type(self, owner: str, target: str) -> str:
        s = self.shapes[target]
        t = s["type"]
        if t in SCALAR_TYPES:
            return SCALAR_TYPES[t]
        if t == "list":
            return f"Vec<{self.rust_type('', s['member']['shape'])}>"
        if t == "map":
            key = self.shapes[s["key"]["shape"]]["type"]
            if key != "string":
                sys.exit(f"generate.py: {self.name}: map {target} has {key} keys")
            return f"std::collections::HashMap<String, {self.rust_type('', s['value']['shape'])}>"
        if t == "structure":
            if s.get("document"):
                return "serde_json::Value"
            name = self.type_names[target]
            return f"Box<{name}>" if (owner, target) in self.boxed else name
        sys.exit(f"generate.py: {self.name}: shape {target} has unsupported type {t}")

    def struct_def(self, name: str) -> str:
        s = self.shapes[name]
        required = set(s.get("required", []))
        stream = self._payload_stream(name)
        derives = ["Debug"] + ([] if name in self.non_clone else ["Clone"])
        derives += ["Default", "serde::Serialize", "serde::Deserialize"]
        lines = [f"#[derive({', '.join(derives)})]", "#[serde(default)]"]
        lines.append(f"pub struct {self.type_names[name]} {{")
        used: set[str] = set()
        for m, mm in s.get("members", {}).items():
            field, i = snake_case(m), 2
            while field in used:
                field, i = f"{snake_case(m)}_{i}", i + 1
            used.add(field)
            ident = field_ident(field)
            if m == stream:
                lines.append(f"#[serde(skip)] pub {ident}: ruststack_core::StreamingBody,")
                continue
            ty = self.rust_type(name, mm["shape"])
            attrs = []
            if field != m:
                attrs.append(f"rename = {lit(m)}")
            if m not in required:
                ty = f"Option<{ty}>"
                # Absent members never become nulls that the codecs would have to strip again.
                attrs.append('skip_serializing_if = "Option::is_none"')
            if attrs:
                lines.append(f"#[serde({', '.join(attrs)})]")
            lines.append(f"pub {ident}: {ty},")
        lines.append("}")
        return "\n".join(lines)

    def payload_field(self, name: str) -> str:
        stream = self._payload_stream(name)
        s = self.shapes[name]
        used: set[str] = set()
        for m in s["members"]:
            field, i = snake_case(m), 2
            while field in used:
                field, i = f"{snake_case(m)}_{i}", i + 1
            used.add(field)
            if m == stream:
                return field_ident(field)
        raise AssertionError(name)

    # ---- file -----------------------------------------------------------------------------

    def render(self) -> str:
        meta = self.meta
        protocol = meta["protocol"]
        if protocol not in PROTOCOLS:
            sys.exit(f"generate.py: {self.name}: unsupported protocol {protocol}")
        out: list[str] = [
            f"// Generated by codegen/generate.py from botocore {BOTOCORE_VERSION} "
            f"({self.cfg['botocore']} {self.version_dir}). Do not edit: change",
            "// codegen/services/<service>.toml and rerun the generator.",
            "",
            "use ruststack_core::shape::*;",
            "",
            "pub static MODEL: ServiceModel = ServiceModel {",
            f"name: {lit(self.name)},",
            f"protocol: Protocol::{PROTOCOLS[protocol]},",
            f"api_version: {lit(meta['apiVersion'])},",
            f"target_prefix: {lit(meta.get('targetPrefix', ''))},",
            f"json_version: {lit(meta.get('jsonVersion', ''))},",
            f"xml_namespace: {lit(self.xml_namespace)},",
            f"signing_name: {lit(meta.get('signingName', meta['endpointPrefix']))},",
            f"validation_error: {lit(self.cfg['validation_error'])},",
            f"error_type_prefix: {lit(self.cfg.get('error_type_prefix', ''))},",
            f"validation_shows_values: {str(self.cfg.get('validation_shows_values', True)).lower()},",
            "shapes: &SHAPES,",
            "operations: &OPERATIONS,",
            "routes: &ROUTES,",
            "route_table: ruststack_core::protocol::rest::RouteTable::new(),",
            "};",
            "",
            "const MEMBER: Member = Member { name: \"\", shape: 0, location: Location::Body, "
            "location_name: \"\", required: false, flattened: false, xml_attribute: false, "
            "xml_namespace: \"\", timestamp_format: None, idempotency_token: false };",
            "",
            f"static SHAPES: [Shape; {len(self.reachable)}] = [",
        ]
        for n in self.reachable:
            out.append(f"// {self.ids[n]}\nShape {{ name: {lit(n)}, kind: {self.shape_kind(n)} }},")
        out.append("];")
        out.append("")
        out.append(f"static OPERATIONS: [Operation; {len(self.ops)}] = [")
        out.extend(self.operation_lit(op) + "," for op in self.ops)
        out.append("];")
        out.append("")
        out.append(f"static ROUTES: [Route; {len(self.all_ops)}] = [")
        out.extend(self.route_lit(op) + "," for op in self.all_ops.values())
        out.append("];")
        out.append("")
        out.append("pub mod types {")
        for n in self.structs:
            out.append(self.struct_def(n))
            out.append("")
        inputs = sorted({op["input"]["shape"] for op in self.ops if "input" in op})
        outputs = sorted({op["output"]["shape"] for op in self.ops if "output" in op})
        for n in inputs:
            t = self.type_names[n]
            if self._payload_stream(n):
                out.append(
                    f"impl ruststack_core::Input for {t} {{\n"
                    "fn set_payload(&mut self, payload: ruststack_core::StreamingBody) {\n"
                    f"self.{self.payload_field(n)} = payload;\n}}\n}}"
                )
            else:
                out.append(f"impl ruststack_core::Input for {t} {{}}")
        for n in outputs:
            t = self.type_names[n]
            if self._payload_stream(n):
                out.append(
                    f"impl ruststack_core::Output for {t} {{\n"
                    "fn take_payload(&mut self) -> Option<ruststack_core::StreamingBody> {\n"
                    f"let body = std::mem::take(&mut self.{self.payload_field(n)});\n"
                    "body.0.is_some().then_some(body)\n}\n}"
                )
            else:
                out.append(f"impl ruststack_core::Output for {t} {{}}")
        out.append("}")
        out.append("")
        out.append("pub mod ops {")
        for op in self.ops:
            inp = (
                f"super::types::{self.type_names[op['input']['shape']]}" if "input" in op else "()"
            )
            outp = (
                f"super::types::{self.type_names[op['output']['shape']]}"
                if "output" in op
                else "()"
            )
            out.append(
                f"pub struct {op['name']};\n"
                f"impl ruststack_core::OperationSpec for {op['name']} {{\n"
                f"const NAME: &'static str = {lit(op['name'])};\n"
                f"type Input = {inp};\ntype Output = {outp};\n}}"
            )
        out.append("}")
        return "\n".join(out) + "\n"

    def cargo_toml(self) -> str:
        return (
            "[package]\n"
            f'name = "ruststack-{self.name}"\n'
            f'description = "{self.meta["serviceFullName"]} for RustStack"\n'
            "version.workspace = true\nedition.workspace = true\nlicense.workspace = true\n\n"
            "[dependencies]\n"
            "ruststack-core.workspace = true\nserde.workspace = true\nserde_json.workspace = true\n"
        )

    def lib_rs(self) -> str:
        return f"//! {self.meta['serviceFullName']} for RustStack.\n\npub mod generated;\n"


def rustfmt(paths: list[Path]) -> None:
    cmd = ["rustfmt", "--edition", "2024"]
    # Format exactly as `cargo fmt` in the tree would, wherever the files are written.
    for cfg in ("rustfmt.toml", ".rustfmt.toml"):
        if (ROOT / cfg).exists():
            cmd += ["--config-path", str(ROOT / cfg)]
            break
    subprocess.run(cmd + [str(p) for p in paths], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a generated.rs is stale")
    ap.add_argument("--all-operations", action="store_true",
                    help="ignore the allow-lists and generate every operation (for testing)")
    ap.add_argument("--out-dir", type=Path, default=ROOT,
                    help="workspace root to write crates into (default: this one)")
    ap.add_argument("--service", action="append", help="only this service (repeatable)")
    args = ap.parse_args()

    # One file per service, so that work on different services never edits the same file.
    config = {}
    for path in sorted(CONFIG_DIR.glob("*.toml")):
        with open(path, "rb") as f:
            config.update(tomllib.load(f))
    services = args.service or sorted(config)
    for s in services:
        if s not in config:
            sys.exit(f"generate.py: unknown service {s}")

    gens = []
    for s in services:
        model, version = load_model(config[s]["botocore"])
        gens.append(ServiceGen(s, config[s], model, version, args.all_operations))

    with tempfile.TemporaryDirectory() as tmp:
        tmp_files = []
        for g in gens:
            p = Path(tmp) / f"{g.name}.rs"
            p.write_text(g.render(), encoding="utf-8")
            tmp_files.append(p)
        rustfmt(tmp_files)

        stale = []
        for g, p in zip(gens, tmp_files):
            crate = args.out_dir / g.cfg["crate"]
            target = crate / "src" / "generated.rs"
            text = p.read_text(encoding="utf-8")
            if args.check:
                if not target.exists() or target.read_text(encoding="utf-8") != text:
                    stale.append(target)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            # A new crate gets a manifest and a lib.rs; existing ones belong to their authors.
            if not (crate / "Cargo.toml").exists():
                (crate / "Cargo.toml").write_text(g.cargo_toml(), encoding="utf-8")
            if not (crate / "src" / "lib.rs").exists():
                (crate / "src" / "lib.rs").write_text(g.lib_rs(), encoding="utf-8")
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
                print(f"wrote {target}")
    if stale:
        for t in stale:
            print(f"stale: {t} (run python3 codegen/generate.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
