//! One company report in the making: a [`Run`] performs the stages in order, and its caller (the
//! worker, or `krawlr scrape`) records progress in between.

use crate::job::{JobOptions, Stage, rfc3339};
use crate::scrape::assemble::card::Card;
use crate::scrape::model::report::{REPORT_SCHEMA_VERSION, Report};
use crate::scrape::stages::{self, Gathered};
use crate::scrape::{ScrapeError, Scraper};
use url::Url;

pub struct Run<'a> {
    scraper: &'a Scraper,
    gathered: Gathered,
}

impl<'a> Run<'a> {
    pub fn new(scraper: &'a Scraper, url: Url, options: &JobOptions) -> Self {
        let domain = url.host_str().unwrap_or_default().trim_start_matches("www.").to_string();
        let report =
            Report { schema_version: REPORT_SCHEMA_VERSION, url: url.to_string(), domain, ..Report::default() };
        let max_pages = options.max_pages.unwrap_or(scraper.fetcher.settings().max_pages) as usize;
        let gathered = Gathered { url, max_pages, home: None, crawl: None, card: Card::default(), report };
        Run { scraper, gathered }
    }

    pub async fn step(&mut self, stage: Stage) -> Result<(), ScrapeError> {
        let (scraper, gathered) = (self.scraper, &mut self.gathered);
        match stage {
            Stage::Profile => return stages::profile::run(scraper, gathered).await,
            Stage::Website => stages::website::run(scraper, gathered).await,
            Stage::Financial => stages::financial::run(scraper, gathered).await,
            Stage::News => {
                stages::news::run(scraper, gathered).await;
                // Rounds are read from the news items and the crawled pages together.
                stages::funding::run(gathered);
            }
            Stage::Enrichment => stages::enrichment::run(scraper, gathered).await,
            Stage::Starting | Stage::Saving | Stage::Completed => {}
        }
        Ok(())
    }

    /// The company's name, once the `profile` stage has read it.
    pub fn company_name(&self) -> Option<String> {
        self.gathered.report.company.name.clone()
    }

    pub fn finish(mut self) -> Report {
        self.gathered.report.scraped_at = rfc3339(crate::job::now_ms());
        self.gathered.report
    }
}
