//! The company's entry in its country's register and its VAT id, read by the labels each
//! country writes them under and checked by the number's own format: its length, its letters and
//! — where the format has one — its check digits. A number that fails its check is a typo, a
//! placeholder or some other number (a phone, an account), and is not reported.
//!
//! Registers: the German, Austrian, British, French (RCS, SIREN and SIRET), Dutch, Spanish,
//! Italian, Belgian, Irish, Swiss (UID), Swedish and Norwegian (organisationsnummer), Danish
//! (CVR), Finnish (Y-tunnus), Polish (KRS, REGON), Czech and Slovak (IČO), Hungarian
//! (cégjegyzékszám), Greek (ΓΕΜΗ) and Indian (CIN) ones. VAT ids: every prefix of the EU, GB, CH,
//! NO and the Indian GSTIN; a number written bare under a country's VAT label (`P.IVA`, `NIP`,
//! `adószám`, `ΑΦΜ`, or a plain `VAT` on a site whose country is known) gets the country's prefix
//! when it passes that country's check.

use crate::scrape::model::report::Registration;
use regex::Regex;
use std::sync::LazyLock;

/// The register and number, and the VAT id, a page's text states. `country` is the one the
/// site is believed to be in; it decides a bare number under a label several countries use.
pub fn read(text: &str, country: Option<&str>) -> Registration {
    let (register, number) = register(text, country).unzip();
    Registration { register, number, vat_id: vat_id(text, country) }
}

/// A VAT id written with its country prefix (`DE 123 456 789`, `CHE-123.456.789 MWST`),
/// normalised (`DE123456789`, `CHE123456789`) when it passes its country's check.
pub fn checked_vat_id(written: &str) -> Option<String> {
    candidates(written.split_whitespace().collect()).find_map(|(candidate, _)| prefixed_vat(&candidate))
}

/// The country (ISO 3166-1) a VAT id's prefix names (`EL…` is Greece, `CHE…` Switzerland).
pub fn country_of_vat(vat_id: &str) -> Option<&'static str> {
    if vat_id.starts_with("CHE") {
        return Some("CH");
    }
    let prefix = vat_id.get(..2)?;
    VAT_COUNTRIES.iter().find(|(p, _)| *p == prefix).map(|(_, country)| *country)
}

/// VAT prefixes and the country each is (Greece writes EL).
const VAT_COUNTRIES: &[(&str, &str)] = &[
    ("AT", "AT"),
    ("BE", "BE"),
    ("BG", "BG"),
    ("CY", "CY"),
    ("CZ", "CZ"),
    ("DE", "DE"),
    ("DK", "DK"),
    ("EE", "EE"),
    ("EL", "GR"),
    ("GR", "GR"),
    ("ES", "ES"),
    ("FI", "FI"),
    ("FR", "FR"),
    ("GB", "GB"),
    ("HR", "HR"),
    ("HU", "HU"),
    ("IE", "IE"),
    ("IT", "IT"),
    ("LT", "LT"),
    ("LU", "LU"),
    ("LV", "LV"),
    ("MT", "MT"),
    ("NL", "NL"),
    ("NO", "NO"),
    ("PL", "PL"),
    ("PT", "PT"),
    ("RO", "RO"),
    ("SE", "SE"),
    ("SI", "SI"),
    ("SK", "SK"),
    ("XI", "GB"),
];

// --- VAT ids ---------------------------------------------------------------------------------

/// Labels of VAT and tax ids, and the countries that write each. An empty list is a label
/// every country uses (`VAT`, `Tax ID`): the site's country decides.
static VAT_LABELS: LazyLock<Vec<(Regex, &'static [&'static str])>> = LazyLock::new(|| {
    let label = |re: &str, countries: &'static [&'static str]| (labelled(re), countries);
    vec![
        label(
            r"ust\.?\s?-?\s?id(?:ent)?\.?\s?-?\s?nr\.?|umsatzsteuer-?\s?identifikationsnummer|ust-?id",
            &["DE", "AT"],
        ),
        label(r"uid(?:-nr\.?|-nummer)?|mwst(?:-?nr\.?)?", &["AT", "CH", "DE"]),
        label(r"vat(?:\s+(?:reg(?:istration)?\.?|id|no\.?|number|nr\.?))*|tax\s+id|tax\s+number", &[]),
        label(r"(?:n°\s*(?:de\s+)?)?tva(?:\s+intra-?\s?communautaire)?", &["FR", "BE", "LU", "CH"]),
        label(r"btw(?:-?\s?(?:nummer|nr\.?|id))?", &["NL", "BE"]),
        label(r"p\.\s?iva|partita\s+iva|c\.\s?f\.\s?e\s+p\.\s?iva", &["IT"]),
        label(r"c\.?i\.?f\.?|n\.?i\.?f\.?|nif-?iva", &["ES", "PT"]),
        label(r"nipc|contribuinte", &["PT"]),
        label(r"momsreg(?:istrerings)?(?:\.?\s?nr\.?|nummer)", &["SE"]),
        label(r"se-?nr\.?|moms-?nr\.?", &["DK"]),
        label(r"mva(?:-?nummer)?", &["NO"]),
        label(r"alv(?:-?\s?(?:numero|nro|tunnus))?", &["FI"]),
        label(r"nip", &["PL"]),
        label(r"dič|dic", &["CZ", "SK"]),
        label(r"ič\s?dph", &["SK"]),
        label(r"(?:közösségi\s+)?adószám", &["HU"]),
        label(r"α\.?\s?φ\.?\s?μ\.?|afm", &["GR"]),
        label(r"gstin|gst\s+(?:no\.?|number|in)", &["IN"]),
    ]
});

