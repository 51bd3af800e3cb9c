//! Scraping a company site into a [`Report`]. Knows nothing of queues, stores or HTTP serving:
//! the worker drives a [`Run`] stage by stage and records progress in between, and
//! `krawlr scrape` drives the same run in the foreground.

pub mod fetch;
pub mod guard;
pub mod meta;
pub mod profile;
pub mod report;

use crate::job::{JobOptions, Stage, rfc3339};
use fetch::{FetchError, Fetcher};
use report::{Report, StageError};
use url::Url;

/// The stages a run performs, in order; `saving` and `completed` belong to the caller.
pub const STAGES: [Stage; 6] =
    [Stage::Starting, Stage::Profile, Stage::Website, Stage::Financial, Stage::News, Stage::Enrichment];

/// Why a whole job fails. A stage that merely finds nothing records it in `errors` instead.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{0} is not a valid URL")]
    InvalidUrl(String),
    #[error("{url} is not an HTML page (Content-Type: {content_type})")]
    NotHtml { url: String, content_type: String },
}

impl ScrapeError {
    pub fn is_transient(&self) -> bool {
        match self {
            ScrapeError::Fetch(e) => e.is_transient(),
            ScrapeError::NotHtml { .. } | ScrapeError::InvalidUrl(_) => false,
        }
    }
}

/// One company report in the making.
pub struct Run<'a> {
    fetcher: &'a Fetcher,
    url: Url,
    report: Report,
}

impl<'a> Run<'a> {
    pub fn new(fetcher: &'a Fetcher, url: Url, _options: &JobOptions) -> Self {
        let domain = url.host_str().unwrap_or_default().trim_start_matches("www.").to_string();
        let report =
            Report { schema_version: report::REPORT_SCHEMA_VERSION, url: url.to_string(), domain, ..Report::default() };
        Run { fetcher, url, report }
    }

    pub async fn step(&mut self, stage: Stage) -> Result<(), ScrapeError> {
        match stage {
            Stage::Profile => self.profile().await,
            Stage::Website | Stage::Financial | Stage::News | Stage::Enrichment => {
                self.report.errors.push(StageError { stage: stage.to_string(), message: "not implemented yet".into() });
                Ok(())
            }
            Stage::Starting | Stage::Saving | Stage::Completed => Ok(()),
        }
    }

    /// The homepage must be reachable, allowed and HTML, or the job fails.
    async fn profile(&mut self) -> Result<(), ScrapeError> {
        let page = self.fetcher.get(&self.url).await?;
        if !page.is_html() {
            return Err(ScrapeError::NotHtml {
                url: page.url.to_string(),
                content_type: page.content_type().unwrap_or("none").to_string(),
            });
        }
        let language = page.headers.get(reqwest::header::CONTENT_LANGUAGE).and_then(|v| v.to_str().ok());
        let found = profile::extract(&page.text(), &page.url, language);
        self.report.company = found.company;
        self.report.sources.extend(found.sources);
        Ok(())
    }

    pub fn finish(mut self) -> Report {
        self.report.scraped_at = rfc3339(crate::job::now_ms());
        self.report
    }
}
