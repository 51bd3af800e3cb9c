//! URLs: a client's company or webhook address through the guard, and a link on a page
//! resolved against its base and normalised into a crawl candidate.
#![no_main]

use krawlr::net::guard::Policy;
use krawlr::scrape::acquire::crawl;
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|raw: &str| {
    if let Ok(url) = Policy::default().target(raw) {
        // Whatever the guard accepts re-parses to itself and passes again.
        let again = Url::parse(url.as_str()).expect("an accepted URL re-parses");
        assert_eq!(again, url);
        assert!(Policy::default().check_url(&again).is_ok());
    }
    let base = Url::parse("https://www.example.com/company/about").unwrap();
    if let Some(link) = crawl::candidate(raw, &base, "www.example.com") {
        assert!(crawl::same_site(&link, "example.com"));
        assert!(link.fragment().is_none());
    }
});
