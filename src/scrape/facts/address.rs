//! Postal addresses as imprints, footers and contact pages write them, read into parts (street,
//! postal code, city, region, country code): the postal code before the city as most of Europe
//! writes it (`10115 Berlin`, `6020 Innsbruck`, `708 00 Ostrava`, `33-340 Stary Sącz`,
//! `4590-123 Paços de Ferreira`, `20304 Irún (Gipuzkoa)`, Hungary's `1106 Budapest, Porcelán
//! utca 3` with the street after), the Netherlands (`1015 BS Amsterdam`), the United Kingdom
//! (`London EC2V 8AU`), the United States (`San Francisco, CA 94104`), Canada (`Grimshaw AB,
//! T0H 1W0`), a city and a bare code before a named country (`Jeffreys Bay, 6330, South
//! Africa`). An address in no such format is not read: no guessed city. An address inside a
//! long sentence (a privacy policy's "plugins of Facebook, 1601 … Palo Alto") is someone
//! else's unless a registered-office label stands on its line.

use crate::scrape::facts::labels::LEGAL_NAME;
use crate::scrape::facts::labels::PHONE_LABEL;
use crate::scrape::model::report::Address;
use crate::scrape::model::text;
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
    ("polska", "PL"),
    ("norway", "NO"),
    ("norge", "NO"),
    ("finland", "FI"),
    ("suomi", "FI"),
    ("sverige", "SE"),
    ("danmark", "DK"),
    ("czech republic", "CZ"),
    ("czechia", "CZ"),
    ("česká republika", "CZ"),
    ("hungary", "HU"),
    ("magyarország", "HU"),
    ("greece", "GR"),
    ("ελλάδα", "GR"),
    ("south africa", "ZA"),
    ("india", "IN"),
    ("mexico", "MX"),
    ("méxico", "MX"),
    ("japan", "JP"),
    ("australia", "AU"),
    ("new zealand", "NZ"),
    ("nigeria", "NG"),
    ("saudi arabia", "SA"),
    ("liechtenstein", "LI"),
];

/// Whether `code` is written as postal codes are in `country` (ISO 3166-1 alpha-2); a country
/// whose format is not known here fits nothing.
pub fn postal_code_fits(country: &str, code: &str) -> bool {
    let code = code.trim();
    let digits = |n: usize| code.len() == n && code.bytes().all(|b| b.is_ascii_digit());
    let spaced = |a: usize, b: usize, sep: char| {
        code.split_once(sep).is_some_and(|(x, y)| {
            x.len() == a && y.len() == b && x.bytes().chain(y.bytes()).all(|c| c.is_ascii_digit())
        })
    };
    match country {
        "DE" | "FR" | "IT" | "ES" | "FI" | "MX" | "HR" | "EE" => digits(5),
        "US" => digits(5) || spaced(5, 4, '-'),
        "AT" | "CH" | "LI" | "BE" | "LU" | "DK" | "NO" | "HU" | "ZA" | "AU" | "NZ" | "SI" | "BG" => digits(4),
        "SE" | "CZ" | "SK" | "GR" => digits(5) || spaced(3, 2, ' '),
        "PL" => spaced(2, 3, '-'),
        "PT" => spaced(4, 3, '-') || digits(4),
        "IN" => digits(6) || spaced(3, 3, ' '),
        "JP" => spaced(3, 4, '-'),
        "NL" => NL_POSTAL.is_match(&format!("{code} X")),
        "GB" => UK_POSTAL.is_match(code),
        "CA" => CA_POSTAL.is_match(code),
        _ => false,
    }
}

pub fn country_named(text: &str) -> Option<&'static str> {
    let lower = text.trim().trim_end_matches('.').to_lowercase();
    COUNTRIES.iter().find(|(name, _)| *name == lower).map(|(_, code)| *code)
}

/// Postal codes written before the city: four or five figures, `708 00`, `33-340`, `4590-123`.
const POSTAL_CODE: &str =
    r"(?:(?:D|A|CH|F|B|I|E|L|NL|FI|S|N|DK|PL|CZ|H|P)-)?(\d{4,5}|\d{3}\s\d{2}|\d{2}-\d{3}|\d{4}-\d{3})";

static POSTAL_CITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"^{POSTAL_CODE}\s+([\p{{Lu}}][\p{{L}}\-. ']*?[\p{{L}}.])(?:\s*\(([\p{{L}} .\-]{{2,30}})\))?$"))
        .expect("static regex")
});
/// A street, a postal code and a city at the end of a longer part: `… Holzmeister Str.2 6020 Innsbruck`.
static INLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:^|\s)((?:[\p{{Lu}}][\p{{L}}\-.']*\s+){{0,2}}[\p{{L}}\-.']*\.?\s?\d{{1,4}}[a-z]?)\s+{POSTAL_CODE}\s+([\p{{Lu}}][\p{{L}}\-']*(?:\s[\p{{Lu}}][\p{{L}}\-']*){{0,2}})$"
    ))
    .expect("static regex")
});
static CA_POSTAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Z]\d[A-Z]\s?\d[A-Z]\d)$").expect("static regex"));
static CITY_PROVINCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([\p{Lu}][\p{L}\-. ']*?[\p{L}])\s+(AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)$").expect("static regex")
});
static BARE_CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d{4,6}$").expect("static regex"));
static CITY_WORDS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{Lu}][\p{L}\-']*(?:\s[\p{Lu}][\p{L}\-']*){0,3}$").expect("static regex"));
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
    "székhely",
    "sídlo",
    "siedziba",
    "sede",
    "säte",
    "hovedkontor",
    "kotipaikka",
    "postadress",
    "besöksadress",
    "dirección",
    "indirizzo",
    "morada",
    "responsable",
    "verantwortlich",
    "controller",
    "titolare",
];

