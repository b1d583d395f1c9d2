//! Sources: where events come from. Loading files is synchronous (std threads); live
//! sources wrap the same decoders. Everything reaches a store as [`crate::store::LoadEvent`]s.

pub mod feed;
pub mod lines;
pub mod load;
pub mod raw;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use load::{LoadOptions, load, load_bytes};

use crate::store::EventStore;

/// The bundled demo stream (`assets/demo.ndjson`), embedded in the binary.
pub const DEMO: &[u8] = include_bytes!("../../assets/demo.ndjson");

/// The name the demo stream goes by in messages and the status bar.
pub const DEMO_NAME: &str = "demo.ndjson (bundled)";

/// Loads every source into a new store, in order; with none, the bundled demo.
#[must_use]
pub fn load_all(specs: &[String], opts: &LoadOptions) -> EventStore {
    let mut store = EventStore::new();
    if specs.is_empty() {
        let source = store.add_source(DEMO_NAME);
        let read = Arc::new(AtomicU64::new(0));
        load_bytes(Arc::from(DEMO), DEMO_NAME, source, opts, &read, &mut |ev| {
            store.apply(ev);
        });
        return store;
    }
    for spec in specs {
        let source = store.add_source(spec.clone());
        load(spec, source, opts, &mut |ev| store.apply(ev));
    }
    store
}

/// Installs the TLS crypto provider (ring) that reqwest's rustls needs, once. Call before
/// building any HTTP client.
pub fn ensure_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only when a provider is already installed, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
