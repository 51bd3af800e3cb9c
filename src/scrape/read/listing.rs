//! Dated items a news, press or blog page lists without pages of their own (or with pages
//! elsewhere): "In the news" lists of articles about the company, a blog's posts declared in
//! its JSON-LD. Each item is a linked heading and the date written next to it, or a
//! `BlogPosting`, `NewsArticle` or `PressRelease` with its headline and date.

use crate::scrape::model::text::fold_whitespace;
use crate::scrape::read::dates::{iso_date, text_date};
use crate::scrape::read::meta;
use scraper::{ElementRef, Html, Node};
use serde_json::Value;

/// Nodes looked at, at most, and items kept.
const NODE_BUDGET: usize = 200_000;
const MAX_ITEMS: usize = 100;
/// A date that opens a block is read from its first words (`May 5, 2014 - While …`).
const OPENING_WORDS: usize = 4;
/// Nesting of JSON-LD looked into, at most.
const MAX_DEPTH: usize = 8;

/// One dated item of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub title: String,
    /// Where the item links to, as written; none for an item without a link.
    pub url: Option<String>,
    /// RFC 3339, as the report's dates are.
    pub date: String,
}

enum Mark {
    Heading { title: String, url: Option<String> },
    Date(String),
}

/// The linked headings of a page, each with the date written beside it: after it (`<h4><a>Title
/// </a></h4><p>May 5, 2014 - …</p>`) or before it (`<p>March 22, 2016</p> … <h4><a>Title</a>
/// </h4>`), whichever way the page pairs more of them. Fewer than two pairs are no listing.
pub fn dated_items(doc: &Html) -> Vec<Listed> {
    let marks = marks(doc);
    let pair = |after: bool| -> Vec<Listed> {
        let mut out = Vec::new();
        for (i, mark) in marks.iter().enumerate() {
            let Mark::Heading { title, url } = mark else { continue };
            // The mark next to the heading, that way: a date pairs, another heading does not.
            let next = if after { marks.get(i + 1) } else { i.checked_sub(1).and_then(|j| marks.get(j)) };
            let date = match next {
                Some(Mark::Date(d)) => Some(d.clone()),
                _ => None,
            };
            if let Some(date) = date {
                out.push(Listed { title: title.clone(), url: url.clone(), date });
            }
        }
        out
    };
    let (after, before) = (pair(true), pair(false));
    let mut items = if before.len() > after.len() { before } else { after };
    items.truncate(MAX_ITEMS);
    if items.len() < 2 { Vec::new() } else { items }
}

/// Linked headings and blocks that open with a date, in document order.
fn marks(doc: &Html) -> Vec<Mark> {
    let mut out = Vec::new();
    let mut inside_heading: Option<ego_tree::NodeId> = None;
    for node in doc.tree.root().descendants().take(NODE_BUDGET) {
        if let Some(heading) = inside_heading {
            if node.ancestors().any(|a| a.id() == heading) {
                continue;
            }
            inside_heading = None;
        }
        let Some(el) = ElementRef::wrap(node) else { continue };
        let name = el.value().name();
        if matches!(name, "h2" | "h3" | "h4" | "h5" | "h6") {
            inside_heading = Some(node.id());
            let link = el
                .descendants()
                .filter_map(ElementRef::wrap)
                .find(|e| e.value().name() == "a")
                .or_else(|| el.ancestors().filter_map(ElementRef::wrap).find(|e| e.value().name() == "a"));
            let Some(link) = link else { continue };
            let title = fold_whitespace(&el.text().collect::<String>());
            let title = title.trim_end_matches(['.', '…']).trim().to_string();
            let words = title.split_whitespace().count();
            if (2..=30).contains(&words) {
                out.push(Mark::Heading { title, url: link.value().attr("href").map(str::to_string) });
            }
        } else if name == "time" {
            if let Some(date) = el.value().attr("datetime").and_then(iso_date) {
                out.push(Mark::Date(date));
            }
        } else if matches!(name, "p" | "span" | "div" | "li" | "td" | "small" | "em" | "strong") {
            // The block's own text, not its children's: a date that opens it.
            let own: String = el
                .children()
                .filter_map(|c| match c.value() {
                    Node::Text(t) => Some(&**t),
                    _ => None,
                })
                .collect::<String>();
            let own = own.trim_start();
            if !own.starts_with(|c: char| c.is_alphanumeric()) {
                continue;
            }
            if let Some(date) = opening_date(own).and_then(|d| iso_date(&d.to_string())) {
                out.push(Mark::Date(date));
            }
        }
    }
    out
}

