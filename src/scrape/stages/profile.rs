//! The `profile` stage: the homepage must be reachable, allowed and HTML, or the job fails; the
//! company card starts from what it states.

use super::Gathered;
use crate::scrape::acquire::{fetch::FetchError, render};
use crate::scrape::assemble::card::Card;
use crate::scrape::model::PageType;
use crate::scrape::read::wall::Verdict;
use crate::scrape::{ScrapeError, Scraper};

pub async fn run(scraper: &Scraper, gathered: &mut Gathered) -> Result<(), ScrapeError> {
    let page = scraper.fetcher.get(&gathered.url).await?;
    if !page.is_html() {
        return Err(ScrapeError::NotHtml {
            url: page.url.to_string(),
            content_type: page.content_type().unwrap_or("none").to_string(),
        });
    }
    let headers = page.headers.clone();
    let home = render::read(&scraper.fetcher, &scraper.browser, page, PageType::Home, None).await;
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
