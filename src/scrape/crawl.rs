//! The crawl: from the homepage, find the company's own pages through its links and its
//! sitemaps, rank the pages that say most about a company first (about, team, contact, careers,
//! pricing, press, news, blog, investors, legal), and fetch them politely within caps on pages,
//! bytes and time. Only the homepage's host and its `www.` twin are crawled; every URL is
//! fetched once.

use super::Scraper;
use super::fetch::{FetchError, Fetcher, Response, Validators};
use super::page::PageFacts;
use super::tech::Technology;
use super::wall::{Verdict, Wall};
use futures_util::StreamExt;
use quick_xml::events::Event;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use url::Url;

/// Sitemap URLs read at most, over all sitemaps.
const MAX_SITEMAP_URLS: usize = 5_000;
/// Nested sitemaps followed at most.
const MAX_SITEMAPS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageType {
    Home,
    About,
    Team,
    Contact,
    Careers,
    Pricing,
    Press,
    News,
    Blog,
    Investors,
    /// The page where the law makes a company state who it is: Impressum, mentions légales,
    /// colofon, aviso legal, note legali, legal notice.
    Imprint,
    Legal,
    Product,
    Other,
}

impl PageType {
    /// What a path says the page is, by its words; `Other` when it says nothing.
    pub fn of(url: &Url) -> PageType {
        let path = url.path().to_ascii_lowercase();
        if path == "/" || path.is_empty() {
            return PageType::Home;
        }
        let words: Vec<&str> = path.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
        let pair = |a: &str, b: &str| words.windows(2).any(|w| w[0] == a && w[1] == b);
        if has(&["impressum", "imprint", "mentions", "colofon", "colophon", "aviso", "avisolegal", "notelegali"])
            || pair("legal", "notice")
            || pair("note", "legali")
            || pair("legal", "disclosure")
        {
            PageType::Imprint
        } else if has(&["investors", "investor", "ir", "shareholders", "stockholders"]) {
            PageType::Investors
        } else if has(&["press", "newsroom", "media", "pressroom", "releases", "presse", "pers", "prensa", "stampa"]) {
            PageType::Press
        } else if has(&["team", "leadership", "management", "founders", "people"]) {
            PageType::Team
        } else if has(&[
            "about",
            "company",
            "who",
            "story",
            "mission",
            "ueber",
            "uber",
            "über",
            "unternehmen",
            "propos",
            "entreprise",
            "nosotros",
            "empresa",
            "azienda",
        ]) || pair("over", "ons")
            || pair("chi", "siamo")
        {
            PageType::About
        } else if has(&["contact", "contacts", "kontakt", "locations", "offices", "contacto", "contatti", "contactez"])
        {
            PageType::Contact
        } else if has(&[
            "careers",
            "career",
            "jobs",
            "join",
            "hiring",
            "karriere",
            "emplois",
            "vacatures",
            "empleo",
            "lavora",
        ]) {
            PageType::Careers
        } else if has(&["pricing", "plans", "price", "prices", "preise", "tarifs", "prijzen", "precios", "prezzi"]) {
            PageType::Pricing
        } else if has(&["news", "announcements", "updates", "aktuelles", "actualites", "nieuws", "noticias", "notizie"])
        {
            PageType::News
        } else if has(&["blog", "insights", "articles", "stories"]) {
            PageType::Blog
        } else if has(&["legal", "terms", "privacy", "tos", "datenschutz", "agb", "cgv", "privacidad"]) {
            PageType::Legal
        } else if has(&["product", "products", "features", "platform", "solutions", "services"]) {
            PageType::Product
        } else {
            PageType::Other
        }
    }

    /// Lower comes first.
    pub fn rank(self) -> u8 {
        match self {
            PageType::Home => 0,
            PageType::About => 1,
            PageType::Team => 2,
            PageType::Contact => 3,
            PageType::Imprint => 4,
            PageType::Investors => 5,
            PageType::Press => 6,
            PageType::News => 7,
            PageType::Careers => 8,
            PageType::Pricing => 9,
            PageType::Blog => 10,
            PageType::Product => 11,
            PageType::Legal => 12,
            PageType::Other => 13,
        }
    }
}

/// Caps on one crawl.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pages: usize,
    pub max_bytes: usize,
    pub deadline: Instant,
}

/// What the crawl keeps of a fetched page: its facts, not its bytes, so that a crawl's memory
/// grows with what it learned rather than with the pages' sizes.
#[derive(Debug, Clone)]
pub struct CrawledPage {
    /// Where the page came from, after redirects.
    pub url: Url,
    pub page_type: PageType,
    pub status: u16,
    /// The body's size as fetched.
    pub bytes: usize,
    pub elapsed: Duration,
    pub facts: PageFacts,
    /// The technologies the page shows, with their evidence.
    pub technologies: Vec<Technology>,
    /// Content, a bot wall, or a page that needs its scripts to show its content.
    pub verdict: Verdict,
    /// What rendering the page in a browser took, when it was rendered before it was read.
    pub rendered: Option<super::report::RenderedPage>,
    /// The document's `ETag` and `Last-Modified`, as sent (a rendered page keeps its document's).
    pub validators: Validators,
}

