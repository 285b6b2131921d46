//! Execution environments: one local process per environment, serving one invocation at a time
//! and kept warm for the next (module state persists, as on AWS).
//!
//! Environments are pooled by version snapshot (`Version::revision`); an update retires the old
//! snapshot's pool. Concurrent invocations start more environments, up to the function's reserved
//! concurrency or the global limit (`RUSTSTACK_LAMBDA_MAX_CONCURRENCY`, default 1000); idle ones
//! stop after `RUSTSTACK_LAMBDA_IDLE_SECONDS` (default 600). A process runs in its own process
//! group, so a timeout or a stop kills everything it started.

use crate::bootstraps::{self, Family};
use crate::logs::{EnvLog, LogSink, report_line};
use crate::runtime_api::{self, Channel, Invocation, Outcome};
use crate::state::{Version, uuid};
use bytes::Bytes;
use parking_lot::Mutex;
use ruststack_core::AwsError;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, oneshot};

/// How long a runtime may take to initialize (AWS: 10 s).
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// Longest log line kept (CloudWatch Logs' event limit).
const MAX_LINE: usize = 256 * 1024;

/// The process pool of the service.
pub struct Executor {
    sink: Arc<dyn LogSink>,
    idle: Mutex<HashMap<u64, Vec<Environment>>>,
    retired: Mutex<HashSet<u64>>,
    /// Bumped by a reset: environments of an older epoch are not reused.
    epoch: AtomicU64,
    busy: Mutex<Busy>,
    pub max_concurrency: u32,
    idle_timeout: Duration,
    reaper: std::sync::Once,
}

#[derive(Default)]
struct Busy {
    total: u32,
    per_function: HashMap<String, u32>,
}

/// What an invocation needs.
pub struct RunRequest {
    pub version: Arc<Version>,
    pub payload: Bytes,
    /// Port of the gateway, for `AWS_ENDPOINT_URL`.
    pub port: u16,
    pub tail: bool,
    pub client_context: Option<String>,
    /// The ARN the caller invoked (with its qualifier).
    pub invoked_arn: String,
    /// The unqualified function ARN: concurrency is counted per function.
    pub function_arn: String,
    pub reserved: Option<i32>,
    /// The request id to use (asynchronous retries keep the invocation's id), else a new one.
    pub request_id: Option<String>,
}

/// What an invocation gave.
#[derive(Debug)]
pub struct RunResult {
    pub request_id: String,
    pub payload: Bytes,
    /// `Unhandled` when the function failed.
    pub function_error: Option<&'static str>,
    pub log_tail: Option<String>,
}

impl Executor {
    /// Environments alive now: idle ones kept warm plus those serving an invocation.
    pub fn live(&self) -> u64 {
        let idle: usize = self.idle.lock().values().map(Vec::len).sum();
        idle as u64 + u64::from(self.busy.lock().total)
    }

    pub fn new(sink: Arc<dyn LogSink>) -> Arc<Executor> {
        let env_num =
            |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(default);
        Arc::new(Executor {
            sink,
            idle: Mutex::default(),
            retired: Mutex::default(),
            epoch: AtomicU64::new(0),
            busy: Mutex::default(),
            max_concurrency: env_num("RUSTSTACK_LAMBDA_MAX_CONCURRENCY", 1000) as u32,
            idle_timeout: Duration::from_secs(env_num("RUSTSTACK_LAMBDA_IDLE_SECONDS", 600)),
            reaper: std::sync::Once::new(),
        })
    }

    /// Stops the idle environments of a snapshot and keeps busy ones from being reused.
    pub fn retire(&self, revision: u64) {
        self.retired.lock().insert(revision);
        let stopped = self.idle.lock().remove(&revision);
        drop(stopped);
    }

    /// Stops every environment (reset).
    pub fn stop_all(&self) {
        self.epoch.fetch_add(1, Ordering::Relaxed);
        let stopped: Vec<_> = self.idle.lock().drain().collect();
        drop(stopped);
    }