/// A label as a whole word, followed by what labels end with (`:`, `No.`, `Nr.`).
fn labelled(label: &str) -> Regex {
    Regex::new(&format!(
        r"(?i)(?:^|[^\p{{L}}\d])(?:{label})(?:\s*(?:-?nr\.?|no\.?|n[°º]|number|nummer|numero|#))?(?:[^\p{{L}}\d]|$)"
    ))
    .expect("static regex")
}

/// The first VAT id a label introduces that passes its country's check.
fn vat_id(text: &str, country: Option<&str>) -> Option<String> {
    for (label, countries) in VAT_LABELS.iter() {
        for found in label.find_iter(text) {
            let countries: Vec<&str> = match (countries.is_empty(), country) {
                (true, Some(c)) => vec![c],
                (true, None) => Vec::new(),
                (false, Some(c)) if countries.contains(&c) => {
                    std::iter::once(c).chain(countries.iter().copied().filter(|x| *x != c)).collect()
                }
                (false, _) => countries.to_vec(),
            };
            let found = numbers_after(text, found.end()).find_map(|(candidate, _)| {
                prefixed_vat(&candidate).or_else(|| {
                    countries.iter().find_map(|c| Some(format!("{}{}", vat_prefix(c), vat_body(c, &candidate)?)))
                })
            });
            if found.is_some() {
                return found;
            }
        }
    }
    // A Swiss UID or GSTIN needs no label: its shape and check say what it is.
    SELF_EVIDENT_VAT.find_iter(text).find_map(|m| checked_vat_id(m.as_str()))
}

static SELF_EVIDENT_VAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bCHE[\-\s]?\d{3}[.\s]?\d{3}[.\s]?\d{3}\s*(?:MWST|TVA|IVA)\b|\b\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]\b",
    )
    .expect("static regex")
});

/// The VAT prefix of a country (Greece's is EL).
fn vat_prefix(country: &str) -> &str {
    match country {
        "GR" => "EL",
        "CH" => "CHE",
        "IN" => "",
        c => c,
    }
}

/// `DE123456789` → checked; `EL…`, `GR…`, `CHE…`, a GSTIN too.
fn prefixed_vat(candidate: &str) -> Option<String> {
    if let Some(body) = candidate.strip_prefix("CHE") {
        return Some(format!("CHE{}", vat_body("CH", body.trim_end_matches("MWST").trim_end_matches("TVA"))?));
    }
    if candidate.len() == 15 && candidate.as_bytes()[..2].iter().all(u8::is_ascii_digit) {
        return vat_body("IN", candidate);
    }
    let prefix = candidate.get(..2)?;
    let country = VAT_COUNTRIES.iter().find(|(p, _)| *p == prefix)?.1;
    let body = vat_body(country, candidate.get(2..)?)?;
    Some(format!("{}{body}", vat_prefix(country)))
}

/// A VAT id's part after the prefix, normalised, when it has the country's form and check.
/// Countries without a check here take numbers of 8 to 12 characters with a digit.
fn vat_body(country: &str, body: &str) -> Option<String> {
    let d = digits(body);
    let ok = match country {
        "AT" => return body.strip_prefix('U').filter(|b| check::at(&digits(b))).map(|b| format!("U{b}")),
        "BE" => {
            let d = if d.len() == 9 { [&[0], d.as_slice()].concat() } else { d };
            return check::be(&d).then(|| d.iter().map(|x| x.to_string()).collect());
        }
        "CH" => check::ch(&d),
        "CZ" => check::cz(&d),
        "DE" => d.len() == 9 && check::iso7064_mod11_10(&d),
        "DK" => check::dk(&d),
        "ES" => check::es(body),
        "FI" => check::fi(&d),
        "FR" => check::fr_vat(body),
        "GB" | "XI" => check::gb(&d),
        "GR" => d.len() == 9 && check::gr(&d),
        "HU" => {
            // The domestic tax number 12345678-1-23 carries the VAT id in its first eight.
            let d = if d.len() == 11 && (1..=5).contains(&d[8]) { d[..8].to_vec() } else { d };
            return (d.len() == 8 && check::hu(&d)).then(|| d.iter().map(|x| x.to_string()).collect());
        }
        "IE" => check::ie(body),
        "IN" => check::gstin(body),
        "IT" => check::it(&d),
        "LU" => d.len() == 8 && check::lu(&d),
        "NL" => check::nl(body),
        "NO" => return check::no(&d).then(|| format!("{}MVA", body.trim_end_matches("MVA"))),
        "PL" => check::pl_nip(&d),
        "PT" => d.len() == 9 && check::pt(&d),
        "SE" => d.len() == 12 && body.ends_with("01") && check::luhn(&d[..10]),
        "SK" => d.len() == 10 && number(&d).is_multiple_of(11),
        c if VAT_COUNTRIES.iter().any(|(_, known)| *known == c) => (8..=12).contains(&body.len()) && !d.is_empty(),
        _ => false,
    };
    ok.then(|| body.to_string())
}

