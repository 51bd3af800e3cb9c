//! Feed documents (RSS, Atom, JSON Feed, through feed-rs) read into news items, and items from
//! several sources merged newest first, one per link or title.

use crate::scrape::model::report::NewsItem;
use crate::scrape::model::text::fold_whitespace;
use url::Url;

/// Items kept per report at most.
const MAX_ITEMS: usize = 50;
/// A summary's characters at most.
const SUMMARY_CHARS: usize = 300;

/// The items of one feed document; `None` when it is not a feed.
pub fn parse_feed(bytes: &[u8], feed_url: &Url) -> Option<Vec<NewsItem>> {
    // feed-rs 3.0 (through quick-xml 0.42) panics on some malformed documents, one found by
    // fuzzing (`fuzz/regressions/feed/`): a site's feed must not take its job down with it.
    let parse = || feed_rs::parser::Builder::new().base_uri(Some(feed_url.as_str())).build().parse(bytes).ok();
    let feed = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(feed) => feed?,
        Err(_) => {
            tracing::warn!(feed = %feed_url, "the feed parser panicked on this document; skipped");
            return None;
        }
    };
    let source = feed
        .title
        .as_ref()
        .map(|t| clean_text(&t.content))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| feed_url.host_str().unwrap_or_default().to_string());
    let items = feed
        .entries
        .into_iter()
        .filter_map(|entry| {
            let title = entry.title.map(|t| clean_text(&t.content)).filter(|t| !t.is_empty())?;
            let url = entry
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or(entry.links.first())
                .map(|l| l.href.clone());
            let date = entry.published.or(entry.updated).map(|d| crate::job::rfc3339(d.timestamp_millis()));
            let summary = entry
                .summary
                .map(|s| s.content)
                .or_else(|| entry.content.and_then(|c| c.body))
                .map(|s| truncate(&clean_text(&s), SUMMARY_CHARS))
                .filter(|s| !s.is_empty());
            Some(NewsItem { title, url, date, source: source.clone(), summary })
        })
        .collect();
    Some(items)
}

/// Text without markup or runs of white space.
fn clean_text(s: &str) -> String {
    let text = if s.contains('<') {
        scraper::Html::parse_fragment(s).root_element().text().collect::<String>()
    } else {
        s.to_string()
    };
    fold_whitespace(&text)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// Newest first (undated last), one item per link or title.
pub fn merge(items: Vec<NewsItem>) -> Vec<NewsItem> {
    let mut out: Vec<NewsItem> = Vec::new();
    for item in items {
        let key = |i: &NewsItem| i.title.to_lowercase();
        let duplicate = out.iter().any(|o| (o.url.is_some() && o.url == item.url) || key(o) == key(&item));
        if !duplicate {
            out.push(item);
        }
    }
    out.sort_by(|a, b| b.date.cmp(&a.date));
    out.truncate(MAX_ITEMS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_that_panics_the_feed_parser_is_skipped() {
        let crash = include_bytes!("../../../fuzz/regressions/feed/crash-ce4c7bcf319af596014746975e13978c5944b7cd");
        let url = Url::parse("https://example.com/feed.xml").unwrap();
        let caught = std::panic::catch_unwind(|| feed_rs::parser::parse(&crash[..]).is_ok());
        assert!(caught.is_err(), "feed-rs no longer panics on it: the guard in parse_feed may go");
        assert!(parse_feed(crash, &url).is_none());
    }

    fn item(title: &str, url: &str, date: Option<&str>) -> NewsItem {
        NewsItem {
            title: title.into(),
            url: Some(url.into()),
            date: date.map(str::to_string),
            source: "s".into(),
            summary: None,
        }
    }

    #[test]
    fn merged_newest_first_without_duplicates() {
        let merged = merge(vec![
            item("Old", "https://a/1", Some("2020-01-01T00:00:00.000Z")),
            item("New", "https://a/2", Some("2024-01-01T00:00:00.000Z")),
            item("new", "https://b/2", None),
            item("Other", "https://a/1", None),
            item("Undated", "https://a/3", None),
        ]);
        let titles: Vec<&str> = merged.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["New", "Old", "Undated"]);
    }

    #[test]
    fn summaries_lose_markup_and_length() {
        assert_eq!(clean_text("<p>Acme <b>raises</b>\n $5M</p>"), "Acme raises $5M");
        let long = "word ".repeat(100);
        let t = truncate(long.trim(), 20);
        assert!(t.ends_with('…') && t.chars().count() <= 21, "{t}");
    }
}
