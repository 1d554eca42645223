//! Limits on concurrent work a caller can start: streamed batch scoring. A batch holds its
//! whole request (up to 10,000 children) and the results waiting to be read, so an unread
//! stream pins memory; the number of streams running at once is capped for the server and
//! for each token, and a stream whose client stops reading for [`BatchLimits::send_deadline`]
//! is ended with `DEADLINE_EXCEEDED`, freeing both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AppError;

/// Batch streams running at once on one server.
pub const MAX_BATCH_STREAMS: usize = 32;
/// Batch streams running at once for one token.
pub const MAX_BATCH_STREAMS_PER_TOKEN: usize = 4;
/// How long a batch waits for its client to read the next result before ending the stream.
pub const BATCH_SEND_DEADLINE: Duration = Duration::from_secs(30);

/// The caps on batch streams.
#[derive(Debug)]
pub struct BatchLimits {
    running: Arc<Semaphore>,
    per_token: Arc<Mutex<HashMap<String, usize>>>,
    per_token_max: usize,
    send_deadline: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits::new(
            MAX_BATCH_STREAMS,
            MAX_BATCH_STREAMS_PER_TOKEN,
            BATCH_SEND_DEADLINE,
        )
    }
}

/// A running batch's place under the caps, released when dropped (the stream ended for any
/// reason: done, client gone, deadline).
#[derive(Debug)]
pub struct BatchPermit {
    _running: OwnedSemaphorePermit,
    token_id: String,
    per_token: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for BatchPermit {
    fn drop(&mut self) {
        let mut counts = self.per_token.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.token_id) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.token_id);
            }
        }
    }
}

impl BatchLimits {
    /// At most `max` streams in all and `per_token_max` per token; a client that reads
    /// nothing for `send_deadline` loses its stream.
    pub fn new(max: usize, per_token_max: usize, send_deadline: Duration) -> Self {
        BatchLimits {
            running: Arc::new(Semaphore::new(max)),
            per_token: Arc::new(Mutex::new(HashMap::new())),
            per_token_max,
            send_deadline,
        }
    }

    /// The default caps, with the send deadline from `QABILET_BATCH_SEND_DEADLINE_MS` when set
    /// (tests shorten it; a value that is not a whole number is ignored).
    pub fn from_env() -> Self {
        let deadline = std::env::var("QABILET_BATCH_SEND_DEADLINE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(BATCH_SEND_DEADLINE, Duration::from_millis);
        BatchLimits::new(MAX_BATCH_STREAMS, MAX_BATCH_STREAMS_PER_TOKEN, deadline)
    }

    /// How long a stream waits for its client.
    pub fn send_deadline(&self) -> Duration {
        self.send_deadline
    }

    /// A place for one more stream of `token_id`.
    ///
    /// # Errors
    /// `RESOURCE_EXHAUSTED` when the token or the server is at its cap.
    pub fn admit(&self, token_id: &str) -> Result<BatchPermit, AppError> {
        let mut counts = self.per_token.lock().unwrap_or_else(PoisonError::into_inner);
        let n = counts.get(token_id).copied().unwrap_or(0);
        if n >= self.per_token_max {
            return Err(AppError::Exhausted(format!(
                "this token already has {n} batch streams running (at most {}); read or cancel one first",
                self.per_token_max
            )));
        }
        let running = self.running.clone().try_acquire_owned().map_err(|_| {
            AppError::Exhausted("the server is running as many batch streams as it takes; retry later".into())
        })?;
        counts.insert(token_id.to_owned(), n + 1);
        Ok(BatchPermit {
            _running: running,
            token_id: token_id.to_owned(),
            per_token: self.per_token.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_token_and_in_all_and_releases_on_drop() {
        let limits = BatchLimits::new(3, 2, Duration::from_secs(1));
        let a1 = limits.admit("a").unwrap();
        let a2 = limits.admit("a").unwrap();
        assert!(matches!(limits.admit("a"), Err(AppError::Exhausted(_))));
        let b1 = limits.admit("b").unwrap();
        assert!(
            matches!(limits.admit("c"), Err(AppError::Exhausted(_))),
            "server cap"
        );
        drop(a1);
        let a3 = limits.admit("a").unwrap();
        drop((a2, a3, b1));
        assert!(limits.per_token.lock().unwrap().is_empty());
        assert_eq!(limits.running.available_permits(), 3);
    }
}