impl CrawledPage {
    /// Decodes, parses and reads `page` (CPU work: run it on the scraper's CPU pool); only its
    /// facts are kept, not its body.
    pub fn read(page: &Response, page_type: PageType) -> CrawledPage {
        let html = page.text();
        let facts = super::page::analyze(&html, &page.url);
        let technologies = super::tech::detect_page(&html, &page.headers, &facts);
        let mut verdict = super::wall::classify(page.status, &page.headers, &html, facts.visible_chars);
        // A shell that embeds its content as data was read from it, as a browser would show it.
        if matches!(verdict, Verdict::JsRequired(_)) && facts.embedded_chars >= super::wall::SHELL_TEXT {
            verdict = Verdict::Content;
        }
        CrawledPage {
            url: page.url.clone(),
            page_type,
            status: page.status,
            bytes: page.body.len(),
            elapsed: page.elapsed,
            facts,
            technologies,
            verdict,
            rendered: None,
            validators: page.validators(),
        }
    }
}

/// Links to this many pages below its own path make a page a section's index.
const INDEX_CHILDREN: usize = 3;

impl CrawledPage {
    /// The pages below this one's path that it links to: a section index's items.
    pub fn children(&self) -> Vec<Url> {
        let own = self.url.path().trim_end_matches('/');
        let mut children: Vec<Url> = Vec::new();
        for href in &self.facts.links {
            let Ok(mut url) = self.url.join(href.trim()) else { continue };
            url.set_fragment(None);
            let below = url.path().strip_prefix(own).is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'));
            if below && url.host_str() == self.url.host_str() && !children.contains(&url) {
                children.push(url);
            }
        }
        children
    }

    /// A section's index (a press page listing its releases) rather than an item of it: it
    /// links to three or more pages below its own path.
    pub fn is_index(&self) -> bool {
        self.children().len() >= INDEX_CHILDREN
    }
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

/// `<loc>` entries of a sitemap or sitemap index.
pub fn sitemap_locs(xml: &[u8]) -> (Vec<String>, bool) {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let (mut locs, mut index, mut in_loc) = (Vec::new(), false, false);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = e.local_name().into_inner();
                index |= name == "sitemapindex";
                in_loc = name == "loc";
            }
            Ok(Event::Text(t)) if in_loc => locs.push(unescape(t.into_inner().trim())),
            Ok(Event::CData(t)) if in_loc => locs.push(t.into_inner().trim().to_string()),
            Ok(Event::End(_)) => in_loc = false,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        if locs.len() >= MAX_SITEMAP_URLS {
            break;
        }
        buf.clear();
    }
    (locs, index)
}

/// The five predefined XML entities; sitemaps escape `&` in URLs.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// Crawls from an already fetched and read homepage. The page and byte caps are checked before
/// each fetch starts, the time cap bounds every fetch, and pages are read on the scraper's CPU
/// pool (rendered first when they need it).
pub async fn crawl(scraper: &Scraper, home: CrawledPage, home_headers: HeaderMap, limits: Limits) -> Crawl {
    let (fetcher, cpu) = (&scraper.fetcher, &scraper.cpu);
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
    fetch_into(&mut crawl, &mut bytes, scraper, queue, limits).await;

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
    fetch_into(&mut crawl, &mut bytes, scraper, items, limits).await;
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
async fn fetch_into(crawl: &mut Crawl, bytes: &mut usize, scraper: &Scraper, queue: Vec<Url>, limits: Limits) {
    let fetcher = &scraper.fetcher;
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
                Ok(super::render::read(scraper, page, page_type, Some(limits.deadline)).await)
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
) -> Result<Response, Option<super::fetch::FetchError>> {
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
    fn paths_say_what_a_page_is() {
        let t = |p: &str| PageType::of(&Url::parse(&format!("https://acme.test{p}")).unwrap());
        assert_eq!(t("/"), PageType::Home);
        assert_eq!(t("/about-us"), PageType::About);
        assert_eq!(t("/company/leadership"), PageType::Team);
        assert_eq!(t("/investors/sec-filings"), PageType::Investors);
        assert_eq!(t("/newsroom/2024/acme-raises"), PageType::Press);
        assert_eq!(t("/careers"), PageType::Careers);
        assert_eq!(t("/de/impressum"), PageType::Imprint);
        assert_eq!(t("/mentions-legales"), PageType::Imprint);
        assert_eq!(t("/legal-notice"), PageType::Imprint);
        assert_eq!(t("/privacy"), PageType::Legal);
        assert_eq!(t("/ueber-uns"), PageType::About);
        assert_eq!(t("/fr/a-propos"), PageType::About);
        assert_eq!(t("/p/12345"), PageType::Other);
    }

    #[test]
    fn only_the_site_s_pages_are_candidates() {
        let base = Url::parse("https://www.acme.test/").unwrap();
        let html = r##"<a href="/about">a</a><a href="https://acme.test/team#top">t</a><a href="https://blog.acme.test/">b</a>
            <a href="https://other.test/">o</a><a href="/brochure.pdf">p</a><a href="mailto:x@acme.test">m</a><a href="#top">t</a>"##;
        let facts = crate::scrape::page::analyze(html, &base);
        let found: Vec<String> = links(&facts, &base, "www.acme.test").iter().map(Url::to_string).collect();
        assert_eq!(found, ["https://www.acme.test/about", "https://acme.test/team", "https://www.acme.test/"]);
    }

    #[test]
    fn sitemaps_and_indexes_are_read() {
        let xml = br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc>https://acme.test/about</loc></url><url><loc> https://acme.test/team </loc></url></urlset>"#;
        assert_eq!(sitemap_locs(xml), (vec!["https://acme.test/about".into(), "https://acme.test/team".into()], false));
        let index =
            br#"<sitemapindex><sitemap><loc><![CDATA[https://acme.test/s1.xml]]></loc></sitemap></sitemapindex>"#;
        assert_eq!(sitemap_locs(index), (vec!["https://acme.test/s1.xml".into()], true));
    }
}
