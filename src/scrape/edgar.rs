//! The `financial` stage: the company's ticker and exchange as its own site states them, then
//! SEC EDGAR — the ticker's CIK from `company_tickers.json`, the filer's `companyfacts` — for
//! the latest annual revenue, net income, total assets, operating cash flow and shares
//! outstanding, each with its fiscal period, form and filing date (`us-gaap` and `ifrs-full`).
//! The two SEC hosts and the User-Agent (the SEC asks for a contact in it) are settings.

use crate::config::SecSettings;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;
use url::Url;

/// companyfacts of large filers run to tens of megabytes.
const MAX_FACTS_BYTES: usize = 64 << 20;

/// Exchanges as sites name them, longest first so `NYSE American` wins over `NYSE`.
const EXCHANGES: &[(&str, &str)] = &[
    ("nyse american", "NYSE American"),
    ("nyse arca", "NYSE Arca"),
    ("nasdaqgs", "NASDAQ"),
    ("nasdaqgm", "NASDAQ"),
    ("nasdaqcm", "NASDAQ"),
    ("nasdaq", "NASDAQ"),
    ("nyse", "NYSE"),
    ("amex", "NYSE American"),
    ("otcqx", "OTC"),
    ("otcqb", "OTC"),
    ("tsx", "TSX"),
    ("lse", "LSE"),
];

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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Financials {
    pub ticker: Option<String>,
    pub exchange: Option<String>,
    /// Ten digits, as EDGAR writes it.
    pub cik: Option<String>,
    pub sec_name: Option<String>,
    pub revenue: Option<Fact>,
    pub net_income: Option<Fact>,
    pub total_assets: Option<Fact>,
    pub operating_cash_flow: Option<Fact>,
    pub shares_outstanding: Option<Fact>,
    /// The filer's Standard Industrial Classification, as EDGAR's submissions record states it.
    pub sic: Option<Sic>,
    /// The companyfacts document the figures came from.
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sic {
    /// Four digits (`7372`).
    pub code: String,
    /// EDGAR's title for it (`Services-Prepackaged Software`).
    pub description: Option<String>,
}

/// `submissions`, as far as krawlr reads it.
#[derive(Deserialize)]
struct Submissions {
    sic: Option<String>,
    #[serde(rename = "sicDescription")]
    sic_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Fact {
    /// As filed, unscaled.
    pub value: serde_json::Number,
    pub unit: String,
    /// `us-gaap:Revenues`, `ifrs-full:Revenue`, …
    pub concept: String,
    pub fiscal_year: Option<i64>,
    pub fiscal_period: Option<String>,
    pub form: String,
    pub filed: String,
    pub period_end: String,
}

/// A ticker the site states: JSON-LD `tickerSymbol`, else `NASDAQ: XYZ` in its text.
pub fn find_ticker(json_ld: &[Value], texts: &[&str]) -> Option<(String, Option<String>)> {
    let from_ld = json_ld.iter().find_map(|o| o.get("tickerSymbol")?.as_str().map(str::to_string));
    if let Some(symbol) = from_ld {
        let (exchange, ticker) = match symbol.split_once(':') {
            Some((ex, t)) => (exchange_name(ex.trim()), t.trim().to_string()),
            None => (None, symbol.trim().to_string()),
        };
        if is_ticker(&ticker) {
            return Some((ticker, exchange));
        }
    }
    texts.iter().find_map(|t| ticker_in_text(t))
}

fn exchange_name(raw: &str) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    EXCHANGES.iter().find(|(k, _)| lower == *k).map(|(_, v)| v.to_string())
}

fn is_ticker(s: &str) -> bool {
    let core = s.split(['.', '-']).next().unwrap_or_default();
    (1..=5).contains(&core.len()) && core.chars().all(|c| c.is_ascii_uppercase()) && s.len() <= 7
}

/// `(NYSE: SNOW)`, `Nasdaq:ABCD`, `NYSE American: XYZ` — an exchange, a colon, a symbol; the
/// first on the page. The search starts from the colons (rare in prose, found by `memchr`) and
/// looks back for an exchange's name: searching for each of twelve names instead read every
/// page twelve times, a seventh of a crawl's instructions.
fn ticker_in_text(text: &str) -> Option<(String, Option<String>)> {
    text.match_indices(':').find_map(|(colon, _)| {
        let before = text[..colon].trim_end().as_bytes();
        let (key, name) = EXCHANGES.iter().find(|(key, _)| {
            before.len() >= key.len() && before[before.len() - key.len()..].eq_ignore_ascii_case(key.as_bytes())
        })?;
        let start = before.len() - key.len();
        if start > 0 && before[start - 1].is_ascii_alphanumeric() {
            return None; // inside another word
        }
        let symbol: String =
            text[colon + 1..].trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
        let symbol = symbol.trim_end_matches('.');
        is_ticker(symbol).then(|| (symbol.to_string(), Some(name.to_string())))
    })
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

/// The concepts each figure is read from, in order of preference.
const REVENUE: &[(&str, &str)] = &[
    ("us-gaap", "Revenues"),
    ("us-gaap", "RevenueFromContractWithCustomerExcludingAssessedTax"),
    ("us-gaap", "RevenueFromContractWithCustomerIncludingAssessedTax"),
    ("us-gaap", "SalesRevenueNet"),
    ("ifrs-full", "Revenue"),
];
const NET_INCOME: &[(&str, &str)] =
    &[("us-gaap", "NetIncomeLoss"), ("us-gaap", "ProfitLoss"), ("ifrs-full", "ProfitLoss")];
const TOTAL_ASSETS: &[(&str, &str)] = &[("us-gaap", "Assets"), ("ifrs-full", "Assets")];
const OPERATING_CASH_FLOW: &[(&str, &str)] = &[
    ("us-gaap", "NetCashProvidedByUsedInOperatingActivities"),
    ("ifrs-full", "CashFlowsFromUsedInOperatingActivities"),
];
const SHARES_OUTSTANDING: &[(&str, &str)] =
    &[("dei", "EntityCommonStockSharesOutstanding"), ("us-gaap", "CommonStockSharesOutstanding")];

/// Whether krawlr reads `taxonomy:concept`: every other concept of a filing is skipped while
/// parsing, so a filer's tens of megabytes become a few small vectors.
fn wanted(taxonomy: &str, concept: &str) -> bool {
    [REVENUE, NET_INCOME, TOTAL_ASSETS, OPERATING_CASH_FLOW, SHARES_OUTSTANDING]
        .iter()
        .any(|list| list.iter().any(|(t, c)| *t == taxonomy && *c == concept))
}

/// `companyfacts`, as far as krawlr reads it.
#[derive(Deserialize)]
struct CompanyFacts {
    #[serde(rename = "entityName")]
    entity_name: Option<String>,
    #[serde(default)]
    facts: Taxonomies,
}

/// (taxonomy, concept) → the concept's values by unit, for the wanted concepts only.
#[derive(Default)]
struct Taxonomies(HashMap<(String, String), HashMap<String, Vec<Entry>>>);

#[derive(Deserialize)]
struct Concept {
    #[serde(default)]
    units: HashMap<String, Vec<Entry>>,
}

/// One reported value.
#[derive(Deserialize)]
struct Entry {
    start: Option<String>,
    end: Option<String>,
    val: Option<serde_json::Number>,
    fy: Option<i64>,
    fp: Option<String>,
    form: Option<String>,
    filed: Option<String>,
}

impl<'de> Deserialize<'de> for Taxonomies {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, Visitor};
        struct Concepts<'a>(&'a str, &'a mut HashMap<(String, String), HashMap<String, Vec<Entry>>>);
        impl<'de> serde::de::DeserializeSeed<'de> for Concepts<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> Visitor<'de> for Concepts<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of concepts")
            }
            // A taxonomy that is not a map of concepts holds none.
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(())
            }
            fn visit_unit<E>(self) -> Result<(), E> {
                Ok(())
            }
            fn visit_str<E>(self, _: &str) -> Result<(), E> {
                Ok(())
            }
            fn visit_bool<E>(self, _: bool) -> Result<(), E> {
                Ok(())
            }
            fn visit_i64<E>(self, _: i64) -> Result<(), E> {
                Ok(())
            }
            fn visit_u64<E>(self, _: u64) -> Result<(), E> {
                Ok(())
            }
            fn visit_f64<E>(self, _: f64) -> Result<(), E> {
                Ok(())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while let Some(concept) = map.next_key::<String>()? {
                    if wanted(self.0, &concept) {
                        let units = map.next_value::<Concept>()?.units;
                        self.1.insert((self.0.to_string(), concept), units);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(())
            }
        }
        struct Root;
        impl<'de> Visitor<'de> for Root {
            type Value = Taxonomies;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of taxonomies")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Taxonomies, A::Error> {
                let mut out = HashMap::new();
                while let Some(taxonomy) = map.next_key::<String>()? {
                    map.next_value_seed(Concepts(&taxonomy, &mut out))?;
                }
                Ok(Taxonomies(out))
            }
        }
        deserializer.deserialize_map(Root)
    }
}

