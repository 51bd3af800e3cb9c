//! The `profile` stage: the company card from the homepage. Structured data (JSON-LD) first,
//! then meta tags, then the page itself; a field with no evidence stays empty.

use super::report::Company;
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use url::Url;

static SELECTORS: LazyLock<Selectors> = LazyLock::new(Selectors::new);

struct Selectors {
    json_ld: Selector,
    meta: Selector,
    title: Selector,
    html: Selector,
    icons: Selector,
    links: Selector,
    logo_img: Selector,
    alternates: Selector,
}

impl Selectors {
    fn new() -> Self {
        let s = |css| Selector::parse(css).expect("static selector");
        Selectors {
            json_ld: s(r#"script[type="application/ld+json"]"#),
            meta: s("meta"),
            title: s("title"),
            html: s("html"),
            icons: s("link[rel][href]"),
            links: s("a[href]"),
            logo_img: s("img[src]"),
            alternates: s("link[rel~=alternate][hreflang]"),
        }
    }
}

const ORGANIZATION_TYPES: &[&str] = &[
    "Organization",
    "Corporation",
    "LocalBusiness",
    "OnlineBusiness",
    "OnlineStore",
    "NGO",
    "EducationalOrganization",
    "GovernmentOrganization",
    "NewsMediaOrganization",
    "Store",
    "ProfessionalService",
];

/// Facts found on one page, with the page they came from.
pub struct Profile {
    pub company: Company,
    /// `company.<field>` → URL, for the report's `sources`.
    pub sources: BTreeMap<String, String>,
}

pub fn extract(html: &str, page_url: &Url, content_language: Option<&str>) -> Profile {
    let doc = Html::parse_document(html);
    let domain = page_url.host_str().unwrap_or_default().trim_start_matches("www.").to_string();
    let org = json_ld_objects(&doc).into_iter().find(|o| has_type(o, ORGANIZATION_TYPES));
    let meta = meta_tags(&doc);
    let resolve = |href: &str| page_url.join(href.trim()).ok().map(|u| u.to_string());
    let org_str = |key: &str| org.as_ref().and_then(|o| text_of(o.get(key)?));

    let mut company = Company { domain: domain.clone(), ..Company::default() };
    company.name = org_str("name")
        .or_else(|| meta.get("og:site_name").cloned())
        .or_else(|| meta.get("application-name").cloned())
        .or_else(|| title_name(&doc, &domain));
    company.legal_name = org_str("legalName");
    company.description =
        meta.get("description").or_else(|| meta.get("og:description")).cloned().or_else(|| org_str("description"));
    company.logo = org
        .as_ref()
        .and_then(|o| o.get("logo"))
        .and_then(image_url)
        .and_then(|u| resolve(&u))
        .or_else(|| logo_image(&doc).and_then(|u| resolve(&u)));
    company.favicon = favicon(&doc).and_then(|u| resolve(&u));
    company.founded_year = org_str("foundingDate").and_then(|d| d.get(..4)?.parse().ok());
    company.headquarters = org.as_ref().and_then(|o| o.get("address")).and_then(address);
    let mut languages: Vec<String> = doc
        .select(&SELECTORS.html)
        .next()
        .and_then(|h| h.value().attr("lang"))
        .or(content_language)
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .into_iter()
        .collect();
    for alt in doc.select(&SELECTORS.alternates) {
        if let Some(lang) = alt.value().attr("hreflang").map(str::trim) {
            if lang != "x-default" && !languages.iter().any(|l| l.eq_ignore_ascii_case(lang)) {
                languages.push(lang.to_string());
            }
        }
    }
    company.languages = languages;

    let mut links: Vec<String> =
        doc.select(&SELECTORS.links).filter_map(|a| a.value().attr("href")).map(str::to_string).collect();
    if let Some(same_as) = org.as_ref().and_then(|o| o.get("sameAs")) {
        links.splice(0..0, strings(same_as));
    }
    for href in &links {
        let href = href.trim();
        if let Some(email) = href.strip_prefix("mailto:") {
            push_unique(&mut company.emails, email.split('?').next().unwrap_or_default().trim());
        } else if let Some(phone) = href.strip_prefix("tel:") {
            push_unique(&mut company.phones, phone.trim());
        } else if let Some(url) = resolve(href).and_then(|u| Url::parse(&u).ok()) {
            if let Some(network) = social_network(&url) {
                company.social_profiles.entry(network.to_string()).or_insert_with(|| url.to_string());
            }
        }
    }
    if let Some(email) = org_str("email") {
        push_unique(&mut company.emails, email.trim_start_matches("mailto:"));
    }
    if let Some(phone) = org_str("telephone") {
        push_unique(&mut company.phones, &phone);
    }

    let mut sources = BTreeMap::new();
    let page = page_url.to_string();
    for (field, present) in [
        ("name", company.name.is_some()),
        ("legal_name", company.legal_name.is_some()),
        ("description", company.description.is_some()),
        ("logo", company.logo.is_some()),
        ("favicon", company.favicon.is_some()),
        ("founded_year", company.founded_year.is_some()),
        ("headquarters", company.headquarters.is_some()),
        ("emails", !company.emails.is_empty()),
        ("phones", !company.phones.is_empty()),
        ("social_profiles", !company.social_profiles.is_empty()),
        ("languages", !company.languages.is_empty()),
    ] {
        if present {
            sources.insert(format!("company.{field}"), page.clone());
        }
    }
    Profile { company, sources }
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        list.push(value.to_string());
    }
}