/// The date a text's first words are (`March 22, 2016`, `5 May 2014 – …`, `27.01.2022`); none
/// for a sentence that mentions one later.
fn opening_date(text: &str) -> Option<time::Date> {
    let first: String = text.split_whitespace().take(OPENING_WORDS).collect::<Vec<_>>().join(" ");
    text_date(&first)
}

/// Articles a page's JSON-LD declares (a `Blog`'s `blogPost`s, an `ItemList`'s items, a
/// `@graph`): each `BlogPosting`, `NewsArticle`, `Article` or `PressRelease` with a headline and
/// a publication date.
pub fn declared_items(json_ld: &[Value]) -> Vec<Listed> {
    let mut out = Vec::new();
    for value in json_ld {
        collect(value, 0, &mut out);
    }
    out.truncate(MAX_ITEMS);
    out
}

fn collect(value: &Value, depth: usize, out: &mut Vec<Listed>) {
    if depth > MAX_DEPTH || out.len() >= MAX_ITEMS {
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect(v, depth + 1, out)),
        Value::Object(map) => {
            if meta::is_type(map, &["BlogPosting", "NewsArticle", "Article", "PressRelease", "Report"]) {
                let text = |k: &str| map.get(k).and_then(meta::string_of).map(|s| fold_whitespace(&s));
                let date = text("datePublished").or_else(|| text("dateCreated")).and_then(|d| iso_date(&d));
                if let (Some(title), Some(date)) = (text("headline").or_else(|| text("name")), date) {
                    let url = map.get("url").and_then(meta::url_of).or_else(|| map.get("@id").and_then(meta::url_of));
                    out.push(Listed { title, url, date });
                }
                return;
            }
            map.values().for_each(|v| collect(v, depth + 1, out));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_after_their_headings() {
        let html = r#"<h3>In The News</h3>
            <h4><a href="https://news.example/a">Entrepreneurship in the Making</a></h4>
            <p>May 5, 2014 - While looking for solutions, the team built a device.</p><a href="/a">Read more...</a>
            <h4><a href="https://news.example/b">Device can speed up venous access</a></h4>
            <p>April 29, 2014 - If the CEO is right, this changes things.</p>"#;
        let items = dated_items(&Html::parse_document(html));
        let got: Vec<(&str, Option<&str>, &str)> =
            items.iter().map(|i| (i.title.as_str(), i.url.as_deref(), &i.date[..10])).collect();
        assert_eq!(
            got,
            [
                ("Entrepreneurship in the Making", Some("https://news.example/a"), "2014-05-05"),
                ("Device can speed up venous access", Some("https://news.example/b"), "2014-04-29"),
            ]
        );
    }

    #[test]
    fn dates_before_their_headings() {
        let html = r#"<h3>Acme in the News</h3>
            <div><p class="date">March 22, 2016</p><span>Le Coin</span><h4><a href="https://x.example/1">MetaDisk GUI launched</a></h4></div>
            <div><p class="date">March 17, 2016</p><span>Le Coin</span><h4><a href="https://x.example/2">Blockchain meets data</a></h4></div>
            <div><p class="date">February 29, 2016</p><span>Investopedia</span><h4><a href="https://x.example/3">Autonomous organisations today</a></h4></div>"#;
        let items = dated_items(&Html::parse_document(html));
        let got: Vec<(&str, &str)> = items.iter().map(|i| (i.title.as_str(), &i.date[..10])).collect();
        assert_eq!(
            got,
            [
                ("MetaDisk GUI launched", "2016-03-22"),
                ("Blockchain meets data", "2016-03-17"),
                ("Autonomous organisations today", "2016-02-29")
            ]
        );
    }

    #[test]
    fn a_page_that_lists_nothing_dated_gives_nothing() {
        let html = r#"<h2><a href="/a">Our services</a></h2><p>We were founded on March 3, 2011.</p>
            <h2><a href="/b">Our team</a></h2><p>Ten people.</p>"#;
        assert!(dated_items(&Html::parse_document(html)).is_empty());
    }

    #[test]
    fn a_blog_declares_its_posts() {
        let ld: Value = serde_json::json!({"@context": "https://schema.org", "@type": "Blog", "blogPost": [
            {"@type": "BlogPosting", "headline": "Always open in Zeven", "datePublished": "2026-02-01", "url": "/a"},
            {"@type": "BlogPosting", "headline": "New flavours", "datePublished": "2026-02-05T10:00:00+01:00"},
            {"@type": "BlogPosting", "headline": "No date"}
        ]});
        let items = declared_items(&[ld]);
        let got: Vec<(&str, &str)> = items.iter().map(|i| (i.title.as_str(), &i.date[..10])).collect();
        assert_eq!(got, [("Always open in Zeven", "2026-02-01"), ("New flavours", "2026-02-05")]);
    }
}
