//! The report: what a finished job returns. Versioned; fields a stage could not fill stay
//! empty and the stage's reason goes in `errors`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    /// The submitted URL.
    pub url: String,
    pub domain: String,
    pub company: Company,
    pub website: Option<serde_json::Value>,
    pub financials: Option<serde_json::Value>,
    pub funding: Option<serde_json::Value>,
    pub news: Vec<serde_json::Value>,
    pub enrichment: Option<serde_json::Value>,
    /// Which URL each fact came from, keyed by the fact's path (`company.name`).
    pub sources: BTreeMap<String, String>,
    pub errors: Vec<StageError>,
    /// RFC 3339.
    pub scraped_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageError {
    pub stage: String,
    pub message: String,
}
