//! The `financial` stage: the ticker the site states (its investor pages first), then SEC
//! EDGAR's figures for it.

use super::Gathered;
use crate::job::Stage;
use crate::scrape::Scraper;
use crate::scrape::facts::ticker::find_ticker;
use crate::scrape::model::PageType;
use crate::scrape::model::report::{Financials, Source, SourceMethod};
use crate::scrape::page::CrawledPage;

pub async fn run(scraper: &Scraper, gathered: &mut Gathered) {
    let mut ranked: Vec<&CrawledPage> = gathered.pages().iter().collect();
    ranked.sort_by_key(|p| p.page_type != PageType::Investors);
    let json_ld: Vec<serde_json::Value> = ranked.iter().flat_map(|p| p.facts.meta.json_ld.clone()).collect();
    let texts: Vec<&str> = ranked.iter().map(|p| p.facts.text.as_str()).collect();
    let found = find_ticker(&json_ld, &texts);
    let Some((ticker, exchange)) = found else {
        let message = "no stock ticker found on the site (a private company, or one that does not say)".into();
        gathered.not_applicable(Stage::Financial, message);
        return;
    };
    let mut financials = Financials { ticker: Some(ticker.clone()), exchange, ..Default::default() };
    let looked_up = match scraper.edgar.lookup(&ticker).await {
        Ok(Some((cik, _))) => scraper.edgar.facts(cik).await.map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    match looked_up {
        Ok(Some((facts, source))) => {
            financials = Financials { ticker: financials.ticker, exchange: financials.exchange, ..facts };
            gathered.report.sources.insert("financials".into(), Source::new(source.as_str(), SourceMethod::Edgar));
            financials.source = Some(source);
        }
        Ok(None) => {
            gathered.not_applicable(Stage::Financial, format!("SEC EDGAR lists no ticker {ticker} (not a US filer)"))
        }
        Err(e) => gathered.note(Stage::Financial, e.to_string()),
    }
    gathered.report.financials = Some(financials);
}