// --- Registers -------------------------------------------------------------------------------

/// Registers whose numbers follow their own label anywhere in a line.
static REGISTERS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let r = |re: &str, kind: &'static str| (Regex::new(re).expect("static regex"), kind);
    vec![
        // Germany: Amtsgericht Berlin-Charlottenburg, HRB 123456 B.
        r(r"\b(HR[AB]|GnR|PR|VR)\s*(?:-?Nr\.?)?\s*:?\s*(\d{1,7}(?:\s?[A-Z]{1,2}\b)?)", "de"),
        // Austria: Firmenbuch FN 123456a, Handelsgericht Wien.
        r(r"\bFN\s*(\d{1,7}\s?[a-z])\b", "at"),
        r(r"(?i)\b(?:firmenbuchnummer|registernummer)\s*:?\s*(\d{1,7}\s?[a-z])\b", "at"),
        // United Kingdom: Registered in England and Wales No. 01234567.
        r(
            r"(?i)registered\s+in\s+(england(?:\s*(?:and|&)\s*wales)?|scotland|northern\s+ireland|wales)\b[^.\n]{0,60}?\b(?:no\.?|number|nr\.?)\s*:?\s*([A-Z]{2}\d{6}|\d{6,8})\b",
            "uk",
        ),
        r(r"(?i)\bcompany\s+(?:registration\s+)?(?:no\.?|number|nr\.?)\s*:?\s*([A-Z]{2}\d{6}|\d{7,8})\b", "uk-number"),
        // France: RCS Lyon 812 345 678, R.C.S. Paris B 812 345 678; SIREN, SIRET.
        r(
            r"\bR\.? ?C\.? ?S\.? +([\p{Lu}][\p{L}\-]+(?:[ \-][\p{Lu}][\p{L}]+)?) +(?:[AB] +)?(\d{3} ?\d{3} ?\d{3})\b",
            "fr",
        ),
        r(r"\bSIRE[NT]\s*(?:n°|:)?\s*:?\s*(\d{3}\s?\d{3}\s?\d{3}(?:\s?\d{5})?)\b", "fr-siren"),
        // Netherlands: KvK 12345678.
        r(
            r"(?i)\b(?:kvk|k\.v\.k\.|kamer\s+van\s+koophandel|chamber\s+of\s+commerce)(?:[\s\-]*(?:nummer|nr\.?|number|no\.?))?\s*:?\s*(\d{8})\b",
            "nl",
        ),
        // Spain: Registro Mercantil de Madrid, Tomo …, Hoja M-123456.
        r(r"Registro\s+Mercantil\s+de\s+([\p{Lu}][\p{L}]+)", "es"),
        // Italy: REA MI-1234567; Registro delle Imprese di Milano.
        r(r"\bR\.?E\.?A\.?\s*(?:n\.?\s*)?:?\s*([A-Z]{2})[\s\-]*(\d{5,7})\b", "it"),
    ]
});

static SPANISH_SHEET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bhoja\s*(?:n[º°o]\.?\s*)?:?\s*([A-Z]{1,2}-?\s?\d{3,7})\b").expect("static regex")
});

static COURT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(Amtsgericht|Handelsgericht|Landesgericht) +([\p{Lu}][\p{L}\-]+(?:[ \-]\(?[\p{Lu}][\p{L}\-]+\)?)?)")
        .expect("static regex")
});

/// A register whose number follows a label: the label, the register's name, the country it is
/// kept in, and the check of the number.
struct Labelled {
    label: Regex,
    register: &'static str,
    country: &'static str,
    check: fn(&[u32]) -> bool,
}

