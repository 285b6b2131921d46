// RustStack's runtime client for the Node.js runtimes: speaks the Lambda Runtime API at
// AWS_LAMBDA_RUNTIME_API, loads the handler named by _HANDLER from LAMBDA_TASK_ROOT (CommonJS or
// ES module) and calls it with the event and a context object as AWS's runtime does: async
// handlers by their promise, others by their callback.
"use strict";

const http = require("http");
const path = require("path");
const fs = require("fs");
const util = require("util");
const { pathToFileURL } = require("url");

const [HOST, PORT] = (() => {
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  const i = api.lastIndexOf(":");
  return [api.slice(0, i), Number(api.slice(i + 1))];
})();
const PREFIX = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: PORT, method, path: PREFIX + urlPath, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

let currentRequestId = "";

// console.* in AWS's format: timestamp, request id, level, message.
for (const [name, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"], ["debug", "DEBUG"], ["trace", "TRACE"]]) {
  console[name] = (...args) => {
    const msg = util.format(...args).replace(/\n/g, "\r");
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${level}\t${msg}\n`);
  };
}

function errorDocument(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: typeof err.stack === "string" ? err.stack.split("\n") : [],
    };
  }
  return { errorType: typeof err === "object" && err !== null ? "object" : "string", errorMessage: String(err), trace: [] };
}

function logError(doc, requestId) {
  const text = JSON.stringify(doc);
  process.stdout.write(`${new Date().toISOString()}\t${requestId || "undefined"}\tERROR\tInvoke Error \t${text}\n`);
}

async function postInitError(doc) {
  process.stdout.write(`${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify(doc)}\n`);
  await request("POST", "/init/error", JSON.stringify(doc), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": doc.errorType,
  });
  process.exit(1);
}

async function loadHandler() {
  const handlerSpec = process.env._HANDLER || "";
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const dot = handlerSpec.lastIndexOf(".");
  if (dot < 0) {
    await postInitError({ errorType: "Runtime.MalformedHandlerName", errorMessage: "Bad handler", trace: [] });
  }
  const modulePath = handlerSpec.slice(0, dot);
  const fnPath = handlerSpec.slice(dot + 1);
  const base = path.resolve(root, modulePath);
  let file = null;
  for (const ext of [".js", ".mjs", ".cjs"]) {
    if (fs.existsSync(base + ext)) {
      file = base + ext;
      break;
    }
  }
  let mod;
  try {
    if (file === null) {
      // A package directory or a module on NODE_PATH.
      mod = require(modulePath.includes("/") ? base : modulePath);
    } else if (file.endsWith(".mjs")) {
      mod = await import(pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (e) {
        if (e && e.code === "ERR_REQUIRE_ESM") mod = await import(pathToFileURL(file).href);
        else throw e;
      }
    }
  } catch (e) {
    if (e && e.code === "MODULE_NOT_FOUND" && file === null) {
      await postInitError({
        errorType: "Runtime.ImportModuleError",
        errorMessage: `Error: Cannot find module '${modulePath}'\nRequire stack:\n- ${__filename}`,
        trace: [`Runtime.ImportModuleError: Error: Cannot find module '${modulePath}'`],
      });
    }
    if (e instanceof SyntaxError) {
      await postInitError({ errorType: "Runtime.UserCodeSyntaxError", errorMessage: `SyntaxError: ${e.message}`, trace: String(e.stack).split("\n") });
    }
    await postInitError(errorDocument(e));
  }
  let fn = mod;
  for (const part of fnPath.split(".")) fn = fn == null ? undefined : fn[part];
  if (typeof fn !== "function" && mod && mod.default && typeof mod.default[fnPath] === "function") fn = mod.default[fnPath];
  if (typeof fn !== "function") {
    await postInitError({ errorType: "Runtime.HandlerNotFound", errorMessage: `${handlerSpec} is undefined or not exported`, trace: [] });
  }
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
  if (headers["lambda-runtime-client-context"]) {
    try {
      ctx.clientContext = JSON.parse(headers["lambda-runtime-client-context"]);
    } catch (_) {}
  }
  return ctx;
}

function invokeHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    context.done = callback;
    context.succeed = (r) => callback(null, r);
    context.fail = (e) => callback(e === undefined || e === null ? "handled" : e);
    let ret;
    try {
      ret = handler(event, context, callback);
    } catch (e) {
      callback(e);
      return;
    }
    if (ret && typeof ret.then === "function") {
      ret.then((r) => callback(null, r), (e) => callback(e === undefined || e === null ? new Error(String(e)) : e));
    } else if (handler.length < 3 && !settled) {
      // A synchronous handler without a callback parameter: its return value is the result.
      callback(null, ret);
    }
  });
}

async function main() {
  const handler = await loadHandler();
  process.on("uncaughtException", async (err) => {
    const doc = errorDocument(err);
    logError(doc, currentRequestId);
    if (currentRequestId) {
      await request("POST", `/invocation/${currentRequestId}/error`, JSON.stringify(doc), {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": "Unhandled",
      }).catch(() => {});
    }
    process.exit(129);
  });
  for (;;) {
    const next = await request("GET", "/invocation/next");
    if (next.status !== 200) process.exit(0);
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString("utf8")) : {};
    } catch (e) {
      await postError(requestId, { errorType: "Runtime.UnmarshalError", errorMessage: `Unable to parse input as JSON: ${e.message}`, trace: [] });
      continue;
    }
    let result;
    try {
      result = await invokeHandler(handler, event, makeContext(next.headers));
    } catch (e) {
      await postError(requestId, errorDocument(e));
      continue;
    }
    let payload;
    try {
      payload = result === undefined ? "null" : JSON.stringify(result);
    } catch (e) {
      await postError(requestId, { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] });
      continue;
    }
    await request("POST", `/invocation/${requestId}/response`, payload, { "Content-Type": "application/json" });
  }
}

async function postError(requestId, doc) {
  logError(doc, requestId);
  await request("POST", `/invocation/${requestId}/error`, JSON.stringify(doc), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": "Unhandled",
  });
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