const ANNUAL_FORMS: &[&str] = &["10-K", "10-K/A", "20-F", "20-F/A", "40-F", "40-F/A"];

/// The most recent annual value among `choices` (earlier choices win ties). For flows
/// (`duration`), only periods of about a year count, not quarters reported in annual forms.
fn latest_annual(facts: &Taxonomies, choices: &[(&str, &str)], duration: bool) -> Option<Fact> {
    let mut best: Option<Fact> = None;
    for (taxonomy, concept) in choices {
        let Some(units) = facts.0.get(&(taxonomy.to_string(), concept.to_string())) else { continue };
        for (unit, values) in units {
            for v in values {
                let form = v.form.as_deref().unwrap_or_default();
                let annual = ANNUAL_FORMS.contains(&form) && v.fp.as_deref().is_none_or(|fp| fp == "FY");
                if !annual || (duration && !about_a_year(v)) {
                    continue;
                }
                let (Some(end), Some(filed), Some(value)) = (&v.end, &v.filed, &v.val) else {
                    continue;
                };
                let newer = best.as_ref().is_none_or(|b| (end, filed) > (&b.period_end, &b.filed));
                if newer {
                    best = Some(Fact {
                        value: value.clone(),
                        unit: unit.clone(),
                        concept: format!("{taxonomy}:{concept}"),
                        fiscal_year: v.fy,
                        fiscal_period: v.fp.clone(),
                        form: form.to_string(),
                        filed: filed.clone(),
                        period_end: end.clone(),
                    });
                }
            }
        }
    }
    best
}

