//! Postal addresses as imprints, footers and contact pages write them, read into parts (street,
//! postal code, city, region, country code): the formats of Germany, Austria, Switzerland,
//! France, Belgium, Spain, Italy, Luxembourg (postal code before the city), the Netherlands
//! (`1015 BS Amsterdam`), the United Kingdom (`London EC2V 8AU`) and the United States (`San
//! Francisco, CA 94104`). An address in no such format is not read: no guessed city.

use crate::scrape::facts::labels::LEGAL_NAME;
use crate::scrape::facts::labels::PHONE_LABEL;
use crate::scrape::model::report::Address;
use regex::Regex;
use std::sync::LazyLock;

const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
];

/// Country names as addresses write them, lower-case → ISO 3166-1 alpha-2.
const COUNTRIES: &[(&str, &str)] = &[
    ("germany", "DE"),
    ("deutschland", "DE"),
    ("austria", "AT"),
    ("österreich", "AT"),
    ("switzerland", "CH"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("france", "FR"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("england", "GB"),
    ("great britain", "GB"),
    ("netherlands", "NL"),
    ("the netherlands", "NL"),
    ("nederland", "NL"),
    ("spain", "ES"),
    ("españa", "ES"),
    ("italy", "IT"),
    ("italia", "IT"),
    ("belgium", "BE"),
    ("belgique", "BE"),
    ("belgië", "BE"),
    ("ireland", "IE"),
    ("usa", "US"),
    ("u.s.a.", "US"),
    ("united states", "US"),
    ("united states of america", "US"),
    ("us", "US"),
    ("canada", "CA"),
    ("luxembourg", "LU"),
    ("denmark", "DK"),
    ("sweden", "SE"),
    ("portugal", "PT"),
    ("poland", "PL"),
];

pub fn country_named(text: &str) -> Option<&'static str> {
    let lower = text.trim().trim_end_matches('.').to_lowercase();
    COUNTRIES.iter().find(|(name, _)| *name == lower).map(|(_, code)| *code)
}

static POSTAL_CITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?:D|A|CH|F|B|I|E|L|NL)-)?(\d{4,5})\s+([\p{Lu}][\p{L}\-. ']*?[\p{L}.])(?:\s*\(([A-Z]{2})\))?$")
        .expect("static regex")
});
static NL_POSTAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{4}\s?[A-Z]{2})\s+([\p{Lu}][\p{L}\-. ']*?[\p{L}])$").expect("static regex"));
static UK_POSTAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:([\p{Lu}][\p{L}\-. ']*?[\p{L}])\s+)?([A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})$").expect("static regex")
});
static US_STATE_ZIP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:([\p{Lu}][\p{L}\-. ']*?[\p{L}])\s+)?([A-Z]{2})\s+(\d{5}(?:-\d{4})?)$").expect("static regex")
});

/// Labels that say the address is the registered one.
const REGISTERED_OFFICE: &[&str] = &[
    "registered office",
    "registered address",
    "sitz",
    "sitz der gesellschaft",
    "anschrift",
    "siège social",
    "siège",
    "statutaire zetel",
    "vestigingsadres",
    "domicilio social",
    "domicilio",
    "sede legale",
    "sede sociale",
    "headquarters",
    "head office",
];

/// `text` cut after each full stop that ends a sentence (one followed by a space and a capital):
/// `London EC2V 8AU. VAT No. …` is two parts, `Invalidenstr. 42` one.
fn at_full_stops(text: &str) -> impl Iterator<Item = &str> {
    let mut cuts = vec![0];
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices(". ") {
        if text[i + 2..].starts_with(|c: char| c.is_uppercase()) && i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
            cuts.push(i + 1);
        }
    }
    cuts.push(text.len());
    cuts.windows(2).map(move |w| text[w[0]..w[1]].trim()).collect::<Vec<_>>().into_iter()
}

/// Strips a label (`Anschrift:`, `Registered office:`) and a legal name from an address part.
fn address_part(part: &str) -> &str {
    let part = part.trim();
    let part = match part.split_once(':') {
        Some((label, rest))
            if label.split_whitespace().count() <= 4 && !label.contains(|c: char| c.is_ascii_digit()) =>
        {
            rest.trim()
        }
        _ => part,
    };
    part.trim_end_matches(['.', ',', ';']).trim()
}

/// The registered address: the first after a registered-office label, else the first postal
/// address in the company's own text.
pub(super) fn address(own: &[String], country: Option<&str>) -> Option<Address> {
    // Address parts in reading order, each with whether a registered-office label stands before it
    // on its line.
    let mut parts: Vec<(String, bool)> = Vec::new();
    for line in own {
        let lower = line.to_lowercase();
        let labelled = REGISTERED_OFFICE.iter().any(|l| lower.contains(l));
        for piece in line.split(['|', ',']).flat_map(at_full_stops) {
            let piece = address_part(piece);
            if !piece.is_empty() {
                parts.push((piece.to_string(), labelled));
            }
        }
    }
    let found: Vec<(Address, bool)> = (0..parts.len()).filter_map(|i| postal_at(&parts, i, country)).collect();
    found.iter().find(|(_, labelled)| *labelled).or(found.first()).map(|(a, _)| a.clone())
}

fn postal_at(parts: &[(String, bool)], i: usize, country: Option<&str>) -> Option<(Address, bool)> {
    let (piece, labelled) = &parts[i];
    let before = i.checked_sub(1).map(|j| parts[j].0.as_str()).filter(|s| !s.is_empty());
    let after = parts.get(i + 1).map(|p| p.0.as_str()).filter(|s| !s.is_empty());
    let after_two = parts.get(i + 2).map(|p| p.0.as_str()).filter(|s| !s.is_empty());
    let named = after.and_then(country_named).or_else(|| after_two.and_then(country_named));
    let street_of = |at: Option<usize>| street_at(parts, at?);
    let mut address = Address::default();
    if let Some(c) = NL_POSTAL.captures(piece) {
        address.postal_code = Some(c[1].to_string());
        address.city = Some(c[2].to_string());
        address.country_code = Some(named.unwrap_or("NL").to_string());
    } else if let Some(c) = UK_POSTAL.captures(piece) {
        let city = c.get(1).map(|m| m.as_str()).or(before.filter(|b| !b.contains(|c: char| c.is_ascii_digit())));
        address.postal_code = Some(c[2].to_string());
        address.city = city.map(str::to_string);
        address.country_code = Some(named.unwrap_or("GB").to_string());
        if c.get(1).is_none() && city.is_some() {
            address.street = street_of(i.checked_sub(2));
            return Some((address, *labelled)).filter(|(a, _)| a.street.is_some());
        }
    } else if let Some(c) = US_STATE_ZIP.captures(piece).filter(|c| US_STATES.contains(&&c[2])) {
        let city = c.get(1).map(|m| m.as_str()).or(before.filter(|b| !b.contains(|c: char| c.is_ascii_digit())));
        address.city = city.map(str::to_string);
        address.region = Some(c[2].to_string());
        address.postal_code = Some(c[3].to_string());
        address.country_code = Some(named.unwrap_or("US").to_string());
        if c.get(1).is_none() {
            address.street = street_of(i.checked_sub(2));
            return Some((address, *labelled)).filter(|(a, _)| a.street.is_some() && a.city.is_some());
        }
    } else if let Some(c) = POSTAL_CITY.captures(piece) {
        address.postal_code = Some(c[1].to_string());
        address.city = Some(c[2].trim_end_matches('.').to_string());
        address.region = c.get(3).map(|m| m.as_str().to_string());
        address.country_code = named.or(country).map(str::to_string);
    } else {
        return None;
    }
    address.street = street_of(i.checked_sub(1));
    address.street.is_some().then_some((address, *labelled))
}

static SECONDARY_UNIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:suite|ste\.?|floor|fl\.?|unit|room|apt\.?|building|bldg\.?|#\s*\d|\d+(?:st|nd|rd|th)\s+floor|étage|etage|stock|piso|planta|piano)\b")
        .expect("static regex")
});

