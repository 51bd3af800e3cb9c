//! Patterns the legal and address readers share: a company's name ending in its legal form,
//! and a phone number's label.

use regex::Regex;
use std::sync::LazyLock;

pub const LEGAL_FORMS: &str = r"GmbH\s*&\s*Co\.?\s*KG|gGmbH|GmbH|UG\s*\(haftungsbeschränkt\)|AG|SE|KGaA|KG|OHG|e\.\s?K\.|Ltd\.?|Limited|LLP|PLC|plc|Inc\.|Inc|LLC|Corp\.|Corporation|SASU|SAS|SARL|S\.A\.R\.L\.|EURL|SA|SNC|B\.V\.|BV|N\.V\.|NV|V\.O\.F\.|S\.L\.U\.|S\.L\.|SL|S\.A\.U\.|S\.A\.|S\.r\.l\.|Srl|S\.R\.L\.|S\.p\.A\.|SpA|S\.a\.s\.|S\.n\.c\.";

/// A name of up to six words (the first a capital) ending in a legal form.
pub static LEGAL_NAME: LazyLock<Regex> = LazyLock::new(|| {
    let word = r"[\p{Lu}][\p{L}\d&'’.\-]*";
    let more = r"(?:[\p{Lu}\d][\p{L}\d&'’.\-]*|&|und|and|et|en|y|e|de|der|von|van|di|del|la|le)";
    Regex::new(&format!(r"({word}(?:,?\s+{more}){{0,5}}?),?\s+({LEGAL_FORMS})(?:[^\p{{L}}\d]|$)"))
        .expect("static regex")
});

pub static PHONE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:tel(?:efon|éfono|efono|efoon|ephone)?|téléphone|tél|phone|fon|call us|ring)\b\.?\s*:?\s*")
        .expect("static regex")
});
