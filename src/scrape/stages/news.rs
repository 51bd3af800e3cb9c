//! The `news` stage: items from the site's feeds and the external news feed, and the dated
//! press releases and articles the crawl read. The run fills `funding` right after it (see
//! [`super::funding`]): rounds are read from these items and the pages together.

use super::Gathered;
use crate::job::Stage;
use crate::scrape::Scraper;
use crate::scrape::model::PageType;
use crate::scrape::model::report::NewsItem;
use crate::scrape::read::feeds;
use crate::scrape::sources::news;

pub async fn run(scraper: &Scraper, gathered: &mut Gathered) {
    let report = &gathered.report;
    let feeds = report.website.as_ref().map(|w| w.feeds.clone()).unwrap_or_default();
    let query = report.company.name.clone().unwrap_or_else(|| report.domain.clone());
    let external = scraper.fetcher.settings().news_feed_url.as_deref().and_then(|t| news::external_feed(t, &query));
    let collected = news::collect(&scraper.fetcher, &feeds, external).await;
    let (mut items, problems) = (collected.items, collected.problems);
    if let Some(website) = gathered.report.website.as_mut() {
        for feed in &mut website.feeds {
            if let Some((_, v)) = collected.validators.iter().find(|(u, _)| *u == feed.url) {
                feed.validators = v.clone();
            }
        }
    }
    // Press releases and news articles the crawl fetched: the dated ones are items too.
    let source = gathered.report.company.name.clone().unwrap_or_else(|| gathered.report.domain.clone());
    let item_pages =
        gathered.pages().iter().filter(|p| matches!(p.page_type, PageType::Press | PageType::News) && !p.is_index());
    for page in item_pages {
        let meta = &page.facts.meta;
        if let (Some(title), Some(date)) = (&meta.title, &meta.published) {
            items.push(NewsItem {
                title: title.clone(),
                url: Some(page.url.to_string()),
                date: Some(date.clone()),
                source: source.clone(),
                summary: meta.description.clone(),
            });
        }
    }
    // What a news or press page lists without pages of their own: an item each, linked to its
    // article, else to its place on the listing page (a text fragment, which browsers scroll to).
    for page in gathered.pages().iter().filter(|p| matches!(p.page_type, PageType::Press | PageType::News)) {
        for listed in &page.facts.listed {
            let url = listed.url.as_deref().and_then(|u| page.url.join(u.trim()).ok()).unwrap_or_else(|| {
                let mut at = page.url.clone();
                let text: String = url::form_urlencoded::byte_serialize(listed.title.as_bytes()).collect();
                at.set_fragment(Some(&format!(":~:text={}", text.replace('+', "%20"))));
                at
            });
            items.push(NewsItem {
                title: listed.title.clone(),
                url: Some(url.to_string()),
                date: Some(listed.date.clone()),
                source: source.clone(),
                summary: None,
            });
        }
    }
    gathered.report.news = feeds::merge(items);
    for message in problems {
        gathered.note(Stage::News, message);
    }
}
