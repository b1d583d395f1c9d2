//! Shared by the live-source tests: a source running on a thread (through
//! [`streamscope::source::run_spec`], as the inspector runs it) and what it emitted so far,
//! applied to a store. Waits poll for a condition with a deadline; nothing asserts on timing.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use streamscope::source::raw::read_raw;
use streamscope::source::{LoadOptions, Spec, run_spec};
use streamscope::store::{EventStore, LoadEvent};

/// How long a condition may take to come true.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A source running on a thread, and what it emitted so far.
pub struct Run {
    rx: Receiver<LoadEvent>,
    /// Everything applied so far.
    pub store: EventStore,
    /// Problems: (message, fatal).
    pub problems: Vec<(String, bool)>,
    /// Retired segments: (segment, why).
    pub retired: Vec<(u32, String)>,
    /// Reset events seen.
    pub resets: usize,
    /// Done was seen.
    pub done: bool,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Run {
    /// Starts `spec` on a thread.
    pub fn start(spec: Spec, opts: LoadOptions) -> Self {
        let mut store = EventStore::new();
        let source = store.add_source(spec.name());
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            run_spec(&spec, source, &opts, &thread_stop, &mut |ev| {
                let _ = tx.send(ev);
            });
        });
        Self {
            rx,
            store,
            problems: Vec::new(),
            retired: Vec::new(),
            resets: 0,
            done: false,
            stop,
            thread: Some(thread),
        }
    }

    fn apply(&mut self, ev: LoadEvent) {
        match &ev {
            LoadEvent::Problem { message, fatal, .. } => {
                self.problems.push((message.clone(), *fatal));
            }
            LoadEvent::Retire { segment, why, .. } => self.retired.push((*segment, why.clone())),
            LoadEvent::Reset { .. } => self.resets += 1,
            LoadEvent::Done { .. } => self.done = true,
            _ => {}
        }
        self.store.apply(ev);
    }

    /// Applies what the source emits until `cond` holds; panics after the deadline.
    pub fn until(&mut self, what: &str, cond: impl Fn(&Run) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            while let Ok(ev) = self.rx.try_recv() {
                self.apply(ev);
            }
            if cond(self) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; events {:?}, problems {:?}",
                self.types(),
                self.problems
            );
            if let Ok(ev) = self.rx.recv_timeout(Duration::from_millis(20)) {
                self.apply(ev);
            }
        }
    }

    /// The event types received, in order.
    pub fn types(&self) -> Vec<String> {
        self.store
            .events()
            .iter()
            .map(|e| self.store.strings.get(e.event_type).to_string())
            .collect()
    }

    /// The raw text of event `i`, read back from its segment.
    pub fn raw(&self, i: usize) -> std::io::Result<String> {
        let loc = self
            .store
            .raw(streamscope::index::EventIx::from_usize(i))
            .expect("raw locations are kept");
        read_raw(&self.store, loc).map(|b| String::from_utf8(b).expect("UTF-8"))
    }

    /// The first problem containing `text`.
    pub fn problem(&self, text: &str) -> Option<&str> {
        self.problems
            .iter()
            .map(|(m, _)| m.as_str())
            .find(|m| m.contains(text))
    }

    /// Whether a problem contains `text`.
    pub fn has_problem(&self, text: &str) -> bool {
        self.problem(text).is_some()
    }

    /// Stops the source and checks that it ends, with Done.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("the source does not panic");
        }
        while let Ok(ev) = self.rx.try_recv() {
            self.apply(ev);
        }
        assert!(self.done, "the source ends with Done");
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
