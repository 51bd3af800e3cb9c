//! The `enrichment` stage: a summary, an industry, a business model, products, target
//! customers and tags. With `KRAWLR_LLM_BASE_URL` (+ `_API_KEY`, `_MODEL`) set, an
//! OpenAI-compatible chat-completions call asks for them as JSON, bounded in tokens and time,
//! and the answer is validated; otherwise (or when that fails) a deterministic offline method
//! reads them from the pages: an extractive summary, an industry from a keyword taxonomy,
//! B2B/B2C cues, product page and JSON-LD product names. `method` says which. The industry is
//! always one of a fixed list of NAICS (2022) industries, [`NAICS`]: the offline method scores
//! their cue words, the model is given the list and must choose from it.

use crate::config::LlmSettings;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// Page text sent to the model at most.
const MAX_CONTEXT_CHARS: usize = 6_000;
const MAX_TOKENS: u32 = 700;
const LLM_TIMEOUT: Duration = Duration::from_secs(45);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Enrichment {
    pub summary: Option<String>,
    /// The NAICS industry's title (`naics.title`).
    pub industry: Option<String>,
    /// The industry in the North American Industry Classification System (2022), at the level
    /// the evidence supports (sector `52`, industry `522320`).
    pub naics: Option<Naics>,
    /// `B2B`, `B2C` or `B2B2C`.
    pub business_model: Option<String>,
    pub products: Vec<String>,
    pub target_customers: Vec<String>,
    pub tags: Vec<String>,
    pub method: Method,
}

/// An industry of NAICS 2022.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Naics {
    pub code: String,
    pub title: String,
}

impl Naics {
    /// The industry of the list with this code.
    pub fn of(code: &str) -> Option<Naics> {
        NAICS
            .iter()
            .find(|(c, _, _)| *c == code.trim())
            .map(|(code, title, _)| Naics { code: code.to_string(), title: title.to_string() })
    }
}

/// How the enrichment was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// By the configured model (`KRAWLR_LLM_*`).
    Llm,
    /// Offline, from the pages alone.
    #[default]
    Heuristic,
}

/// What the pages offer the enrichment.
pub struct Evidence<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    /// Visible text of the most telling pages, home and about first.
    pub texts: Vec<String>,
    /// Names from product pages and JSON-LD `Product`s.
    pub product_names: Vec<String>,
}

