//! News feeds (RSS, Atom, JSON Feed) and sitemaps, as any site may serve them.
#![no_main]

use krawlr::scrape::acquire::sitemaps;
use krawlr::scrape::read::feeds;
use libfuzzer_sys::fuzz_target;
use std::sync::Once;
use url::Url;

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys's panic hook aborts even on a panic that is caught: `parse_feed` catches
    // feed-rs's (a known upstream bug), so only print. A panic that is not caught still aborts,
    // in libfuzzer-sys's wrapper, and is reported as a crash.
    HOOK.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("{info}"))));
    let feed_url = Url::parse("https://example.com/feed.xml").unwrap();
    if let Some(items) = feeds::parse_feed(data, &feed_url) {
        let _ = feeds::merge(items);
    }
    let _ = sitemaps::sitemap_locs(data);
});
