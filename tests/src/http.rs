//! A browser reduced to what the end-to-end tests need: HTTP/1.0 requests to the console on
//! a fresh connection each, with the cookies it was given.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

/// An HTTP answer.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The Location header.
    pub fn location(&self) -> String {
        self.header("location").expect("a Location header").to_owned()
    }
}

/// A browser of one person: the console's address and the cookies it was given.
pub struct Browser {
    /// `host:port`.
    pub host: String,
    /// The cookies it holds.
    pub cookies: BTreeMap<String, String>,
}

/// `s` percent-encoded for a form.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A form body.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Browser {
    /// A browser with no cookies.
    pub fn new(console_url: &str) -> Browser {
        Browser {
            host: console_url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
            cookies: BTreeMap::new(),
        }
    }

    /// Sends a request with a form body (if any) and `extra` headers; keeps the cookies set.
    pub fn send(&mut self, method: &str, path: &str, body: Option<&str>, extra: &[(&str, &str)]) -> Answer {
        self.send_typed(
            method,
            path,
            body.map(|b| ("application/x-www-form-urlencoded", b)),
            extra,
        )
    }

    /// Sends a request with a body of the given content type (if any) and `extra` headers.
    pub fn send_typed(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, &str)>,
        extra: &[(&str, &str)],
    ) -> Answer {
        let mut stream = TcpStream::connect(&self.host).expect("connect to the console");
        let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {}\r\n", self.host);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        for (k, v) in extra {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some((content_type, b)) = body {
            req.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        } else {
            req.push_str("\r\n");
        }
        stream.write_all(req.as_bytes()).expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("end of headers");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .expect("status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
        }
        Answer {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }

    /// GET `path`.
    pub fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, None, &[])
    }

    /// A form posted from one of the console's own pages.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let origin = format!("http://{}", self.host);
        self.send("POST", path, Some(&form(fields)), &[("Origin", &origin)])
    }

    /// JSON posted by a script of one of the console's own pages.
    pub fn post_json(&mut self, path: &str, json: &str) -> Answer {
        let origin = format!("http://{}", self.host);
        self.send_typed(
            "POST",
            path,
            Some(("application/json", json)),
            &[("Origin", &origin)],
        )
    }

    /// Signs in to the console with `token`.
    pub fn sign_in(&mut self, token: &str) {
        let a = self.post("/sign-in", &[("token", token)]);
        assert_eq!(a.status, 303, "{}", a.text());
        assert_eq!(a.location(), "/children");
        let cookie = a.header("set-cookie").expect("cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
    }
}
