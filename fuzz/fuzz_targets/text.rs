//! Readers of page text: every date parser, the funding sentence reader, the founding-year,
//! imprint and ticker finders, the phone reader, over any text (the bytes read as UTF-8, so
//! every script and every letter that changes length when lower-cased is reached).
#![no_main]

use krawlr::scrape::facts::{founding, funding, legal, phones, ticker};
use krawlr::scrape::read::{dates, lines::Line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = dates::iso_date(&text);
    let lines: Vec<Line> = text.lines().map(|l| Line { text: l.to_string(), ..Line::default() }).collect();
    let _ = founding::statements(&lines);
    let _ = legal::read(&lines, Some("DE"));
    let _ = legal::emails(&text);
    let _ = phones::e164(&text, Some("GB"));
    let _ = ticker::find_ticker(&[], &[&text]);
    let names = ["Acme Rockets".to_string(), "İstanbul".to_string()];
    let read = funding::extract(&[funding::Announcement { text: &text, url: "https://example.com/press", date: None }], &names);
    for round in read.rounds {
        assert!(text.contains(round.evidence.split_whitespace().next().unwrap_or_default()));
    }
});
