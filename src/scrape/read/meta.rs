//! Page metadata: what one HTML page says about itself — title, description, image, logo,
//! icons, publisher, language, canonical URL, dates, author, structured data (JSON-LD, Open
//! Graph, Twitter cards), feeds, social profiles and contacts. Each field follows an ordered
//! list of sources, structured data and meta tags before the page's own text; a field with no
//! source stays empty.

use crate::scrape::model::report::{Feed, Icon};
use crate::scrape::model::text::{fold_whitespace, squash};
use crate::scrape::read::contacts::contacts;
use crate::scrape::read::dates::{iso_date, precise_date, url_date};
use crate::scrape::read::links::{best_icon, feeds, icons};
use scraper::{ElementRef, Html, Selector};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use url::Url;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PageMeta {
    pub url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
    pub logo: Option<String>,
    pub icons: Vec<Icon>,
    pub publisher: Option<String>,
    pub lang: Option<String>,
    pub canonical: Option<String>,
    /// RFC 3339, in the offset the page wrote it in (`Z` when it wrote none).
    pub published: Option<String>,
    /// RFC 3339 like `published`: when the page says it last changed.
    pub modified: Option<String>,
    pub author: Option<String>,
    /// The text a reader came for, a line per block: no navigation, footers, sidebars,
    /// comments or related links (see `content`).
    pub main_text: Option<String>,
    pub json_ld: Vec<Value>,
    /// Microdata items, `{"type", "properties"}`.
    pub microdata: Vec<Value>,
    /// Open Graph properties: `og:` ones by their bare name, other namespaces (`article:…`)
    /// in full.
    pub open_graph: BTreeMap<String, Vec<String>>,
    pub twitter: BTreeMap<String, String>,
    pub feeds: Vec<Feed>,
    pub social_profiles: BTreeMap<String, String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

struct Selectors {
    meta: Selector,
    title: Selector,
    h1: Selector,
    html: Selector,
    links: Selector,
    time: Selector,
    dated: Selector,
    itemprop: Selector,
    /// Elements that carry a microdata or RDFa property.
    schema_prop: Selector,
    /// Where pages name a writer, strongest sign first.
    bylines: [Selector; 3],
    /// Paragraphs of a page's main content.
    content_paragraphs: Selector,
    images: Selector,
}

static SEL: LazyLock<Selectors> = LazyLock::new(|| {
    let s = |css| Selector::parse(css).expect("static selector");
    Selectors {
        meta: s("meta"),
        title: s("title"),
        h1: s("h1"),
        html: s("html"),
        links: s("link[href]"),
        time: s("time[datetime]"),
        dated: s(r#"[class*="date" i], [class*="publish" i], [class*="timestamp" i], time"#),
        itemprop: s("[itemprop]"),
        schema_prop: s("[itemprop], [property]"),
        bylines: [
            s(r#"[rel~="author"]"#),
            s(r#"a[href*="/author/"], a[href*="/authors/"]"#),
            s(
                r#"a[class*="author" i], [class*="author" i] a, [class*="byline" i] a, [class*="author-name" i], [class*="byline" i]"#,
            ),
        ],
        images: s("img[src]"),
        content_paragraphs: s(
            r#"article p, main p, [itemprop="articleBody"] p, [class*="article" i] p, [class*="content" i] p,
               [class*="post" i] p, [class*="entry" i] p"#,
        ),
    }
});

/// Meta tags by lower-cased `property`/`name`/`itemprop`, every value in page order.
struct Tags(BTreeMap<String, Vec<String>>);

impl Tags {
    fn of(doc: &Html) -> Tags {
        let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in doc.select(&SEL.meta) {
            let el = m.value();
            let Some(content) = el.attr("content").map(fold_whitespace).filter(|c| !c.is_empty()) else { continue };
            for key in ["property", "name", "itemprop", "http-equiv"].iter().filter_map(|a| el.attr(a)) {
                tags.entry(key.trim().to_ascii_lowercase()).or_default().push(content.clone());
            }
        }
        Tags(tags)
    }

    fn first(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.0.get(*k).and_then(|v| v.first()).cloned())
    }
}

fn text(el: ElementRef) -> String {
    fold_whitespace(&el.text().collect::<String>())
}

/// Extracts everything this module knows from one page fetched from `url`.
pub fn extract(html: &str, url: &Url) -> PageMeta {
    from_document(&crate::scrape::read::html::parse(html), url)
}

pub fn from_document(doc: &Html, url: &Url) -> PageMeta {
    let tags = Tags::of(doc);
    let ld = crate::scrape::read::structured::json_ld_objects(doc);
    let resolve = |href: &str| url.join(href.trim()).ok().map(|u| u.to_string());
    // The object the page is about: an article, else another work it publishes with a date (a
    // how-to, a recipe, a review), else the page itself, which sites often declare first.
    const ARTICLES: &[&str] = &[
        "Article",
        "NewsArticle",
        "BlogPosting",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "ScholarlyArticle",
        "TechArticle",
        "Report",
        "SocialMediaPosting",
        "DiscussionForumPosting",
        "PodcastEpisode",
        "VideoObject",
        "Product",
    ];
    const NOT_A_WORK: &[&str] = &["ImageObject", "Organization", "Person", "WebSite", "BreadcrumbList"];
    const PAGES: &[&str] = &["WebPage", "ItemPage", "AboutPage", "ContactPage"];
    let main = ld
        .iter()
        .find(|o| is_type(o, ARTICLES))
        .or_else(|| {
            ld.iter().find(|o| o.contains_key("datePublished") && !is_type(o, NOT_A_WORK) && !is_type(o, PAGES))
        })
        .or_else(|| ld.iter().find(|o| is_type(o, PAGES)));
    let org = ld.iter().find(|o| {
        is_type(o, &["Organization", "Corporation", "NewsMediaOrganization", "LocalBusiness", "OnlineBusiness"])
    });
    let ld_str =
        |obj: Option<&serde_json::Map<String, Value>>, key: &str| obj.and_then(|o| o.get(key)).and_then(string_of);

    let mut meta = PageMeta { url: url.to_string(), ..PageMeta::default() };
    meta.title = tags
        .first(&["og:title", "twitter:title", "sailthru.title"])
        .or_else(|| ld_str(main, "headline"))
        .or_else(|| doc.select(&SEL.title).next().map(text).filter(|t| !t.is_empty()))
        .or_else(|| doc.select(&SEL.h1).next().map(text).filter(|t| !t.is_empty()));
    meta.description = tags
        .first(&["og:description", "twitter:description", "description", "sailthru.description"])
        .or_else(|| ld_str(main, "description"))
        .or_else(|| lead_paragraph(doc));
    meta.image = tags
        .first(&[
            "og:image:secure_url",
            "og:image:url",
            "og:image",
            "twitter:image",
            "twitter:image:src",
            "image",
            "thumbnailurl",
        ])
        .or_else(|| main.and_then(|o| o.get("image").or_else(|| o.get("thumbnailUrl"))).and_then(url_of))
        .or_else(|| link_href(doc, "image_src"))
        .or_else(|| first_image(doc))
        .and_then(|u| resolve(&u));
    meta.icons = icons(doc, url);
    meta.logo = org
        .and_then(|o| o.get("logo"))
        .or_else(|| main.and_then(|m| m.get("publisher")).and_then(|p| p.get("logo")))
        .and_then(url_of)
        .or_else(|| tags.first(&["og:logo", "logo"]))
        .and_then(|u| resolve(&u))
        .or_else(|| best_icon(&meta.icons));
    // Structured data first: a press release's publisher is the company, not the wire.
    meta.publisher = main
        .and_then(|m| m.get("publisher"))
        .and_then(string_of)
        .filter(|p| Url::parse(p).is_err())
        .or_else(|| tags.first(&["og:site_name"]))
        .or_else(|| ld_str(org, "name"))
        .or_else(|| {
            tags.first(&["application-name", "apple-mobile-web-app-title", "publisher", "twitter:app:name:iphone"])
        })
        .or_else(|| doc.select(&SEL.title).next().and_then(|t| brand_in_title(&text(t), url)));
    let h1 = doc.select(&SEL.h1).next().map(text);
    meta.title = meta.title.map(|t| headline_of(&t, h1.as_deref(), meta.publisher.as_deref(), url));
    meta.lang = doc
        .select(&SEL.html)
        .next()
        .and_then(|h| h.value().attr("lang").or_else(|| h.value().attr("xml:lang")))
        .map(str::to_string)
        .or_else(|| tags.first(&["content-language", "og:locale", "inlanguage", "language", "dc.language"]))
        .or_else(|| ld_str(main, "inLanguage"))
        .and_then(|l| iso_639_1(&l));
    meta.canonical = tags
        .first(&["og:url"])
        .or_else(|| link_href(doc, "canonical"))
        .or_else(|| tags.first(&["twitter:url"]))
        .and_then(|u| resolve(&u));
    const PUBLISHED: &[&str] = &[
        "article:published_time",
        "og:published_time",
        "datepublished",
        "date",
        "dc.date",
        "dc.date.issued",
        "pubdate",
        "publish-date",
        "sailthru.date",
        "parsely-pub-date",
    ];
    // The page's first `<time>` may belong to anything on it: only when nothing else says.
    let time_tag = || doc.select(&SEL.time).next().and_then(|t| t.value().attr("datetime")).and_then(iso_date);
    let stated =
        precise_date([tags.first(PUBLISHED), ld_str(main, "datePublished"), itemprop_date(doc, "datePublished")])
            .or_else(time_tag)
            .or_else(|| byline_date(doc))
            .or_else(|| itemprop_date(doc, "dateCreated").as_deref().and_then(iso_date))
            .or_else(|| dated_text(doc))
            .map(|stated| local_day(stated, || byline_date(doc)));
    // A dated permalink is the day the page was filed under; a stated date of another day is
    // most often a later edit's.
    meta.published = match (stated, url_date(url)) {
        (Some(stated), Some(filed)) if stated.get(..10) != filed.get(..10) => Some(filed),
        (stated, filed) => stated.or(filed),
    };
    let modified = tags.first(&["article:modified_time", "og:updated_time", "datemodified", "last-modified"]);
    meta.modified = precise_date([modified, ld_str(main, "dateModified"), itemprop_date(doc, "dateModified")]);
    meta.author = main
        .and_then(|m| m.get("author"))
        .and_then(string_of)
        .or_else(|| tags.first(&["author", "article:author", "sailthru.author", "parsely-author", "dc.creator", "byl"]))
        .filter(|a| Url::parse(a).is_err())
        .or_else(|| itemprop_text(doc, "author"))
        .or_else(|| byline_author(doc))
        .or_else(|| tags.first(&["twitter:creator"]).map(|h| h.trim_start_matches('@').to_string()));
    meta.main_text = crate::scrape::read::content::main_text(doc);
    meta.json_ld = ld.into_iter().map(Value::Object).collect();
    meta.microdata = crate::scrape::read::structured::microdata(doc, url);
    for (key, values) in &tags.0 {
        const OG_NAMESPACES: &[&str] = &["article:", "book:", "profile:", "music:", "video:", "product:"];
        if let Some(name) = key.strip_prefix("og:") {
            // Types are lower-case tokens (`article`, `website`); pages write `Article` too.
            let values =
                if name == "type" { values.iter().map(|v| v.to_lowercase()).collect() } else { values.clone() };
            meta.open_graph.insert(name.to_string(), values);
        } else if OG_NAMESPACES.iter().any(|ns| key.starts_with(ns)) {
            meta.open_graph.insert(key.clone(), values.clone());
        } else if let Some(name) = key.strip_prefix("twitter:") {
            meta.twitter.insert(name.to_string(), values[0].clone());
        }
    }
    meta.feeds = feeds(doc, url);
    let found = contacts(doc, url);
    (meta.emails, meta.phones, meta.social_profiles) = (found.emails, found.phones, found.social_profiles);
    meta
}

/// The segment of a `Title | Brand` title that spells the site's domain name (`Jewish Business
/// News` on jewishbusinessnews.com, `LeanData` on leandatainc.com).
pub fn brand_in_title(title: &str, url: &Url) -> Option<String> {
    // Any label but the top-level one: blog.acme.com and acme.co.uk both name acme.
    let host = url.host_str()?.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let labels = &labels[..labels.len().saturating_sub(1)];
    // Company domains often add a word to the brand: leandatainc.com, getacme.com.
    const AFFIXES: &[&str] = &["", "inc", "hq", "app", "get", "try", "corp", "group", "labs", "official"];
    let names = |brand: &str| {
        brand.chars().count() >= 3
            && labels.iter().any(|l| {
                AFFIXES.iter().any(|a| *l == format!("{brand}{a}") || (!a.is_empty() && *l == format!("{a}{brand}")))
            })
    };
    title
        .split(['|', '–', '—', '·', ':'])
        .flat_map(|s| s.split(" - "))
        .map(str::trim)
        .find(|s| !s.is_empty() && names(&squash(s)))
        .map(str::to_string)
}

/// Separators between a headline and the site's name in a page title.
const TITLE_SEPARATORS: &[&str] = &[" | ", " - ", " – ", " — ", " · ", " :: ", " » ", " // "];

/// The headline in a `Headline | Site` title: the part the page's own heading repeats, else the
/// title without a first or last part that names the site (its publisher, or its domain). A
/// title with no such part stays whole.
fn headline_of(title: &str, h1: Option<&str>, site: Option<&str>, url: &Url) -> String {
    let fold = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let cuts: Vec<(usize, usize)> = TITLE_SEPARATORS
        .iter()
        .flat_map(|sep| title.match_indices(sep).map(|(at, sep)| (at, at + sep.len())))
        .collect();
    if cuts.is_empty() {
        return title.to_string();
    }
    if let Some(h1) = h1.map(fold).filter(|h| h.chars().count() >= 3) {
        if let Some(part) =
            cuts.iter().flat_map(|&(at, end)| [&title[..at], &title[end..]]).find(|part| fold(part) == h1)
        {
            return part.trim().to_string();
        }
    }
    let host = url.host_str().map(squash).unwrap_or_default();
    let names_site = |part: &str| {
        let part = squash(part);
        part.chars().count() >= 3 && (site.is_some_and(|s| squash(s) == part) || host.contains(&part))
    };
    let last = cuts.iter().max_by_key(|c| c.0).copied();
    let first = cuts.iter().min_by_key(|c| c.0).copied();
    if let Some((at, end)) = last
        && names_site(&title[end..])
    {
        return title[..at].trim().to_string();
    }
    if let Some((at, end)) = first
        && names_site(&title[..at])
    {
        return title[end..].trim().to_string();
    }
    title.to_string()
}

pub fn is_type(obj: &serde_json::Map<String, Value>, types: &[&str]) -> bool {
    let t = obj.get("@type");
    let names: Vec<&str> = match t {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    names.iter().any(|n| types.contains(&n.rsplit('/').next().unwrap_or(n)))
}

/// A text value: a string, the first of a list, or an object's `name`.
pub fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(fold_whitespace(s)).filter(|s| !s.is_empty()),
        Value::Array(a) => a.iter().find_map(string_of),
        Value::Object(o) => o.get("name").and_then(string_of),
        _ => None,
    }
}

/// A URL value: a string, the first of a list, or an object's `url`/`contentUrl`.
pub fn url_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Array(a) => a.iter().find_map(url_of),
        Value::Object(o) => o.get("url").or_else(|| o.get("contentUrl")).and_then(url_of),
        _ => None,
    }
}