static LABELLED_REGISTERS: LazyLock<Vec<Labelled>> = LazyLock::new(|| {
    let l = |label: &str, register, country, check| Labelled { label: labelled(label), register, country, check };
    let org_nr = r"org(?:anisations|anisasjons)?\.?\s?-?\s?n(?:umme)?r\.?|organisationsnummer|organisasjonsnummer|foretaksregisteret";
    vec![
        l(
            r"kbo|bce|ondernemingsnummer|num[ée]ro\s+d'entreprise|enterprise\s+number|rpr|rpm",
            "KBO/BCE",
            "BE",
            check::be,
        ),
        l(r"cro|companies\s+registration\s+office", "CRO", "IE", |d| (5..=6).contains(&d.len())),
        l(org_nr, "Bolagsverket", "SE", |d| d.len() == 10 && check::luhn(d)),
        l(org_nr, "Brønnøysundregistrene", "NO", check::no),
        l(r"cvr", "CVR", "DK", check::dk),
        l(r"y-tunnus|business\s+id|fo-nummer", "YTJ", "FI", check::fi),
        l(r"krs", "KRS", "PL", |d| d.len() == 10),
        l(r"regon", "REGON", "PL", check::regon),
        l(r"ičo?|identifikační\s+číslo", "IČO", "CZ", check::ico),
        l(r"cégjegyzékszám|cg\.", "Cégjegyzék", "HU", |d| d.len() == 10),
        l(r"γ\.?\s?ε\.?\s?μ\.?\s?η\.?|g\.?\s?e\.?\s?mi\.?", "ΓΕΜΗ", "GR", |d| (9..=12).contains(&d.len())),
    ]
});

/// Numbers whose shape says which register they are in, without a label.
static SELF_EVIDENT_REGISTERS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    vec![
        (Regex::new(r"\bCHE[\-\s]?\d{3}[.\s]?\d{3}[.\s]?\d{3}\b").expect("static regex"), "UID"),
        (
            Regex::new(r"\b[LU]\d{5}[A-Z]{2}\d{4}(?:PLC|PTC|GOI|SGC|FTC|GAP|NPL|ULL|ULT|OPC)\d{6}\b")
                .expect("static regex"),
            "Registrar of Companies",
        ),
    ]
});

/// The register the company is entered in and its number there, as the page writes it.
fn register(text: &str, country: Option<&str>) -> Option<(String, String)> {
    let court = || {
        COURT.captures(text).map(|c| {
            // The place, not the label that follows it on the same line ("Landesgericht
            // Innsbruck Registernummer: …").
            let place = &c[2];
            let labelled = text.get(c.get(2).map_or(0, |m| m.end())..).is_some_and(|rest| rest.starts_with(':'));
            let place = match place.rsplit_once(' ') {
                Some((first, last)) if labelled || last.to_lowercase().ends_with("nummer") => first,
                _ => place,
            };
            format!("{} {place}", &c[1])
        })
    };
    for (re, kind) in REGISTERS.iter() {
        for c in re.captures_iter(text) {
            let (register, number) = match *kind {
                "de" => (court().unwrap_or_else(|| "Handelsregister".into()), format!("{} {}", &c[1], &c[2])),
                "at" => (court().unwrap_or_else(|| "Firmenbuch".into()), format!("FN {}", c[1].replace(' ', ""))),
                "uk" => (format!("Companies House ({})", title_case(&c[1])), companies_house(&c[2])),
                "uk-number" => ("Companies House".into(), companies_house(&c[1])),
                "fr" if check::luhn(&digits(&c[2])) => (format!("RCS {}", &c[1]), c[2].to_string()),
                "fr-siren" if check::luhn(&digits(&c[1])) => {
                    let kind = if digits(&c[1]).len() == 14 { "SIRET" } else { "SIREN" };
                    (kind.into(), c[1].to_string())
                }
                "nl" => ("KvK".into(), c[1].to_string()),
                "es" => {
                    let sheet = SPANISH_SHEET.captures(text).map(|h| h[1].to_string()).unwrap_or_default();
                    (format!("Registro Mercantil de {}", &c[1]), sheet)
                }
                "it" => (format!("REA {}", &c[1]), c[2].to_string()),
                _ => continue,
            };
            return Some((register, number));
        }
    }
    let mut labelled: Vec<&Labelled> = LABELLED_REGISTERS.iter().collect();
    // The site's own country's registers first, where labels are shared (org.nr).
    labelled.sort_by_key(|r| Some(r.country) != country);
    for r in labelled {
        for found in r.label.find_iter(text) {
            if let Some((_, written)) = numbers_after(text, found.end())
                .find(|(c, _)| c.bytes().all(|b| b.is_ascii_digit()) && (r.check)(&digits(c)))
            {
                return Some((r.register.to_string(), written));
            }
        }
    }
    SELF_EVIDENT_REGISTERS.iter().find_map(|(re, register)| {
        re.find_iter(text).find_map(|m| {
            let d = digits(m.as_str());
            let valid = *register != "UID" || check::ch(&d);
            valid.then(|| (register.to_string(), m.as_str().to_string()))
        })
    })
}

