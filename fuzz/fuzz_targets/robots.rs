//! robots.txt: the first line is a path to ask about, the rest the file.
#![no_main]

use krawlr::scrape::acquire::robots::Robots;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (path, body) = data.split_at(split);
    let (robots, _cost) = Robots::parse(body);
    let path = String::from_utf8_lossy(path);
    let _ = robots.allowed(&format!("https://example.com/{path}"));
    let _ = robots.allowed(&path);
    // Whatever Crawl-delay says (inf, 1e20, NaN, negative) is a bounded pause.
    if let Some(delay) = robots.delay() {
        assert!(delay <= std::time::Duration::from_secs(10), "{delay:?}");
    }
});
