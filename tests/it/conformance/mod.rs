//! Conformance suites for the two seams. Each suite is a set of functions over
//! `Arc<dyn Broker>` / `Arc<dyn Store>`; every backend runs all of them.

/// Each scenario of a suite as a test of its own on each backend, `SCENARIO::embedded` and
/// `SCENARIO::on_emulator`, given the backend the suite's `$embedded` and `$emulator` make, so
/// that the first failure hides none of the others and scenarios run in parallel.
macro_rules! scenarios {
    (embedded: $embedded:ident, emulator: $emulator:ident; $($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread")]
            async fn embedded() {
                let (backend, _dir) = super::$embedded().await;
                super::$scenario(backend).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn on_emulator() {
                super::$scenario(super::$emulator().await).await;
            }
        }
    )+};
}

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
