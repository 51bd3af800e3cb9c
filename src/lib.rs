//! krawlr: company website reports, asynchronously and at scale. See `DESIGN.md` in the
//! project's shared folder for the architecture; `app` wires the parts below together.

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
