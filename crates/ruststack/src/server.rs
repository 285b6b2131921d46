//! The HTTP/1.1 server: accept loop, keep-alive connections, the `Ready.` line and graceful shutdown.

use crate::gateway::Gateway;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::io::Write;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves until SIGINT or SIGTERM, then lets in-flight requests finish (bounded) and returns.
pub async fn serve(gateway: Arc<Gateway>, listener: TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.keep_alive(true);
    let graceful = GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);

    tracing::info!(%addr, services = ?gateway.services.keys().collect::<Vec<_>>(), "listening");
    // Testcontainers and CI scripts wait for exactly this line on stdout.
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Ready.")?;
        out.flush()?;
    }

    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let gw = gateway.clone();
                let service = service_fn(move |req| {
                    let gw = gw.clone();
                    async move { Ok::<_, std::convert::Infallible>(gw.handle(req).await) }
                });
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection closed with an error");
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }

    drop(listener);
    let timeout = gateway.config.shutdown_timeout;
    tracing::info!(?timeout, "shutting down: waiting for in-flight requests");
    match tokio::time::timeout(timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!("in-flight requests did not finish in time; exiting anyway"),
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so a signal sent right after `Ready.` is never missed.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: &mut Option<tokio::signal::unix::Signal>| {
                let s = s.take();
                async move {
                    match s {
                        Some(mut s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                }
            };
            tokio::select! {
                _ = wait(&mut term) => {},
                _ = wait(&mut int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