    /// Number of idle environments (tests and metrics).
    pub fn idle_count(&self) -> usize {
        self.idle.lock().values().map(Vec::len).sum()
    }

    /// Reserves a concurrency slot for one invocation, or throttles.
    fn acquire(self: &Arc<Self>, function: &str, reserved: Option<i32>) -> Result<Slot, AwsError> {
        let mut busy = self.busy.lock();
        let mine = busy.per_function.get(function).copied().unwrap_or(0);
        if let Some(limit) = reserved
            && mine >= limit.max(0) as u32
        {
            return Err(throttled("ReservedFunctionConcurrentInvocationLimitExceeded"));
        }
        if busy.total >= self.max_concurrency {
            return Err(throttled("ConcurrentInvocationLimitExceeded"));
        }
        busy.total += 1;
        *busy.per_function.entry(function.to_owned()).or_default() += 1;
        Ok(Slot { executor: self.clone(), function: function.to_owned() })
    }

    fn take_idle(&self, revision: u64) -> Option<Environment> {
        let mut idle = self.idle.lock();
        let pool = idle.get_mut(&revision)?;
        // Most recently used first: its process is the warmest.
        while let Some(env) = pool.pop() {
            if !env.channel.has_exited() {
                return Some(env);
            }
        }
        None
    }

    fn release(&self, mut env: Environment) {
        if env.epoch != self.epoch.load(Ordering::Relaxed) || self.retired.lock().contains(&env.revision) {
            return;
        }
        env.last_used = Instant::now();
        self.idle.lock().entry(env.revision).or_default().push(env);
    }

