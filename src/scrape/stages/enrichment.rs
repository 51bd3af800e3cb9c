//! The `enrichment` stage: a summary, an industry, a business model, products, target
//! customers and tags, by the configured model or (without one, or when it fails) offline.

use super::Gathered;
use crate::job::Stage;
use crate::scrape::Scraper;
use crate::scrape::assemble::heuristics::{self, Evidence};
use crate::scrape::model::PageType;
use crate::scrape::model::report::{Method, Source, SourceMethod};
use crate::scrape::page::CrawledPage;
use crate::scrape::sources::llm;

/// The pages whose text is the enrichment's evidence, home and about first.
const EVIDENCE_PAGES: usize = 6;

pub async fn run(scraper: &Scraper, gathered: &mut Gathered) {
    let pages = gathered.pages();
    let mut ranked: Vec<&CrawledPage> = pages.iter().collect();
    ranked.sort_by_key(|p| !matches!(p.page_type, PageType::Home | PageType::About));
    let texts: Vec<String> = ranked.iter().take(EVIDENCE_PAGES).map(|p| p.facts.main_text().to_string()).collect();
    let product_names = pages
        .iter()
        .filter(|p| p.page_type == PageType::Product)
        .filter_map(|p| p.facts.meta.title.clone())
        .map(|t| t.split(['|', '–', '—']).next().unwrap_or_default().trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let company = &gathered.report.company;
    let evidence =
        Evidence { name: company.name.as_deref(), description: company.description.as_deref(), texts, product_names };
    let mut problem = None;
    let enrichment = match &scraper.llm {
        Some((client, settings)) => match llm::with_llm(client, settings, &evidence).await {
            Ok(found) => found,
            Err(e) => {
                problem = Some(format!("{}; used the offline method instead", crate::telemetry::chain(&e)));
                heuristics::heuristic(&evidence)
            }
        },
        None => heuristics::heuristic(&evidence),
    };
    if let Some(message) = problem {
        gathered.note(Stage::Enrichment, message);
    }
    let method = match enrichment.method {
        Method::Llm => SourceMethod::Llm,
        Method::Heuristic => SourceMethod::Heuristic,
    };
    let report = &mut gathered.report;
    let home = report.url.clone();
    if report.company.industry.is_empty() && enrichment.industry.is_some() {
        report.company.industry = enrichment.industry.iter().cloned().collect();
        report.sources.insert("company.industry".into(), Source::new(home.as_str(), method));
    }
    report.sources.insert("enrichment".into(), Source::new(home, method));
    report.enrichment = Some(enrichment);
}
