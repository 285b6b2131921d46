//! `ruststack`: a local AWS cloud emulator on one port.

mod config;
mod cors;
mod gateway;
mod internal;
mod metrics;
mod routing;
mod server;
mod services;
mod storage;

use config::{Command, Config};
use std::sync::Arc;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let config = match Config::parse(args, &|k| std::env::var(k).ok()) {
        Ok(Command::Run(config)) => *config,
        Ok(Command::Help) => {
            print!("{}", config::HELP);
            return std::process::ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("ruststack {}", internal::VERSION);
            return std::process::ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("ruststack: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(&config.log_level);
    // Opened before anything listens: a locked, newer or damaged data dir stops the start here.
    // Held until exit; its lock keeps a second server off the directory.
    let _data_dir = match open_storage(&config) {
        Ok(data_dir) => data_dir,
        Err(message) => {
            eprintln!("ruststack: {message}");
            return std::process::ExitCode::FAILURE;
        }
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ruststack: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        // The bound port (`--listen` may ask for port 0): what Lambda's functions and pollers call back.
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(config.listen.port());
        let credentials = ruststack_core::identity::Credentials::default();
        let all = services::all(&credentials, storage::get(), port);
        for name in config.services.iter().flatten() {
            if !all.iter().any(|s| s.model().name == name) {
                tracing::warn!(service = name.as_str(), "--services names a service RustStack does not serve");
            }
        }
        let gateway = Arc::new(gateway::Gateway::new(config, all, credentials));
        server::serve(gateway, listener).await.map_err(|e| e.to_string())
    });
    let code = match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("ruststack: {message}");
            1
        }
    };
    // Every connection has been answered and everything acknowledged is already durable; what
    // still runs is background work (event source pollers, retries, sweeps). Leaving here rather
    // than dropping the runtime under it spares those tasks tokio's shutdown race, in which a timer
    // polled while the runtime stops panics. Lambda environments exit by themselves once the
    // Runtime API is gone, and the data dir's lock goes with the process.
    std::process::exit(code)
}

/// Installs the server's storage: the data dir's stores, or memory without `--data-dir`.
fn open_storage(config: &Config) -> Result<Option<ruststack_persist::DataDir>, String> {
    let Some(dir) = &config.data_dir else {
        storage::install(ruststack_core::store::Storage::memory());
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let data_dir = ruststack_persist::DataDir::open(dir).map_err(|e| e.to_string())?;
    tracing::info!(dir = %dir.display(), elapsed = ?started.elapsed(), "data dir opened");
    storage::install(data_dir.storage.clone());
    Ok(Some(data_dir))
}

fn init_logging(level: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

// glibc's malloc serialises the worker threads on its arena locks under load; mimalloc keeps
// per-thread heaps (measured in docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
