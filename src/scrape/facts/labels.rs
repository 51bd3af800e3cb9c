//! Patterns the legal and address readers share: a company's name ending in its legal form,
//! and a phone number's label.

use regex::Regex;
use std::sync::LazyLock;

/// Legal forms written after a name and a space, longer spellings first: German, Austrian,
/// Swiss, British, Irish, American, French, Benelux, Spanish, Italian, Portuguese, Nordic,
/// Polish, Czech, Hungarian, Greek, Mexican, Indian and South African forms.
pub const LEGAL_FORMS: &str = r"GmbH\s*&\s*Co\.?\s*KG|gGmbH|GmbH|UG\s*\(haftungsbeschränkt\)|e\.\s?U\.|AG|SE|KGaA|KG|OHG|OG|e\.\s?K\.|\(Pty\)\s*Ltd\.?|Pvt\.?\s*Ltd\.?|Private\s+Limited|Co\.,?\s*Ltd\.?|Ltd\.?|Limited|LLP|PLC|plc|Inc\.|Inc|LLC|Corp\.|Corporation|SASU|SAS|SARL|S\.A\.R\.L\.|EURL|S\.?A\.?\s+de\s+C\.?V\.?|SA|SNC|B\.V\.|BV|N\.V\.|NV|V\.O\.F\.|BVBA|S\.L\.U\.|S\.L\.|SL|S\.A\.U\.|S\.A\.|S\.r\.l\.|Srl|srl|S\.R\.L\.|s\.r\.l\.|S\.p\.A\.|SpA|S\.a\.s\.|S\.n\.c\.|Unipessoal,?\s+Lda\.?|Lda\.?|Oyj|Oy|AB|ASA|AS|ApS|A/S|[Ss]p\.\s*z\s*o\.\s*o\.|spol\.\s*s\s*r\.\s*o\.|s\.\s?r\.\s?o\.|a\.\s?s\.|Kft\.?|Zrt\.?|Nyrt\.?|ΜΟΝΟΠΡΟΣΩΠΗ\s+Ι\.?Κ\.?Ε\.?|Ι\.?Κ\.?Ε\.?|Α\.?Ε\.?|Bros\.\s+Co\.|Co\.";

/// Legal forms written right after a name, without a space (`Acme株式会社`).
const LEGAL_FORMS_JOINED: &str = r"株式会社|有限会社|合同会社";

/// A name of up to six words (the first a capital) ending in a legal form. The name is group
/// `name`, its form group `form`.
pub static LEGAL_NAME: LazyLock<Regex> = LazyLock::new(|| {
    let word = r"[\p{Lu}\d][\p{L}\d&'’.\-]*";
    let more = r"(?:[\p{Lu}\d][\p{L}\d&'’.\-]*|&|und|and|et|en|y|e|i|och|og|és|de|der|von|van|di|del|la|le)";
    Regex::new(&format!(
        r"(?:(?P<name>{word}(?:,?\s+{more}){{0,5}}?),?\s+(?P<form>{LEGAL_FORMS})|(?P<joined>{word}(?:\s+{more}){{0,5}}?)\s*(?P<jform>{LEGAL_FORMS_JOINED}))(?:[^\p{{L}}\d]|$)"
    ))
    .expect("static regex")
});

/// The name and form a [`LEGAL_NAME`] match found, as byte ranges of the text.
pub fn legal_name_span(caps: &regex::Captures) -> Option<(usize, usize)> {
    let name = caps.name("name").or(caps.name("joined"))?;
    let form = caps.name("form").or(caps.name("jform"))?;
    Some((name.start(), form.end()))
}

pub static PHONE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:tel(?:efon(?:szám|nummer)?|éfono|efono|efoon|ephone)?|téléphone|tél|phone|fon|call us|ring|tlf|tfn|puh(?:elin)?|mob(?:il|ile)?|gsm|cell|τηλ(?:έφωνο)?|telemóvel|telefone)\b\.?\s*:?\s*")
        .expect("static regex")
});
