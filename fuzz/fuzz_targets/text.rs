//! Readers of page text: every date parser, the funding sentence reader, the founding-year and
//! ticker finders, over any text (the bytes read as UTF-8, so every script and every letter
//! that changes length when lower-cased is reached).
#![no_main]

use krawlr::scrape::{dates, edgar, funding, profile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = dates::iso_date(&text);
    let _ = profile::founded_year_in(&text);
    let _ = edgar::find_ticker(&[], &[&text]);
    let read = funding::extract(&[funding::Announcement { text: &text, url: "https://example.com/press", date: None }]);
    for round in read.rounds {
        assert!(text.contains(round.evidence.split_whitespace().next().unwrap_or_default()));
    }
});
