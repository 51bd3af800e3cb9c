//! The stages of a run, a file each (`profile`, `website`, `financial`, `news` with `funding`,
//! `enrichment`): each reads what the stages before it gathered and adds its part of the
//! report. A stage that finds nothing says why in the report's `errors`; only `profile` can
//! fail the job.

pub mod enrichment;
pub mod financial;
pub mod funding;
pub mod news;
pub mod profile;
pub mod website;

use crate::job::Stage;
use crate::scrape::acquire::crawl::Crawl;
use crate::scrape::assemble::card::Card;
use crate::scrape::model::report::{Report, StageError};
use crate::scrape::page::CrawledPage;
use url::Url;

/// What a run has gathered so far.
pub struct Gathered {
    /// The submitted URL.
    pub url: Url,
    /// Pages the crawl reads at most (the job's `max_pages`, else the setting).
    pub max_pages: usize,
    /// Set by the `profile` stage: the homepage and its response headers.
    pub home: Option<(CrawledPage, reqwest::header::HeaderMap)>,
    /// Set by the `website` stage.
    pub crawl: Option<Crawl>,
    /// The company card, filled by the `profile` and `website` stages.
    pub card: Card,
    pub report: Report,
}

impl Gathered {
    /// The pages the crawl read, the homepage first; none before the `website` stage.
    pub fn pages(&self) -> &[CrawledPage] {
        self.crawl.as_ref().map(|c| c.pages.as_slice()).unwrap_or_default()
    }

    /// Records why `stage` found less than it looked for.
    pub fn note(&mut self, stage: Stage, message: String) {
        self.report.errors.push(StageError { stage, message });
    }

    /// Records why `stage` had nothing to do for this company.
    pub fn not_applicable(&mut self, stage: Stage, message: String) {
        self.report.not_applicable.push(StageError { stage, message });
    }

    /// The card as the report shows it.
    pub fn show_card(&mut self) {
        self.report.company = self.card.company.clone();
        self.report.sources.retain(|k, _| !k.starts_with("company."));
        self.report.sources.extend(self.card.sources.clone());
    }
}
