//! Accepted connections under a cap: a listener hands out at most a fixed number of open
//! connections, each holding its slot until it is dropped, and each connection enforces two
//! deadlines of its own — the peer's first bytes must arrive in time, and a peer that stops
//! taking the bytes written to it is disconnected.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_stream::Stream;
use tonic::transport::server::{Connected, TcpIncoming};

/// How long the listener pauses after an accept that failed for lack of resources (out of file
/// descriptors or buffers): retrying at once would spin on the same error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Bytes the peer must send before [`Deadlines::first_bytes`] runs out: the length of the
/// HTTP/2 connection preface, which any TLS ClientHello also exceeds.
pub const FIRST_BYTES: usize = 24;

/// What each accepted connection enforces on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// The peer must send its first [`FIRST_BYTES`] bytes within this time of being accepted,
    /// or the connection fails with `TimedOut`; `None` leaves it to the protocol.
    pub first_bytes: Option<Duration>,
    /// A write (or flush) that cannot hand a single byte to the socket for this long fails the
    /// connection with `TimedOut`.
    pub write_stall: Duration,
}

/// The accepted connections of one listener, at most `max` open at a time. It waits for a free
/// slot before it accepts, so the connections past the cap wait in the kernel's backlog and use
/// none of the process's file descriptors. Accept errors are retried, never returned: the
/// listening socket stays up.
pub struct Incoming {
    tcp: TcpIncoming,
    slots: Arc<Semaphore>,
    max: u32,
    deadlines: Deadlines,
    /// The slot the next connection will take, once granted.
    slot: Option<OwnedSemaphorePermit>,
    waiting: Option<Pin<Box<dyn Future<Output = OwnedSemaphorePermit> + Send>>>,
    backoff: Option<Pin<Box<Sleep>>>,
}

impl Incoming {
    /// Connections of `listener`, at most `max` open at a time, each with `deadlines`; TCP
    /// keepalive probes after `tcp_keepalive` of silence, and no Nagle delay.
    pub fn new(listener: TcpListener, max: u32, deadlines: Deadlines, tcp_keepalive: Duration) -> Incoming {
        Incoming {
            tcp: TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .with_keepalive(Some(tcp_keepalive)),
            slots: Arc::new(Semaphore::new(max as usize)),
            max,
            deadlines,
            slot: None,
            waiting: None,
            backoff: None,
        }
    }

    /// Resolves once every connection handed out has been dropped and no new one can be
    /// (call it, then drop the `Incoming`).
    pub fn all_closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let slots = self.slots.clone();
        let max = self.max;
        async move {
            // The semaphore is never closed; holding every slot means no connection is open.
            let _all = slots.acquire_many_owned(max).await;
        }
    }
}

impl Stream for Incoming {
    type Item = Result<Limited<TcpStream>, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(backoff) = &mut this.backoff {
                ready!(backoff.as_mut().poll(cx));
                this.backoff = None;
            }
            if this.slot.is_none() {
                let waiting = this.waiting.get_or_insert_with(|| {
                    let slots = this.slots.clone();
                    Box::pin(async move {
                        slots
                            .acquire_owned()
                            .await
                            .expect("the connection semaphore is never closed")
                    })
                });
                this.slot = Some(ready!(waiting.as_mut().poll(cx)));
                this.waiting = None;
            }
            match ready!(Pin::new(&mut this.tcp).poll_next(cx)) {
                Some(Ok(stream)) => {
                    let slot = this.slot.take().expect("a slot was granted above");
                    return Poll::Ready(Some(Ok(Limited::new(stream, slot, this.deadlines))));
                }
                // The peer gave up before we accepted it: nothing to back off from.
                Some(Err(e)) if is_peer_error(&e) => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "accepting a connection failed; retrying shortly");
                    this.backoff = Some(Box::pin(tokio::time::sleep(ACCEPT_BACKOFF)));
                }
                None => return Poll::Ready(None),
            }
        }
    }
}

fn is_peer_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    )
}

/// An accepted connection holding its slot of the listener's cap until it is dropped, and
/// enforcing its [`Deadlines`].
pub struct Limited<IO> {
    /// Declared before the slot: fields are dropped in order, so the socket is closed before
    /// its slot is given to the next connection.
    io: IO,
    _slot: OwnedSemaphorePermit,
    /// Bytes still owed before the first-bytes deadline, and that deadline.
    first_bytes: Option<(usize, Pin<Box<Sleep>>)>,
    write_stall: Duration,
    /// The deadline of the write that is waiting, armed while writes are pending.
    stalled: Option<Pin<Box<Sleep>>>,
    stalling: bool,
}

impl<IO> Limited<IO> {
    /// `io` holding `slot`, under `deadlines` counted from now.
    pub fn new(io: IO, slot: OwnedSemaphorePermit, deadlines: Deadlines) -> Limited<IO> {
        Limited {
            io,
            _slot: slot,
            first_bytes: deadlines
                .first_bytes
                .map(|d| (FIRST_BYTES, Box::pin(tokio::time::sleep(d)))),
            write_stall: deadlines.write_stall,
            stalled: None,
            stalling: false,
        }
    }

