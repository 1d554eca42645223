//! The limits of `qabilet serve`'s two listeners — how many connections each holds, how long a
//! peer may stay silent or stop reading, how many calls share a gRPC connection and how long a
//! request may take — and the gRPC server built with them. A client past a limit is slowed or
//! disconnected; the other listener, on its own socket and under its own cap, serves on.

use std::future::Future;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tonic::transport::Server;

use super::conn::Deadlines;

/// TCP keepalive on both listeners: a peer that vanished without closing its connection (a
/// dropped link, a suspended laptop) is found by the kernel's probes after this much silence,
/// instead of holding its slot until the process restarts.
pub const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// On both listeners, a write that can hand no byte to the peer for this long ends the
/// connection: the peer has stopped reading, and would otherwise hold a slot and the unsent
/// answer forever. Any live link drains a socket buffer far sooner.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Most open console connections. A browser opens about six per user, so this serves dozens of
/// psychologists at once, while silent clients can no longer use up the file descriptors the
/// gRPC listener and the database need. Past it, new connections wait in the kernel's backlog
/// until a slot frees, which a silent client does after [`CONSOLE_HEADER_READ_TIMEOUT`].
pub const CONSOLE_MAX_CONNECTIONS: u32 = 256;

/// A console client must send a whole request head within this time of connecting or of its
/// previous answer, or it is disconnected; this is also how long an idle keep-alive connection
/// stays open. A browser sends its head at once: only a broken or hostile client is slower.
pub const CONSOLE_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A console request, its body included, must be answered within this time, or it is answered
/// 503 and its handler stopped. Pages are built in milliseconds and a report's PDF in well under
/// a second, and a form is a few kilobytes, so only a stalled client or a stuck handler reaches it.
pub const CONSOLE_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Most open gRPC connections. A client multiplexes its calls on one connection (or a few), so
/// this serves hundreds of client processes; with the console's cap it keeps the process under
/// the common soft limit of 1,024 file descriptors. Past it, new connections wait in the
/// kernel's backlog until a slot frees.
pub const GRPC_MAX_CONNECTIONS: u32 = 512;

// Both caps, with room for the listening sockets, the database pool and the files read at
// start, stay under the common soft limit of 1,024 file descriptors.
const _: () = assert!(CONSOLE_MAX_CONNECTIONS + GRPC_MAX_CONNECTIONS + 128 <= 1024);

/// A gRPC client must send the HTTP/2 connection preface within this time of connecting (with
/// TLS: complete its handshake), or it is disconnected; a client sends it at once.
pub const GRPC_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Most concurrent calls (HTTP/2 streams) on one gRPC connection, advertised to the client in
/// SETTINGS_MAX_CONCURRENT_STREAMS: a client queues its calls past it, and a stream opened past
/// it anyway is refused (REFUSED_STREAM). Without it one connection could hold any number of
/// streams and the memory behind each; 100 is the lowest value HTTP/2 recommends, and other gRPC
/// servers' usual setting.
pub const GRPC_MAX_CONCURRENT_STREAMS: u32 = 100;

/// After this long without a frame from a gRPC client, the server pings it…
pub const GRPC_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(60);

/// …and closes the connection if the ping is not answered within this time: a client that is
/// gone frees its slot and its streams even when the network never says so.
pub const GRPC_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A unary gRPC call must be answered within this time (a client's shorter `grpc-timeout`
/// wins), or it ends `CANCELLED`; a streaming call must start its answer within it. The slowest
/// call, a report's PDF, takes well under a second.
pub const GRPC_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Streams a client may open and reset before the server has taken them up; one more and the
/// connection is closed (GOAWAY). This bounds the work an HTTP/2 "rapid reset" flood can cause.
pub const GRPC_MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;

/// Largest header list (a call's metadata) a gRPC request may carry, bytes: a bearer token and
/// a few short headers need far less, and every stream's headers are held in memory.
pub const GRPC_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;

/// What each console connection enforces itself: the header-read timeout covers a silent peer.
pub(super) const CONSOLE_DEADLINES: Deadlines = Deadlines {
    first_bytes: None,
    write_stall: WRITE_STALL_TIMEOUT,
};

/// What each gRPC connection enforces itself: HTTP/2 has no deadline for the preface.
pub(super) const GRPC_DEADLINES: Deadlines = Deadlines {
    first_bytes: Some(GRPC_HANDSHAKE_TIMEOUT),
    write_stall: WRITE_STALL_TIMEOUT,
};

/// The gRPC server with the limits above (the connection cap and TCP keepalive are the
/// listener's, [`super::conn::Incoming`]).
pub(super) fn grpc_server() -> Server {
    Server::builder()
        .max_concurrent_streams(GRPC_MAX_CONCURRENT_STREAMS)
        .http2_keepalive_interval(Some(GRPC_KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(GRPC_KEEPALIVE_TIMEOUT))
        .http2_max_pending_accept_reset_streams(Some(GRPC_MAX_PENDING_ACCEPT_RESET_STREAMS))
        .http2_max_header_list_size(GRPC_MAX_HEADER_LIST_SIZE)
        .timeout(GRPC_REQUEST_TIMEOUT)
}

/// Console middleware: answers 503 when a request is not answered within
/// [`CONSOLE_REQUEST_TIMEOUT`].
pub(super) async fn console_request_timeout(request: Request, next: Next) -> Response {
    within(CONSOLE_REQUEST_TIMEOUT, next.run(request)).await
}

/// `answer`, or 503 (and `answer` dropped) if it takes longer than `limit`.
async fn within(limit: Duration, answer: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(limit, answer).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "the request took too long and was stopped",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn a_request_past_its_time_is_answered_503() {
        runtime().block_on(async {
            let slow = async {
                tokio::time::sleep(Duration::from_secs(600)).await;
                StatusCode::OK.into_response()
            };
            let r = within(Duration::from_millis(20), slow).await;
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
            let quick = async { StatusCode::NO_CONTENT.into_response() };
            let r = within(Duration::from_secs(600), quick).await;
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
        });
    }
}
