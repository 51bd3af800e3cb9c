//! One integration-test binary. Tests spawn the real `krawlr` binary on 127.0.0.1:0 with a
//! fresh data dir, against fixture sites served from this process on 127.0.0.1.

/// A scenario over a [`TestEnv`], as two tests: `SCENARIO::embedded` and `SCENARIO::on_gcp`.
macro_rules! on_both_backends {
    ($(#[$attr:meta])* $scenario:ident) => {
        $(#[$attr])*
        mod $scenario {
            use crate::helpers::TestEnv;

            #[tokio::test(flavor = "multi_thread")]
            async fn embedded() {
                super::$scenario(TestEnv::new()).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn on_gcp() {
                super::$scenario(TestEnv::gcp()).await;
            }
        }
    };
}

mod api;
mod cli;
mod company_sites;
mod conformance;
mod enrichment;
mod faults;
mod fetch;
mod fixtures;
mod gcp;
mod helpers;
mod hostile;
mod jobs;
mod layout;
mod monitors;
mod openapi;
mod operations;
mod processes;
mod render;
mod resilience;
mod sections;
#[cfg(feature = "failpoints")]
mod supervision;
mod walls;
mod webhooks;
