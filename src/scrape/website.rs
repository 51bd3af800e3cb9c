//! The `website` stage: the crawl, and what it shows of the site — pages and their kinds,
//! HTTPS and security headers, robots.txt and sitemaps, feeds, response times and weights.

use super::crawl::{Crawl, CrawledPage, PageType};
use super::meta;
use super::report::{PageSummary, SkippedPage, Website};
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
    let mut feeds: Vec<meta::Feed> = Vec::new();
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
        technologies: super::tech::detect(&crawl.pages),
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