    fn start_reaper(self: &Arc<Self>) {
        self.reaper.call_once(|| {
            let weak = Arc::downgrade(self);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let Some(executor) = weak.upgrade() else { return };
                    let expired = executor.take_expired();
                    drop(expired);
                }
            });
        });
    }

    fn take_expired(&self) -> Vec<Environment> {
        let mut expired = Vec::new();
        let mut idle = self.idle.lock();
        for pool in idle.values_mut() {
            let mut i = 0;
            while i < pool.len() {
                if pool[i].last_used.elapsed() >= self.idle_timeout || pool[i].channel.has_exited() {
                    expired.push(pool.swap_remove(i));
                } else {
                    i += 1;
                }
            }
        }
        idle.retain(|_, pool| !pool.is_empty());
        expired
    }

    /// Runs one invocation on a warm environment or a new one.
    pub async fn run(self: &Arc<Self>, req: RunRequest) -> Result<RunResult, AwsError> {
        let _slot = self.acquire(&req.function_arn, req.reserved)?;
        self.start_reaper();
        let request_id = req.request_id.clone().unwrap_or_else(uuid);
        let version = req.version.clone();
        let (env, cold) = match self.take_idle(version.revision) {
            Some(env) => (env, false),
            None => match self.spawn(&req).await {
                Ok(env) => (env, true),
                Err((error_type, message)) => {
                    let body = serde_json::json!({"errorType": error_type, "errorMessage": message});
                    return Ok(RunResult {
                        request_id,
                        payload: Bytes::from(body.to_string()),
                        function_error: Some("Unhandled"),
                        log_tail: req.tail.then(String::new),
                    });
                }
            },
        };
        let log = env.log.clone();
        log.collect_tail(req.tail);
        log.line(format!("START RequestId: {request_id} Version: {}", version.version()));
        let timeout = Duration::from_secs(version.config.timeout.unwrap_or(3).max(1) as u64);
        let (started_tx, started_rx) = oneshot::channel();
        let mut done = env.channel.dispatch(Invocation {
            request_id: request_id.clone(),
            payload: req.payload,
            timeout,
            function_arn: req.invoked_arn,
            trace_id: trace_id(),
            client_context: req.client_context,
            started: started_tx,
        });

        let mut init_ms = None;
        let mut began = Instant::now();
        let ended = async {
            tokio::select! {
                picked = started_rx => {
                    if let Ok(at) = picked {
                        began = at;
                        if cold {
                            init_ms = Some(at.duration_since(env.spawned_at).as_secs_f64() * 1000.0);
                        }
                    }
                }
                outcome = &mut done => return Ended::Outcome(outcome.ok()),
                _ = tokio::time::sleep(INIT_LIMIT) => return Ended::TimedOut,
            }
            match tokio::time::timeout(timeout, &mut done).await {
                Ok(outcome) => Ended::Outcome(outcome.ok()),
                Err(_) => Ended::TimedOut,
            }
        }
        .await;
        let duration_ms = began.elapsed().as_secs_f64() * 1000.0;
        env.flush_output().await;

        let mut keep = true;
        let (payload, function_error) = match ended {
            Ended::Outcome(Some(Outcome::Response(body))) => (body, None),
            Ended::Outcome(Some(Outcome::Error(body))) => (body, Some("Unhandled")),
            Ended::Outcome(Some(Outcome::InitError(body))) => {
                keep = false;
                (body, Some("Unhandled"))
            }
            Ended::Outcome(Some(Outcome::TooLarge)) => (
                Bytes::from_static(
                    br#"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}"#,
                ),
                Some("Unhandled"),
            ),
            Ended::Outcome(Some(Outcome::Exited(reason))) => {
                keep = false;
                let message = format!("RequestId: {request_id} Error: Runtime exited with error: {reason}");
                log.line(message.clone());
                log.line("Runtime.ExitError".into());
                (error_body("Runtime.ExitError", &message), Some("Unhandled"))
            }
            Ended::Outcome(None) => {
                keep = false;
                let message = format!("RequestId: {request_id} Error: Runtime exited without providing a reason");
                (error_body("Runtime.ExitError", &message), Some("Unhandled"))
            }
            Ended::TimedOut => {
                keep = false;
                let secs = timeout.as_secs_f64();
                log.line(format!("{} {request_id} Task timed out after {secs:.2} seconds", iso_now()));
                let message = format!("RequestId: {request_id} Error: Task timed out after {secs:.2} seconds");
                (error_body("Sandbox.Timedout", &message), Some("Unhandled"))
            }
        };
        log.line(format!("END RequestId: {request_id}"));
        let memory = version.config.memory_size.unwrap_or(128);
        log.line(report_line(&request_id, duration_ms, memory, env.max_memory_mb(), init_ms));
        let log_tail = log.take_tail();
        if keep {
            self.release(env);
        } else {
            env.kill();
        }
        Ok(RunResult { request_id, payload, function_error, log_tail })
    }

    /// Starts a new environment for the request's version.
    async fn spawn(&self, req: &RunRequest) -> Result<Environment, (&'static str, String)> {
        let version = &req.version;
        let config = &version.config;
        let runtime = config.runtime.as_deref().unwrap_or("provided.al2023");
        let family = bootstraps::family(runtime).ok_or((
            "Runtime.InvalidRuntime",
            format!("RustStack cannot run the {runtime} runtime without containers"),
        ))?;
        let code_dir = version.code.dir().await.map_err(|e| ("Runtime.InvalidEntrypoint", e))?;
        let opt_dir = version.opt.dir().await.map_err(|e| ("Runtime.InvalidEntrypoint", e))?;
        let (program, args) = command_for(family, runtime, &code_dir, opt_dir.as_deref())?;

        let channel = Channel::new();
        let (addr, server) =
            runtime_api::serve(channel.clone()).await.map_err(|e| ("Runtime.Unknown", e.to_string()))?;
        let log = Arc::new(EnvLog::new(
            self.sink.clone(),
            version.account.clone(),
            version.region.clone(),
            version.name(),
            version.version(),
        ));
        let vars = environment_variables(req, family, runtime, &addr, &code_dir, opt_dir.as_deref(), &log, &program);
        let mut command = tokio::process::Command::new(&program);
        command
            .args(&args)
            .current_dir(&code_dir)
            .env_clear()
            .envs(vars)
            .process_group(0)
            .kill_on_drop(true)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let runtime_version = runtime.replacen("python", "python:", 1).replacen("nodejs", "nodejs:", 1).replacen(
            '.',
            ":",
            usize::from(runtime.starts_with("provided.")),
        );
        log.line(format!(
            "INIT_START Runtime Version: {runtime_version}.v1\tRuntime Version ARN: arn:aws:lambda:{}::runtime:ruststack-{runtime}",
            version.region
        ));
        let spawned_at = Instant::now();
        let mut child = command.spawn().map_err(|e| {
            server.abort();
            ("Runtime.InvalidEntrypoint", format!("Could not start {}: {e}", program.display()))
        })?;
        let pid = child.id().unwrap_or(0) as i32;
        let mut flushers = Vec::new();
        if let Some(out) = child.stdout.take() {
            flushers.push(drain(out, log.clone()));
        }
        if let Some(err) = child.stderr.take() {
            flushers.push(drain(err, log.clone()));
        }
        let waiter_channel = channel.clone();
        tokio::spawn(async move {
            let reason = match child.wait().await {
                Ok(status) => describe_exit(status),
                Err(e) => e.to_string(),
            };
            waiter_channel.process_exited(reason);
        });
        Ok(Environment {
            revision: version.revision,
            epoch: self.epoch.load(Ordering::Relaxed),
            channel,
            log,
            pid,
            server,
            flushers,
            last_used: Instant::now(),
            spawned_at,
        })
    }
}

