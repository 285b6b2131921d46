//! `bench`: the same signed HTTP load against RustStack, the HTTP ceiling (a bare hyper server)
//! and, when installed, peer emulators, one after the other on loopback, with a table of
//! throughput, latency and memory. See docs/PERFORMANCE.md for the command and the results.

mod ceiling;
mod load;
mod process;
mod request;

use bytes::Bytes;
use http::Method;
use load::Outcome;
use request::{Target, Template};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const HELP: &str = "\
bench — RustStack against the HTTP ceiling and peer emulators

Usage: bench [OPTIONS]
  --quick               1 s per scenario, 4 connections, small data (CI proves the benchmark works)
  --duration <SECS>     seconds per scenario [default: 10]
  --connections <N>     concurrent keep-alive connections [default: 16]
  --ruststack <PATH>    the server binary [default: target/release/ruststack, else target/debug]
  --moto <PATH>         moto_server to compare with [default: $PEERS_DIR/venv/bin/moto_server if present]
  --write <FILE>        also write the report (markdown) to FILE
  --against <ADDR> <SCENARIO>  only load a running server with one scenario (for profiling)
";

struct Options {
    quick: bool,
    duration: Duration,
    connections: usize,
    ruststack: PathBuf,
    moto: Option<PathBuf>,
    write: Option<PathBuf>,
    /// `--against ADDR SCENARIO`: load a running server with one scenario (for profiling).
    against: Option<(String, String)>,
}