/// The NAICS (2022) industries krawlr classifies into — code, title, and the words on a
/// company's pages that give each away — at the level a website's words can tell apart.
pub const NAICS: &[(&str, &str, &[&str])] = &[
    (
        "522320",
        "Financial Transactions Processing, Reserve, and Clearinghouse Activities",
        &["payments", "payment", "fintech", "checkout", "card", "billing", "invoicing", "payouts"],
    ),
    ("52", "Finance and Insurance", &["banking", "lending", "loans", "mortgage", "investment", "wealth", "accounting"]),
    (
        "524",
        "Insurance Carriers and Related Activities",
        &["insurance", "insurer", "insurers", "claims", "coverage", "underwrite"],
    ),
    (
        "336414",
        "Guided Missile and Space Vehicle Manufacturing",
        &["rocket", "rockets", "satellite", "satellites", "launch", "orbit", "aerospace", "spacecraft"],
    ),
    (
        "513210",
        "Software Publishers",
        &["software", "saas", "app", "platform", "developers", "api", "sdk", "automation"],
    ),
    (
        "541519",
        "Other Computer Related Services",
        &["security", "threat", "threats", "encryption", "cybersecurity", "vulnerability"],
    ),
    (
        "518210",
        "Computing Infrastructure Providers, Data Processing, Web Hosting, and Related Services",
        &["cloud", "hosting", "servers", "kubernetes", "infrastructure", "data", "analytics", "warehouse"],
    ),
    ("44-45", "Retail Trade", &["shop", "store", "retail", "ecommerce", "e-commerce", "cart", "shipping", "products"]),
    (
        "62",
        "Health Care and Social Assistance",
        &["health", "healthcare", "patients", "clinical", "medical", "hospital", "clinics", "doctors"],
    ),
    (
        "541714",
        "Research and Development in Biotechnology (except Nanobiotechnology)",
        &["biotech", "therapeutics", "drug", "genomics", "molecules", "antibodies"],
    ),
    (
        "48-49",
        "Transportation and Warehousing",
        &["logistics", "freight", "warehouse", "warehouses", "delivery", "supply", "shipping", "vessel"],
    ),
    (
        "53",
        "Real Estate and Rental and Leasing",
        &["property", "properties", "real", "estate", "leasing", "tenants", "rental"],
    ),
    ("22", "Utilities", &["energy", "solar", "battery", "batteries", "grid", "renewable", "power", "electricity"]),
    ("61", "Educational Services", &["learning", "students", "courses", "education", "teachers", "school"]),
    (
        "5418",
        "Advertising, Public Relations, and Related Services",
        &["marketing", "advertising", "campaigns", "seo", "brand", "audience"],
    ),
    ("5613", "Employment Services", &["hiring", "recruiting", "talent", "staffing", "candidates", "payroll"]),
    (
        "516",
        "Broadcasting and Content Providers",
        &["media", "podcast", "video", "music", "streaming", "entertainment"],
    ),
    (
        "5615",
        "Travel Arrangement and Reservation Services",
        &["travel", "hotel", "hotels", "booking", "flights", "trips"],
    ),
    ("722", "Food Services and Drinking Places", &["food", "restaurant", "restaurants", "recipes", "coffee", "menu"]),
    (
        "336110",
        "Automobile and Light Duty Motor Vehicle Manufacturing",
        &["car", "cars", "vehicle", "vehicles", "automotive", "ev"],
    ),
    ("517", "Telecommunications", &["telecom", "network", "5g", "mobile", "carrier", "connectivity"]),
    (
        "31-33",
        "Manufacturing",
        &["manufacturing", "factory", "industrial", "production", "machinery", "machines", "maschinen"],
    ),
    ("5411", "Legal Services", &["legal", "law", "lawyers", "contracts", "compliance", "attorneys"]),
];

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
        for sentence in text.lines().flat_map(super::page::sentences).filter(|s| reads_like_prose(s)) {
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

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model could not be reached")]
    Request(#[source] reqwest::Error),
    #[error("the model answered HTTP {0}")]
    Status(u16),
    #[error("the model's answer is not the JSON asked for: {0}")]
    Invalid(&'static str),
    #[error("the model's answer is not the JSON asked for")]
    NotJson(#[source] serde_json::Error),
}

/// Asks an OpenAI-compatible chat-completions endpoint.
pub async fn with_llm(client: &reqwest::Client, llm: &LlmSettings, e: &Evidence<'_>) -> Result<Enrichment, LlmError> {
    let mut context =
        format!("Company: {}\nDescription: {}\n\n", e.name.unwrap_or("(unknown)"), e.description.unwrap_or("(none)"));
    for text in &e.texts {
        if context.len() >= MAX_CONTEXT_CHARS {
            break;
        }
        context.push_str(text);
        context.push_str("\n\n");
    }
    let context: String = context.chars().take(MAX_CONTEXT_CHARS).collect();
    let request = json!({
        "model": llm.model,
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": system_prompt()},
            {"role": "user", "content": context}
        ]
    });
    let url = format!("{}/chat/completions", llm.base_url.trim_end_matches('/'));
    let mut req = client.post(url).json(&request).timeout(LLM_TIMEOUT);
    if let Some(key) = &llm.api_key {
        req = req.bearer_auth(key);
    }
    let response = req.send().await.map_err(LlmError::Request)?;
    if !response.status().is_success() {
        return Err(LlmError::Status(response.status().as_u16()));
    }
    let body: Value = response.json().await.map_err(LlmError::Request)?;
    let content = body["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| LlmError::Invalid("no choices[0].message.content"))?;
    let answer: Value = serde_json::from_str(content.trim().trim_start_matches("```json").trim_matches('`'))
        .map_err(LlmError::NotJson)?;
    validate(&answer)
}

/// What the model is asked: the fields, and the NAICS list to choose the industry from.
fn system_prompt() -> String {
    let mut prompt = String::from(
        "You describe companies from their own website text. Answer with one JSON object with the keys summary \
         (2-3 sentences), naics_code (the code of the one industry below that fits best, or null), business_model \
         (B2B, B2C or B2B2C), products (array of names), target_customers (array), tags (array of short keywords). \
         Use only facts from the text; use null or [] when the text does not say.\nIndustries (NAICS code: title):\n",
    );
    for (code, title, _) in NAICS {
        prompt.push_str(&format!("{code}: {title}\n"));
    }
    prompt
}

/// Keeps what has the asked-for shape; an answer with nothing usable is an error. An industry
/// not on the list is no industry.
fn validate(answer: &Value) -> Result<Enrichment, LlmError> {
    let text =
        |k: &str| answer[k].as_str().map(str::trim).filter(|s| !s.is_empty() && s.len() < 2000).map(str::to_string);
    let list = |k: &str| -> Vec<String> {
        answer[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .take(20)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let business_model = text("business_model").filter(|m| matches!(m.as_str(), "B2B" | "B2C" | "B2B2C"));
    let naics = text("naics_code").and_then(|code| Naics::of(&code));
    let out = Enrichment {
        summary: text("summary"),
        industry: naics.as_ref().map(|n| n.title.clone()),
        naics,
        business_model,
        products: list("products"),
        target_customers: list("target_customers"),
        tags: list("tags"),
        method: Method::Llm,
    };
    if out.summary.is_none() && out.industry.is_none() {
        return Err(LlmError::Invalid("neither a summary nor an industry of the list"));
    }
    Ok(out)
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

    #[test]
    fn llm_answers_are_validated() {
        let good =
            json!({"summary": "S.", "naics_code": "336414", "business_model": "B2B", "products": ["X", 3], "tags": []});
        let out = validate(&good).unwrap();
        assert_eq!(out.industry.as_deref(), Some("Guided Missile and Space Vehicle Manufacturing"));
        let off_list = json!({"summary": "S.", "naics_code": "999999"});
        assert_eq!(validate(&off_list).unwrap().naics, None, "only an industry of the list");
        assert!(system_prompt().contains("513210: Software Publishers"));
        assert_eq!(out.products, ["X"]);
        assert_eq!(out.method, Method::Llm);
        let odd = json!({"summary": "S.", "business_model": "sometimes"});
        assert_eq!(validate(&odd).unwrap().business_model, None);
        assert!(validate(&json!({"products": ["X"]})).is_err());
    }
}
