//! The report's website section: what the crawl shows of the site — pages and their kinds,
//! the technologies they show, HTTPS and security headers, robots.txt and sitemaps, feeds,
//! response times and weights.

use crate::scrape::acquire::crawl::Crawl;
use crate::scrape::model::PageType;
use crate::scrape::model::report::{Feed, Technology};
use crate::scrape::model::report::{PageSummary, SkippedPage, Website};
use crate::scrape::page::CrawledPage;
use std::collections::BTreeMap;

/// Headers a careful site sends, lower-case.
const SECURITY_HEADERS: &[&str] = &[
    "strict-transport-security",
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
];

pub fn summarize(crawl: &Crawl) -> Website {
    let home = &crawl.pages[0];
    let mut security_headers = BTreeMap::new();
    let mut missing = Vec::new();
    for name in SECURITY_HEADERS {
        match crawl.home_headers.get(*name).and_then(|v| v.to_str().ok()) {
            Some(value) => {
                security_headers.insert(name.to_string(), value.to_string());
            }
            None => missing.push(name.to_string()),
        }
    }
    let https = home.url.scheme() == "https";
    let mut page_types: Vec<PageType> = crawl.pages.iter().map(|p| p.page_type).collect();
    page_types.sort_by_key(|t| t.rank());
    page_types.dedup();
    let mut feeds: Vec<Feed> = Vec::new();
    let mut pages = Vec::new();
    for crawled in &crawl.pages {
        for feed in &crawled.facts.meta.feeds {
            if !feeds.iter().any(|f| f.url == feed.url) {
                feeds.push(feed.clone());
            }
        }
        pages.push(summary(crawled, crawled.facts.meta.title.clone()));
    }
    let total_bytes = pages.iter().map(|p| p.bytes).sum();
    let average_response_ms = pages.iter().map(|p| p.response_ms).sum::<u64>() / pages.len().max(1) as u64;
    Website {
        pages,
        page_types,
        technologies: crate::scrape::assemble::website::detect(&crawl.pages),
        https,
        hsts: security_headers.get("strict-transport-security").filter(|_| https).cloned(),
        security_headers,
        missing_security_headers: missing,
        robots_txt: crawl.robots_txt,
        sitemaps: crawl.sitemaps.clone(),
        feeds,
        total_bytes,
        average_response_ms,
        skipped: crawl
            .failures
            .iter()
            .map(|(url, reason)| SkippedPage { url: url.clone(), reason: reason.clone() })
            .collect(),
    }
}

fn summary(crawled: &CrawledPage, title: Option<String>) -> PageSummary {
    PageSummary {
        url: crawled.url.to_string(),
        page_type: crawled.page_type,
        status: crawled.status,
        bytes: crawled.bytes as u64,
        response_ms: crawled.elapsed.as_millis() as u64,
        title,
        validators: crawled.validators.clone(),
    }
}

/// Every technology the pages show, each with the first page's evidence (the homepage's first).
pub fn detect(pages: &[CrawledPage]) -> Vec<Technology> {
    let mut found: BTreeMap<&str, &Technology> = BTreeMap::new();
    for technology in pages.iter().flat_map(|p| &p.technologies) {
        found.entry(technology.name.as_str()).or_insert(technology);
    }
    let mut out: Vec<Technology> = found.into_values().cloned().collect();
    out.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::model::Response;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn page(html: &str, headers: &[(&'static str, &'static str)]) -> CrawledPage {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, HeaderValue::from_static(v));
        }
        let page = Response {
            url: url::Url::parse("https://acme.test/").unwrap(),
            status: 200,
            headers: map,
            body: html.as_bytes().to_vec(),
            truncated: false,
            elapsed: std::time::Duration::ZERO,
        };
        CrawledPage::read(&page, PageType::Home)
    }

    #[test]
    fn technologies_show_through_assets_headers_cookies_and_generator() {
        let html = r#"<html><head><meta name="generator" content="WordPress 6.4">
            <script src="https://js.stripe.com/v3/"></script>
            <script async src="https://www.googletagmanager.com/gtm.js?id=GTM-X"></script>
            <link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Inter"></head>
            <body><script>window.intercomSettings = {app_id: "x"};</script></body></html>"#;
        let found = detect(&[page(
            html,
            &[("server", "cloudflare"), ("cf-ray", "1"), ("set-cookie", "PHPSESSID=abc; path=/")],
        )]);
        let names: Vec<&str> = found.iter().map(|t| t.name.as_str()).collect();
        for want in ["WordPress", "Stripe", "Google Tag Manager", "Google Fonts", "Intercom", "Cloudflare", "PHP"] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        let stripe = found.iter().find(|t| t.name == "Stripe").unwrap();
        assert_eq!(stripe.category, "Payments");
        assert_eq!(stripe.evidence, "asset: https://js.stripe.com/v3/");
        assert!(!names.contains(&"Shopify"));
    }

    #[test]
    fn html_rules_ignore_case_and_assets_give_the_first_that_matches() {
        let html = r#"<html><body><DIV DATA-WF-PAGE="x"></DIV><div id="___GATSBY"></div>
            <script src="/static/jquery-3.7.js"></script><script src="/static/jquery.min.js"></script>
            <script src="/_app/immutable/entry/start.js"></script></body></html>"#;
        let found = detect(&[page(html, &[])]);
        let evidence = |name: &str| found.iter().find(|t| t.name == name).map(|t| t.evidence.as_str());
        assert_eq!(evidence("Webflow"), Some("html: data-wf-page"));
        assert_eq!(evidence("Gatsby"), Some("html: id=\"___gatsby\""));
        assert_eq!(evidence("jQuery"), Some("asset: /static/jquery-3.7.js"), "the first asset, the first rule");
        // One needle of two technologies is one pattern of the automaton: it serves both.
        assert_eq!(evidence("Svelte"), Some("asset: /_app/immutable/entry/start.js"));
        assert_eq!(evidence("SvelteKit"), Some("asset: /_app/immutable/entry/start.js"));
        assert_eq!(evidence("React"), None);
    }
}
