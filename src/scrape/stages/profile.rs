//! The `profile` stage: the homepage must be reachable, allowed and HTML, or the job fails; the
//! company card starts from what it states. A homepage that sends its reader on by itself (a
//! meta refresh, a script setting `location`) is followed on the site, as a browser would, and
//! the page it lands on is the homepage.

use super::Gathered;
use crate::scrape::acquire::{crawl, fetch::FetchError, render};
use crate::scrape::assemble::card::Card;
use crate::scrape::model::PageType;
use crate::scrape::read::wall::Verdict;
use crate::scrape::{ScrapeError, Scraper};

/// Pages a homepage may send the crawler on through, at most.
const MAX_HOPS: usize = 3;

pub async fn run(scraper: &Scraper, gathered: &mut Gathered) -> Result<(), ScrapeError> {
    let page = scraper.fetcher.get(&gathered.url).await?;
    if !page.is_html() {
        return Err(ScrapeError::NotHtml {
            url: page.url.to_string(),
            content_type: page.content_type().unwrap_or("none").to_string(),
        });
    }
    let mut headers = page.headers.clone();
    let mut home = render::read(&scraper.fetcher, &scraper.browser, page, PageType::Home, None).await;
    for _ in 0..MAX_HOPS {
        let host = home.url.host_str().unwrap_or_default().to_string();
        let next = home.facts.redirects.iter().filter_map(|t| crawl::candidate(t, &home.url, &host)).next();
        let Some(next) = next.filter(|n| *n != home.url) else { break };
        // Where the way on fails, the page that pointed there is the homepage.
        let Ok(page) = scraper.fetcher.get(&next).await else { break };
        if !page.is_html() {
            break;
        }
        headers = page.headers.clone();
        home = render::read(&scraper.fetcher, &scraper.browser, page, PageType::Home, None).await;
    }
    // A wall served as the homepage (a captcha answered with 200): nothing of it is the
    // company's, and trying again would meet it again.
    if let Verdict::Blocked(wall) = home.verdict {
        return Err(FetchError::Blocked { url: home.url.to_string(), wall }.into());
    }
    let language = headers.get(reqwest::header::CONTENT_LANGUAGE).and_then(|v| v.to_str().ok());
    gathered.card = Card::from_home(&home.facts, &home.url, language);
    gathered.show_card();
    gathered.home = Some((home, headers));
    Ok(())
}
