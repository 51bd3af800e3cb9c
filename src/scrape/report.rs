//! The report: what a finished job returns. Versioned; fields a stage could not fill stay
//! empty and the stage's reason goes in `errors`.

use super::crawl::PageType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// A company report, as `GET /api/v1/scrape/{id}` and `krawlr scrape` return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "krawlr company report", description = "schema_version 1")]
pub struct Report {
    pub schema_version: u32,
    /// The submitted URL.
    pub url: String,
    pub domain: String,
    pub company: Company,
    pub website: Option<Website>,
    pub financials: Option<super::edgar::Financials>,
    pub funding: Option<super::funding::Funding>,
    pub news: Vec<super::news::NewsItem>,
    pub enrichment: Option<super::enrich::Enrichment>,
    /// Which URL each fact came from, keyed by the fact's path (`company.name`).
    pub sources: BTreeMap<String, String>,
    pub errors: Vec<StageError>,
    /// RFC 3339.
    pub scraped_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Company {
    pub name: Option<String>,
    pub legal_name: Option<String>,
    pub domain: String,
    pub description: Option<String>,
    pub logo: Option<String>,
    pub favicon: Option<String>,
    pub founded_year: Option<i32>,
    pub headquarters: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// Network name (`linkedin`, `twitter`, `github`, …) → profile URL.
    pub social_profiles: BTreeMap<String, String>,
    pub industry: Vec<String>,
    pub languages: Vec<String>,
}

/// What the crawl saw of the site itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Website {
    pub pages: Vec<PageSummary>,
    /// The kinds of page found, in rank order.
    pub page_types: Vec<PageType>,
    pub technologies: Vec<super::tech::Technology>,
    pub https: bool,
    /// The `Strict-Transport-Security` header of the homepage.
    pub hsts: Option<String>,
    /// Security headers the homepage sent, by lower-case name.
    pub security_headers: BTreeMap<String, String>,
    pub missing_security_headers: Vec<String>,
    pub robots_txt: bool,
    pub sitemaps: Vec<String>,
    pub feeds: Vec<super::meta::Feed>,
    pub total_bytes: u64,
    pub average_response_ms: u64,
    /// Pages that could not be fetched, with the reason.
    pub skipped: Vec<SkippedPage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PageSummary {
    pub url: String,
    pub page_type: PageType,
    pub status: u16,
    pub bytes: u64,
    pub response_ms: u64,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SkippedPage {
    pub url: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageError {
    pub stage: crate::job::Stage,
    pub message: String,
}