/// The `href` of the first `<link>` with `rel`.
pub fn link_href(doc: &Html, rel: &str) -> Option<String> {
    doc.select(&SEL.links)
        .find(|l| {
            l.value().attr("rel").is_some_and(|r| r.split_ascii_whitespace().any(|x| x.eq_ignore_ascii_case(rel)))
        })
        .and_then(|l| l.value().attr("href"))
        .map(str::to_string)
}

/// A time stated in UTC names the publisher's day only when they are in UTC: 23:00Z is already
/// tomorrow in Berlin, 02:00Z still yesterday in Boston. When the page shows the day next to
/// it (`shown`, in its byline or under its heading), that day is the page's.
fn local_day(stated: String, shown: impl FnOnce() -> Option<String>) -> String {
    use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};
    let Ok(instant) = OffsetDateTime::parse(&stated, &Rfc3339) else { return stated };
    if !instant.offset().is_utc() || !stated.contains('T') {
        return stated;
    }
    let day = instant.date();
    let shown = shown().and_then(|s| OffsetDateTime::parse(&s, &Rfc3339).ok()).map(|s| s.date());
    match shown {
        Some(shown) if shown != day && (shown == day + Duration::DAY || shown == day - Duration::DAY) => {
            iso_date(&shown.to_string()).unwrap_or(stated)
        }
        _ => stated,
    }
}

