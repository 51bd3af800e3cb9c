//! Conformance suites for the two seams. Each suite is a set of functions over
//! `Arc<dyn Broker>` / `Arc<dyn Store>`; every backend runs all of them.

mod broker;
mod store;

use krawlr::config::SqliteSync;
use krawlr::queue::Broker;
use krawlr::queue::embedded::EmbeddedBroker;
use krawlr::sqlite::Db;
use krawlr::store::Store;
use krawlr::store::embedded::EmbeddedStore;
use std::sync::Arc;

/// A fresh embedded backend in its own temporary data dir.
pub struct Embedded {
    _dir: tempfile::TempDir,
    pub broker: Arc<dyn Broker>,
    pub store: Arc<dyn Store>,
}

pub fn embedded() -> Embedded {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), SqliteSync::Normal).unwrap();
    Embedded {
        broker: Arc::new(EmbeddedBroker::new(db.clone())),
        store: Arc::new(EmbeddedStore::new(db, store::JOBS_TOPIC)),
        _dir: dir,
    }
}

pub use crate::helpers::emulator;