/// Words past which a line is a sentence: an address in it is someone else's unless labelled.
const PROSE_WORDS: usize = 20;

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
        // A label's word may run on by an ending (`responsables`, `Sitzes`).
        let words = text::words(line);
        let labelled = REGISTERED_OFFICE.iter().any(|label| text::has_phrase(&words, label, 2));
        if !labelled && line.split_whitespace().count() > PROSE_WORDS {
            continue;
        }
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
    } else if let Some(c) = CA_POSTAL.captures(piece)
        && let Some(city) = before.and_then(|b| CITY_PROVINCE.captures(b))
    {
        address.postal_code = Some(c[1].to_string());
        address.city = Some(city[1].to_string());
        address.region = Some(city[2].to_string());
        address.country_code = Some(named.unwrap_or("CA").to_string());
        address.street = street_of(i.checked_sub(2));
        return Some((address, *labelled)).filter(|(a, _)| a.street.is_some());
    } else if let Some(c) = POSTAL_CITY.captures(piece).filter(|c| !names_a_street(&c[2])) {
        address.postal_code = Some(c[1].to_string());
        address.city = Some(c[2].trim_end_matches('.').to_string());
        address.region = c.get(3).map(|m| m.as_str().trim().to_string());
        address.country_code = named.or(country).map(str::to_string);
        // Hungary writes the street after the city.
        address.street = street_of(i.checked_sub(1)).or_else(|| street_of(Some(i + 1)));
        return address.street.is_some().then_some((address, *labelled));
    } else if let Some(c) = INLINE.captures(piece) {
        address.street = Some(c[1].trim().to_string());
        address.postal_code = Some(c[2].to_string());
        address.city = Some(c[3].to_string());
        address.country_code = named.or(country).map(str::to_string);
        return Some((address, *labelled));
    } else if BARE_CODE.is_match(piece)
        && let Some(named) = named
        && let Some(city) = before.filter(|b| CITY_WORDS.is_match(b))
    {
        // `2a Da Gama Rd, Jeffreys Bay, 6330, South Africa`: only with the country named.
        address.postal_code = Some(piece.to_string());
        address.city = Some(city.to_string());
        address.country_code = Some(named.to_string());
        address.street = street_of(i.checked_sub(2));
        return Some((address, *labelled)).filter(|(a, _)| a.street.is_some());
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
    let part = parts.get(at).map(|p| p.0.as_str())?;
    if !street(part) {
        // A street named without a number: `… dont le siège est situé Avenue de Bastia`.
        return street_named(part);
    }
    // A house number written apart from its street: `Via Asolana, 26G`, `San Pedro, 24 bajo`.
    if HOUSE_NUMBER.is_match(part)
        && let Some(name) = at.checked_sub(1).and_then(|j| parts.get(j)).map(|p| p.0.as_str())
        && !name.contains(|c: char| c.is_ascii_digit())
        && let Some(name) = street_named(name).or_else(|| CITY_WORDS.is_match(name).then(|| name.to_string()))
    {
        return Some(format!("{name}, {part}"));
    }
    if SECONDARY_UNIT.is_match(part) {
        let main = at.checked_sub(1).and_then(|j| parts.get(j)).map(|p| p.0.as_str()).filter(|s| street(s));
        return Some(match main {
            Some(main) => format!("{}, {part}", strip_legal_name(main)),
            None => part.to_string(),
        });
    }
    Some(strip_legal_name(part).to_string())
}

/// Whether a would-be city is a street (`8450 Falls Of Neuse Road` is a number and a street).
fn names_a_street(city: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "road",
        "rd",
        "street",
        "st",
        "avenue",
        "ave",
        "lane",
        "ln",
        "drive",
        "dr",
        "boulevard",
        "blvd",
        "way",
        "court",
        "ct",
        "place",
        "pl",
        "parkway",
        "pkwy",
        "highway",
        "hwy",
        "square",
        "sq",
        "terrace",
    ];
    let last = city.split_whitespace().last().unwrap_or_default().trim_end_matches('.').to_lowercase();
    ENDINGS.contains(&last.as_str())
}

static HOUSE_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{1,4}[a-zA-Z]?(?:[/-]\d{1,4})?(?:\s+[\p{Ll}º°.]+)?$").expect("static regex"));

/// Words that begin a street's name in the languages whose streets are named that way.
const STREET_WORDS: &[&str] = &[
    "avenue",
    "rue",
    "boulevard",
    "bd",
    "chemin",
    "route",
    "place",
    "allée",
    "impasse",
    "quai",
    "via",
    "viale",
    "piazza",
    "corso",
    "calle",
    "avenida",
    "paseo",
    "plaza",
    "carrer",
    "rua",
    "travessa",
    "largo",
    "ulica",
    "ul.",
];

/// The street a part names without a number, from its street word on (`Avenue de Bastia`).
fn street_named(part: &str) -> Option<String> {
    let words: Vec<&str> = part.split_whitespace().collect();
    let at = words.iter().position(|w| STREET_WORDS.contains(&w.to_lowercase().as_str()))?;
    let street = &words[at..];
    (2..=6).contains(&street.len()).then(|| street.join(" "))
}

/// `Acme GmbH Invalidenstr. 42` → `Invalidenstr. 42`.
fn strip_legal_name(s: &str) -> &str {
    match LEGAL_NAME.find(s) {
        Some(m) if m.start() == 0 => s[m.end()..].trim(),
        _ => s,
    }
}
