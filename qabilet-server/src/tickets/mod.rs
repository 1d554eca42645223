//! Printable ticket sheets for stage-1 screening: the QR codes of the sign-in URLs
//! ([`qr`], level M, 4-module quiet zone).

pub mod qr;
