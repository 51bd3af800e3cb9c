//! The crawl: from the homepage, find the company's own pages through its links and its
//! sitemaps, rank the pages that say most about a company first (about, team, contact, careers,
//! pricing, press, news, blog, investors, legal), and fetch them politely within caps on pages,
//! bytes and time. Only the homepage's host and its `www.` twin are crawled; every URL is
//! fetched once.

use crate::browser::Browser;
use crate::scrape::acquire::fetch::{FetchError, Fetcher};
use crate::scrape::acquire::render;
use crate::scrape::acquire::sitemaps::sitemap_locs;
use crate::scrape::model::PageType;
use crate::scrape::model::Response;
use crate::scrape::page::PageFacts;
use crate::scrape::page::{CrawledPage, INDEX_CHILDREN};
use crate::scrape::read::wall::{Verdict, Wall};
use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use url::Url;

/// Nested sitemaps followed at most.
const MAX_SITEMAPS: usize = 5;

/// Caps on one crawl.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pages: usize,
    pub max_bytes: usize,
    pub deadline: Instant,
}

#[derive(Debug, Default)]
pub struct Crawl {
    /// The homepage first, then the others in rank order.
    pub pages: Vec<CrawledPage>,
    /// The homepage's response headers (security headers are read from them).
    pub home_headers: HeaderMap,
    pub robots_txt: bool,
    /// The sitemaps that answered.
    pub sitemaps: Vec<String>,
    /// Pages that could not be fetched, with the reason.
    pub failures: Vec<(String, String)>,
    /// Bot walls met instead of pages: none of them is among `pages`.
    pub blocked: Vec<(String, Wall)>,
}

/// Whether `url` belongs to the site whose homepage host is `host` (or its `www.` twin).
pub fn same_site(url: &Url, host: &str) -> bool {
    let bare = host.trim_start_matches("www.");
    url.host_str().is_some_and(|h| h == bare || h.strip_prefix("www.") == Some(bare))
        && matches!(url.scheme(), "http" | "https")
}

/// A URL worth fetching as a page: no fragment, not an asset, on the site.
pub fn candidate(raw: &str, base: &Url, host: &str) -> Option<Url> {
    let mut url = base.join(raw.trim()).ok()?;
    url.set_fragment(None);
    if !same_site(&url, host) {
        return None;
    }
    let path = url.path().to_ascii_lowercase();
    const ASSETS: &[&str] = &[
        ".pdf", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".zip", ".mp4", ".mp3", ".css", ".js", ".xml",
        ".ico", ".dmg", ".exe", ".json", ".rss", ".woff", ".woff2",
    ];
    if ASSETS.iter().any(|ext| path.ends_with(ext)) || path.contains("/wp-content/") || path.contains("/cdn-cgi/") {
        return None;
    }
    Some(url)
}

/// The page's links worth crawling.
pub fn links(facts: &PageFacts, base: &Url, host: &str) -> Vec<Url> {
    facts.links.iter().filter_map(|href| candidate(href, base, host)).collect()
}

/// Crawls from an already fetched and read homepage. The page and byte caps are checked before
/// each fetch starts, the time cap bounds every fetch, and pages are read on the scraper's CPU
/// pool (rendered first when they need it).
pub async fn crawl(
    fetcher: &Fetcher,
    browser: &Browser,
    home: CrawledPage,
    home_headers: HeaderMap,
    limits: Limits,
) -> Crawl {
    let cpu = &fetcher.cpu;
    let host = home.url.host_str().unwrap_or_default().to_string();
    let mut seen: HashSet<String> = HashSet::from([home.url.to_string()]);
    let mut queue: Vec<Url> = links(&home.facts, &home.url, &host);
    let mut crawl = Crawl { home_headers, ..Crawl::default() };
    let mut bytes = home.bytes;
    let home_url = home.url.clone();
    crawl.pages.push(home);

    let (robots, named) = fetcher.robots_info(&home_url).await.unwrap_or_default();
    crawl.robots_txt = robots;
    let mut sitemaps: Vec<String> = named;
    if sitemaps.is_empty() {
        sitemaps.push(home_url.join("/sitemap.xml").map(|u| u.to_string()).unwrap_or_default());
    }
    let mut read = 0;
    while let Some(sitemap) = sitemaps.pop() {
        if read >= MAX_SITEMAPS || Instant::now() >= limits.deadline {
            break;
        }
        read += 1;
        let Ok(url) = Url::parse(&sitemap) else { continue };
        let Ok(page) = fetch_before(fetcher, &url, limits.deadline).await else { continue };
        let (locs, is_index, at) = cpu
            .run(move || {
                let (locs, is_index) = sitemap_locs(&page.body);
                (locs, is_index, page.url)
            })
            .await;
        crawl.sitemaps.push(at.to_string());
        if is_index {
            sitemaps.extend(locs.into_iter().take(MAX_SITEMAPS));
        } else {
            queue.extend(locs.iter().filter_map(|l| candidate(l, &at, &host)));
        }
    }

    // Company pages first; shallower paths before deeper ones; then page order.
    queue.retain(|u| seen.insert(u.to_string()));
    let depth = |u: &Url| u.path_segments().map_or(0, |s| s.filter(|p| !p.is_empty()).count());
    queue.sort_by_key(|u| (PageType::of(u).rank(), depth(u)));
    // `max_pages` counts pages read: a link robots.txt disallows takes no place.
    let queue = permitted(fetcher, queue, limits.max_pages.saturating_sub(1)).await;
    fetch_into(&mut crawl, &mut bytes, (fetcher, browser), queue, limits).await;

    // One level deeper where the site keeps what a report tells: the items a press, news or
    // investor index lists (its releases), newest first as the index orders them, in the pages
    // left.
    let left = limits.max_pages.saturating_sub(crawl.pages.len());
    let items: Vec<Url> = crawl
        .pages
        .iter()
        .filter(|p| matches!(p.page_type, PageType::Press | PageType::News | PageType::Investors))
        .map(CrawledPage::children)
        .filter(|children| children.len() >= INDEX_CHILDREN)
        .flatten()
        .filter(|u| seen.insert(u.to_string()))
        .collect();
    let items = permitted(fetcher, items, left).await;
    fetch_into(&mut crawl, &mut bytes, (fetcher, browser), items, limits).await;
    crawl
}

