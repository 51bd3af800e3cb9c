//! The `profile` stage: the company card from the homepage. Structured data (the JSON-LD
//! Organization) first, then the page's metadata (`meta`), then the page itself; a field with no
//! evidence stays empty.

use super::meta::{self, PageMeta};
use super::page::{PageFacts, fold_whitespace};
use super::report::Company;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use url::Url;

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
    from_facts(&super::page::analyze(html, page_url), page_url, content_language)
}

pub fn from_facts(facts: &PageFacts, page_url: &Url, content_language: Option<&str>) -> Profile {
    let page = &facts.meta;
    let org = page.json_ld.iter().filter_map(Value::as_object).find(|o| meta::is_type(o, ORGANIZATION_TYPES));
    let org_str = |key: &str| org.and_then(|o| o.get(key)).and_then(meta::string_of);
    let resolve = |href: &str| page_url.join(href.trim()).ok().map(|u| u.to_string());

    let mut company = Company {
        domain: page_url.host_str().unwrap_or_default().trim_start_matches("www.").to_string(),
        ..Company::default()
    };
    company.name =
        org_str("name").or_else(|| page.publisher.clone()).or_else(|| facts.title.as_deref().and_then(title_name));
    company.legal_name = org_str("legalName");
    company.description = page.description.clone().or_else(|| org_str("description"));
    company.logo = org
        .and_then(|o| o.get("logo"))
        .and_then(meta::url_of)
        .or_else(|| page.open_graph.get("logo").and_then(|v| v.first().cloned()))
        .or_else(|| facts.logo_image.clone())
        .and_then(|u| resolve(&u));
    company.favicon = favicon(page);
    company.founded_year = org_str("foundingDate").and_then(|d| d.get(..4)?.parse().ok());
    company.headquarters = org.and_then(|o| o.get("address")).and_then(address);
    company.languages = languages(facts, content_language);
    company.emails = page.emails.clone();
    company.phones = page.phones.clone();
    company.social_profiles = page.social_profiles.clone();
    if let Some(org) = org {
        add_org_contacts(org, page_url, &mut company);
    }
    Profile { sources: sources(&company, page_url), company }
}

/// A founding year the text states: "founded in 2011", "established 1998", "since 2004".
pub fn founded_year_in(text: &str) -> Option<i32> {
    let lower = text.to_lowercase();
    const CUES: &[&str] = &["founded in ", "founded ", "established in ", "established ", "since ", "started in "];
    let this_year = time::OffsetDateTime::now_utc().year();
    for cue in CUES {
        let mut from = 0;
        while let Some(at) = lower[from..].find(cue) {
            let start = from + at + cue.len();
            from = start;
            let word_start = from - cue.len() == 0 || !lower.as_bytes()[from - cue.len() - 1].is_ascii_alphabetic();
            let digits: String = lower[start..].chars().take_while(char::is_ascii_digit).collect();
            if let (true, 4, Ok(year)) = (word_start, digits.len(), digits.parse::<i32>()) {
                if (1800..=this_year).contains(&year) {
                    return Some(year);
                }
            }
        }
    }
    None
}

/// `sameAs` profiles (which win over links in the page), `email` and `telephone`.
fn add_org_contacts(org: &Map<String, Value>, page_url: &Url, company: &mut Company) {
    let same_as = match org.get("sameAs") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    for link in same_as {
        if let Ok(url) = page_url.join(link.trim()) {
            if let Some(network) = super::contacts::social_network(&url) {
                company.social_profiles.insert(network.to_string(), url.to_string());
            }
        }
    }
    if let Some(email) = org.get("email").and_then(meta::string_of) {
        push_unique(&mut company.emails, email.trim_start_matches("mailto:"));
    }
    if let Some(phone) = org.get("telephone").and_then(meta::string_of) {
        push_unique(&mut company.phones, &phone);
    }
}

fn sources(company: &Company, page_url: &Url) -> BTreeMap<String, String> {
    let page = page_url.to_string();
    [
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
    ]
    .into_iter()
    .filter(|(_, present)| *present)
    .map(|(field, _)| (format!("company.{field}"), page.clone()))
    .collect()
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        list.push(value.to_string());
    }
}

/// The page's language, then its `hreflang` alternates.
fn languages(facts: &PageFacts, content_language: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> =
        facts.meta.lang.clone().or_else(|| content_language.map(str::to_string)).into_iter().collect();
    for lang in &facts.hreflangs {
        if lang != "x-default" && !out.iter().any(|l| l.eq_ignore_ascii_case(lang)) {
            out.push(lang.clone());
        }
    }
    out
}

fn address(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => {
            let parts: Vec<String> =
                ["streetAddress", "addressLocality", "addressRegion", "postalCode", "addressCountry"]
                    .iter()
                    .filter_map(|k| map.get(*k).and_then(meta::string_of))
                    .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Array(items) => items.iter().find_map(address),
        other => meta::string_of(other),
    }
}

/// The first segment of the title that is not a generic word.
fn title_name(title: &str) -> Option<String> {
    let squash = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    title
        .split(['|', '–', '—', '·', ':'])
        .flat_map(|s| s.split(" - "))
        .map(fold_whitespace)
        .find(|s| !s.is_empty() && !matches!(squash(s).as_str(), "home" | "homepage" | "welcome"))
}

/// The declared icon: the largest plain `icon`, else any icon, else an apple-touch-icon.
fn favicon(page: &PageMeta) -> Option<String> {
    let rank = |rel: &str| match rel {
        "icon" => 3,
        r if r.split(' ').any(|x| x == "icon") => 2,
        r if r.contains("apple-touch-icon") => 1,
        _ => 0,
    };
    page.icons
        .iter()
        .filter(|i| rank(&i.rel) > 0)
        .max_by_key(|i| {
            let svg = i.mime.as_deref() == Some("image/svg+xml");
            (rank(&i.rel), i.size.unwrap_or(if svg { 1024 } else { 0 }))
        })
        .map(|i| i.url.clone())
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
        assert_eq!(c.languages, ["en"]);
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
    fn founding_years_in_text() {
        assert_eq!(founded_year_in("Acme was founded in 2011 in Austin."), Some(2011));
        assert_eq!(founded_year_in("Established 1998. Family owned."), Some(1998));
        assert_eq!(founded_year_in("Serving customers since 2004"), Some(2004));
        assert_eq!(founded_year_in("Since 12 months we grow"), None);
        assert_eq!(founded_year_in("We re-established 3000 links"), None);
        assert_eq!(founded_year_in("nothing here"), None);
    }

    #[test]
    fn invalid_json_ld_is_skipped() {
        let html = r#"<script type="application/ld+json">{"@type": "Organization", "name": </script><title>X</title>"#;
        let p = extract(html, &Url::parse("https://x.test/").unwrap(), None);
        assert_eq!(p.company.name.as_deref(), Some("X"));
    }
}
