//! A page as the crawler sees it: the facts (links, text, structured data), the metadata, the
//! company profile and whether it is a wall or a shell, from any bytes decoded as the fetcher
//! decodes them.
#![no_main]

use krawlr::scrape::acquire::crawl;
use krawlr::scrape::assemble::card;
use krawlr::scrape::model::{PageType, decode};
use krawlr::scrape::page;
use krawlr::scrape::read::{meta, wall};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let html = decode(data, Some("text/html"));
    let base = Url::parse("https://example.com/about/").unwrap();
    let facts = page::analyze(&html, &base);
    let _ = crawl::links(&facts, &base, "example.com");
    let mut card = card::Card::from_home(&facts, &base, Some("en"));
    card.add_page(&facts, &base, PageType::Imprint);
    card.settle();
    let _ = meta::extract(&html, &base);
    let visible = wall::visible_text_len(&html);
    for status in [200, 403, 503] {
        let _ = wall::classify(status, &Default::default(), &html, visible);
    }
});