/// The first `n` of `urls` that robots.txt does not disallow (an origin whose robots.txt cannot
/// be read now keeps its links: their fetch says why they failed).
async fn permitted(fetcher: &Fetcher, urls: Vec<Url>, n: usize) -> Vec<Url> {
    let mut kept = Vec::with_capacity(n.min(urls.len()));
    for url in urls {
        if kept.len() >= n {
            break;
        }
        if fetcher.permits(&url).await.unwrap_or(true) {
            kept.push(url);
        }
    }
    kept
}

/// Fetches `queue` into `crawl`, as many at once as one host allows. Bytes are counted as pages
/// arrive; once the budget is spent, or the time is up, no further fetch starts.
async fn fetch_into(
    crawl: &mut Crawl,
    bytes: &mut usize,
    (fetcher, browser): (&Fetcher, &Browser),
    queue: Vec<Url>,
    limits: Limits,
) {
    let spent = std::sync::atomic::AtomicUsize::new(*bytes);
    let spent = &spent;
    let fetches = futures_util::stream::iter(queue).map(|url| async move {
        if spent.load(std::sync::atomic::Ordering::Relaxed) >= limits.max_bytes {
            return (url, Err(Skipped::Failed("byte budget spent".to_string())));
        }
        if Instant::now() >= limits.deadline {
            return (url, Err(Skipped::Failed("time budget spent".to_string())));
        }
        let fetched = match fetch_before(fetcher, &url, limits.deadline).await {
            Ok(page) if page.is_html() => {
                spent.fetch_add(page.body.len(), std::sync::atomic::Ordering::Relaxed);
                let page_type = PageType::of(&page.url);
                Ok(render::read(fetcher, browser, page, page_type, Some(limits.deadline)).await)
            }
            Ok(page) => Err(Skipped::Failed(format!("not HTML ({})", page.content_type().unwrap_or("no type")))),
            Err(Some(FetchError::Blocked { wall, .. })) => Err(Skipped::Blocked(wall)),
            Err(Some(e)) => Err(Skipped::Failed(crate::telemetry::chain(&e))),
            Err(None) => Err(Skipped::Failed("time budget spent".to_string())),
        };
        (url, fetched)
    });
    let mut fetches = fetches.buffered(fetcher.settings().per_host_concurrency.max(1) * 2);
    while let Some((url, fetched)) = fetches.next().await {
        match fetched {
            // A wall served as a page (a captcha answered with 200) is no page of the site.
            Ok(CrawledPage { verdict: Verdict::Blocked(wall), .. }) | Err(Skipped::Blocked(wall)) => {
                crawl.blocked.push((url.to_string(), wall))
            }
            Ok(page) if *bytes + page.bytes <= limits.max_bytes => {
                *bytes += page.bytes;
                crawl.pages.push(page);
            }
            Ok(_) => crawl.failures.push((url.to_string(), "byte budget spent".into())),
            Err(Skipped::Failed(reason)) => crawl.failures.push((url.to_string(), reason)),
        }
    }
}

/// Why a page is not among the crawl's pages.
enum Skipped {
    Blocked(Wall),
    Failed(String),
}

/// A fetch that gives up at `deadline`: `Err(None)` when the time ran out.
async fn fetch_before(
    fetcher: &Fetcher,
    url: &Url,
    deadline: Instant,
) -> Result<Response, Option<crate::scrape::acquire::fetch::FetchError>> {
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    match tokio::time::timeout(left, fetcher.get(url)).await {
        Ok(result) => result.map_err(Some),
        Err(_) => Err(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_site_s_pages_are_candidates() {
        let base = Url::parse("https://www.acme.test/").unwrap();
        let html = r##"<a href="/about">a</a><a href="https://acme.test/team#top">t</a><a href="https://blog.acme.test/">b</a>
            <a href="https://other.test/">o</a><a href="/brochure.pdf">p</a><a href="mailto:x@acme.test">m</a><a href="#top">t</a>"##;
        let facts = crate::scrape::page::analyze(html, &base);
        let found: Vec<String> = links(&facts, &base, "www.acme.test").iter().map(Url::to_string).collect();
        assert_eq!(found, ["https://www.acme.test/about", "https://acme.test/team", "https://www.acme.test/"]);
    }
}
