//! The offline enrichment: a summary, an industry, a business model, products, target
//! customers and tags read deterministically from the pages (the `enrichment` stage uses it
//! without a model, or when the model's call fails; `sources::llm` is the model's call). An
//! extractive summary, an industry from the cue words of [`NAICS`] (a fixed list of NAICS 2022
//! industries the model must choose from too), B2B/B2C cues, product page and JSON-LD product
//! names.

use crate::scrape::model::naics::{NAICS, Naics};
use crate::scrape::model::report::{Enrichment, Method};
use crate::scrape::model::text::sentences;

/// What the pages offer the enrichment.
pub struct Evidence<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    /// Visible text of the most telling pages, home and about first.
    pub texts: Vec<String>,
    /// Names from product pages and JSON-LD `Product`s.
    pub product_names: Vec<String>,
}

const B2B_CUES: &[&str] = &[
    "enterprise",
    "enterprises",
    "businesses",
    "for teams",
    "request a demo",
    "book a demo",
    "contact sales",
    "b2b",
    "companies",
    "customers like",
    "your business",
    "platform for",
    "saas",
];
const B2C_CUES: &[&str] = &[
    "download the app",
    "buy now",
    "add to cart",
    "shop now",
    "for you",
    "your family",
    "consumers",
    "b2c",
    "free shipping",
    "order now",
];
const AUDIENCES: &[(&str, &str)] = &[
    ("small business", "small businesses"),
    ("startups", "startups"),
    ("enterprise", "enterprises"),
    ("developers", "developers"),
    ("consumers", "consumers"),
    ("retailers", "retailers"),
    ("merchants", "merchants"),
    ("healthcare providers", "healthcare providers"),
    ("government", "government"),
    ("nonprofits", "nonprofits"),
    ("students", "students"),
    ("investors", "investors"),
];

/// The offline method: deterministic, from the pages alone.
pub fn heuristic(e: &Evidence) -> Enrichment {
    let all = format!("{} {}", e.description.unwrap_or_default(), e.texts.join(" ")).to_lowercase();
    // The company's own name says nothing of its industry ("Harbour Analytics" is no analytics
    // firm by its name alone).
    let name = e.name.unwrap_or_default().to_lowercase();
    let own: Vec<&str> = name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let words: Vec<&str> =
        all.split(|c: char| !(c.is_alphanumeric() || c == '-')).filter(|w| !w.is_empty() && !own.contains(w)).collect();
    let mut scored: Vec<(&str, usize, Vec<&str>)> = NAICS
        .iter()
        .map(|(code, _, keys)| {
            let hits: Vec<&str> = keys.iter().copied().filter(|k| words.contains(k)).collect();
            let count = words.iter().filter(|w| keys.contains(w)).count();
            (*code, count + hits.len() * 2, hits)
        })
        .filter(|(_, score, hits)| *score >= 4 && hits.len() >= 2)
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.1));
    let naics = scored.first().and_then(|s| Naics::of(s.0));
    let count = |cues: &[&str]| cues.iter().filter(|c| all.contains(*c)).count();
    let (b2b, b2c) = (count(B2B_CUES), count(B2C_CUES));
    let business_model = match (b2b, b2c) {
        (0, 0) => None,
        (b, c) if b >= 2 && c >= 2 => Some("B2B2C"),
        (b, c) if b > c => Some("B2B"),
        (b, c) if c > b => Some("B2C"),
        _ => None,
    };
    let target_customers =
        AUDIENCES.iter().filter(|(cue, _)| all.contains(cue)).map(|(_, name)| name.to_string()).take(5).collect();
    let mut tags: Vec<String> = scored.iter().take(3).flat_map(|s| s.2.iter().map(|w| w.to_string())).collect();
    tags.dedup();
    tags.truncate(10);
    Enrichment {
        summary: summary(e),
        industry: naics.as_ref().map(|n| n.title.clone()),
        naics,
        business_model: business_model.map(str::to_string),
        products: e.product_names.iter().take(10).cloned().collect(),
        target_customers,
        tags,
        method: Method::Heuristic,
    }
}

