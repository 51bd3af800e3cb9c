//! A page as the crawler sees it: the facts (links, text, structured data), the metadata and
//! the company profile, from any bytes decoded as the fetcher decodes them.
#![no_main]

use krawlr::scrape::{crawl, fetch, meta, page, profile};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let html = fetch::decode(data, Some("text/html"));
    let base = Url::parse("https://example.com/about/").unwrap();
    let facts = page::analyze(&html, &base);
    let _ = crawl::links(&facts, &base, "example.com");
    let mut card = profile::Card::from_home(&facts, &base, Some("en"));
    card.add_page(&facts, &base, crawl::PageType::Imprint);
    card.settle();
    let _ = meta::extract(&html, &base);
});
