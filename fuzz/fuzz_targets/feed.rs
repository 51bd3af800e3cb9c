//! News feeds (RSS, Atom, JSON Feed) and sitemaps, as any site may serve them.
#![no_main]

use krawlr::scrape::{crawl, news};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let feed_url = Url::parse("https://example.com/feed.xml").unwrap();
    if let Some(items) = news::parse_feed(data, &feed_url) {
        let _ = news::merge(items);
    }
    let _ = crawl::sitemap_locs(data);
});