fn about_a_year(v: &Entry) -> bool {
    let day = |s: &Option<String>| {
        time::Date::parse(s.as_deref()?, time::macros::format_description!("[year]-[month]-[day]")).ok()
    };
    match (day(&v.start), day(&v.end)) {
        (Some(start), Some(end)) => (340..=380).contains(&(end - start).whole_days()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickers_are_found_as_sites_write_them() {
        let t = |s: &str| ticker_in_text(s);
        assert_eq!(t("Snowflake Inc. (NYSE: SNOW) today announced"), Some(("SNOW".into(), Some("NYSE".into()))));
        assert_eq!(t("listed on Nasdaq:ABCD since"), Some(("ABCD".into(), Some("NASDAQ".into()))));
        assert_eq!(t("(NYSE American: XYZ)"), Some(("XYZ".into(), Some("NYSE American".into()))));
        assert_eq!(t("BRK.B on NYSE: BRK.B."), Some(("BRK.B".into(), Some("NYSE".into()))));
        assert_eq!(t("we love nasdaq: it is great"), None, "lower-case words are not symbols");
        assert_eq!(t("JNYSE: ABC"), None, "inside another word");
        assert_eq!(t("no listing here"), None);
        assert_eq!(t("else false: pulse NASDAQ: QQ"), Some(("QQ".into(), Some("NASDAQ".into()))), "`lse` inside words");
        assert_eq!(t("Nasdaq: AA and NYSE American: BB"), Some(("AA".into(), Some("NASDAQ".into()))), "the first");
        assert_eq!(t("NYSE American : XYZ"), Some(("XYZ".into(), Some("NYSE American".into()))));
        let ld = vec![serde_json::json!({"@type": "Corporation", "tickerSymbol": "NASDAQ:ACME"})];
        assert_eq!(find_ticker(&ld, &[]), Some(("ACME".into(), Some("NASDAQ".into()))));
    }

    #[test]
    fn companyfacts_keep_only_the_concepts_read() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/sec-edgar/companyfacts/CIK0001640147.json");
        let body = std::fs::read(path).expect("the shared fixtures beside the checkout");
        let doc: CompanyFacts = serde_json::from_slice(&body).unwrap();
        assert!(!doc.facts.0.is_empty() && doc.facts.0.len() <= 12, "{} concepts kept", doc.facts.0.len());
        assert!(doc.facts.0.keys().all(|(t, c)| wanted(t, c)));
        assert!(latest_annual(&doc.facts, REVENUE, true).is_some());
        let odd = br#"{"entityName": "X", "facts": {"us-gaap": {"Assets": {"units": {"USD": [{"end": "2024-01-31",
            "val": 5, "form": "10-K", "filed": "2024-03-01", "fp": "FY", "extra": [1, {"deep": true}]}]}},
            "Other": {"units": 7}}, "weird": []}}"#;
        let doc: CompanyFacts = serde_json::from_slice(odd).unwrap();
        assert_eq!(latest_annual(&doc.facts, TOTAL_ASSETS, false).map(|f| f.value.to_string()), Some("5".into()));
    }
}