enum Ended {
    Outcome(Option<Outcome>),
    TimedOut,
}

fn throttled(reason: &'static str) -> AwsError {
    AwsError::new(http::StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsException", "Rate Exceeded.")
        .with_field("Reason", reason)
        .with_field("Type", "User")
}

fn error_body(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string())
}

fn trace_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("Root=1-{secs:08x}-{:024x};Parent={:016x};Sampled=0", fastrand::u128(..) >> 32, fastrand::u64(..))
}

fn iso_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// Releases the invocation's concurrency when dropped.
struct Slot {
    executor: Arc<Executor>,
    function: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut busy = self.executor.busy.lock();
        busy.total = busy.total.saturating_sub(1);
        if let Some(n) = busy.per_function.get_mut(&self.function) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.per_function.remove(&self.function);
            }
        }
    }
}

/// One running execution environment. Dropping it kills its process group.
struct Environment {
    revision: u64,
    epoch: u64,
    channel: Arc<Channel>,
    log: Arc<EnvLog>,
    pid: i32,
    server: tokio::task::JoinHandle<()>,
    flushers: Vec<mpsc::UnboundedSender<oneshot::Sender<()>>>,
    last_used: Instant,
    spawned_at: Instant,
}

impl Environment {
    /// Waits until the output the process wrote so far has been logged (bounded).
    async fn flush_output(&self) {
        let acks: Vec<_> = self
            .flushers
            .iter()
            .filter_map(|f| {
                let (tx, rx) = oneshot::channel();
                f.send(tx).ok().map(|()| rx)
            })
            .collect();
        let _ = tokio::time::timeout(Duration::from_millis(200), async {
            for ack in acks {
                let _ = ack.await;
            }
        })
        .await;
    }

    /// Peak resident memory of the process in MB.
    fn max_memory_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb.div_ceil(1024))
    }

    fn kill(self) {
        drop(self);
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        if self.pid > 0 {
            // SAFETY: killpg only sends a signal; the group was created for this environment.
            unsafe {
                libc::killpg(self.pid, libc::SIGKILL);
            }
        }
        // The waiter task is left running: it reaps the killed process (no zombie) and then ends.
        self.server.abort();
    }
}

