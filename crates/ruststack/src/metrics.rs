//! Request metrics, served as Prometheus text at `GET /_ruststack/metrics`.
//!
//! Recording is a read-locked map lookup and a few relaxed atomic adds per request, so the
//! benchmark shows no measurable cost; the map only takes its write lock the first time a
//! (service, operation, status) triple is seen.

use parking_lot::RwLock;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    /// Per bucket (not cumulative; the renderer accumulates), plus one for +Inf.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let i = BUCKETS.iter().position(|&b| secs <= b).unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(elapsed.as_micros() as u64, Relaxed);
    }
}

type RequestKey = (&'static str, &'static str, u16);

/// Counters of the whole server.
#[derive(Default)]
pub struct Metrics {
    requests: RwLock<HashMap<RequestKey, AtomicU64>>,
    latency: RwLock<HashMap<&'static str, Histogram>>,
    in_flight: AtomicI64,
}

/// Decrements the in-flight gauge when the request is done, however it ends.
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    /// Counts a request as in flight until the guard drops.
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self)
    }

    /// Records an answered request.
    pub fn record(&self, service: &'static str, operation: &'static str, status: u16, elapsed: Duration) {
        let key = (service, operation, status);
        let known = self.requests.read().get(&key).map(|c| c.fetch_add(1, Relaxed)).is_some();
        if !known {
            self.requests.write().entry(key).or_default().fetch_add(1, Relaxed);
        }
        let observed = self.latency.read().get(service).map(|h| h.observe(elapsed)).is_some();
        if !observed {
            self.latency.write().entry(service).or_default().observe(elapsed);
        }
    }

    /// The Prometheus text exposition of every metric. `stored` is bytes stored per service,
    /// `environments` the live Lambda execution environments.
    pub fn render(&self, stored: &[(&str, u64)], environments: u64) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP ruststack_requests_total Requests answered, by service, operation and status code.\n");
        out.push_str("# TYPE ruststack_requests_total counter\n");
        let mut requests: Vec<_> = self.requests.read().iter().map(|(k, v)| (*k, v.load(Relaxed))).collect();
        requests.sort_unstable();
        for ((service, operation, status), count) in requests {
            let _ = writeln!(
                out,
                "ruststack_requests_total{{service=\"{service}\",operation=\"{operation}\",status=\"{status}\"}} {count}"
            );
        }

        out.push_str("# HELP ruststack_request_duration_seconds Time from request to response head, by service.\n");
        out.push_str("# TYPE ruststack_request_duration_seconds histogram\n");
        let latency = self.latency.read();
        let mut services: Vec<_> = latency.keys().copied().collect();
        services.sort_unstable();
        for service in services {
            let h = &latency[service];
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i].load(Relaxed);
                let _ = writeln!(
                    out,
                    "ruststack_request_duration_seconds_bucket{{service=\"{service}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += h.counts[BUCKETS.len()].load(Relaxed);
            let _ = writeln!(
                out,
                "ruststack_request_duration_seconds_bucket{{service=\"{service}\",le=\"+Inf\"}} {cumulative}"
            );
            let sum = h.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "ruststack_request_duration_seconds_sum{{service=\"{service}\"}} {sum}");
            let _ = writeln!(out, "ruststack_request_duration_seconds_count{{service=\"{service}\"}} {cumulative}");
        }

        out.push_str("# HELP ruststack_requests_in_flight Requests being answered now.\n");
        out.push_str("# TYPE ruststack_requests_in_flight gauge\n");
        let _ = writeln!(out, "ruststack_requests_in_flight {}", self.in_flight.load(Relaxed));

        out.push_str("# HELP ruststack_stored_bytes Bytes of state each service holds.\n");
        out.push_str("# TYPE ruststack_stored_bytes gauge\n");
        for (service, bytes) in stored {
            let _ = writeln!(out, "ruststack_stored_bytes{{service=\"{service}\"}} {bytes}");
        }

        out.push_str("# HELP ruststack_lambda_environments Live Lambda execution environments.\n");
        out.push_str("# TYPE ruststack_lambda_environments gauge\n");
        let _ = writeln!(out, "ruststack_lambda_environments {environments}");

        out.push_str("# HELP process_resident_memory_bytes Resident memory size in bytes.\n");
        out.push_str("# TYPE process_resident_memory_bytes gauge\n");
        let _ = writeln!(out, "process_resident_memory_bytes {}", resident_bytes().unwrap_or(0));
        out
    }
}

/// This process's resident set size, from `/proc/self/statm` (Linux).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.record("s3", "ListBuckets", 200, Duration::from_micros(300));
        m.record("s3", "ListBuckets", 200, Duration::from_millis(2));
        m.record("s3", "GetObject", 404, Duration::from_secs(20));
        let guard = m.start();
        let text = m.render(&[("s3", 1024)], 2);
        drop(guard);
        assert!(text.contains("ruststack_requests_total{service=\"s3\",operation=\"ListBuckets\",status=\"200\"} 2\n"));
        assert!(text.contains("ruststack_requests_total{service=\"s3\",operation=\"GetObject\",status=\"404\"} 1\n"));
        assert!(text.contains("ruststack_request_duration_seconds_bucket{service=\"s3\",le=\"0.0005\"} 1\n"));
        assert!(text.contains("ruststack_request_duration_seconds_bucket{service=\"s3\",le=\"0.0025\"} 2\n"));
        assert!(text.contains("ruststack_request_duration_seconds_bucket{service=\"s3\",le=\"10\"} 2\n"));
        assert!(text.contains("ruststack_request_duration_seconds_bucket{service=\"s3\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("ruststack_request_duration_seconds_count{service=\"s3\"} 3\n"));
        assert!(text.contains("ruststack_requests_in_flight 1\n"));
        assert!(text.contains("ruststack_stored_bytes{service=\"s3\"} 1024\n"));
        assert!(text.contains("ruststack_lambda_environments 2\n"));
        assert_eq!(m.render(&[], 0).lines().filter(|l| l.starts_with("ruststack_requests_in_flight")).count(), 1);
        assert!(m.render(&[], 0).contains("ruststack_requests_in_flight 0\n"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn reads_resident_memory() {
        assert!(resident_bytes().unwrap_or(1) > 0);
    }
}
