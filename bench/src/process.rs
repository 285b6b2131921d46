//! Starting and measuring servers: time to `Ready.` and to the first answer, resident memory.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process the benchmark started; killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
    /// Spawn to the `Ready.` line (None for servers that print no such line).
    pub ready: Option<Duration>,
    /// Spawn to the first answered HTTP request.
    pub first_answer: Duration,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(45_000)
}

/// Spawns `command` (which must listen on `port`), waits for `Ready.` when `expect_ready`, then
/// for the first answered HTTP request.
pub fn start(mut command: Command, port: u16, expect_ready: bool) -> Result<Server, String> {
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let spawned = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let mut ready = None;
    if expect_ready {
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.trim() == "Ready." => break,
                Some(Ok(_)) => continue,
                _ => {
                    let _ = child.kill();
                    return Err(format!("{command:?} exited before printing Ready."));
                }
            }
        }
        ready = Some(spawned.elapsed());
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
    }
    let addr = format!("127.0.0.1:{port}");
    let deadline = spawned + Duration::from_secs(60);
    loop {
        if answers(&addr) {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!("{command:?} did not answer on {addr} within 60 s"));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Ok(Server { first_answer: spawned.elapsed(), child, addr, ready })
}

/// Whether an HTTP GET of the health path gets any answer.
fn answers(addr: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /_localstack/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && buf.starts_with(b"HTTP/1."))
}

/// `VmRSS` and `VmHWM` (peak) of a process, in bytes.
pub fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