/// One row of the report: a scenario's outcome per target.
struct Row {
    scenario: &'static str,
    results: Vec<Option<Outcome>>,
    /// Show MB/s instead of req/s.
    bandwidth: bool,
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("ceiling") {
        let port = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(4599);
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        return match rt.block_on(ceiling::serve(port)) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ceiling: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let options = match parse(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{HELP}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    match rt.block_on(run(&options)) {
        Ok(report) => {
            print!("{report}");
            if let Some(path) = &options.write
                && let Err(e) = std::fs::write(path, &report)
            {
                eprintln!("bench: cannot write {}: {e}", path.display());
                return std::process::ExitCode::FAILURE;
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn parse(args: Vec<String>) -> Result<Option<Options>, String> {
    use lexopt::prelude::*;
    let root = repo_root();
    let release = root.join("target/release/ruststack");
    let mut o = Options {
        quick: false,
        duration: Duration::from_secs(10),
        connections: 16,
        ruststack: if release.exists() { release } else { root.join("target/debug/ruststack") },
        moto: None,
        write: None,
        against: None,
    };
    let peers = std::env::var_os("PEERS_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("../shared/.peers"));
    let moto = peers.join("venv/bin/moto_server");
    o.moto = moto.exists().then_some(moto);
    let mut parser = lexopt::Parser::from_iter(args);
    let value = |p: &mut lexopt::Parser| -> Result<String, String> {
        p.value().map_err(|e| e.to_string())?.into_string().map_err(|_| "not UTF-8".to_owned())
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("quick") => o.quick = true,
            Long("duration") => {
                o.duration = Duration::from_secs_f64(value(&mut parser)?.parse().map_err(|_| "bad --duration")?)
            }
            Long("connections") => o.connections = value(&mut parser)?.parse().map_err(|_| "bad --connections")?,
            Long("ruststack") => o.ruststack = value(&mut parser)?.into(),
            Long("moto") => o.moto = Some(value(&mut parser)?.into()),
            Long("write") => o.write = Some(value(&mut parser)?.into()),
            Long("against") => {
                let addr = value(&mut parser)?;
                o.against = Some((addr, value(&mut parser)?));
            }
            Long("help") | Short('h') => return Ok(None),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if o.quick {
        o.duration = Duration::from_secs(1);
        o.connections = 4;
    }
    Ok(Some(o))
}

fn target(addr: &str) -> Target {
    Target {
        authority: addr.to_owned(),
        access_key: "test".into(),
        secret_key: "test".into(),
        region: "us-east-1".into(),
    }
}

fn ruststack_command(o: &Options, port: u16) -> Command {
    let mut c = Command::new(&o.ruststack);
    c.args(["--port", &port.to_string(), "--log-level", "warn"]);
    c
}

async fn run(o: &Options) -> Result<String, String> {
    if let Some((addr, name)) = &o.against {
        let scenario_name: &'static str = Box::leak(name.clone().into_boxed_str());
        return match scenario(o, "ruststack", addr, scenario_name).await {
            Some(out) => Ok(format!(
                "{scenario_name}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, failed {}\n",
                out.req_per_s(),
                out.p50.as_secs_f64() * 1e3,
                out.p99.as_secs_f64() * 1e3,
                out.failed
            )),
            None => Err(format!("scenario {scenario_name} did not run against {addr}")),
        };
    }
    if !o.ruststack.exists() {
        return Err(format!("{} not found: run `cargo build --release -p ruststack`", o.ruststack.display()));
    }
    // Startup and idle memory: the median of a few fresh starts.
    let runs = if o.quick { 1 } else { 5 };
    let (mut ready, mut first, mut idle) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let port = process::free_port();
        let server = process::start(ruststack_command(o, port), port, true)?;
        ready.push(server.ready.unwrap_or_default());
        first.push(server.first_answer);
        tokio::time::sleep(Duration::from_millis(300)).await;
        idle.push(process::memory(server.child.id()).0);
    }
    ready.sort();
    first.sort();
    idle.sort();

    let mut names = vec!["ruststack", "ruststack --data-dir", "ceiling"];
    if o.moto.is_some() {
        names.push("moto");
    }
    let scenarios = [
        "ddb_list_tables",
        "s3_get_1k",
        "s3_put_1k",
        "s3_get_8m",
        "s3_list_1000_of_10k",
        "ddb_put",
        "ddb_get",
        "ddb_query_100",
        "sqs_send",
        "sqs_receive",
        "lambda_invoke_warm_1conn",
    ];
    let mut rows: Vec<Row> =
        scenarios.iter().map(|s| Row { scenario: s, results: Vec::new(), bandwidth: *s == "s3_get_8m" }).collect();
    let mut peaks = Vec::new();
    let mut starts = Vec::new();
    for name in &names {
        let port = process::free_port();
        let server = match *name {
            "ruststack" => process::start(ruststack_command(o, port), port, true)?,
            "ruststack --data-dir" => {
                let dir = std::env::temp_dir().join(format!("ruststack-bench-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                let mut c = ruststack_command(o, port);
                c.arg("--data-dir").arg(&dir);
                process::start(c, port, true)?
            }
            "ceiling" => {
                let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
                c.args(["ceiling", "--port", &port.to_string()]);
                process::start(c, port, true)?
            }
            _ => {
                let mut c = Command::new(o.moto.as_ref().expect("moto"));
                c.args(["-p", &port.to_string()]);
                process::start(c, port, false)?
            }
        };
        starts.push(server.first_answer);
        eprintln!("bench: {name} on {}", server.addr);
        for row in rows.iter_mut() {
            let outcome = scenario(o, name, &server.addr, row.scenario).await;
            if let Some(out) = &outcome {
                eprintln!(
                    "bench:   {:<22} {:>10.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  failed {}{}",
                    row.scenario,
                    out.req_per_s(),
                    out.p50.as_secs_f64() * 1e3,
                    out.p99.as_secs_f64() * 1e3,
                    out.failed,
                    out.first_failure.map(|s| format!(" (first: {s})")).unwrap_or_default()
                );
            }
            row.results.push(outcome);
        }
        peaks.push(process::memory(server.child.id()).1);
    }
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("ruststack-bench-{}", std::process::id())));

    let big = big_put(o).await;
    Ok(report(
        o,
        &names,
        &rows,
        &peaks,
        &starts,
        (ready[ready.len() / 2], first[first.len() / 2], idle[idle.len() / 2]),
        big,
    ))
}

/// Runs one scenario against one target (`None` when it does not apply or its setup failed).
async fn scenario(o: &Options, name: &str, addr: &str, scenario: &str) -> Option<Outcome> {
    let t = target(addr);
    let s3 = |method: Method, path: &str, body: Bytes| Template::signed(&t, "s3", method, path, &[], body);
    let ceiling = name == "ceiling";
    if ceiling && !matches!(scenario, "s3_get_1k" | "ddb_get" | "ddb_list_tables") {
        return None;
    }
    let template = match scenario {
        "s3_get_1k" | "s3_put_1k" | "s3_get_8m" => {
            if !ceiling {
                setup(addr, &s3(Method::PUT, "/bench", Bytes::new())).await?;
                setup(addr, &s3(Method::PUT, "/bench/obj1k", Bytes::from(vec![b'a'; 1024]))).await?;
                setup(addr, &s3(Method::PUT, "/bench/obj8m", Bytes::from(vec![b'b'; 8 << 20]))).await?;
            }
            match scenario {
                "s3_get_1k" => s3(Method::GET, "/bench/obj1k", Bytes::new()),
                "s3_put_1k" => s3(Method::PUT, "/bench/obj1k", Bytes::from(vec![b'c'; 1024])),
                _ => s3(Method::GET, "/bench/obj8m", Bytes::new()),
            }
        }
        "s3_list_1000_of_10k" => {
            let keys = if o.quick { 300 } else { 10_000 };
            setup(addr, &s3(Method::PUT, "/bench-list", Bytes::new())).await?;
            let templates: Vec<Template> = (0..keys)
                .map(|i| s3(Method::PUT, &format!("/bench-list/key-{i:05}"), Bytes::from_static(b"x")))
                .collect();
            for chunk in templates.chunks(64) {
                let puts = chunk.iter().map(|t| load::once(addr, t));
                for result in futures_join(puts).await {
                    if !matches!(result, Ok((200, _))) {
                        return None;
                    }
                }
            }
            s3(Method::GET, "/bench-list?list-type=2", Bytes::new())
        }
        "ddb_list_tables" => Template::dynamodb(&t, "ListTables", "{}"),
        "ddb_put" | "ddb_get" | "ddb_query_100" => {
            if !ceiling {
                let table = r#"{"TableName":"bench","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"}],"BillingMode":"PAY_PER_REQUEST"}"#;
                let _ = load::once(addr, &Template::dynamodb(&t, "CreateTable", table)).await;
                for i in 0..100 {
                    let item = format!(
                        r#"{{"TableName":"bench","Item":{{"pk":{{"S":"q"}},"sk":{{"N":"{i}"}},"v":{{"S":"value {i}"}}}}}}"#
                    );
                    setup(addr, &Template::dynamodb(&t, "PutItem", &item)).await?;
                }
                let item = r#"{"TableName":"bench","Item":{"pk":{"S":"p"},"sk":{"N":"1"},"v":{"S":"hello"}}}"#;
                setup(addr, &Template::dynamodb(&t, "PutItem", item)).await?;
            }
            match scenario {
                "ddb_put" => Template::dynamodb(
                    &t,
                    "PutItem",
                    r#"{"TableName":"bench","Item":{"pk":{"S":"p"},"sk":{"N":"1"},"v":{"S":"hello again"}}}"#,
                ),
                "ddb_get" => {
                    Template::dynamodb(&t, "GetItem", r#"{"TableName":"bench","Key":{"pk":{"S":"p"},"sk":{"N":"1"}}}"#)
                }
                _ => Template::dynamodb(
                    &t,
                    "Query",
                    r#"{"TableName":"bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"q"}}}"#,
                ),
            }
        }
        "sqs_send" | "sqs_receive" => {
            let sqs = |op: &str, body: &str| {
                let target = format!("AmazonSQS.{op}");
                Template::signed(
                    &t,
                    "sqs",
                    Method::POST,
                    "/",
                    &[("x-amz-target", &target), ("content-type", "application/x-amz-json-1.0")],
                    Bytes::from(body.to_owned()),
                )
            };
            let url = format!("http://{addr}/000000000000/bench-q");
            setup(addr, &sqs("CreateQueue", r#"{"QueueName":"bench-q"}"#)).await?;
            let send =
                sqs("SendMessage", &format!(r#"{{"QueueUrl":"{url}","MessageBody":"hello from the benchmark"}}"#));
            if scenario == "sqs_send" {
                send
            } else {
                // A full queue and a zero visibility timeout: every receive finds a message.
                for _ in 0..100 {
                    setup(addr, &send).await?;
                }
                sqs(
                    "ReceiveMessage",
                    &format!(r#"{{"QueueUrl":"{url}","MaxNumberOfMessages":1,"VisibilityTimeout":0}}"#),
                )
            }
        }
        "lambda_invoke_warm_1conn" => {
            if !name.starts_with("ruststack") {
                return None; // moto needs Docker for Lambda; the ceiling has no Lambda
            }
            let template = lambda_setup(&t, addr).await?;
            // One connection: the latency of a warm invoke, not how many environments run at once.
            let outcome = load::run(addr, &template, 1, o.duration).await;
            return (outcome.ok > 0).then_some(outcome);
        }
        _ => return None,
    };
    let outcome = load::run(addr, &template, o.connections, o.duration).await;
    (outcome.ok > 0).then_some(outcome)
}

/// Cold start of the benchmark's Python function (first invoke after creation), per target.
static COLD_STARTS: std::sync::Mutex<Vec<(String, Duration)>> = std::sync::Mutex::new(Vec::new());

/// Creates a Python function, waits until it is Active, invokes it once (the cold start) and
/// returns the invoke request.
async fn lambda_setup(t: &Target, addr: &str) -> Option<Template> {
    use base64::Engine;
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("index.py", options).ok()?;
    zip.write_all(b"def handler(event, context):\n    return {\"ok\": True}\n").ok()?;
    let bytes = zip.finish().ok()?.into_inner();
    let code = base64::engine::general_purpose::STANDARD.encode(bytes);
    let create = format!(
        r#"{{"FunctionName":"bench","Runtime":"python3.12","Role":"arn:aws:iam::000000000000:role/bench","Handler":"index.handler","Code":{{"ZipFile":"{code}"}}}}"#
    );
    let json = [("content-type", "application/json")];
    let lambda = |method: Method, path: &str, body: String| {
        Template::signed(t, "lambda", method, path, &json, Bytes::from(body))
    };
    setup(addr, &lambda(Method::POST, "/2015-03-31/functions", create)).await?;
    let config = lambda(Method::GET, "/2015-03-31/functions/bench/configuration", String::new());
    for _ in 0..200 {
        if let Ok((200, body)) = load::once(addr, &config).await
            && String::from_utf8_lossy(&body).contains(r#""State":"Active""#)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let invoke = lambda(Method::POST, "/2015-03-31/functions/bench/invocations", "{}".to_owned());
    let started = std::time::Instant::now();
    setup(addr, &invoke).await?;
    let cold = started.elapsed();
    eprintln!("bench:   lambda cold start (python) {:.1} ms", cold.as_secs_f64() * 1e3);
    if let Ok(mut colds) = COLD_STARTS.lock() {
        colds.push((addr.to_owned(), cold));
    }
    Some(invoke)
}

/// Sends a setup request; `None` (scenario skipped) unless it succeeds.
async fn setup(addr: &str, template: &Template) -> Option<()> {
    match load::once(addr, template).await {
        Ok((status, _)) if (200..300).contains(&status) => Some(()),
        Ok((status, body)) => {
            eprintln!(
                "bench:   setup {} {} -> {status} {}",
                template.method,
                template.path,
                String::from_utf8_lossy(&body)
            );
            None
        }
        Err(e) => {
            eprintln!("bench:   setup {} {} failed: {e}", template.method, template.path);
            None
        }
    }
}

/// Awaits futures concurrently on the current task.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await);
    }
    out
}

/// A streamed PutObject of 1 GiB (64 MiB with --quick) on a fresh server: seconds, MB/s and the
/// server's peak RSS, which must stay flat (no whole-body buffering).
async fn big_put(o: &Options) -> Option<(u64, Duration, u64)> {
    let size: u64 = if o.quick { 64 << 20 } else { 1 << 30 };
    let port = process::free_port();
    // On disk: in memory the object itself would be the RSS; on disk only buffers should be.
    let dir = std::env::temp_dir().join(format!("ruststack-bench-big-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut command = ruststack_command(o, port);
    command.arg("--data-dir").arg(&dir);
    let server = process::start(command, port, true).ok()?;
    let t = target(&server.addr);
    let _cleanup = scopeguard_dir(dir);
    setup(&server.addr, &Template::signed(&t, "s3", Method::PUT, "/bench-big", &[], Bytes::new())).await?;
    let len = size.to_string();
    let template =
        Template::signed(&t, "s3", Method::PUT, "/bench-big/big", &[("content-length", len.as_str())], Bytes::new());
    let chunk = Bytes::from(vec![b'z'; 1 << 20]);
    let mut req = http::Request::new(Chunks { chunk, left: size >> 20 });
    *req.method_mut() = Method::PUT;
    *req.uri_mut() = "/bench-big/big".parse().ok()?;
    *req.headers_mut() = template.headers.clone();
    req.headers_mut().insert("content-length", http::HeaderValue::from(size));
    let stream = tokio::net::TcpStream::connect(&server.addr).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.ok()?;
    tokio::spawn(conn);
    let started = std::time::Instant::now();
    let response = sender.send_request(req).await.ok()?;
    let elapsed = started.elapsed();
    let status = response.status();
    let peak = process::memory(server.child.id()).1;
    if !status.is_success() {
        eprintln!("bench: 1 GiB PUT answered {status}");
        return None;
    }
    Some((size, elapsed, peak))
}

/// Removes a directory when dropped.
struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scopeguard_dir(dir: PathBuf) -> DirGuard {
    DirGuard(dir)
}

/// A body of `left` copies of one chunk, produced as it is sent (never held whole).
struct Chunks {
    chunk: Bytes,
    left: u64,
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        self.left -= 1;
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(self.chunk.clone()))))
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn report(
    o: &Options,
    names: &[&str],
    rows: &[Row],
    peaks: &[u64],
    starts: &[Duration],
    (ready, first, idle): (Duration, Duration, u64),
    big: Option<(u64, Duration, u64)>,
) -> String {
    let mut s = String::new();
    let date = time::OffsetDateTime::now_utc().date();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(s, "# Performance\n");
    let _ = writeln!(
        s,
        "Measured {date} on this machine ({cpus} CPUs, loopback), {} connections, {} s per scenario{}, \
         with `cargo build --release -p ruststack -p ruststack-bench && target/release/bench --write docs/PERFORMANCE.md`. \
         The load generator runs on the same cores as the server, for every target alike. \
         `ceiling` is a bare hyper server answering 1 KiB to anything: the most this HTTP stack allows.\n",
        o.connections,
        o.duration.as_secs_f64(),
        if o.quick { " (--quick: not representative)" } else { "" }
    );
    let _ = writeln!(s, "## Startup and memory (RustStack)\n");
    let _ = writeln!(s, "| measure | value |\n|---|---|");
    let _ = writeln!(s, "| process start to `Ready.` | {:.1} ms |", ready.as_secs_f64() * 1e3);
    let _ = writeln!(s, "| process start to first answered request | {:.1} ms |", first.as_secs_f64() * 1e3);
    let _ = writeln!(s, "| idle RSS | {:.1} MB |", mb(idle));
    if let Some((_, cold)) = COLD_STARTS.lock().ok().and_then(|c| c.first().cloned()) {
        let _ = writeln!(
            s,
            "| Lambda cold start, Python (create, then first invoke) | {:.1} ms |",
            cold.as_secs_f64() * 1e3
        );
    }
    if let Some((size, elapsed, peak)) = big {
        let _ = writeln!(
            s,
            "| PutObject of {:.0} MiB streamed (`--data-dir`) | {:.2} s, {:.0} MB/s, peak RSS {:.1} MB |",
            mb(size),
            elapsed.as_secs_f64(),
            size as f64 / 1e6 / elapsed.as_secs_f64(),
            mb(peak)
        );
    }
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {name}: start to first answer, peak RSS under load | {:.0} ms, {:.1} MB |",
            starts[i].as_secs_f64() * 1e3,
            mb(peaks[i])
        );
    }
    let _ = writeln!(s, "\n## Throughput (req/s, p50 / p99 ms)\n");
    let mut header = String::from("| scenario |");
    let mut rule = String::from("|---|");
    for name in names {
        let _ = write!(header, " {name} |");
        rule.push_str("---|");
    }
    header.push_str(" ruststack / ceiling |");
    rule.push_str("---|");
    if names.contains(&"moto") {
        header.push_str(" ruststack / moto |");
        rule.push_str("---|");
    }
    let _ = writeln!(s, "{header}\n{rule}");
    let ceiling_at = names.iter().position(|n| *n == "ceiling").unwrap_or(usize::MAX);
    let moto_at = names.iter().position(|n| *n == "moto").unwrap_or(usize::MAX);
    let ceiling_get =
        rows.iter().find(|r| r.scenario == "s3_get_1k").and_then(|r| r.results.get(ceiling_at).cloned().flatten());
    for row in rows {
        let mut line = format!("| {} |", row.scenario);
        for result in &row.results {
            match result {
                Some(out) if row.bandwidth => {
                    let _ = write!(line, " {:.0} MB/s |", out.mb_per_s());
                }
                Some(out) => {
                    let _ = write!(
                        line,
                        " {:.0} ({:.2} / {:.2}) |",
                        out.req_per_s(),
                        out.p50.as_secs_f64() * 1e3,
                        out.p99.as_secs_f64() * 1e3
                    );
                }
                None => line.push_str(" – |"),
            }
        }
        let ours = row.results.first().cloned().flatten();
        let ceiling = row.results.get(ceiling_at).cloned().flatten().or_else(|| ceiling_get.clone());
        // Only small request/response scenarios compare with a 1 KiB answer.
        let comparable = matches!(
            row.scenario,
            "ddb_list_tables" | "s3_get_1k" | "s3_put_1k" | "ddb_put" | "ddb_get" | "sqs_send" | "sqs_receive"
        );
        match (&ours, &ceiling) {
            (Some(a), Some(b)) if comparable => {
                let _ = write!(line, " {:.0} % |", 100.0 * a.req_per_s() / b.req_per_s());
            }
            _ => line.push_str(" – |"),
        }
        if names.contains(&"moto") {
            match (&ours, row.results.get(moto_at).cloned().flatten()) {
                (Some(a), Some(b)) => {
                    let _ = write!(line, " {:.0}× |", a.req_per_s() / b.req_per_s());
                }
                _ => line.push_str(" – |"),
            }
        }
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(
        s,
        "\n– means the scenario does not apply to that target or its setup failed (an operation not implemented yet). \
         Ratios against the ceiling use its 1 KiB GET where the ceiling did not run the scenario.\n\n\
         Peak RSS under load counts the state the scenarios leave behind: without `--data-dir` every object and \
         item written (hundreds of thousands of 1 KiB objects from `s3_put_1k`) stays in memory; with it they \
         are on disk. `--data-dir` writes are acknowledged only once fsynced (concurrent writes share one \
         fsync), which bounds their throughput by the disk's flush latency."
    );
    s
}
