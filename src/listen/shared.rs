//! State the ingestion endpoint shares with whoever shows it (the inspector's status bar
//! and rejected-requests view, the headless log): counters, the rejected requests and a
//! wake-up for the capture follower. Plain std (atomics, mutexes), no async runtime, so
//! the TUI reads it without depending on the server.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How many rejected requests are kept (the oldest are dropped first; all are counted).
pub const KEEP_REJECTED: usize = 1000;

/// At most this many bytes of a rejected request's body are kept.
pub const KEEP_BODY: usize = 64 * 1024;

/// A request that was not fully accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedRequest {
    /// Sequence number among all requests (1-based).
    pub request: u64,
    /// When it arrived (epoch ms).
    pub at_ms: i64,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// The status answered (400, 413, …).
    pub status: u16,
    /// The answer's `error` text.
    pub error: String,
    /// Each reason in a sentence (which events, which field).
    pub reasons: Vec<String>,
    /// Events in the request (0 when the body could not be read).
    pub events: usize,
    /// Events that were valid and kept anyway.
    pub kept: usize,
    /// The request body as received (after gzip, its API key hidden), at most
    /// [`KEEP_BODY`] bytes.
    pub body: Arc<[u8]>,
    /// The body's full length.
    pub body_len: usize,
}

/// Counters of the endpoint (monotonic; rates are deltas over time).
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests answered (any path, any status).
    pub requests: AtomicU64,
    /// Ingestion requests answered with anything but 200.
    pub rejected_requests: AtomicU64,
    /// Events accepted and written to the capture.
    pub events: AtomicU64,
    /// Events not written because an event with the same insert_id was already received
    /// (an SDK resending after a partial 400 or a lost answer).
    pub duplicates: AtomicU64,
    /// Events rejected (listed in a 400 answer).
    pub rejected_events: AtomicU64,
    /// Request body bytes received (after gzip).
    pub bytes: AtomicU64,
}

impl Counters {
    /// A consistent-enough copy for display.
    #[must_use]
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            rejected_requests: self.rejected_requests.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            rejected_events: self.rejected_events.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    fn reset(&self) {
        for c in [
            &self.requests,
            &self.rejected_requests,
            &self.events,
            &self.duplicates,
            &self.rejected_events,
            &self.bytes,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// A copy of [`Counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// See [`Counters::requests`].
    pub requests: u64,
    /// See [`Counters::rejected_requests`].
    pub rejected_requests: u64,
    /// See [`Counters::events`].
    pub events: u64,
    /// See [`Counters::duplicates`].
    pub duplicates: u64,
    /// See [`Counters::rejected_events`].
    pub rejected_events: u64,
    /// See [`Counters::bytes`].
    pub bytes: u64,
}

/// Everything the endpoint shares.
#[derive(Debug)]
pub struct LiveState {
    /// The address served, as a URL (`http://127.0.0.1:8788`).
    pub url: String,
    /// Where accepted events are written.
    capture: Mutex<PathBuf>,
    /// The upstream requests are relayed to, if any.
    pub forward: Option<String>,
    /// Counters.
    pub counters: Counters,
    rejected: Mutex<VecDeque<RejectedRequest>>,
    /// Bumped by each reset (`POST /streamscope/reset`).
    pub epoch: AtomicU64,
    /// Wakes the capture follower when events were appended.
    pub wake: Arc<Wake>,
}

impl LiveState {
    /// State for an endpoint at `url` writing to `capture`.
    #[must_use]
    pub fn new(url: String, capture: PathBuf, forward: Option<String>) -> Self {
        Self {
            url,
            capture: Mutex::new(capture),
            forward,
            counters: Counters::default(),
            rejected: Mutex::new(VecDeque::new()),
            epoch: AtomicU64::new(0),
            wake: Arc::new(Wake::default()),
        }
    }

    /// The capture file.
    #[must_use]
    pub fn capture(&self) -> PathBuf {
        self.capture
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records a rejected request (keeping the last [`KEEP_REJECTED`]).
    pub fn push_rejected(&self, r: RejectedRequest) {
        let mut list = self.rejected.lock().unwrap_or_else(PoisonError::into_inner);
        if list.len() == KEEP_REJECTED {
            list.pop_front();
        }
        list.push_back(r);
    }

    /// The rejected requests kept, oldest first.
    #[must_use]
    pub fn rejected(&self) -> Vec<RejectedRequest> {
        self.rejected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// How many rejected requests are kept (cheaper than [`Self::rejected`]).
    #[must_use]
    pub fn rejected_len(&self) -> usize {
        self.rejected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Forgets counters and rejected requests and switches to a new capture file.
    pub fn reset(&self, capture: PathBuf) {
        self.rejected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.counters.reset();
        *self.capture.lock().unwrap_or_else(PoisonError::into_inner) = capture;
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.wake.notify();
    }
}

/// A wake-up call between threads: [`Wake::notify`] ends a [`Wake::wait`] early.
#[derive(Debug, Default)]
pub struct Wake {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl Wake {
    /// Wakes the waiter (or the next wait returns at once).
    pub fn notify(&self) {
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_all();
    }

    /// Waits until notified or `timeout` passes; returns whether it was notified.
    pub fn wait(&self, timeout: Duration) -> bool {
        let guard = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut guard, _) = self
            .cv
            .wait_timeout_while(guard, timeout, |p| !*p)
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *guard, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_before_the_wait_is_not_lost() {
        let w = Wake::default();
        w.notify();
        assert!(w.wait(Duration::from_secs(5)));
        assert!(!w.wait(Duration::from_millis(1)));
    }

    #[test]
    fn rejected_requests_keep_the_newest() {
        let s = LiveState::new("http://x".into(), PathBuf::from("c"), None);
        for i in 0..(KEEP_REJECTED as u64 + 5) {
            s.push_rejected(RejectedRequest {
                request: i,
                at_ms: 0,
                method: "POST".into(),
                path: "/2/httpapi".into(),
                status: 400,
                error: String::new(),
                reasons: Vec::new(),
                events: 0,
                kept: 0,
                body: Arc::from(&b""[..]),
                body_len: 0,
            });
        }
        let kept = s.rejected();
        assert_eq!(kept.len(), KEEP_REJECTED);
        assert_eq!(kept[0].request, 5);
        s.reset(PathBuf::from("d"));
        assert_eq!(s.rejected_len(), 0);
        assert_eq!(s.epoch.load(Ordering::SeqCst), 1);
        assert_eq!(s.capture(), PathBuf::from("d"));
    }
}