    /// Passes on a write's outcome, failing it once writes have been pending for longer than
    /// the write-stall deadline.
    fn watch_write<T>(&mut self, cx: &mut Context<'_>, outcome: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if outcome.is_ready() {
            self.stalling = false;
            return outcome;
        }
        let deadline = Instant::now() + self.write_stall;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.stalling {
            stalled.as_mut().reset(deadline);
            self.stalling = true;
        }
        if stalled.as_mut().poll(cx).is_ready() {
            self.stalling = false;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer has taken no data for too long",
            )));
        }
        Poll::Pending
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Limited<IO> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let outcome = Pin::new(&mut this.io).poll_read(cx, buf);
        let Some((owed, deadline)) = &mut this.first_bytes else {
            return outcome;
        };
        match outcome {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().len() - before;
                // Enough bytes, or the end of the stream, which the protocol handles.
                if read == 0 || read >= *owed {
                    this.first_bytes = None;
                } else {
                    *owed -= read;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer did not start talking in time",
                ))),
                Poll::Pending => Poll::Pending,
            },
            failed => failed,
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Limited<IO> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.io).poll_write(cx, buf);
        this.watch_write(cx, outcome)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.watch_write(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.io).poll_flush(cx);
        this.watch_write(cx, outcome)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.io).poll_shutdown(cx);
        this.watch_write(cx, outcome)
    }
}

/// The peer's address, as tonic reads it from a plain TCP stream.
impl<IO: Connected> Connected for Limited<IO> {
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_stream::StreamExt;

    use super::*;

    const LONG: Duration = Duration::from_secs(600);

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn slot() -> OwnedSemaphorePermit {
        Arc::new(Semaphore::new(1))
            .try_acquire_owned()
            .expect("a free slot")
    }

    #[test]
    fn connections_past_the_cap_wait_until_a_slot_frees() {
        runtime().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let deadlines = Deadlines {
                first_bytes: None,
                write_stall: LONG,
            };
            let mut incoming = Incoming::new(listener, 2, deadlines, LONG);
            let _clients: Vec<_> = (0..3)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect();
            let first = incoming.next().await.unwrap().unwrap();
            let _second = incoming.next().await.unwrap().unwrap();
            // The third waits in the backlog while both slots are held…
            let third = tokio::time::timeout(Duration::from_millis(300), incoming.next()).await;
            assert!(
                third.is_err(),
                "a third connection was handed out past a cap of 2"
            );
            // …and is accepted once one of them is dropped.
            drop(first);
            let third = tokio::time::timeout(Duration::from_secs(30), incoming.next()).await;
            assert!(matches!(third, Ok(Some(Ok(_)))));
        });
    }

    #[test]
    fn all_closed_waits_for_every_connection() {
        runtime().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let deadlines = Deadlines {
                first_bytes: None,
                write_stall: LONG,
            };
            let mut incoming = Incoming::new(listener, 4, deadlines, LONG);
            let _client = std::net::TcpStream::connect(addr).unwrap();
            let open = incoming.next().await.unwrap().unwrap();
            let all_closed = incoming.all_closed();
            drop(incoming);
            let mut all_closed = Box::pin(all_closed);
            assert!(
                tokio::time::timeout(Duration::from_millis(200), &mut all_closed)
                    .await
                    .is_err()
            );
            drop(open);
            tokio::time::timeout(Duration::from_secs(30), all_closed)
                .await
                .expect("resolved once the last connection was dropped");
        });
    }

    #[test]
    fn a_peer_that_sends_nothing_in_time_is_cut_off() {
        runtime().block_on(async {
            let (near, mut far) = tokio::io::duplex(64);
            let deadlines = Deadlines {
                first_bytes: Some(Duration::from_millis(50)),
                write_stall: LONG,
            };
            let mut limited = Limited::new(near, slot(), deadlines);
            // Fewer bytes than the preface do not satisfy the rule.
            far.write_all(b"PRI * HTTP/2.0").await.unwrap();
            let mut buf = [0u8; 64];
            let n = limited.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"PRI * HTTP/2.0");
            let e = limited.read(&mut buf).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        });
    }

    #[test]
    fn a_peer_that_sends_its_first_bytes_in_time_may_then_pause() {
        runtime().block_on(async {
            let (near, mut far) = tokio::io::duplex(64);
            let deadlines = Deadlines {
                first_bytes: Some(Duration::from_millis(50)),
                write_stall: LONG,
            };
            let mut limited = Limited::new(near, slot(), deadlines);
            far.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
            let mut buf = [0u8; FIRST_BYTES];
            limited.read_exact(&mut buf).await.unwrap();
            // Past the deadline, a quiet peer is the protocol's business.
            let quiet = tokio::time::timeout(Duration::from_millis(200), limited.read(&mut buf)).await;
            assert!(quiet.is_err(), "the read ended instead of waiting: {quiet:?}");
        });
    }

    #[test]
    fn a_peer_that_takes_no_data_is_cut_off_and_a_slow_one_is_not() {
        runtime().block_on(async {
            let (near, mut far) = tokio::io::duplex(64);
            let deadlines = Deadlines {
                first_bytes: None,
                write_stall: Duration::from_secs(2),
            };
            let mut limited = Limited::new(near, slot(), deadlines);
            // A reader taking 64 bytes every 10 ms keeps the writer alive for 2 KiB…
            let reader = tokio::spawn(async move {
                let mut buf = [0u8; 64];
                let mut total = 0;
                while total < 2048 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    total += far.read(&mut buf).await.unwrap();
                }
                far
            });
            limited.write_all(&[7u8; 2048]).await.unwrap();
            let _far = reader.await.unwrap();
            // …and once it stops reading, the writer fails.
            let e = limited.write_all(&[7u8; 2048]).await.unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        });
    }
}
