//! The `website` stage: crawls the site from the homepage; what its other pages state joins the
//! company card.

use super::Gathered;
use crate::scrape::Scraper;
use crate::scrape::acquire::crawl;
use crate::scrape::assemble::{coverage::coverage, website};
use crate::scrape::model::report::{Source, SourceMethod};
use url::Url;

pub async fn run(scraper: &Scraper, gathered: &mut Gathered) {
    let Some((home, home_headers)) = gathered.home.take() else { return };
    let settings = scraper.fetcher.settings();
    let limits = crawl::Limits {
        max_pages: gathered.max_pages,
        max_bytes: settings.crawl_max_bytes,
        deadline: std::time::Instant::now() + settings.crawl_timeout,
    };
    let crawled = crawl::crawl(&scraper.fetcher, &scraper.browser, home, home_headers, limits).await;
    gathered.report.website = Some(website::summarize(&crawled));
    gathered.report.coverage = Some(coverage(&crawled, &scraper.browser));
    if gathered.card.company.favicon.is_none() {
        probe_favicon(scraper, gathered, &crawled.pages[0].url).await;
    }
    for page in crawled.pages.iter().skip(1) {
        gathered.card.add_page(&page.facts, &page.url, page.page_type);
    }
    gathered.card.settle();
    gathered.show_card();
    gathered.crawl = Some(crawled);
}

/// A site that declares no icon may still serve `/favicon.ico`: fetched, and kept only if it is
/// an image.
async fn probe_favicon(scraper: &Scraper, gathered: &mut Gathered, home: &Url) {
    let Ok(url) = home.join("/favicon.ico") else { return };
    let Ok(page) = scraper.fetcher.get(&url).await else { return };
    let image_type = page.content_type().is_some_and(|t| t.to_ascii_lowercase().starts_with("image/"));
    let magic = [&b"\x00\x00\x01\x00"[..], b"\x89PNG", b"GIF8", b"<svg"];
    if image_type || magic.iter().any(|m| page.body.starts_with(m)) {
        gathered.card.company.favicon = Some(page.url.to_string());
        gathered.card.sources.insert("company.favicon".into(), Source::new(page.url.as_str(), SourceMethod::Probe));
    }
}
