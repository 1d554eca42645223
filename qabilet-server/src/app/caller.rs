//! Who is calling: an authenticated token ([`Principal`]) and where the call came from. Every
//! operation of the application layer takes one; transports build it once per request
//! (gRPC: the authentication layer; console: the server-side session; CLI: the operator).

use std::fmt;
use std::net::SocketAddr;

use crate::auth::Principal;

/// The transport a call arrived by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The gRPC service.
    Grpc,
    /// The psychologist's console (HTTP).
    Console,
    /// A command run on the server's machine (`qabilet token …`).
    Cli,
    /// A child's screener page (`/take`), signed in with a ticket.
    Take,
}

/// Where a call came from, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The transport.
    pub channel: Channel,
    /// The remote socket address, when the transport knows it.
    pub addr: Option<SocketAddr>,
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let channel = match self.channel {
            Channel::Grpc => "grpc",
            Channel::Console => "console",
            Channel::Cli => "cli",
            Channel::Take => "take",
        };
        match self.addr {
            Some(addr) => write!(f, "{channel} {addr}"),
            None => f.write_str(channel),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token and what it grants.
    pub principal: Principal,
    /// Where the call came from.
    pub peer: Peer,
}