/// A Companies House number in its register's eight characters (`9479495` → `09479495`).
fn companies_house(number: &str) -> String {
    if number.chars().all(|c| c.is_ascii_digit()) { format!("{number:0>8}") } else { number.to_string() }
}

fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| match w.to_lowercase().as_str() {
            "and" => "and".to_string(),
            lower => {
                let mut chars = lower.chars();
                chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// --- Reading numbers -------------------------------------------------------------------------

/// What may be numbers after a label, on its line (or the next, when the label ends its line)
/// and within 80 characters of it: each run of
/// words made of digits, capitals and the separators numbers are written with (`DE 123 456 789`,
/// `556036-0793`, `CHE-123.456.789`), as [candidates], the run nearest the label first.
fn numbers_after(text: &str, at: usize) -> impl Iterator<Item = (String, String)> + '_ {
    let mut lines = text.get(at..).unwrap_or_default().split('\n');
    let mut line = lines.next().unwrap_or_default();
    // A label that ends its line (`Umsatzsteuer-Identifikationsnummer:`) has its value below.
    if !line.chars().any(char::is_alphanumeric) {
        line = lines.next().unwrap_or_default();
    }
    let mut runs: Vec<Vec<&str>> = vec![Vec::new()];
    for (start, word) in words_with_offsets(line) {
        if start > 80 {
            break;
        }
        let word = word.trim_start_matches([':', '(']).trim_end_matches([',', ';', ')', ':']);
        let number_like = !word.is_empty()
            && word.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || matches!(c, '.' | '-' | '/'))
            && (word.chars().any(|c| c.is_ascii_digit()) || (2..=4).contains(&word.len()));
        match runs.last_mut() {
            Some(run) if number_like && run.len() < 6 => run.push(word),
            Some(run) if !run.is_empty() => runs.push(Vec::new()),
            _ => {}
        }
    }
    runs.into_iter().filter(|r| !r.is_empty()).flat_map(candidates)
}

/// The words of a line with where each starts.
fn words_with_offsets(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split_whitespace().map(move |w| (w.as_ptr() as usize - line.as_ptr() as usize, w))
}

/// The longest first to the shortest joined runs of the words, each without separators, with
/// how the page wrote it (`DE 123 456 789` → `DE123456789`, then `DE123456`, …).
fn candidates(words: Vec<&str>) -> impl Iterator<Item = (String, String)> + '_ {
    (1..=words.len()).rev().map(move |k| {
        let written = words[..k].join(" ").trim_end_matches(['.', '-', '/']).to_string();
        let bare = written.chars().filter(char::is_ascii_alphanumeric).collect();
        (bare, written)
    })
}

/// The digits of a string, as numbers (letters and separators dropped).
fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// The value of a short run of digits (up to 18 of them), for modulo checks.
fn number(d: &[u32]) -> u64 {
    d.iter().take(18).fold(0, |n, &x| n * 10 + u64::from(x))
}

/// Check digits of the numbers above, each as its issuer specifies it.
mod check {
    use super::{digits, number};

    pub fn weighted(d: &[u32], weights: &[u32]) -> u32 {
        d.iter().zip(weights).map(|(a, b)| a * b).sum()
    }

    /// Luhn (ISO/IEC 7812): SIREN, SIRET, Swedish organisationsnummer, Italian partita IVA.
    pub fn luhn(d: &[u32]) -> bool {
        !d.is_empty()
            && d.iter()
                .rev()
                .enumerate()
                .map(|(i, &x)| if i % 2 == 1 { (x * 2) % 9 + u32::from(x == 9) * 9 } else { x })
                .sum::<u32>()
                % 10
                == 0
    }

    /// ISO 7064 MOD 11,10 (German USt-IdNr).
    pub fn iso7064_mod11_10(d: &[u32]) -> bool {
        let Some((&last, body)) = d.split_last() else { return false };
        let mut product = 10;
        for &x in body {
            let sum = match (x + product) % 10 {
                0 => 10,
                s => s,
            };
            product = (2 * sum) % 11;
        }
        (11 - product) % 10 == last
    }

    pub fn at(d: &[u32]) -> bool {
        d.len() == 8 && {
            let sum: u32 =
                d[..7].iter().enumerate().map(|(i, &x)| if i % 2 == 1 { (x * 2) / 10 + (x * 2) % 10 } else { x }).sum();
            (10 - (sum + 4) % 10) % 10 == d[7]
        }
    }

    /// Danish CVR: weights 2 7 6 5 4 3 2 1, a multiple of 11.
    pub fn dk(d: &[u32]) -> bool {
        d.len() == 8 && weighted(d, &[2, 7, 6, 5, 4, 3, 2, 1]).is_multiple_of(11)
    }

    /// Belgian enterprise number: 0 or 1 then eight digits and 97 minus their remainder by 97.
    pub fn be(d: &[u32]) -> bool {
        d.len() == 10 && d[0] <= 1 && 97 - number(&d[..8]) % 97 == number(&d[8..])
    }

