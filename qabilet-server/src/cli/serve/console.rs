//! Serving the console's router over HTTP/1 with the listener's limits: at most
//! [`CONSOLE_MAX_CONNECTIONS`] open, a header-read timeout that also closes idle keep-alive
//! connections, a per-request timeout, and a graceful stop (requests in flight finish).

use std::future::Future;
use std::pin::pin;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tonic::transport::server::Connected;

use super::conn::Incoming;
use super::limits::{
    CONSOLE_DEADLINES, CONSOLE_HEADER_READ_TIMEOUT, CONSOLE_MAX_CONNECTIONS, TCP_KEEPALIVE,
    console_request_timeout,
};

/// Serves `router` on `listener` until `stop` resolves, then stops accepting (the listening
/// socket is closed), lets every request in flight finish, and returns once every connection
/// is closed.
pub async fn serve(listener: TcpListener, router: axum::Router, stop: impl Future<Output = ()>) {
    let router = router.layer(axum::middleware::from_fn(console_request_timeout));
    let mut incoming = Incoming::new(
        listener,
        CONSOLE_MAX_CONNECTIONS,
        CONSOLE_DEADLINES,
        TCP_KEEPALIVE,
    );
    let all_closed = incoming.all_closed();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(CONSOLE_HEADER_READ_TIMEOUT);
    let (closing, closing_rx) = tokio::sync::watch::channel(false);
    let mut stop = pin!(stop);
    loop {
        let io = tokio::select! {
            () = &mut stop => break,
            io = incoming.next() => match io {
                Some(Ok(io)) => io,
                Some(Err(never)) => match never {},
                None => break,
            },
        };
        // The peer's address, for the audit log (`console::signin::peer`).
        let routed = match io.connect_info().remote_addr() {
            Some(addr) => router
                .clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(addr))),
            None => router.clone(),
        };
        let connection = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(routed));
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            let stopping = async {
                let _ = closing.wait_for(|c| *c).await;
            };
            let outcome = tokio::select! {
                outcome = connection.as_mut() => outcome,
                () = stopping => {
                    // Finish the request in flight, if any, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = outcome {
                tracing::debug!(error = %e, "console connection ended");
            }
        });
    }
    drop(incoming);
    let _ = closing.send(true);
    all_closed.await;
}
