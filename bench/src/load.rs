//! The load generator: N keep-alive HTTP/1.1 connections, each sending a template back to back.

use crate::request::Template;
use http_body_util::BodyExt;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};

/// What one scenario measured.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub ok: u64,
    pub failed: u64,
    /// First non-2xx status seen, to explain failures.
    pub first_failure: Option<u16>,
    pub bytes: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

impl Outcome {
    pub fn req_per_s(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Sends `template` over `connections` connections for `duration`.
pub async fn run(addr: &str, template: &Template, connections: usize, duration: Duration) -> Outcome {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (addr, template) = (addr.to_owned(), template.clone());
            tokio::spawn(async move { connection(&addr, &template, deadline).await })
        })
        .collect();
    let mut total = Outcome::default();
    let mut latencies: Vec<u32> = Vec::new();
    for task in tasks {
        let Ok((outcome, mut lat)) = task.await else { continue };
        total.ok += outcome.ok;
        total.failed += outcome.failed;
        total.bytes += outcome.bytes;
        total.first_failure = total.first_failure.or(outcome.first_failure);
        latencies.append(&mut lat);
    }
    total.elapsed = started.elapsed();
    latencies.sort_unstable();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(Duration::ZERO, |&us| Duration::from_micros(us as u64))
    };
    total.p50 = pick(0.50);
    total.p99 = pick(0.99);
    total
}

/// One connection's loop; reconnects if the server closes it.
async fn connection(addr: &str, template: &Template, deadline: Instant) -> (Outcome, Vec<u32>) {
    let mut out = Outcome::default();
    let mut latencies = Vec::with_capacity(1 << 16);
    'reconnect: while Instant::now() < deadline {
        let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
            out.failed += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) = http1::handshake(TokioIo::new(stream)).await else { continue };
        tokio::spawn(conn);
        while Instant::now() < deadline {
            let sent = Instant::now();
            let Ok(response) = sender.send_request(template.build()).await else { continue 'reconnect };
            let status = response.status();
            let Ok(body) = response.into_body().collect().await else { continue 'reconnect };
            latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
            if status.is_success() {
                out.ok += 1;
                out.bytes += body.to_bytes().len() as u64;
            } else {
                out.failed += 1;
                out.first_failure.get_or_insert(status.as_u16());
            }
        }
    }
    (out, latencies)
}

/// Sends one request and returns its status and body (setup and checks).
pub async fn once(addr: &str, template: &Template) -> Result<(u16, bytes::Bytes), String> {
    let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let response = sender.send_request(template.build()).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body))
}
