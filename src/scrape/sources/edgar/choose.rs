//! The figure a report shows among a filer's values: the latest annual one.

use super::companyfacts::{Entry, Taxonomies};
use crate::scrape::model::report::Fact;

const ANNUAL_FORMS: &[&str] = &["10-K", "10-K/A", "20-F", "20-F/A", "40-F", "40-F/A"];

/// The most recent annual value among `choices` (earlier choices win ties). For flows
/// (`duration`), only periods of about a year count, not quarters reported in annual forms.
pub fn latest_annual(facts: &Taxonomies, choices: &[(&str, &str)], duration: bool) -> Option<Fact> {
    let mut best: Option<Fact> = None;
    for (taxonomy, concept) in choices {
        let Some(units) = facts.0.get(&(taxonomy.to_string(), concept.to_string())) else { continue };
        for (unit, values) in units {
            for v in values {
                let form = v.form.as_deref().unwrap_or_default();
                let annual = ANNUAL_FORMS.contains(&form) && v.fp.as_deref().is_none_or(|fp| fp == "FY");
                if !annual || (duration && !about_a_year(v)) {
                    continue;
                }
                let (Some(end), Some(filed), Some(value)) = (&v.end, &v.filed, &v.val) else {
                    continue;
                };
                let newer = best.as_ref().is_none_or(|b| (end, filed) > (&b.period_end, &b.filed));
                if newer {
                    best = Some(Fact {
                        value: value.clone(),
                        unit: unit.clone(),
                        concept: format!("{taxonomy}:{concept}"),
                        fiscal_year: v.fy,
                        fiscal_period: v.fp.clone(),
                        form: form.to_string(),
                        filed: filed.clone(),
                        period_end: end.clone(),
                    });
                }
            }
        }
    }
    best
}

fn about_a_year(v: &Entry) -> bool {
    let day = |s: &Option<String>| {
        time::Date::parse(s.as_deref()?, time::macros::format_description!("[year]-[month]-[day]")).ok()
    };
    match (day(&v.start), day(&v.end)) {
        (Some(start), Some(end)) => (340..=380).contains(&(end - start).whole_days()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::sources::edgar::companyfacts::*;

    #[test]
    fn companyfacts_keep_only_the_concepts_read() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sec-edgar/companyfacts/CIK0001640147.json");
        let body = std::fs::read(path).expect("the fixture in the checkout");
        let doc: CompanyFacts = serde_json::from_slice(&body).unwrap();
        assert!(!doc.facts.0.is_empty() && doc.facts.0.len() <= 12, "{} concepts kept", doc.facts.0.len());
        assert!(doc.facts.0.keys().all(|(t, c)| wanted(t, c)));
        assert!(latest_annual(&doc.facts, REVENUE, true).is_some());
        let odd = br#"{"entityName": "X", "facts": {"us-gaap": {"Assets": {"units": {"USD": [{"end": "2024-01-31",
            "val": 5, "form": "10-K", "filed": "2024-03-01", "fp": "FY", "extra": [1, {"deep": true}]}]}},
            "Other": {"units": 7}}, "weird": []}}"#;
        let doc: CompanyFacts = serde_json::from_slice(odd).unwrap();
        assert_eq!(latest_annual(&doc.facts, TOTAL_ASSETS, false).map(|f| f.value.to_string()), Some("5".into()));
    }
}
