"""RustStack's runtime client for the Python runtimes: speaks the Lambda Runtime API at
AWS_LAMBDA_RUNTIME_API, imports the handler named by _HANDLER from LAMBDA_TASK_ROOT and calls it
with the event and a context object as AWS's runtime does."""

import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"


class Connection:
    """One kept-alive HTTP connection to the Runtime API."""

    def __init__(self):
        host, _, port = API.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, PREFIX + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                return resp, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


API_CONN = Connection()


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_arn, client_context):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        if client_context:
            try:
                self.client_context = json.loads(client_context)
            except ValueError:
                pass
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)


CURRENT_REQUEST_ID = [""]


class LambdaLogHandler(logging.Handler):
    """The root logger's handler, in AWS's text format."""

    def emit(self, record):
        try:
            msg = self.format(record)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            ms = int(record.msecs)
            sys.stdout.write(f"[{record.levelname}]\t{stamp}.{ms:03d}Z\t{CURRENT_REQUEST_ID[0]}\t{msg}\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def setup_logging():
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(LambdaLogHandler())
    root.setLevel(logging.WARNING)


def error_document(exc, error_type=None):
    tb = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": CURRENT_REQUEST_ID[0],
        "stackTrace": traceback.format_list(tb),
    }


def log_error(doc):
    lines = [f"[ERROR] {doc['errorType']}: {doc['errorMessage']}"]
    if doc.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(s.rstrip("\n") for s in doc["stackTrace"])
    sys.stdout.write("\r".join(lines) + "\n")
    sys.stdout.flush()


def post_init_error(doc):
    log_error(doc)
    API_CONN.request(
        "POST",
        "/init/error",
        body=json.dumps(doc).encode(),
        headers={"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": doc["errorType"]},
    )
    sys.exit(1)


def load_handler():
    handler = os.environ.get("_HANDLER", "")
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, task_root)
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError:
        post_init_error({
            "errorMessage": f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
            "errorType": "Runtime.MalformedHandlerName",
            "requestId": "",
            "stackTrace": [],
        })
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        post_init_error({
            "errorMessage": f"Unable to import module '{module_name}': {e}",
            "errorType": "Runtime.ImportModuleError",
            "requestId": "",
            "stackTrace": [],
        })
    except SyntaxError as e:
        post_init_error({
            "errorMessage": f"Syntax error in module '{module_name}': {e}",
            "errorType": "Runtime.UserCodeSyntaxError",
            "requestId": "",
            "stackTrace": [f'  File "{e.filename}" Line {e.lineno}\n', f"    {(e.text or '').strip()}\n"],
        })
    except Exception as e:
        post_init_error(error_document(e))
    func = getattr(module, function_name, None)
    if func is None:
        post_init_error({
            "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        })
    return func


def to_json(result):
    import decimal

    def default(o):
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    return json.dumps(result, default=default).encode()


def main():
    setup_logging()
    handler = load_handler()
    while True:
        resp, body = API_CONN.request("GET", "/invocation/next")
        if resp.status != 200:
            sys.exit(0)
        request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id")
        CURRENT_REQUEST_ID[0] = request_id
        trace_id = resp.getheader("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        context = LambdaContext(
            request_id,
            int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0),
            resp.getheader("Lambda-Runtime-Invoked-Function-Arn"),
            resp.getheader("Lambda-Runtime-Client-Context"),
        )
        try:
            event = json.loads(body) if body else {}
        except ValueError as e:
            event = None
            doc = {"errorMessage": f"Unable to parse input as json: {e}", "errorType": "Runtime.UnmarshalError",
                   "requestId": request_id, "stackTrace": []}
            post_error(request_id, doc)
            continue
        try:
            result = handler(event, context)
        except Exception as e:
            doc = error_document(e)
            post_error(request_id, doc)
            continue
        try:
            payload = to_json(result)
        except (TypeError, ValueError) as e:
            doc = {"errorMessage": f"Unable to marshal response: {e}", "errorType": "Runtime.MarshalError",
                   "requestId": request_id, "stackTrace": []}
            post_error(request_id, doc)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        API_CONN.request("POST", f"/invocation/{request_id}/response", body=payload,
                         headers={"Content-Type": "application/json"})


def post_error(request_id, doc):
    log_error(doc)
    sys.stderr.flush()
    API_CONN.request(
        "POST",
        f"/invocation/{request_id}/error",
        body=json.dumps(doc).encode(),
        headers={"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": "Unhandled"},
    )


if __name__ == "__main__":
    main()