/// Reads a process's output line by line into the log (a line longer than [`MAX_LINE`] is cut
/// into several, so a process writing without newlines cannot exhaust memory). Answers flush
/// requests once the lines already readable have been logged.
fn drain(out: impl AsyncRead + Unpin + Send + 'static, log: Arc<EnvLog>) -> mpsc::UnboundedSender<oneshot::Sender<()>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
    tokio::spawn(async move {
        let mut reader = BufReader::new(out);
        let mut line: Vec<u8> = Vec::new();
        let emit = |line: &mut Vec<u8>| {
            while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                line.pop();
            }
            log.line(String::from_utf8_lossy(line).into_owned());
            line.clear();
        };
        loop {
            tokio::select! {
                biased;
                chunk = reader.fill_buf() => {
                    let chunk = match chunk {
                        Ok([]) | Err(_) => break,
                        Ok(chunk) => chunk,
                    };
                    let (taken, complete) = match chunk.iter().position(|b| *b == b'\n') {
                        Some(i) => (i + 1, true),
                        None => (chunk.len(), false),
                    };
                    let room = MAX_LINE.saturating_sub(line.len());
                    let used = taken.min(room.max(1));
                    line.extend_from_slice(&chunk[..used]);
                    reader.consume(used);
                    if (complete && used == taken) || line.len() >= MAX_LINE {
                        emit(&mut line);
                    }
                }
                Some(ack) = rx.recv() => {
                    // Output without a final newline is logged at the end of the invocation.
                    if !line.is_empty() {
                        emit(&mut line);
                    }
                    let _ = ack.send(());
                }
            }
        }
        if !line.is_empty() {
            emit(&mut line);
        }
    });
    tx
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(libc::SIGKILL) => "signal: killed".into(),
        Some(libc::SIGTERM) => "signal: terminated".into(),
        Some(libc::SIGSEGV) => "signal: segmentation fault".into(),
        Some(libc::SIGABRT) => "signal: aborted".into(),
        Some(n) => format!("signal: {n}"),
        None => "unknown exit".into(),
    }
}

/// The program and arguments that start a runtime.
fn command_for(
    family: Family,
    runtime: &str,
    code_dir: &Path,
    opt_dir: Option<&Path>,
) -> Result<(PathBuf, Vec<String>), (&'static str, String)> {
    match family {
        Family::Python | Family::Node => {
            let interpreter = bootstraps::interpreter(runtime).map_err(|e| ("Runtime.InvalidEntrypoint", e))?;
            let dir = bootstraps::bootstrap_dir().map_err(|e| ("Runtime.Unknown", e))?;
            let args = if family == Family::Python {
                vec!["-u".into(), dir.join("bootstrap.py").display().to_string()]
            } else {
                vec![dir.join("bootstrap.js").display().to_string()]
            };
            Ok((interpreter, args))
        }
        Family::Provided => {
            let mut candidates = vec![code_dir.join("bootstrap")];
            if let Some(opt) = opt_dir {
                candidates.push(opt.join("bootstrap"));
            }
            candidates.into_iter().find(|p| p.is_file()).map(|p| (p, Vec::new())).ok_or((
                "Runtime.InvalidEntrypoint",
                "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".to_owned(),
            ))
        }
    }
}