/// A microdata or RDFa date (`<abbr itemprop="datePublished" title="2024-02-03T20:38:00Z">8:38 pm</abbr>`):
/// the machine-readable attribute when there is one, else the element's text.
fn itemprop_date(doc: &Html, prop: &str) -> Option<String> {
    let names = |e: &scraper::node::Element| {
        let property = e.attr("property").map(|p| p.rsplit(':').next().unwrap_or(p));
        e.attr("itemprop") == Some(prop) || property == Some(prop)
    };
    let el = doc.select(&SEL.schema_prop).find(|e| names(e.value()))?;
    let attr = ["datetime", "content", "title"].iter().find_map(|a| el.value().attr(a)).map(str::to_string);
    attr.or_else(|| Some(text(el))).filter(|t| !t.is_empty())
}

fn itemprop_text(doc: &Html, prop: &str) -> Option<String> {
    let el = doc.select(&SEL.itemprop).find(|e| e.value().attr("itemprop") == Some(prop))?;
    let name = el.select(&SEL.itemprop).find(|e| e.value().attr("itemprop") == Some("name"));
    let value = name.map(text).or_else(|| el.value().attr("content").map(fold_whitespace)).unwrap_or_else(|| text(el));
    (!value.is_empty() && value.len() < 100).then_some(value)
}