/// Every JSON-LD object on the page, `@graph`s and arrays flattened. Blocks that are not valid
/// JSON are skipped.
pub fn json_ld_objects(doc: &Html) -> Vec<serde_json::Map<String, Value>> {
    fn flatten(value: Value, out: &mut Vec<serde_json::Map<String, Value>>) {
        match value {
            Value::Array(items) => items.into_iter().for_each(|v| flatten(v, out)),
            Value::Object(mut map) => {
                if let Some(graph) = map.remove("@graph") {
                    flatten(graph, out);
                }
                if map.contains_key("@type") {
                    out.push(map);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for script in doc.select(&SELECTORS.json_ld) {
        let text: String = script.text().collect();
        if let Ok(value) = serde_json::from_str::<Value>(text.trim()) {
            flatten(value, &mut out);
        }
    }
    out
}

fn has_type(obj: &serde_json::Map<String, Value>, types: &[&str]) -> bool {
    strings(obj.get("@type").unwrap_or(&Value::Null))
        .iter()
        .any(|t| types.contains(&t.trim_start_matches("http://schema.org/").trim_start_matches("https://schema.org/")))
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn text_of(value: &Value) -> Option<String> {
    let s = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => return items.iter().find_map(text_of),
        Value::Object(map) => {
            return map.get("@value").or_else(|| map.get("name")).and_then(text_of);
        }
        _ => return None,
    };
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn image_url(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.get("url").or_else(|| map.get("contentUrl")).and_then(image_url),
        Value::Array(items) => items.iter().find_map(image_url),
        other => text_of(other),
    }
}

fn address(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => {
            let parts: Vec<String> =
                ["streetAddress", "addressLocality", "addressRegion", "postalCode", "addressCountry"]
                    .iter()
                    .filter_map(|k| map.get(*k).and_then(text_of))
                    .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Array(items) => items.iter().find_map(address),
        other => text_of(other),
    }
}

/// `<meta>` values by lower-cased `name` or `property`; the first of each wins.
fn meta_tags(doc: &Html) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for m in doc.select(&SELECTORS.meta) {
        let el = m.value();
        let key = el.attr("property").or_else(|| el.attr("name"));
        if let (Some(key), Some(content)) = (key, el.attr("content")) {
            let content = content.trim();
            if !content.is_empty() {
                out.entry(key.trim().to_ascii_lowercase()).or_insert_with(|| content.to_string());
            }
        }
    }
    out
}

/// The company name from `<title>`: the segment that matches the domain, else the first one.
fn title_name(doc: &Html, domain: &str) -> Option<String> {
    let title: String = doc.select(&SELECTORS.title).next()?.text().collect();
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let segments: Vec<&str> = title
        .split(['|', '–', '—', '·'])
        .flat_map(|s| s.split(" - "))
        .flat_map(|s| s.split(": "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let label = domain.split('.').next().unwrap_or_default().to_ascii_lowercase();
    let squash = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    segments
        .iter()
        .find(|s| squash(s) == label)
        .or_else(|| segments.iter().find(|s| !matches!(squash(s).as_str(), "home" | "homepage" | "welcome")))
        .map(|s| s.to_string())
}

/// The declared icon: the largest `icon`, else `shortcut icon`, else `apple-touch-icon`.
fn favicon(doc: &Html) -> Option<String> {
    let mut best: Option<(u8, u32, String)> = None;
    for link in doc.select(&SELECTORS.icons) {
        let el = link.value();
        let rel = el.attr("rel").unwrap_or_default().to_ascii_lowercase();
        let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
        let rank = if rels == ["icon"] {
            3
        } else if rels.contains(&"icon") {
            2
        } else if rels.iter().any(|r| r.starts_with("apple-touch-icon")) {
            1
        } else {
            continue;
        };
        let size = el
            .attr("sizes")
            .and_then(|s| s.split(['x', 'X']).next()?.parse::<u32>().ok())
            .unwrap_or(if el.attr("type") == Some("image/svg+xml") { 1024 } else { 0 });
        let href = el.attr("href").unwrap_or_default().trim().to_string();
        if best.as_ref().is_none_or(|(r, s, _)| (rank, size) > (*r, *s)) {
            best = Some((rank, size, href));
        }
    }
    best.map(|(_, _, href)| href)
}

/// An `<img>` that calls itself a logo, preferring one inside a header or nav.
fn logo_image(doc: &Html) -> Option<String> {
    let is_logo = |img: &ElementRef| {
        let el = img.value();
        ["src", "alt", "class", "id"].iter().filter_map(|a| el.attr(a)).any(|v| v.to_ascii_lowercase().contains("logo"))
    };
    let in_header = |img: &ElementRef| {
        img.ancestors().filter_map(ElementRef::wrap).any(|a| matches!(a.value().name(), "header" | "nav"))
    };
    let logos: Vec<ElementRef> = doc.select(&SELECTORS.logo_img).filter(is_logo).collect();
    logos.iter().find(|i| in_header(i)).or(logos.first()).and_then(|i| i.value().attr("src")).map(str::to_string)
}

/// The social network a profile URL belongs to; share and intent links are not profiles.
pub fn social_network(url: &Url) -> Option<&'static str> {
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let network = match host {
        "linkedin.com" | "uk.linkedin.com" if matches!(first, "company" | "in" | "school" | "showcase") => "linkedin",
        "twitter.com" | "x.com" if !matches!(first, "intent" | "share" | "home" | "hashtag" | "search") => "twitter",
        "github.com" => "github",
        "facebook.com" | "m.facebook.com" if !matches!(first, "sharer" | "sharer.php" | "dialog" | "share.php") => {
            "facebook"
        }
        "instagram.com" if first != "p" => "instagram",
        "youtube.com" if matches!(first, "channel" | "c" | "user") || first.starts_with('@') => "youtube",
        "crunchbase.com" if first == "organization" => "crunchbase",
        _ => return None,
    };
    Some(network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_json_ld_then_meta() {
        let html = r#"<html lang="en-US"><head><title>Payments | Acme</title>
            <meta name="description" content="Acme builds rockets.">
            <meta property="og:site_name" content="Acme Site">
            <link rel="icon" href="/fav-16.png" sizes="16x16"><link rel="icon" href="/fav-32.png" sizes="32x32">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"Acme Web"},
              {"@type":"Organization","name":"Acme","legalName":"Acme, Inc.","logo":{"@type":"ImageObject","url":"/logo.svg"},
               "foundingDate":"2011-03-01","sameAs":["https://www.linkedin.com/company/acme"],
               "address":{"@type":"PostalAddress","addressLocality":"Berlin","addressCountry":"DE"}}]}</script>
            </head><body><a href="https://twitter.com/intent/tweet?x">share</a><a href="https://x.com/acme">X</a>
            <a href="mailto:hello@acme.test?subject=hi">mail</a></body></html>"#;
        let p = extract(html, &Url::parse("https://www.acme.test/").unwrap(), None);
        let c = p.company;
        assert_eq!(c.name.as_deref(), Some("Acme"));
        assert_eq!(c.legal_name.as_deref(), Some("Acme, Inc."));
        assert_eq!(c.domain, "acme.test");
        assert_eq!(c.description.as_deref(), Some("Acme builds rockets."));
        assert_eq!(c.logo.as_deref(), Some("https://www.acme.test/logo.svg"));
        assert_eq!(c.favicon.as_deref(), Some("https://www.acme.test/fav-32.png"));
        assert_eq!(c.founded_year, Some(2011));
        assert_eq!(c.headquarters.as_deref(), Some("Berlin, DE"));
        assert_eq!(c.emails, ["hello@acme.test"]);
        assert_eq!(c.social_profiles["linkedin"], "https://www.linkedin.com/company/acme");
        assert_eq!(c.social_profiles["twitter"], "https://x.com/acme");
        assert_eq!(c.languages, ["en-US"]);
        assert_eq!(p.sources["company.name"], "https://www.acme.test/");
    }

    #[test]
    fn name_from_title_matches_the_domain() {
        let html = "<title>Online payment processing for internet businesses - Stripe</title>";
        let p = extract(html, &Url::parse("https://stripe.com/").unwrap(), None);
        assert_eq!(p.company.name.as_deref(), Some("Stripe"));
        assert!(p.company.logo.is_none());
        assert!(p.company.founded_year.is_none());
    }

    #[test]
    fn invalid_json_ld_is_skipped() {
        let html = r#"<script type="application/ld+json">{"@type": "Organization", "name": </script><title>X</title>"#;
        let p = extract(html, &Url::parse("https://x.test/").unwrap(), None);
        assert_eq!(p.company.name.as_deref(), Some("X"));
    }
}
