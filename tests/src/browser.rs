//! A headless Debian Chromium driven through ChromeDriver (WebDriver), for the browser tests:
//! the driver process, a tablet-sized browser, screenshots and waiting for pages.
//!
//! Needs `chromium` and `chromedriver` on the PATH (Debian's `chromium` and
//! `chromium-driver`; `scripts/test` installs them), or QABILET_CHROMIUM / QABILET_CHROMEDRIVER.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::repo;

/// A ChromeDriver process on a free loopback port, killed when dropped.
pub struct Driver {
    process: Child,
    url: String,
}

impl Driver {
    /// Starts ChromeDriver (QABILET_CHROMEDRIVER, or `chromedriver` on the PATH).
    pub fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let exe = std::env::var("QABILET_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let process = Command::new(&exe)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {exe} ({e}): install Debian's chromium and chromium-driver (scripts/test does)"
                )
            });
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            process,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A headless Chromium with a tablet-sized window (768 × 1024).
    pub async fn browser(&self) -> Client {
        let binary = std::env::var("QABILET_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=768,1024", "--lang=ru"]
            }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a headless Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Where screenshots are kept (a test artifact).
fn screenshots(folder: &str) -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo().join("target"), PathBuf::from)
        .join("screenshots")
        .join(folder);
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// Saves a screenshot of the page as `target/screenshots/<folder>/<name>.png`.
pub async fn shot(c: &Client, folder: &str, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshots(folder).join(format!("{name}.png")), png).expect("write screenshot");
}

/// The element `selector` selects (the test fails without one).
pub async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
}

/// The text of the element `selector` selects.
pub async fn text(c: &Client, selector: &str) -> String {
    css(c, selector).await.text().await.expect("text")
}

/// Sets a form field by script (date inputs take keys in the browser's locale format).
pub async fn set_value(c: &Client, selector: &str, value: &str) {
    c.execute(
        "document.querySelector(arguments[0]).value = arguments[1];",
        vec![selector.into(), value.into()],
    )
    .await
    .unwrap_or_else(|e| panic!("{selector}: {e}"));
}

/// Waits (up to 10 s) until the browser is on a page whose path satisfies `ok`: a click that
/// submits a form returns before the next page has loaded.
pub async fn wait_for_path(c: &Client, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let url = c.current_url().await.expect("url");
        let ready: bool = c
            .execute("return document.readyState === 'complete';", vec![])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if ok(url.path()) && ready {
            return url.to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: still at {url}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (up to 10 s) until `script` returns true on the current page. A script that fails
/// (the page is between two documents) counts as not yet.
pub async fn wait_for_script(c: &Client, what: &str, script: &str, args: Vec<serde_json::Value>) {
    let start = Instant::now();
    loop {
        let done = c
            .execute(script, args.clone())
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if done {
            return;
        }
        let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: not yet at {url}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presses one key on the page (the console's keyboard shortcuts listen on the document).
pub async fn press(c: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.expect("key press");
}
