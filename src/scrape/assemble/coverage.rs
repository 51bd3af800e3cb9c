//! What of the site the crawl could read, and how: pages read and rendered, walls met, pages
//! that show their content only once their scripts run, and data read from framework payloads.

use crate::browser::Browser;
use crate::scrape::acquire::crawl::Crawl;
use crate::scrape::model::report::{BlockedPage, Coverage, EmbeddedPage, RenderedPage, ShellPage};
use crate::scrape::read::wall::Verdict;

/// What of the site the crawl could read, and how.
pub fn coverage(crawled: &Crawl, browser: &Browser) -> Coverage {
    let js_required: Vec<ShellPage> = crawled
        .pages
        .iter()
        .filter_map(|p| match &p.verdict {
            Verdict::JsRequired(evidence) => Some(ShellPage { url: p.url.to_string(), evidence: evidence.clone() }),
            _ => None,
        })
        .collect();
    let rendered: Vec<RenderedPage> = crawled.pages.iter().filter_map(|p| p.rendered.clone()).collect();
    let embedded_data = crawled
        .pages
        .iter()
        .filter(|p| !p.facts.embedded.is_empty())
        .map(|p| EmbeddedPage { url: p.url.to_string(), sources: p.facts.embedded.clone() })
        .collect();
    let mode = browser.mode();
    let note = (!js_required.is_empty()).then(|| {
        let why = match (mode, browser.unavailable()) {
            (crate::config::RenderMode::Off, Some(reason)) => format!("rendering is off: {reason}"),
            (crate::config::RenderMode::Off, None) => "rendering is off (KRAWLR_RENDER=off)".to_string(),
            _ => "rendering them failed (each page's evidence says why)".to_string(),
        };
        format!(
            "{} of the pages read show their content only once their scripts run, and {why}: what those pages \
             hold is missing from this report",
            js_required.len()
        )
    });
    Coverage {
        pages_read: crawled.pages.len(),
        pages_rendered: rendered.len(),
        rendering: Some(mode),
        rendered,
        embedded_data,
        blocked: crawled
            .blocked
            .iter()
            .map(|(url, w)| BlockedPage { url: url.clone(), vendor: w.vendor.clone(), evidence: w.evidence.clone() })
            .collect(),
        js_required,
        skipped: crawled.failures.len(),
        note,
        unchanged_since: None,
    }
}
