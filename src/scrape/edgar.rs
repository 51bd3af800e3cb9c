//! The `financial` stage: the company's ticker and exchange as its own site states them, then
//! SEC EDGAR — the ticker's CIK from `company_tickers.json`, the filer's `companyfacts` — for
//! the latest annual revenue, net income, total assets, operating cash flow and shares
//! outstanding, each with its fiscal period, form and filing date (`us-gaap` and `ifrs-full`).
//! The two SEC hosts and the User-Agent (the SEC asks for a contact in it) are settings.

use crate::config::SecSettings;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
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
    /// The companyfacts document the figures came from.
    pub source: Option<String>,
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

pub struct Edgar {
    client: reqwest::Client,
    www: Url,
    data: Url,
    /// Ticker → (CIK, SEC name), read once.
    tickers: OnceCell<HashMap<String, (u64, String)>>,
}

impl Edgar {
    /// SEC's hosts are the operator's choice: reached without the address guard, through
    /// `proxy` when one is configured.
    pub fn new(settings: &SecSettings, proxy: Option<&Url>) -> Result<Edgar, reqwest::Error> {
        let builder = reqwest::Client::builder()
            .user_agent(&settings.user_agent)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60));
        let client = super::fetch::through(builder, proxy)?.build()?;
        Ok(Edgar { client, www: settings.www_url.clone(), data: settings.data_url.clone(), tickers: OnceCell::new() })
    }

    async fn get_json(&self, url: Url) -> Result<Value, EdgarError> {
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
                break;
            }
        }
        serde_json::from_slice(&body).map_err(|source| EdgarError::Json { url: shown, source })
    }

    /// The CIK and SEC name of a ticker, if the SEC lists it.
    pub async fn lookup(&self, ticker: &str) -> Result<Option<(u64, String)>, EdgarError> {
        let map = self
            .tickers
            .get_or_try_init(|| async {
                let url = self.www.join("/files/company_tickers.json").expect("a path joins");
                let doc = self.get_json(url).await?;
                let mut map = HashMap::new();
                for entry in doc.as_object().into_iter().flat_map(|o| o.values()) {
                    let cik = entry["cik_str"].as_u64().or_else(|| entry["cik_str"].as_str()?.parse().ok());
                    if let (Some(cik), Some(t)) = (cik, entry["ticker"].as_str()) {
                        let title = entry["title"].as_str().unwrap_or_default().to_string();
                        map.insert(t.to_ascii_uppercase(), (cik, title));
                    }
                }
                Ok::<_, EdgarError>(map)
            })
            .await?;
        let key = ticker.to_ascii_uppercase();
        Ok(map.get(&key).or_else(|| map.get(&key.replace('.', "-"))).cloned())
    }

    /// The latest annual figures of a filer.
    pub async fn facts(&self, cik: u64) -> Result<(Financials, String), EdgarError> {
        let url = self.data.join(&format!("/api/xbrl/companyfacts/CIK{cik:010}.json")).expect("a path joins");
        let doc = self.get_json(url.clone()).await?;
        let facts = &doc["facts"];
        let pick = |choices: &[(&str, &str)], duration: bool| latest_annual(facts, choices, duration);
        let financials = Financials {
            cik: Some(format!("{cik:010}")),
            sec_name: doc["entityName"].as_str().map(str::to_string),
            revenue: pick(
                &[
                    ("us-gaap", "Revenues"),
                    ("us-gaap", "RevenueFromContractWithCustomerExcludingAssessedTax"),
                    ("us-gaap", "RevenueFromContractWithCustomerIncludingAssessedTax"),
                    ("us-gaap", "SalesRevenueNet"),
                    ("ifrs-full", "Revenue"),
                ],
                true,
            ),
            net_income: pick(
                &[("us-gaap", "NetIncomeLoss"), ("us-gaap", "ProfitLoss"), ("ifrs-full", "ProfitLoss")],
                true,
            ),
            total_assets: pick(&[("us-gaap", "Assets"), ("ifrs-full", "Assets")], false),
            operating_cash_flow: pick(
                &[
                    ("us-gaap", "NetCashProvidedByUsedInOperatingActivities"),
                    ("ifrs-full", "CashFlowsFromUsedInOperatingActivities"),
                ],
                true,
            ),
            shares_outstanding: pick(
                &[("dei", "EntityCommonStockSharesOutstanding"), ("us-gaap", "CommonStockSharesOutstanding")],
                false,
            ),
            ..Financials::default()
        };
        Ok((financials, url.to_string()))
    }
}

const ANNUAL_FORMS: &[&str] = &["10-K", "10-K/A", "20-F", "20-F/A", "40-F", "40-F/A"];

/// The most recent annual value among `choices` (earlier choices win ties). For flows
/// (`duration`), only periods of about a year count, not quarters reported in annual forms.
fn latest_annual(facts: &Value, choices: &[(&str, &str)], duration: bool) -> Option<Fact> {
    let mut best: Option<Fact> = None;
    for (taxonomy, concept) in choices {
        let Some(units) = facts[taxonomy][concept]["units"].as_object() else { continue };
        for (unit, values) in units {
            for v in values.as_array().into_iter().flatten() {
                let form = v["form"].as_str().unwrap_or_default();
                let annual = ANNUAL_FORMS.contains(&form) && v["fp"].as_str().is_none_or(|fp| fp == "FY");
                if !annual || (duration && !about_a_year(v)) {
                    continue;
                }
                let (Some(end), Some(filed), Some(value)) =
                    (v["end"].as_str(), v["filed"].as_str(), v["val"].as_number())
                else {
                    continue;
                };
                let newer = best.as_ref().is_none_or(|b| (end, filed) > (b.period_end.as_str(), b.filed.as_str()));
                if newer {
                    best = Some(Fact {
                        value: value.clone(),
                        unit: unit.clone(),
                        concept: format!("{taxonomy}:{concept}"),
                        fiscal_year: v["fy"].as_i64(),
                        fiscal_period: v["fp"].as_str().map(str::to_string),
                        form: form.to_string(),
                        filed: filed.to_string(),
                        period_end: end.to_string(),
                    });
                }
            }
        }
    }
    best
}

fn about_a_year(v: &Value) -> bool {
    let day = |k: &str| {
        let s = v[k].as_str()?;
        time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
    };
    match (day("start"), day("end")) {
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
}