/// The street of the address part at `at`: a part with a number and a name (`Invalidenstraße
/// 42`, `548 Market St`), with the part before it when it is a suite or floor of it (`548
/// Market St, Suite 200`).
fn street_at(parts: &[(String, bool)], at: usize) -> Option<String> {
    let street = |s: &str| {
        s.contains(|c: char| c.is_ascii_digit())
            && s.contains(char::is_alphabetic)
            && s.chars().count() <= 60
            && !s.contains('@')
            && !PHONE_LABEL.is_match(s)
    };
    let part = parts.get(at).map(|p| p.0.as_str()).filter(|s| street(s))?;
    if SECONDARY_UNIT.is_match(part) {
        let main = at.checked_sub(1).and_then(|j| parts.get(j)).map(|p| p.0.as_str()).filter(|s| street(s));
        return Some(match main {
            Some(main) => format!("{}, {part}", strip_legal_name(main)),
            None => part.to_string(),
        });
    }
    Some(strip_legal_name(part).to_string())
}

/// `Acme GmbH Invalidenstr. 42` → `Invalidenstr. 42`.
fn strip_legal_name(s: &str) -> &str {
    match LEGAL_NAME.find(s) {
        Some(m) if m.start() == 0 => s[m.end()..].trim(),
        _ => s,
    }
}
