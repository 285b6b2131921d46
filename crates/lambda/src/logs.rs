//! Function logs: each environment writes its output and the START / END / REPORT lines AWS
//! frames invocations with to group `/aws/lambda/<name>`, stream `YYYY/MM/DD/[<version>]<hex>`,
//! through a [`LogSink`] (CloudWatch Logs once wired; in memory by default). The lines of the
//! current invocation are also collected for `LogType: Tail`.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;

/// Where function log events go: `(epoch milliseconds, message)` appended to a group and stream
/// of an account and region, both created when missing.
pub trait LogSink: Send + Sync + 'static {
    fn append(&self, account: &str, region: &str, group: &str, stream: &str, events: Vec<(i64, String)>);
}

impl<F> LogSink for F
where
    F: Fn(&str, &str, &str, &str, Vec<(i64, String)>) + Send + Sync + 'static,
{
    fn append(&self, account: &str, region: &str, group: &str, stream: &str, events: Vec<(i64, String)>) {
        self(account, region, group, stream, events)
    }
}

/// The default sink: the last 10 000 events in memory.
#[derive(Default)]
pub struct MemoryLogSink {
    events: Mutex<VecDeque<LoggedEvent>>,
}

#[derive(Clone, Debug)]
pub struct LoggedEvent {
    pub group: String,
    pub stream: String,
    pub timestamp: i64,
    pub message: String,
}

impl MemoryLogSink {
    pub fn events(&self) -> Vec<LoggedEvent> {
        self.events.lock().iter().cloned().collect()
    }
}

impl LogSink for MemoryLogSink {
    fn append(&self, _account: &str, _region: &str, group: &str, stream: &str, events: Vec<(i64, String)>) {
        let mut all = self.events.lock();
        for (timestamp, message) in events {
            if all.len() >= 10_000 {
                all.pop_front();
            }
            all.push_back(LoggedEvent { group: group.to_owned(), stream: stream.to_owned(), timestamp, message });
        }
    }
}

/// Largest `LogType: Tail` result, as AWS (the last 4 KB).
pub const TAIL_BYTES: usize = 4096;

/// The log of one environment.
pub struct EnvLog {
    pub sink: Arc<dyn LogSink>,
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub group: String,
    pub stream: String,
    /// Lines of the running invocation, when its caller asked for the tail.
    tail: Mutex<Option<String>>,
}

impl EnvLog {
    pub fn new(sink: Arc<dyn LogSink>, account: Arc<str>, region: Arc<str>, function: &str, version: &str) -> Self {
        let now = time::OffsetDateTime::now_utc();
        let stream = format!(
            "{:04}/{:02}/{:02}/[{version}]{:032x}",
            now.year(),
            now.month() as u8,
            now.day(),
            fastrand::u128(..)
        );
        EnvLog { sink, account, region, group: format!("/aws/lambda/{function}"), stream, tail: Mutex::new(None) }
    }

    /// Writes one line (a line of process output or a framing line).
    pub fn line(&self, message: String) {
        if let Some(tail) = self.tail.lock().as_mut() {
            tail.push_str(&message);
            tail.push('\n');
            // Only the last 4 KB are returned: keep the buffer bounded for chatty functions.
            if tail.len() > 16 * TAIL_BYTES {
                let mut cut = tail.len() - TAIL_BYTES;
                while !tail.is_char_boundary(cut) {
                    cut += 1;
                }
                tail.drain(..cut);
            }
        }
        self.sink.append(&self.account, &self.region, &self.group, &self.stream, vec![(now_millis(), message)]);
    }

    /// Starts collecting the tail (or not) for the next invocation.
    pub fn collect_tail(&self, on: bool) {
        *self.tail.lock() = on.then(String::new);
    }

    /// The collected tail, at most its last 4 KB.
    pub fn take_tail(&self) -> Option<String> {
        let mut tail = self.tail.lock().take()?;
        if tail.len() > TAIL_BYTES {
            let mut cut = tail.len() - TAIL_BYTES;
            while !tail.is_char_boundary(cut) {
                cut += 1;
            }
            tail.drain(..cut);
        }
        Some(tail)
    }
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The REPORT line of an invocation.
pub fn report_line(
    request_id: &str,
    duration_ms: f64,
    memory_mb: i32,
    max_memory_mb: u64,
    init_ms: Option<f64>,
) -> String {
    let billed = duration_ms.ceil().max(1.0) as u64;
    let mut line = format!(
        "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB\t"
    );
    if let Some(init) = init_ms {
        line.push_str(&format!("Init Duration: {init:.2} ms\t"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_4_kb() {
        let sink = Arc::new(MemoryLogSink::default());
        let log = EnvLog::new(sink.clone(), "1".into(), "r".into(), "f", "$LATEST");
        assert!(log.stream.contains("/[$LATEST]"));
        log.collect_tail(true);
        for _ in 0..100 {
            log.line("x".repeat(99));
        }
        let tail = log.take_tail().unwrap();
        assert_eq!(tail.len(), TAIL_BYTES);
        assert_eq!(sink.events().len(), 100);
        assert_eq!(sink.events()[0].group, "/aws/lambda/f");
        assert!(log.take_tail().is_none());
    }

    #[test]
    fn report_line_has_aws_fields() {
        let l = report_line("id", 1.234, 128, 40, Some(100.0));
        assert_eq!(
            l,
            "REPORT RequestId: id\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 100.00 ms\t"
        );
    }
}
