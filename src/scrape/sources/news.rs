//! News feeds fetched: the site's own RSS/Atom/JSON feeds, plus an optional external news feed
//! (`KRAWLR_NEWS_FEED_URL` with a `{query}` placeholder); their items are read on the CPU pool
//! ([`crate::scrape::read::feeds`]) and merged newest first.

use crate::scrape::acquire::fetch::Fetcher;
use crate::scrape::model::Validators;
use crate::scrape::model::report::{Feed, NewsItem};
use crate::scrape::read::feeds::{merge, parse_feed};
use url::Url;

/// Feeds read per report at most.
const MAX_FEEDS: usize = 3;

/// Reads the site's feeds and the external feed; failures are the stage's `errors`.
/// Feeds are parsed on the fetcher's CPU pool, off the async runtime.
pub async fn collect(fetcher: &Fetcher, feeds: &[Feed], external: Option<Url>) -> Collected {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut validators = Vec::new();
    let urls = feeds.iter().filter_map(|f| Url::parse(&f.url).ok()).take(MAX_FEEDS).chain(external);
    for url in urls {
        match fetcher.get(&url).await {
            Ok(page) => {
                validators.push((url.to_string(), page.validators()));
                let (truncated, cap) = (page.truncated, fetcher.settings().max_body_bytes);
                match fetcher.cpu.run(move || parse_feed(&page.body, &page.url)).await {
                    Some(found) => items.extend(found),
                    // A feed cut short is no longer well-formed XML: say what happened to it.
                    None if truncated => {
                        problems.push(format!("{url} is larger than the fetch cap ({cap} bytes) and was cut there"))
                    }
                    None => problems.push(format!("{url} is not a feed")),
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    Collected { items: merge(items), problems, validators }
}

/// What the feeds gave.
pub struct Collected {
    pub items: Vec<NewsItem>,
    pub problems: Vec<String>,
    /// Each feed fetched, with its `ETag` and `Last-Modified`.
    pub validators: Vec<(String, Validators)>,
}

/// `KRAWLR_NEWS_FEED_URL` with `{query}` replaced by the company's name.
pub fn external_feed(template: &str, query: &str) -> Option<Url> {
    let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    Url::parse(&template.replace("{query}", &encoded)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_feed_urls_are_encoded() {
        let url = external_feed("https://news.example/rss?q={query}&hl=en", "Acme & Co").unwrap();
        assert_eq!(url.as_str(), "https://news.example/rss?q=Acme+%26+Co&hl=en");
    }
}
