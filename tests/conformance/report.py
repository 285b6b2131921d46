"""Runs moto's `aws_verified` tests against a RustStack binary and compares the outcome with
`expected-failures.txt` (see `run`). With --update, rewrites that file and docs/CONFORMANCE.md."""

import argparse
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXPECTED = HERE / "expected-failures.txt"
REPORT = ROOT / "docs" / "CONFORMANCE.md"

# moto's test folder for each service we serve.
SUITES = {
    "test_s3": "s3",
    "test_dynamodb": "dynamodb",
    "test_dynamodbstreams": "dynamodbstreams",
    "test_awslambda": "lambda",
    "test_logs": "logs",
    "test_secretsmanager": "secretsmanager",
    "test_ssm": "ssm",
    "test_iam": "iam",
    "test_sts": "sts",
    "test_sqs": "sqs",
    "test_sns": "sns",
}

# A pytest plugin, loaded with -p, that writes each test's outcome as one JSON line.
PLUGIN = '''
import json, os
_out = open(os.environ["CONFORMANCE_RESULTS"], "w")
_failed = set()
def pytest_runtest_logreport(report):
    if report.failed:
        _failed.add(report.nodeid)
    if report.when == "teardown" or (report.when == "setup" and not report.passed):
        outcome = "failed" if report.nodeid in _failed else ("skipped" if report.skipped else "passed")
        _out.write(json.dumps({"id": report.nodeid, "outcome": outcome}) + "\\n")
        _out.flush()
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--log-level", "warn"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if line.strip() != "Ready.":
        proc.kill()
        sys.exit(f"conformance: {binary} did not start (said {line!r})")
    return proc, port


def service_of(node_id: str) -> str:
    return SUITES.get(node_id.split("/")[1], "other")


def run(suite: Path, binary: str, extra: list[str]) -> dict[str, str]:
    proc, port = start(binary)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "conformance_plugin.py").write_text(PLUGIN)
        results = Path(tmp) / "results.jsonl"
        env = dict(
            os.environ,
            TEST_SERVER_MODE="true",
            TEST_SERVER_MODE_ENDPOINT=f"http://127.0.0.1:{port}",
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION="us-east-1",
            PYTHONPATH=tmp,
            CONFORMANCE_RESULTS=str(results),
        )
        targets = extra or [f"tests/{name}" for name in SUITES if (suite / "tests" / name).is_dir()]
        cmd = [sys.executable, "-m", "pytest", "-q", "-m", "aws_verified", "-p", "conformance_plugin",
               "-p", "no:cacheprovider", "--color=no", "-o", "addopts=", *targets]
        try:
            subprocess.run(cmd, cwd=suite, env=env, stdout=subprocess.DEVNULL, timeout=1800, check=False)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        return {r["id"]: r["outcome"] for r in map(json.loads, results.read_text().splitlines())}


def write_report(outcomes: dict[str, str], moto_version: str) -> None:
    per: dict[str, Counter] = {}
    for node, outcome in outcomes.items():
        per.setdefault(service_of(node), Counter())[outcome] += 1
    lines = [
        "# Conformance: moto's AWS-verified tests against RustStack\n",
        f"Run {datetime.date.today()} with `tests/conformance/run --update` (part of `scripts/test`): "
        f"the tests of moto {moto_version}'s own suite that its maintainers mark `aws_verified` "
        "(checked against real AWS), run unchanged in moto's server mode against the RustStack binary. "
        "Their assertions are someone else's, so this measures fidelity independently of our own tests. "
        "A test that fails here is listed in `tests/conformance/expected-failures.txt`; the run fails on "
        "any other failure, so fidelity only ratchets up.\n",
        "| service | passed | failed | skipped | pass rate |",
        "|---|---|---|---|---|",
    ]
    total = Counter()
    for service in sorted(per):
        c = per[service]
        total.update(c)
        ran = c["passed"] + c["failed"]
        rate = f"{100 * c['passed'] / ran:.0f} %" if ran else "–"
        lines.append(f"| {service} | {c['passed']} | {c['failed']} | {c['skipped']} | {rate} |")
    ran = total["passed"] + total["failed"]
    lines.append(
        f"| **all** | {total['passed']} | {total['failed']} | {total['skipped']} | "
        f"{100 * total['passed'] / ran:.0f} % |" if ran else "| **all** | 0 | 0 | 0 | – |"
    )
    failing = sorted(n for n, o in outcomes.items() if o == "failed")
    lines.append("\nThe tests that fail (also in `tests/conformance/expected-failures.txt`):\n")
    lines.extend(f"- `{n}`" for n in failing)
    lines.append(
        "\nKnown reasons: CloudFormation is not served; GetFunction's `Code.Location` points at RustStack "
        "(so the code can be downloaded) rather than at AWS's S3 host."
    )
    REPORT.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", required=True, type=Path)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--update", action="store_true")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    if not Path(args.binary).exists():
        sys.exit(f"conformance: {args.binary} not found: run `cargo build -p ruststack` first")
    if args.update and args.extra:
        sys.exit("conformance: --update needs the full run (no pytest arguments)")

    outcomes = run(args.suite, args.binary, args.extra)
    if not outcomes:
        sys.exit("conformance: no test ran")
    failed = {n for n, o in outcomes.items() if o == "failed"}
    passed = {n for n, o in outcomes.items() if o == "passed"}
    counts = Counter(outcomes.values())
    print(f"conformance: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")

    if args.update:
        EXPECTED.write_text(
            "# moto aws_verified tests that fail against RustStack (rewritten by tests/conformance/run --update)\n"
            + "".join(f"{n}\n" for n in sorted(failed))
        )
        write_report(outcomes, args.suite.name.removeprefix("moto-"))
        print(f"conformance: wrote {EXPECTED.relative_to(ROOT)} and {REPORT.relative_to(ROOT)}")
        return 0

    expected = {l.strip() for l in EXPECTED.read_text().splitlines() if l.strip() and not l.startswith("#")}
    unexpected = sorted(failed - expected)
    fixed = sorted(passed & expected)
    for n in fixed:
        print(f"  now passes (run --update to record): {n}")
    for n in unexpected:
        print(f"  REGRESSION: {n}")
    if unexpected:
        print(f"conformance: {len(unexpected)} test(s) fail that passed before (tests/conformance/expected-failures.txt)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