/// The variables AWS gives a runtime, then the function's own.
#[allow(clippy::too_many_arguments)]
fn environment_variables(
    req: &RunRequest,
    family: Family,
    runtime: &str,
    runtime_api: &str,
    code_dir: &Path,
    opt_dir: Option<&Path>,
    log: &EnvLog,
    program: &Path,
) -> Vec<(String, String)> {
    let config = &req.version.config;
    let version = &req.version;
    let task_root = code_dir.display().to_string();
    let opt = opt_dir.map(|p| p.display().to_string());
    let mut path = Vec::new();
    if let Some(dir) = program.parent().filter(|_| family != Family::Provided) {
        path.push(dir.display().to_string());
    }
    if let Some(opt) = &opt {
        path.push(format!("{opt}/bin"));
    }
    path.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(String::from));
    let access_key = if &*version.account == "000000000000" { "test".to_owned() } else { version.account.to_string() };
    let endpoint = format!("http://127.0.0.1:{}", req.port);
    let mut vars: Vec<(String, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API".into(), runtime_api.into()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), version.name().into()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), version.version().into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), config.memory_size.unwrap_or(128).to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), log.group.clone()),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), log.stream.clone()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
        ("AWS_EXECUTION_ENV".into(), format!("AWS_Lambda_{runtime}")),
        ("AWS_REGION".into(), version.region.to_string()),
        ("AWS_DEFAULT_REGION".into(), version.region.to_string()),
        ("AWS_ACCESS_KEY_ID".into(), access_key),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_ENDPOINT_URL".into(), endpoint),
        ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
        ("LAMBDA_TASK_ROOT".into(), task_root.clone()),
        ("LAMBDA_RUNTIME_DIR".into(), bootstraps::bootstrap_dir().map(|d| d.display().to_string()).unwrap_or_default()),
        ("_HANDLER".into(), config.handler.clone().unwrap_or_default()),
        ("TZ".into(), ":UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("PATH".into(), path.join(":")),
        ("LOCALSTACK_HOSTNAME".into(), "127.0.0.1".into()),
        ("RUSTSTACK_LAMBDA".into(), "1".into()),
    ];
    if let Some(opt) = &opt {
        vars.push(("LD_LIBRARY_PATH".into(), format!("{opt}/lib")));
        vars.push(("RUSTSTACK_LAMBDA_OPT".into(), opt.clone()));
    }
    match family {
        Family::Python => {
            let mut pythonpath = Vec::new();
            if let Some(opt) = &opt {
                pythonpath.push(format!("{opt}/python"));
                if let Ok(entries) = std::fs::read_dir(format!("{opt}/python/lib")) {
                    for entry in entries.flatten() {
                        pythonpath.push(format!("{}/site-packages", entry.path().display()));
                    }
                }
            }
            vars.push(("PYTHONPATH".into(), pythonpath.join(":")));
            vars.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
        }
        Family::Node => {
            let mut node_path = Vec::new();
            if let Some(opt) = &opt {
                let major = runtime.trim_start_matches("nodejs").trim_end_matches(".x");
                node_path.push(format!("{opt}/nodejs/node{major}/node_modules"));
                node_path.push(format!("{opt}/nodejs/node_modules"));
            }
            node_path.push(task_root.clone());
            vars.push(("NODE_PATH".into(), node_path.join(":")));
        }
        Family::Provided => {}
    }
    if let Some(user) = config.environment.as_ref().and_then(|e| e.variables.as_ref()) {
        for (k, v) in user {
            vars.retain(|(existing, _)| existing != k);
            vars.push((k.clone(), v.clone()));
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_descriptions_match_aws() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(describe_exit(std::process::ExitStatus::from_raw(1 << 8)), "exit status 1");
        assert_eq!(describe_exit(std::process::ExitStatus::from_raw(9)), "signal: killed");
    }

    #[tokio::test]
    async fn drained_output_is_split_into_bounded_lines() {
        use tokio::io::AsyncWriteExt;
        let sink = Arc::new(crate::logs::MemoryLogSink::default());
        let log = Arc::new(EnvLog::new(sink.clone(), "1".into(), "r".into(), "f", "$LATEST"));
        let (mut writer, reader) = tokio::io::duplex(1024);
        let flush = drain(reader, log);
        writer.write_all(b"first\nsecond").await.unwrap();
        let long = vec![b'x'; MAX_LINE + 10];
        let writing = tokio::spawn(async move {
            writer.write_all(b"\n").await.unwrap();
            writer.write_all(&long).await.unwrap();
            writer
        });
        let _writer = writing.await.unwrap();
        let (tx, rx) = oneshot::channel();
        flush.send(tx).unwrap();
        rx.await.unwrap();
        let lines: Vec<usize> = sink.events().iter().map(|e| e.message.len()).collect();
        assert_eq!(sink.events()[0].message, "first");
        assert_eq!(sink.events()[1].message, "second");
        assert_eq!(lines[2..], [MAX_LINE, 10]);
    }

    #[test]
    fn trace_ids_have_the_xray_shape() {
        let t = trace_id();
        assert!(t.starts_with("Root=1-"), "{t}");
        assert_eq!(t.split(';').count(), 3);
    }
}
