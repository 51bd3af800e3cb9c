//! krawlr: company website reports, asynchronously and at scale. `app` wires the parts below
//! together; arrows between modules point one way (`tests/it/layout.rs` keeps it so).
//!
//! - Leaves: [`job`] (statuses, stages, the guarded state machine, message bodies) and
//!   [`config`] (typed settings, each declared once in `config::declared`).
//! - [`net`]: the address guard and the guarded client every outside request goes through.
//! - [`scrape`]: one company report, in layers — `model` (vocabulary) → `read` (one page) →
//!   `facts` (company facts in text) → `page` → `acquire` (fetch, robots, crawl, render) →
//!   `assemble` (card, website, coverage) → `sources` (EDGAR, feeds, the model) → `stages` →
//!   `run`. [`browser`] renders the pages that need their scripts.
//! - The seams: [`queue`] (`Broker`: SQLite or Pub/Sub) and [`store`] (`Store`: SQLite or
//!   Firestore), on [`sqlite`] for the embedded backend.
//! - What runs: [`worker`] (jobs), [`outbox`] (events after the commit), [`webhooks`] (signed
//!   deliveries), [`monitor`] (re-scrapes and diffs), [`operations`] (redrive, purge), [`api`]
//!   (HTTP), [`metrics`], [`telemetry`]; [`keys`] (API keys).
//! - [`app`] wires them; [`cli`] is the command line, [`client`] its client of a running krawlr.

pub mod api;
pub mod app;
pub mod browser;
pub mod cli;
pub mod client;
pub mod config;
pub mod job;
pub mod keys;
pub mod metrics;
pub mod monitor;
pub mod net;
pub mod operations;
pub mod outbox;
pub mod queue;
pub mod scrape;
pub mod sqlite;
pub mod store;
pub mod telemetry;
pub mod webhooks;
pub mod worker;

/// A named fault point (the `fail` crate's, driven by `FAILPOINTS`, e.g.
/// `FAILPOINTS='page_analysis=panic'`) in builds with the `failpoints` feature; nothing at all
/// in other builds.
#[macro_export]
macro_rules! failpoint {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name);
    };
    // With `return(…)` in `FAILPOINTS`, the enclosing function returns what `$on_return` makes
    // of the text in the parentheses.
    ($name:literal, $on_return:expr) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name, $on_return);
    };
}