/// The description, then up to three sentences of the pages' main content that read like prose,
/// those that speak of the company (its name, "we") first, home and about pages first.
fn summary(e: &Evidence) -> Option<String> {
    const SENTENCES: usize = 3;
    let mut out: Vec<String> =
        e.description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).into_iter().collect();
    let name = e.name.map(|n| n.to_lowercase());
    let mut candidates: Vec<(bool, usize, &str)> = Vec::new();
    for text in &e.texts {
        for sentence in text.lines().flat_map(sentences).filter(|s| reads_like_prose(s)) {
            let lower = sentence.to_lowercase();
            let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
            let of_company = name.as_deref().is_some_and(|n| lower.contains(n))
                || words
                    .iter()
                    .any(|w| matches!(*w, "we" | "our" | "wir" | "unser" | "nous" | "notre" | "wij" | "onze"));
            candidates.push((!of_company, candidates.len(), sentence));
        }
    }
    candidates.sort();
    for (_, _, sentence) in candidates {
        if out.len() >= SENTENCES {
            break;
        }
        if !out.iter().any(|s| s.contains(sentence) || sentence.contains(s.as_str())) {
            out.push(sentence.to_string());
        }
    }
    let out = out.join(" ");
    (!out.is_empty()).then_some(out)
}

/// A sentence of running text, not a menu, a heading or a legal line: 8 to 45 words, ending
/// as sentences end, mostly words that are not capitalised.
fn reads_like_prose(sentence: &str) -> bool {
    let words: Vec<&str> = sentence.split_whitespace().collect();
    let capitalised = words.iter().skip(1).filter(|w| w.chars().next().is_some_and(char::is_uppercase)).count();
    (8..=45).contains(&words.len())
        && sentence.ends_with(['.', '!', '?'])
        && capitalised * 2 <= words.len()
        && !sentence.contains(['|', '©', '»'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heuristic_reads_industry_model_and_summary() {
        let e = Evidence {
            name: Some("Acme"),
            description: Some("Acme builds reusable rockets for small satellites."),
            texts: vec![
                "Acme launches small satellites to orbit every week. Our rockets are reusable. \
                 Request a demo with our team to see how businesses and enterprises fly with us."
                    .into(),
            ],
            product_names: vec!["Acme Launcher".into()],
        };
        let out = heuristic(&e);
        assert_eq!(out.naics.as_ref().map(|n| n.code.as_str()), Some("336414"));
        assert_eq!(out.industry.as_deref(), Some("Guided Missile and Space Vehicle Manufacturing"));
        assert_eq!(out.business_model.as_deref(), Some("B2B"));
        assert_eq!(out.products, ["Acme Launcher"]);
        assert!(out.target_customers.contains(&"enterprises".to_string()));
        assert!(out.summary.unwrap().starts_with("Acme builds reusable rockets"));
        assert_eq!(out.method, Method::Heuristic);
    }

    #[test]
    fn the_summary_is_prose_about_the_company_not_its_menu() {
        let e = Evidence {
            name: Some("Acme"),
            description: None,
            texts: vec![
                "Home Company Investors Newsroom Careers Contact Products Pricing Blog Support\n\
                 Markets moved a lot this year and analysts expect more of the same in the U.S. and abroad.\n\
                 Acme builds reusable rockets that carry small satellites to orbit every single week.\n\
                 We operate launch sites in Texas and New Zealand for customers in the U.S. and Europe."
                    .into(),
            ],
            product_names: vec![],
        };
        let summary = heuristic(&e).summary.unwrap();
        assert!(summary.starts_with("Acme builds reusable rockets"), "{summary}");
        assert!(summary.contains("customers in the U.S. and Europe."), "not cut at an initial: {summary}");
        assert!(!summary.contains("Investors Newsroom"), "{summary}");
    }

    #[test]
    fn thin_evidence_gives_empty_fields_not_guesses() {
        let e = Evidence { name: None, description: None, texts: vec!["Welcome.".into()], product_names: vec![] };
        let out = heuristic(&e);
        assert_eq!((out.industry, out.business_model, out.summary), (None, None, None));
    }
}
