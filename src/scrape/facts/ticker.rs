//! The company's stock ticker and exchange, as its own site states them: JSON-LD
//! `tickerSymbol`, else `NASDAQ: XYZ` in its text.

use serde_json::Value;

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
