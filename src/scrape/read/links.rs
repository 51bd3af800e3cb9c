//! What a page's `<link>` elements declare of it: its icons and its feeds.

use crate::scrape::model::Validators;
use crate::scrape::model::report::{Feed, Icon};
use crate::scrape::model::text::fold_whitespace;
use scraper::{Html, Selector};
use std::sync::LazyLock;
use url::Url;

static LINKS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("link[href]").expect("static selector"));

pub fn icons(doc: &Html, base: &Url) -> Vec<Icon> {
    let mut out = Vec::new();
    for link in doc.select(&LINKS) {
        let el = link.value();
        let rel = el.attr("rel").unwrap_or_default().to_ascii_lowercase();
        let is_icon = rel.split_ascii_whitespace().any(|r| {
            matches!(r, "icon" | "apple-touch-icon" | "apple-touch-icon-precomposed" | "mask-icon" | "fluid-icon")
        });
        let Some(url) = is_icon.then(|| el.attr("href")).flatten().and_then(|h| base.join(h.trim()).ok()) else {
            continue;
        };
        let size = el.attr("sizes").and_then(|s| {
            s.split_ascii_whitespace().filter_map(|wh| wh.split(['x', 'X']).next()?.parse::<u32>().ok()).max()
        });
        out.push(Icon {
            url: url.to_string(),
            rel: fold_whitespace(&rel),
            size,
            mime: el.attr("type").map(str::to_string),
        });
    }
    out
}

/// The largest declared icon (an apple-touch-icon is 180 px when it says nothing), else none.
pub fn best_icon(icons: &[Icon]) -> Option<String> {
    icons
        .iter()
        .filter(|i| i.rel != "mask-icon")
        .max_by_key(|i| i.size.unwrap_or(if i.rel.contains("apple-touch-icon") { 180 } else { 16 }))
        .map(|i| i.url.clone())
}

pub fn feeds(doc: &Html, base: &Url) -> Vec<Feed> {
    doc.select(&LINKS)
        .filter(|l| l.value().attr("rel").is_some_and(|r| r.to_ascii_lowercase().contains("alternate")))
        .filter_map(|l| {
            let mime = l.value().attr("type")?.trim().to_ascii_lowercase();
            if !matches!(
                mime.as_str(),
                "application/rss+xml" | "application/atom+xml" | "application/feed+json" | "application/json"
            ) {
                return None;
            }
            let url = base.join(l.value().attr("href")?.trim()).ok()?.to_string();
            Some(Feed {
                url,
                mime,
                title: l.value().attr("title").map(fold_whitespace),
                validators: Validators::default(),
            })
        })
        .collect()
}