/// `en-US`, `en_GB`, `EN` → `en`.
fn iso_639_1(lang: &str) -> Option<String> {
    let primary = lang.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (primary.len() == 2 && primary.chars().all(|c| c.is_ascii_alphabetic())).then_some(primary)
}

/// The page's first real image, when it names none: not inline data, not a 1-pixel tracker.
fn first_image(doc: &Html) -> Option<String> {
    doc.select(&SEL.images).take(50).find_map(|img| {
        let e = img.value();
        let src = e.attr("src")?.trim();
        let pixel =
            ["width", "height"].iter().any(|a| e.attr(a).is_some_and(|v| matches!(v.trim(), "0" | "1" | "1px")));
        (!src.is_empty() && !src.starts_with("data:") && !pixel).then(|| src.to_string())
    })
}

/// The first paragraph of the main content that reads as prose (80 to 1,000 characters), for a
/// page that describes itself nowhere else.
fn lead_paragraph(doc: &Html) -> Option<String> {
    doc.select(&SEL.content_paragraphs).take(30).map(text).find(|p| {
        let n = p.chars().count();
        (80..=1000).contains(&n) && p.contains(' ') && !p.to_lowercase().contains("cookie")
    })
}

/// A writer named in the page's byline: a `rel="author"` link, a link to an author page, or an
/// element whose class speaks of the author or byline — when its text reads like a name.
fn byline_author(doc: &Html) -> Option<String> {
    SEL.bylines.iter().find_map(|selector| doc.select(selector).take(20).find_map(|el| person_name(&text(el))))
}

