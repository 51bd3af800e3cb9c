//! One integration-test binary. Tests spawn the real `krawlr` binary on 127.0.0.1:0 with a
//! fresh data dir, against fixture sites served from this process on 127.0.0.1.

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
mod real_pages;
mod render;
mod sections;
#[cfg(feature = "failpoints")]
mod supervision;
mod walls;
mod webhooks;
