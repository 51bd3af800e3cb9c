//! Scraping a company site into a [`Report`](model::report::Report). Knows nothing of queues,
//! stores or HTTP serving: the worker drives a [`Run`] stage by stage and records progress in
//! between, and `krawlr scrape` drives the same run in the foreground. The layers, each naming
//! only those before it (`tests/it/layout.rs` keeps the order): `model` → `read` → `facts` →
//! `page` → `acquire` → `assemble` → `sources` → `stages` → `run`.

pub mod acquire;
pub mod assemble;
pub mod facts;
pub mod model;
pub mod page;
pub mod read;
pub mod run;
pub mod sources;
pub mod stages;

pub use run::Run;

use crate::job::Stage;
use acquire::fetch::{FetchError, Fetcher};

/// The stages a run performs, in order; `saving` and `completed` belong to the caller.
pub const STAGES: [Stage; 6] =
    [Stage::Starting, Stage::Profile, Stage::Website, Stage::Financial, Stage::News, Stage::Enrichment];

/// Why a whole job fails. A stage that merely finds nothing records it in `errors` instead.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url} is not an HTML page (Content-Type: {content_type})")]
    NotHtml { url: String, content_type: String },
    /// A bug met by this input (a panic in a stage): the attempt fails, the process lives on.
    #[error("internal_error: {0}")]
    Internal(String),
    /// The attempt ran past `KRAWLR_JOB_TIMEOUT_SECONDS` and was abandoned.
    #[error("the attempt ran past its deadline of {0:?} and was abandoned")]
    DeadlineExceeded(std::time::Duration),
}

impl ScrapeError {
    pub fn is_transient(&self) -> bool {
        match self {
            ScrapeError::Fetch(e) => e.is_transient(),
            // Tried again like any other failure, up to the attempts allowed, then failed.
            ScrapeError::Internal(_) | ScrapeError::DeadlineExceeded(_) => true,
            ScrapeError::NotHtml { .. } => false,
        }
    }
}

/// Everything a run reaches out with, built once from the settings.
pub struct Scraper {
    pub fetcher: Fetcher,
    pub edgar: sources::edgar::Edgar,
    /// The enrichment model and its client, when configured.
    pub llm: Option<(reqwest::Client, crate::config::LlmSettings)>,
    /// Where pages that need their scripts are rendered.
    pub browser: crate::browser::Browser,
}

impl Scraper {
    pub fn new(settings: &crate::config::Settings) -> Result<Scraper, reqwest::Error> {
        if let Some(reason) = &settings.render.unavailable {
            tracing::warn!("rendering is off: {reason}; pages that need their scripts are read without them");
        }
        let fetcher = Fetcher::new(settings.fetch.clone())?;
        Ok(Scraper {
            fetcher,
            edgar: sources::edgar::Edgar::new(&settings.sec, settings.fetch.proxy.as_ref())?,
            llm: match &settings.llm {
                Some(llm) => {
                    let builder = crate::net::through(reqwest::Client::builder(), settings.fetch.proxy.as_ref())?;
                    Some((builder.build()?, llm.clone()))
                }
                None => None,
            },
            browser: crate::browser::Browser::new(settings.render.clone()),
        })
    }
}