    /// Swiss UID (CHE-123.456.789): mod 11 with weights 5 4 3 2 7 6 5 4.
    pub fn ch(d: &[u32]) -> bool {
        d.len() == 9 && {
            let r = 11 - weighted(d, &[5, 4, 3, 2, 7, 6, 5, 4]) % 11;
            r != 10 && r % 11 == d[8]
        }
    }

    /// Czech DIČ: a company's IČO (8 digits), or a person's birth number (9–10 digits).
    pub fn cz(d: &[u32]) -> bool {
        match d.len() {
            8 => ico(d),
            9 => true,
            10 => number(d).is_multiple_of(11),
            _ => false,
        }
    }

    /// Czech and Slovak IČO: mod 11 with weights 8 … 2.
    pub fn ico(d: &[u32]) -> bool {
        d.len() == 8 && (11 - weighted(d, &[8, 7, 6, 5, 4, 3, 2]) % 11) % 10 == d[7]
    }

    /// Finnish Y-tunnus (1234567-8) and ALV number.
    pub fn fi(d: &[u32]) -> bool {
        d.len() == 8 && {
            let r = weighted(d, &[7, 9, 10, 5, 8, 4, 2]) % 11;
            r != 1 && (11 - r) % 11 == d[7]
        }
    }

    /// French TVA: a two-digit key over the SIREN (or two letters in the newer scheme).
    pub fn fr_vat(body: &str) -> bool {
        let (key, siren) = (body.get(..2).unwrap_or_default(), digits(body.get(2..).unwrap_or_default()));
        siren.len() == 9
            && body.len() == 11
            && match key.parse::<u64>() {
                Ok(key) => key == (12 + 3 * (number(&siren) % 97)) % 97,
                Err(_) => key.chars().all(|c| c.is_ascii_alphanumeric()) && luhn(&siren),
            }
    }

    /// British VAT: weights 8 … 2 and the last two digits, by 97 (0, or 42 or 55 since 2010).
    pub fn gb(d: &[u32]) -> bool {
        (d.len() == 9 || d.len() == 12) && {
            let sum = weighted(d, &[8, 7, 6, 5, 4, 3, 2]) + number(&d[7..9]) as u32;
            matches!(sum % 97, 0 | 42 | 55)
        }
    }

    /// Italian partita IVA: Luhn, and an issuing office (digits 8–10) that exists.
    pub fn it(d: &[u32]) -> bool {
        d.len() == 11 && luhn(d) && matches!(number(&d[7..10]), 1..=100 | 120 | 121 | 888 | 999)
    }

    /// Greek ΑΦΜ: powers of two.
    pub fn gr(d: &[u32]) -> bool {
        let sum: u32 = d[..8].iter().enumerate().map(|(i, &x)| x << (8 - i)).sum();
        sum % 11 % 10 == d[8]
    }

    pub fn hu(d: &[u32]) -> bool {
        (10 - weighted(d, &[9, 7, 3, 1, 9, 7, 3]) % 10) % 10 == d[7]
    }

    /// Irish VAT: seven digits and a check letter (and, since 2013, a second letter).
    pub fn ie(body: &str) -> bool {
        let chars: Vec<char> = body.chars().collect();
        if !(8..=9).contains(&chars.len()) || !chars[..7].iter().all(char::is_ascii_digit) {
            return false;
        }
        let d = digits(&body[..7]);
        let extra = chars.get(8).map_or(0, |c| if *c == 'H' { 8 } else { (*c as u32).saturating_sub('A' as u32 - 1) });
        let r = (weighted(&d, &[8, 7, 6, 5, 4, 3, 2]) + extra * 9) % 23;
        "WABCDEFGHIJKLMNOPQRSTUV".chars().nth(r as usize) == Some(chars[7])
    }