/// `By Jane Doe` → `Jane Doe`; `None` for what is not a name (empty, long, a URL, a handle,
/// a date, a generic label).
fn person_name(raw: &str) -> Option<String> {
    let mut name = raw.trim();
    for prefix in ["by ", "By ", "BY ", "Posted by ", "Written by "] {
        name = name.strip_prefix(prefix).unwrap_or(name);
    }
    let name = name.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '|' | ':' | '-' | '·'));
    let words = name.split_whitespace().count();
    let generic = ["author", "authors", "about the author", "view all posts", "more by", "posts by"];
    let lower = name.to_lowercase();
    let plausible = (1..=6).contains(&words)
        && (3..=60).contains(&name.chars().count())
        && name.chars().next().is_some_and(char::is_alphabetic)
        && !name.contains(['@', '/', '<', '>', '{'])
        && !name.chars().any(|c| c.is_ascii_digit())
        && !generic.iter().any(|g| lower.starts_with(g));
    plausible.then(|| name.to_string())
}

/// A date written in the page's byline: an element whose class speaks of a date, or a
/// `<time>` (its `datetime`, else its text, else its `title`). Navigation and menus, where a
/// site shows today's date, are no byline.
fn byline_date(doc: &Html) -> Option<String> {
    let menu_class =
        |el: &ElementRef| el.value().attr("class").is_some_and(|c| c.to_ascii_lowercase().contains("menu"));
    let in_menu = |el: &ElementRef| {
        menu_class(el)
            || el.parent().and_then(ElementRef::wrap).is_some_and(|p| menu_class(&p))
            || el.ancestors().filter_map(ElementRef::wrap).any(|a| a.value().name() == "nav")
    };
    doc.select(&SEL.dated).filter(|el| !in_menu(el)).take(20).find_map(|el| {
        let text = el.text().collect::<String>();
        let text = fold_whitespace(&text);
        let from_text = || (!text.is_empty() && text.len() <= 80).then(|| iso_date(&text)).flatten();
        el.value()
            .attr("datetime")
            .and_then(iso_date)
            .or_else(from_text)
            .or_else(|| el.value().attr("title").and_then(iso_date))
    })
}

