//! SEC EDGAR's client: a ticker's CIK from `company_tickers.json`, then the filer's
//! `companyfacts` for the latest annual revenue, net income, total assets, operating cash flow
//! and shares outstanding, each with its fiscal period, form and filing date (`us-gaap` and
//! `ifrs-full`), cached and with requests spaced as the SEC asks. The two SEC hosts and the
//! User-Agent (the SEC asks for a contact in it) are settings.

mod choose;
mod companyfacts;

use crate::scrape::model::report::{Financials, Sic};
use choose::latest_annual;
use companyfacts::{CompanyFacts, NET_INCOME, OPERATING_CASH_FLOW, REVENUE, SHARES_OUTSTANDING, TOTAL_ASSETS};

use crate::config::SecSettings;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;
use url::Url;

/// companyfacts of large filers run to tens of megabytes.
const MAX_FACTS_BYTES: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum EdgarError {
    #[error("SEC EDGAR request to {url} failed")]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("SEC EDGAR answered HTTP {status} for {url}")]
    Status { status: u16, url: String },
    #[error("SEC EDGAR sent more than {max} bytes from {url}")]
    TooLarge { url: String, max: usize },
    #[error("SEC EDGAR sent something that is not the expected JSON from {url}")]
    Json {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

/// `submissions`, as far as krawlr reads it.
#[derive(Deserialize)]
struct Submissions {
    sic: Option<String>,
    #[serde(rename = "sicDescription")]
    sic_description: Option<String>,
}

/// How long a filer's figures are kept (the SEC updates companyfacts as filings arrive).
const FACTS_TTL: Duration = Duration::from_secs(6 * 3600);
/// Filers whose figures are kept at once.
const FACTS_CACHED: usize = 512;
/// The SEC asks for at most 10 requests a second from one client.
const SEC_REQUEST_SPACING: Duration = Duration::from_millis(100);

pub struct Edgar {
    client: reqwest::Client,
    www: Url,
    data: Url,
    /// Ticker → (CIK, SEC name), read once.
    tickers: OnceCell<HashMap<String, (u64, String)>>,
    /// CIK → (when read, its figures and their source).
    facts: Mutex<lru::LruCache<u64, Cached<(Financials, String)>>>,
    /// When the next request to the SEC may start, across every job of the process.
    next_request: tokio::sync::Mutex<Instant>,
}

/// A value and when it was read.
type Cached<T> = (Instant, T);

/// One entry of `company_tickers.json`.
#[derive(Deserialize)]
struct Listed {
    cik_str: Cik,
    ticker: String,
    #[serde(default)]
    title: String,
}

/// A CIK, written as a number or as a string of digits.
#[derive(Deserialize)]
#[serde(untagged)]
enum Cik {
    Number(u64),
    Text(String),
}

impl Edgar {
    /// SEC's hosts are the operator's choice: reached without the address guard, through
    /// `proxy` when one is configured.
    pub fn new(settings: &SecSettings, proxy: Option<&Url>) -> Result<Edgar, reqwest::Error> {
        let builder = reqwest::Client::builder()
            .user_agent(&settings.user_agent)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60));
        let client = crate::net::through(builder, proxy)?.build()?;
        Ok(Edgar {
            client,
            www: settings.www_url.clone(),
            data: settings.data_url.clone(),
            tickers: OnceCell::new(),
            facts: Mutex::new(lru::LruCache::new(std::num::NonZeroUsize::new(FACTS_CACHED).expect("not zero"))),
            next_request: tokio::sync::Mutex::new(Instant::now()),
        })
    }

    /// The body of a successful answer, at most [`MAX_FACTS_BYTES`], requests spaced as the SEC asks.
    async fn get(&self, url: Url) -> Result<Vec<u8>, EdgarError> {
        {
            let mut next = self.next_request.lock().await;
            tokio::time::sleep_until((*next).into()).await;
            *next = Instant::now() + SEC_REQUEST_SPACING;
        }
        let shown = url.to_string();
        let request_error = |source| EdgarError::Request { url: shown.clone(), source };
        let mut response = self.client.get(url.clone()).send().await.map_err(request_error)?;
        if !response.status().is_success() {
            return Err(EdgarError::Status { status: response.status().as_u16(), url: shown });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_FACTS_BYTES {
                return Err(EdgarError::TooLarge { url: shown, max: MAX_FACTS_BYTES });
            }
        }
        Ok(body)
    }

    /// The CIK and SEC name of a ticker, if the SEC lists it.
    pub async fn lookup(&self, ticker: &str) -> Result<Option<(u64, String)>, EdgarError> {
        let map = self
            .tickers
            .get_or_try_init(|| async {
                let url = self.www.join("/files/company_tickers.json").expect("a path joins");
                let body = self.get(url.clone()).await?;
                let listed: HashMap<String, Listed> = serde_json::from_slice(&body)
                    .map_err(|source| EdgarError::Json { url: url.to_string(), source })?;
                let map = listed
                    .into_values()
                    .filter_map(|l| {
                        let cik = match l.cik_str {
                            Cik::Number(n) => n,
                            Cik::Text(t) => t.trim().parse().ok()?,
                        };
                        Some((l.ticker.to_ascii_uppercase(), (cik, l.title)))
                    })
                    .collect();
                Ok::<_, EdgarError>(map)
            })
            .await?;
        let key = ticker.to_ascii_uppercase();
        Ok(map.get(&key).or_else(|| map.get(&key.replace('.', "-"))).cloned())
    }

    /// The filer's SIC from its submissions record; `None` when EDGAR has none or cannot be read
    /// (the figures do not depend on it).
    async fn sic(&self, cik: u64) -> Option<Sic> {
        let url = self.data.join(&format!("/submissions/CIK{cik:010}.json")).expect("a path joins");
        let body = match self.get(url).await {
            Ok(body) => body,
            Err(e) => {
                tracing::debug!(cik, error = %crate::telemetry::chain(&e), "no SIC from EDGAR");
                return None;
            }
        };
        let record: Submissions = serde_json::from_slice(&body).ok()?;
        let code = record.sic.filter(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()))?;
        Some(Sic { code, description: record.sic_description.filter(|d| !d.trim().is_empty()) })
    }

    /// The latest annual figures of a filer, from the cache while they are fresh.
    pub async fn facts(&self, cik: u64) -> Result<(Financials, String), EdgarError> {
        {
            let mut cache = self.facts.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, found)) = cache.get(&cik) {
                if at.elapsed() < FACTS_TTL {
                    return Ok(found.clone());
                }
            }
        }
        let url = self.data.join(&format!("/api/xbrl/companyfacts/CIK{cik:010}.json")).expect("a path joins");
        let body = self.get(url.clone()).await?;
        let doc: CompanyFacts =
            serde_json::from_slice(&body).map_err(|source| EdgarError::Json { url: url.to_string(), source })?;
        drop(body);
        let pick = |choices: &[(&str, &str)], duration: bool| latest_annual(&doc.facts, choices, duration);
        let financials = Financials {
            cik: Some(format!("{cik:010}")),
            sec_name: doc.entity_name.clone(),
            revenue: pick(REVENUE, true),
            net_income: pick(NET_INCOME, true),
            total_assets: pick(TOTAL_ASSETS, false),
            operating_cash_flow: pick(OPERATING_CASH_FLOW, true),
            shares_outstanding: pick(SHARES_OUTSTANDING, false),
            sic: self.sic(cik).await,
            ..Financials::default()
        };
        let found = (financials, url.to_string());
        self.facts.lock().unwrap_or_else(|p| p.into_inner()).put(cik, (Instant::now(), found.clone()));
        Ok(found)
    }
}
