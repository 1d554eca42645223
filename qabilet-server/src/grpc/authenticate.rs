//! Authentication of every `qabilet.v1` call, as one layer around each service: the bearer
//! token of the request's `authorization` header is checked by the application layer, and the
//! [`Caller`] (with the peer's address) is put into the request's extensions for the handler.
//! A call that does not authenticate never reaches its handler: it is answered
//! `UNAUTHENTICATED` (or `UNAVAILABLE` when the token store is down) here. Health and
//! reflection are not wrapped.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::http::{Request, Response};
use tonic::codegen::{BoxFuture, Service};
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use crate::app::{App, Caller, Channel, Peer};

/// A service whose calls are authenticated first.
#[derive(Clone)]
pub struct Authenticated<S> {
    inner: S,
    app: Arc<App>,
}

impl<S> Authenticated<S> {
    /// `inner`, reached only by authenticated calls.
    pub fn new(app: Arc<App>, inner: S) -> Self {
        Authenticated { inner, app }
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<Request<Body>> for Authenticated<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Response<Body>, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this call (tower's convention).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let app = self.app.clone();
        Box::pin(async move {
            let values: Vec<Vec<u8>> = request
                .headers()
                .get_all("authorization")
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect();
            let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
            let peer = Peer {
                channel: Channel::Grpc,
                addr: remote_addr(&request),
            };
            let path = request.uri().path().to_owned();
            match app.authenticate(&refs, peer, &path).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(e) => Ok(tonic::Status::from(e).into_http()),
            }
        })
    }
}

/// The peer's address, over plain TCP or TLS.
fn remote_addr(request: &Request<Body>) -> Option<std::net::SocketAddr> {
    let ext = request.extensions();
    ext.get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            ext.get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr())
        })
}

/// The caller the authentication layer put into `request`.
///
/// # Errors
/// `INTERNAL` if the service was served without the layer (a wiring fault of the server).
pub fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, tonic::Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| tonic::Status::internal("the service is served without authentication"))
}
