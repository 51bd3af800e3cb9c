//! The enrichment model's call: an OpenAI-compatible chat-completions endpoint
//! (`KRAWLR_LLM_BASE_URL`, `_API_KEY`, `_MODEL`) asked for the enrichment as JSON, bounded in
//! tokens and time, and its answer validated: an industry must be one of [`NAICS`]'s.

use crate::config::LlmSettings;
use crate::scrape::assemble::heuristics::Evidence;
use crate::scrape::model::naics::{NAICS, Naics};
use crate::scrape::model::report::{Enrichment, Method};
use serde_json::{Value, json};
use std::time::Duration;

/// Page text sent to the model at most.
const MAX_CONTEXT_CHARS: usize = 6_000;

const MAX_TOKENS: u32 = 700;

const LLM_TIMEOUT: Duration = Duration::from_secs(45);

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
