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

/// Words after which, within three words, a cue names the company's market, not its trade.
const MARKET_WORDS: &[&str] = &["for", "serving", "to", "across", "helping", "help"];

/// Words after which, within three words, a cue names what the company makes or offers.
const MAKE_WORDS: &[&str] = &[
    "build",
    "builds",
    "make",
    "makes",
    "manufacture",
    "manufactures",
    "develop",
    "develops",
    "produce",
    "produces",
    "design",
    "designs",
    "sell",
    "sells",
    "offer",
    "offers",
    "provide",
    "provides",
    "our",
];

/// The offline method: deterministic, from the pages alone.
pub fn heuristic(e: &Evidence) -> Enrichment {
    let all = format!("{} {}", e.description.unwrap_or_default(), e.texts.join(" ")).to_lowercase();
    // The company's own name says nothing of its industry ("Harbour Analytics" is no analytics
    // firm by its name alone) unless the company says it makes what it is named after.
    let name = e.name.unwrap_or_default().to_lowercase();
    let own: Vec<&str> = name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let words: Vec<&str> = all.split(|c: char| !(c.is_alphanumeric() || c == '-')).filter(|w| !w.is_empty()).collect();
    // A word a few words after "for", "serving", "to" names whom the company sells to, not what
    // it does ("robots for warehouses and logistics centres"): it adds to a score, it is no
    // distinct evidence of its own.
    let market = |i: usize| words[i.saturating_sub(3)..i].iter().any(|w| MARKET_WORDS.contains(w));
    // What the company says it makes or offers ("builds autonomous mobile robots", "our
    // software") weighs more than what its pages mention.
    let made = |i: usize| words[i.saturating_sub(3)..i].iter().any(|w| MAKE_WORDS.contains(w));
    let mut scored: Vec<(&str, usize, Vec<&str>, bool)> = NAICS
        .iter()
        .map(|(code, _, keys)| {
            let mut hits: Vec<&str> = Vec::new();
            let (mut count, mut stated) = (0, false);
            for (i, w) in words.iter().enumerate().filter(|(_, w)| keys.contains(w)) {
                let stated_here = made(i);
                if own.contains(w) && !stated_here {
                    continue;
                }
                count += 1;
                if market(i) {
                    continue;
                }
                if stated_here {
                    count += 3;
                    stated = true;
                }
                if !hits.contains(w) {
                    hits.push(w);
                }
            }
            // Two cue words the company states it makes or offers, or three it mentions.
            let enough = hits.len() >= 3 || (stated && hits.len() >= 2);
            (*code, count + hits.len() * 2, hits, enough)
        })
        .filter(|(_, score, _, enough)| *score >= 4 && *enough)
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.1));
    // Strong evidence only: an industry a third ahead of the next; two close ones say nothing.
    let clear = match scored.as_slice() {
        [first, second, ..] => first.1 * 3 >= second.1 * 4,
        _ => true,
    };
    let naics = scored.first().filter(|_| clear).and_then(|s| Naics::of(s.0));
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
    let mut tags: Vec<String> = Vec::new();
    for word in scored.iter().take(3).flat_map(|s| &s.2) {
        if tags.len() < 10 && !tags.iter().any(|t| t == word) {
            tags.push(word.to_string());
        }
    }
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
    fn an_industry_only_on_strong_evidence_and_tags_once_each() {
        let robots = Evidence {
            name: Some("Acme Robotics"),
            description: Some("Acme Robotics builds autonomous mobile robots for warehouses and logistics centres."),
            texts: vec![
                "Our robots help warehouse teams pick orders faster. Each robot is built in our factory. \
                 Warehouses and delivery hubs run them around the clock; the fleet connects to any warehouse system."
                    .into(),
            ],
            product_names: vec![],
        };
        let out = heuristic(&robots);
        assert_eq!(out.naics.as_ref().map(|n| n.code.as_str()), Some("333"), "a maker of robots: {out:?}");
        let mut tags = out.tags.clone();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), out.tags.len(), "distinct: {:?}", out.tags);
        // Words of two industries in like measure: no industry.
        let data = Evidence {
            name: Some("Quay"),
            description: Some("Quay turns freight and logistics data into analytics for shippers."),
            texts: vec!["Our cloud analytics read every freight invoice and vessel position.".into()],
            product_names: vec![],
        };
        assert_eq!(heuristic(&data).naics, None, "{:?}", heuristic(&data));
    }

    #[test]
    fn thin_evidence_gives_empty_fields_not_guesses() {
        let e = Evidence { name: None, description: None, texts: vec!["Welcome.".into()], product_names: vec![] };
        let out = heuristic(&e);
        assert_eq!((out.industry, out.business_model, out.summary), (None, None, None));
    }
}