/// The date written in the page's text nearest its heading: the first from the heading on,
/// within the first few thousand characters, or one just above it (a dateline over the title)
/// when that stands closer; none after today. The whole page is scanned from the top when it has
/// no heading: where a page with no dated markup puts its day.
fn dated_text(doc: &Html) -> Option<String> {
    const SCANNED_CHARS: usize = 4000;
    const ABOVE_CHARS: usize = 200;
    let heading = doc.select(&SEL.h1).next();
    let start = heading.map(|h| h.id());
    let heading_chars = heading.map_or(0, |h| text(h).len());
    let today = time::OffsetDateTime::now_utc().date();
    let date_in = |text: &str| {
        text.bytes()
            .any(|b| b.is_ascii_digit())
            .then(|| crate::scrape::read::dates::text_date(text))
            .flatten()
            .filter(|d| *d <= today)
    };
    let mut started = start.is_none();
    // The last date above the heading, and how many characters stand between it and the heading.
    let mut above: Option<(time::Date, usize)> = None;
    let mut scanned = 0;
    for node in doc.root_element().descendants() {
        if Some(node.id()) == start {
            started = true;
        }
        let Some(text) = node.value().as_text() else { continue };
        let hidden = node.parent().and_then(ElementRef::wrap).is_some_and(|p| {
            matches!(p.value().name(), "script" | "style" | "noscript" | "template" | "title" | "option")
        });
        if hidden || text.trim().is_empty() {
            continue;
        }
        if !started {
            above = match date_in(text) {
                Some(date) => Some((date, 0)),
                None => above.map(|(date, gap)| (date, gap + text.trim().len())),
            };
            continue;
        }
        if scanned > SCANNED_CHARS {
            break;
        }
        if let Some(date) = date_in(text) {
            let below_gap = scanned.saturating_sub(heading_chars);
            let date = match above {
                Some((over, gap)) if gap <= ABOVE_CHARS && gap < below_gap => over,
                _ => date,
            };
            return iso_date(&date.to_string());
        }
        scanned += text.len();
    }
    above.filter(|(_, gap)| *gap <= ABOVE_CHARS).and_then(|(date, _)| iso_date(&date.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bylines_read_like_names() {
        assert_eq!(person_name("By Jane Doe").as_deref(), Some("Jane Doe"));
        assert_eq!(person_name("  Kyt Dotson ").as_deref(), Some("Kyt Dotson"));
        for not_a_name in ["", "Author", "View all posts by Jane", "@jane", "May 16, 2016", "https://x.com/jane"] {
            assert_eq!(person_name(not_a_name), None, "{not_a_name}");
        }
    }

    #[test]
    fn languages_become_two_letters() {
        assert_eq!(iso_639_1("en-US").as_deref(), Some("en"));
        assert_eq!(iso_639_1("pt_BR").as_deref(), Some("pt"));
        assert_eq!(iso_639_1("english"), None);
    }
}