    /// Indian GSTIN: fifteen characters, the last a mod-36 check of the fourteen before.
    pub fn gstin(body: &str) -> bool {
        let value = |c: char| c.to_digit(36);
        let values: Option<Vec<u32>> = body.chars().map(value).collect();
        let Some(values) = values.filter(|v| v.len() == 15) else { return false };
        let sum: u32 = values[..14]
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let p = v * if i % 2 == 1 { 2 } else { 1 };
                p / 36 + p % 36
            })
            .sum();
        (36 - sum % 36) % 36 == values[14]
    }

    pub fn lu(d: &[u32]) -> bool {
        number(&d[..6]) % 89 == number(&d[6..])
    }

    /// Dutch BTW: nine digits, B, two digits; mod 11 (older) or mod 97 over the whole id.
    pub fn nl(body: &str) -> bool {
        let Some((nine, suffix)) = body.split_once('B') else { return false };
        let d = digits(nine);
        if d.len() != 9 || suffix.len() != 2 || !suffix.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
        let eleven = (weighted(&d, &[9, 8, 7, 6, 5, 4, 3, 2]) + 11 * 9 - d[8]).is_multiple_of(11);
        let ninety_seven =
            format!("2321{nine}11{suffix}").bytes().fold(0u64, |r, b| (r * 10 + u64::from(b - b'0')) % 97) == 1;
        eleven || ninety_seven
    }

    /// Norwegian organisasjonsnummer: mod 11 with weights 3 2 7 6 5 4 3 2.
    pub fn no(d: &[u32]) -> bool {
        d.len() == 9 && {
            let r = 11 - weighted(d, &[3, 2, 7, 6, 5, 4, 3, 2]) % 11;
            r != 10 && r % 11 == d[8]
        }
    }

    /// Polish NIP: mod 11 with weights 6 5 7 2 3 4 5 6 7.
    pub fn pl_nip(d: &[u32]) -> bool {
        d.len() == 10 && {
            let r = weighted(d, &[6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11;
            r != 10 && r == d[9]
        }
    }

    /// Polish REGON, nine or fourteen digits.
    pub fn regon(d: &[u32]) -> bool {
        let weights: &[u32] = match d.len() {
            9 => &[8, 9, 2, 3, 4, 5, 6, 7],
            14 => &[2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8],
            _ => return false,
        };
        weighted(d, weights) % 11 % 10 == d[d.len() - 1]
    }

    /// Portuguese NIF/NIPC: mod 11 with weights 9 … 2.
    pub fn pt(d: &[u32]) -> bool {
        let r = 11 - weighted(d, &[9, 8, 7, 6, 5, 4, 3, 2]) % 11;
        (if r >= 10 { 0 } else { r }) == d[8]
    }

    /// Spanish NIF: a company's CIF (letter, seven digits, control), a resident's DNI or NIE.
    pub fn es(body: &str) -> bool {
        let chars: Vec<char> = body.chars().collect();
        if chars.len() != 9 {
            return false;
        }
        const LETTERS: &str = "TRWAGMYFPDXBNJZSQVHLCKE";
        let letter_of = |n: u64| LETTERS.chars().nth((n % 23) as usize);
        let (first, last) = (chars[0], chars[8]);
        let middle = digits(&body[1..8]);
        if middle.len() != 7 {
            return false;
        }
        match first {
            '0'..='9' => digits(&body[..8]).len() == 8 && letter_of(number(&digits(&body[..8]))) == Some(last),
            'X' | 'Y' | 'Z' => {
                let lead = u64::from(first as u32 - 'X' as u32);
                letter_of(lead * 10_000_000 + number(&middle)) == Some(last)
            }
            'A'..='W' => {
                let sum: u32 = middle
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| if i % 2 == 0 { (x * 2) / 10 + (x * 2) % 10 } else { x })
                    .sum();
                let control = (10 - sum % 10) % 10;
                last.to_digit(10) == Some(control) || "JABCDEFGHI".chars().nth(control as usize) == Some(last)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vat(text: &str, country: Option<&str>) -> Option<String> {
        read(text, country).vat_id
    }

    #[test]
    fn vat_ids_pass_their_country_s_check() {
        // One id per scheme, each passing its issuer's check (cross-checked with python-stdnum).
        for (written, id) in [
            ("USt-IdNr.: DE 196587129", "DE196587129"),
            ("UID: ATU 68683604", "ATU68683604"),
            ("BTW BE 1015.830.223", "BE1015830223"),
            ("DIČ: CZ6807080599", "CZ6807080599"),
            ("VAT GB 980780684", "GB980780684"),
            ("TVA intracommunautaire : FR 40 303 265 045", "FR40303265045"),
            ("P.IVA 00743110157", "IT00743110157"),
            ("NIF: B86561412", "ESB86561412"),
            ("Moms-nr. DK 25 31 37 63", "DK25313763"),
            ("VAT: SE556036079301", "SE556036079301"),
            ("NIP: PL 526-025-09-95", "PL5260250995"),
        ] {
            assert_eq!(vat(written, None).as_deref(), Some(id), "{written}");
        }
    }

    #[test]
    fn a_bare_number_gets_the_prefix_of_the_country_its_label_or_site_says() {
        assert_eq!(vat("adószám 10771437-2-42", None).as_deref(), Some("HU10771437"));
        assert_eq!(vat("ΑΦΜ 099866607", None).as_deref(), Some("EL099866607"));
        assert_eq!(vat("Partita IVA 00743110157", None).as_deref(), Some("IT00743110157"));
        assert_eq!(vat("NIP 5260250995", None).as_deref(), Some("PL5260250995"));
        assert_eq!(vat("VAT number: 980780684", Some("GB")).as_deref(), Some("GB980780684"));
        assert_eq!(vat("VAT number: 980780684", None), None, "no country, no prefix");
        assert_eq!(vat("Org.nr 923 609 016 MVA", Some("NO")), None, "an org.nr is a register number");
        assert_eq!(vat("MVA-nummer: NO 923609016 MVA", None).as_deref(), Some("NO923609016MVA"));
        assert_eq!(vat("CHE-116.281.710 MWST", None).as_deref(), Some("CHE116281710"));
        assert_eq!(vat("GSTIN: 27AAPFU0939F1ZV", None).as_deref(), Some("27AAPFU0939F1ZV"));
    }

    #[test]
    fn a_number_failing_its_check_is_not_reported() {
        assert_eq!(vat("USt-IdNr.: DE 123 456 789", None), None);
        assert_eq!(vat("P.IVA 12345678901", None), None);
        assert_eq!(vat("VAT No. GB 123 4567 89", None), None);
        assert_eq!(vat("NIP 1234567890", None), None);
        assert_eq!(vat("VAT number is available on request", Some("GB")), None);
        // The label's first number fails; a later, valid one is taken.
        assert_eq!(vat("VAT: DE123456789 · USt-IdNr. DE196587129", None).as_deref(), Some("DE196587129"));
    }

    #[test]
    fn registers_by_their_labels_and_checks() {
        let reg = |text: &str, country| {
            let r = read(text, country);
            r.register.zip(r.number)
        };
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(reg("SIRET : 552 081 317 00018", None), pair("SIRET", "552 081 317 00018"));
        assert_eq!(reg("SIREN 552 081 317", None), pair("SIREN", "552 081 317"));
        assert_eq!(reg("SIREN 552 081 318", None), None, "fails Luhn");
        assert_eq!(reg("Org.nr: 556036-0793", Some("SE")), pair("Bolagsverket", "556036-0793"));
        assert_eq!(reg("Org.nr. 923 609 016 MVA", Some("NO")), pair("Brønnøysundregistrene", "923 609 016"));
        assert_eq!(reg("CVR-nr.: 25313763", None), pair("CVR", "25313763"));
        assert_eq!(reg("Y-tunnus: 0112038-9", None), pair("YTJ", "0112038-9"));
        assert_eq!(reg("KRS 0000028860, REGON 012100784", None), pair("KRS", "0000028860"));
        assert_eq!(reg("REGON: 012100784", None), pair("REGON", "012100784"));
        assert_eq!(reg("IČO: 25596641", None), pair("IČO", "25596641"));
        assert_eq!(reg("IČO: 25596642", None), None, "fails its check");
        assert_eq!(reg("Cégjegyzékszám: Cg. 01-09-167740", None), pair("Cégjegyzék", "01-09-167740"));
        assert_eq!(reg("ΓΕΜΗ: 122766001000", None), pair("ΓΕΜΗ", "122766001000"));
        assert_eq!(reg("UID CHE-116.281.710", None), pair("UID", "CHE-116.281.710"));
        assert_eq!(reg("CIN: L24110MH1947PLC005719", None), pair("Registrar of Companies", "L24110MH1947PLC005719"));
        assert_eq!(reg("Ondernemingsnummer 0403.170.701", None), pair("KBO/BCE", "0403.170.701"));
        assert_eq!(reg("Tel. 25313763", None), None, "no label, no register");
        assert_eq!(reg("Company Number: 9479495", None), pair("Companies House", "09479495"), "a leading 0 restored");
        assert_eq!(
            reg("Registergericht: Landesgericht Innsbruck\nRegisternummer: 1213422a", None),
            pair("Landesgericht Innsbruck", "FN 1213422a")
        );
        assert_eq!(
            reg("Registergericht: Landesgericht Innsbruck Registernummer: 1213422a", None),
            pair("Landesgericht Innsbruck", "FN 1213422a"),
            "the court's place, not the next label"
        );
        assert_eq!(
            reg("Amtsgericht Wiener Neustadt, FN 12345a", None),
            pair("Amtsgericht Wiener Neustadt", "FN 12345a")
        );
        assert_eq!(vat("Umsatzsteuer-Identifikationsnummer:\nDE 196587129", None).as_deref(), Some("DE196587129"));
    }

    #[test]
    fn the_check_digit_schemes() {
        assert!(check::luhn(&digits("79927398713")));
        assert!(!check::luhn(&digits("79927398710")));
        assert!(check::iso7064_mod11_10(&digits("136695976")));
        assert!(check::es("A58818501"), "a CIF with a digit control");
        assert!(check::es("12345678Z"), "a DNI");
        assert!(check::es("X1234567L"), "an NIE");
        assert!(!check::es("B12345678"));
        assert!(check::ie("6433435F"));
        assert!(check::nl("004495445B01"));
        assert!(check::pt(&digits("501964843")));
        assert!(check::fi(&digits("01120389")));
        assert_eq!(country_of_vat("EL099866607"), Some("GR"));
        assert_eq!(country_of_vat("CHE116281710"), Some("CH"));
    }
}
