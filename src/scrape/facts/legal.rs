//! Company facts from where companies must state them: imprint and legal pages (Impressum,
//! mentions légales, colofon, aviso legal, note legali, "Registered in England and Wales No. …")
//! and footers. Read from a page's [lines](crate::scrape::read::lines), with labels in English,
//! German, French, Dutch, Spanish and Italian: the legal name with its legal form, the register
//! and number, the VAT id, the directors, the registered address, and the emails and phones
//! stated there. Sections about someone else — the host, the web agency, the auditor, the transfer
//! agent, the photographer — are read past, so that their names and addresses never become the
//! company's.

use crate::scrape::facts::address::address;
use crate::scrape::facts::labels::{LEGAL_FORMS, LEGAL_NAME, PHONE_LABEL, legal_name_span};
use crate::scrape::facts::registers;
use crate::scrape::model::report::{Address, Registration};
use crate::scrape::model::text;
use crate::scrape::read::lines::Line;
use crate::scrape::read::parties::{segments, third_party_label};
use regex::Regex;
use std::sync::LazyLock;

/// What one page states of the company that publishes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegalFacts {
    /// The company's name with its legal form (`Acme Rockets GmbH`).
    pub legal_name: Option<String>,
    pub registration: Registration,
    pub directors: Vec<String>,
    pub address: Option<Address>,
    /// Emails written in the text (de-obfuscated), outside third parties' sections.
    pub emails: Vec<String>,
    /// Phone numbers labelled as such (not fax), as written.
    pub phones: Vec<String>,
    /// Whom a copyright line names as the site's holder (`© 2024 Acme GmbH` → `Acme GmbH`).
    pub holder: Option<String>,
}

impl LegalFacts {
    /// Whether the page states any fact of identity (a name, a register, an id, directors).
    pub fn identifies(&self) -> bool {
        self.legal_name.is_some() || !self.registration.is_empty() || !self.directors.is_empty()
    }
}

/// Reads the company's facts from a page's lines. `country` is the country the site is
/// believed to be in (its TLD or language), for addresses that do not name theirs.
pub fn read(lines: &[Line], country: Option<&str>) -> LegalFacts {
    let own = own_lines(lines);
    let joined = own.join("\n");
    LegalFacts {
        legal_name: own.iter().find_map(|l| legal_name(l, country)),
        registration: registers::read(&joined, country),
        directors: directors(&own),
        address: address(&own, country),
        emails: emails(&joined),
        phones: phones(&joined, &own),
        holder: own.iter().find_map(|l| copyright_holder(l)),
    }
}

static COPYRIGHT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:©|\(c\)|copyright)(?:\s*(?:©|copyright))?\s*(?:\d{4}(?:\s*[-–—/]\s*\d{2,4})?\s*,?\s*)?(?:by\s+)?(?P<holder>[^|·•;©]{2,80})")
        .expect("static regex")
});

/// The holder a copyright line names: `© 2024 Acme GmbH. All rights reserved.` → `Acme GmbH`,
/// `© 2012-2026 by www.acme.example` → `acme.example`. Years, "all rights reserved" and what
/// follows a sentence's end are left out; a holder of more than six words is a sentence.
fn copyright_holder(line: &str) -> Option<String> {
    const RESERVED: &[&str] = &[
        "all rights",
        "alle rechte",
        "tous droits",
        "todos los derechos",
        "tutti i diritti",
        "alle rettigheder",
        "alle rettigheter",
        "alla rättigheter",
        "wszelkie prawa",
        "všechna práva",
        "minden jog",
        "kaikki oikeudet",
        "todos os direitos",
    ];
    let caps = COPYRIGHT.captures(line)?;
    let mut holder = caps.name("holder")?.as_str().trim_start_matches(|c: char| !c.is_alphanumeric());
    let lower = holder.to_lowercase();
    if let Some(at) = RESERVED.iter().filter_map(|r| lower.find(r)).min() {
        holder = holder.get(..at)?;
    }
    // A sentence ends at a full stop before a space (`Acme GmbH. Registered …`), a domain's dots stay.
    if let Some(at) = holder.find(". ") {
        holder = &holder[..at];
    }
    for dash in [" - ", " – ", " — "] {
        holder = holder.split(dash).next().unwrap_or_default();
    }
    let holder = holder.trim().trim_end_matches([',', '.', ':']).trim();
    let holder = holder.strip_prefix("www.").unwrap_or(holder);
    let holder = holder.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' ' || c == '-').trim();
    let words = holder.split_whitespace().count();
    let plausible = (1..=6).contains(&words)
        && holder.chars().any(char::is_alphabetic)
        && holder.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || c.is_lowercase())
        && !holder.contains("://");
    plausible.then(|| holder.to_string())
}

/// Labels of a privacy policy's controller: the one party of the policy that is the company.
const CONTROLLER: &[&str] = &[
    "verantwortlicher",
    "verantwortliche stelle",
    "verantwortlich",
    "controller",
    "data controller",
    "responsable du traitement",
    "responsable",
    "titolare del trattamento",
    "titolare",
    "verwerkingsverantwoordelijke",
    "adatkezelő",
    "personuppgiftsansvarig",
    "behandlingsansvarlig",
    "dataansvarlig",
    "rekisterinpitäjä",
    "administrator danych",
    "správce",
    "responsável",
];

/// What a privacy policy states of the company: only its controller's block (the line that
/// labels the controller and the lines under it, up to the next heading) is read, since the
/// rest of such a page names processors, authorities and networks.
pub fn read_controller(lines: &[Line], country: Option<&str>) -> LegalFacts {
    const BLOCK_LINES: usize = 8;
    // The label stands among a line's first words.
    let labelled = |text: &str| {
        let words = text::words(text);
        let head = &words[..words.len().min(12)];
        CONTROLLER.iter().any(|label| text::has_phrase(head, label, 0))
    };
    let Some(at) = lines.iter().position(|l| labelled(&l.text)) else { return LegalFacts::default() };
    let mut block = vec![lines[at].clone()];
    block.extend(
        lines[at + 1..].iter().take(BLOCK_LINES).take_while(|l| !is_heading(&l.text) || l.text.len() < 3).cloned(),
    );
    read(&block, country)
}

/// The company's own text: each line's segments that stand outside a third party's section and
/// outside quotations. A third party's label opens a section for the rest of its line, and when
/// it stands alone as a heading, for the lines under it up to the next heading (at most six).
fn own_lines(lines: &[Line]) -> Vec<String> {
    const SECTION_LINES: usize = 6;
    let mut out = Vec::new();
    let mut section_left = 0usize;
    for line in lines.iter().filter(|l| !l.quoted) {
        if section_left > 0 && is_heading(&line.text) && !third_party_label(&line.text) {
            section_left = 0;
        }
        if section_left > 0 {
            section_left -= 1;
            continue;
        }
        let mut kept = Vec::new();
        for (i, segment) in segments(&line.text).enumerate() {
            if third_party_label(segment) {
                if i == 0 && segment.split_whitespace().count() <= 8 {
                    section_left = SECTION_LINES;
                }
                break;
            }
            kept.push(segment);
        }
        if !kept.is_empty() {
            out.push(kept.join(" | "));
        }
    }
    out
}

/// A heading: a few words, no figures, no address or legal form.
fn is_heading(text: &str) -> bool {
    let words = text.split_whitespace().count();
    (1..=6).contains(&words)
        && !text.contains(|c: char| c.is_ascii_digit() || c == '@')
        && !LEGAL_NAME.is_match(text)
        && !text.trim_end().ends_with(',')
        && crate::scrape::facts::address::country_named(text).is_none()
}

/// Words that stand before a name without being part of it.
const NOT_NAME: &[&str] = &[
    "copyright",
    "impressum",
    "imprint",
    "anbieter",
    "betreiber",
    "herausgeber",
    "die",
    "der",
    "das",
    "the",
    "la",
    "le",
    "les",
    "el",
    "il",
    "lo",
    "de",
    "het",
    "firma",
    "société",
    "ragione",
    "sociale",
    "razón",
    "social",
    "website",
    "operated",
    "published",
    "all",
    "rights",
    "reserved",
    "a",
    "az",
    "en",
    "den",
    "o",
    "os",
    "as",
];

/// Words that introduce the company's name: "operated by", "published by", "un service de".
const INTRODUCING: &[&str] = &[
    "by", "von", "par", "door", "por", "da", "di", "från", "af", "av", "fra", "od", "name", "nom", "naam", "nombre",
    "nome", "company", "entity", "(c)", "©",
];

/// The legal name a line states as its own subject: `Acme Rockets GmbH` at the start of the line
/// or of one of its parts, after a label (`Betreiber:`), a copyright sign and years, or words
/// that introduce an operator ("operated by"). A name inside a sentence about something else
/// ("a web analytics service of Google Inc.", "hosted at Example Ltd") is someone else's.
fn legal_name(line: &str, country: Option<&str>) -> Option<String> {
    segments(line).find_map(|segment| {
        LEGAL_NAME.captures_iter(segment).find_map(|caps| {
            let (start, end) = legal_name_span(&caps)?;
            let form_fits = caps.name("form").is_none_or(|f| form_of_the_country(f.as_str(), country));
            if !introduces(&segment[..start]) || !form_fits {
                return None;
            }
            let mut words: Vec<&str> = segment[start..end].split_whitespace().collect();
            while words.len() > 1 && not_name(words[0]) {
                words.remove(0);
            }
            let name = words.join(" ");
            (name.chars().count() <= 80).then_some(name)
        })
    })
}

/// Whether a legal form may stand where the site is: the Nordic `AB` and `AS` are also a
/// Canadian province and an English word, so they count only on a Nordic site.
fn form_of_the_country(form: &str, country: Option<&str>) -> bool {
    match form {
        "AB" => matches!(country, Some("SE" | "FI")),
        "AS" | "ASA" => matches!(country, Some("NO" | "DK")),
        _ => true,
    }
}

/// Whether the words before a name leave it the subject: a short label and its colon, then only
/// articles, a copyright sign, years and introducing words.
fn introduces(before: &str) -> bool {
    let before = match before.rsplit_once(':') {
        Some((label, rest)) if label.split_whitespace().count() <= 8 => rest,
        _ => before,
    };
    before.split_whitespace().all(|w| not_name(w) || INTRODUCING.contains(&w.to_lowercase().as_str()))
}

/// A word that stands before a name without being part of it: an article, a label word, a
/// copyright sign or a year. A word in capitals is a name's ("ALL IN HOLDINGS").
fn not_name(word: &str) -> bool {
    let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
    let year = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit() || c == '-') && bare.len() >= 4;
    let capitals = bare.chars().count() > 1 && bare.chars().all(|c| !c.is_lowercase());
    bare.is_empty()
        || year
        || (!capitals && NOT_NAME.contains(&word.trim_end_matches([':', ',']).to_lowercase().as_str()))
}

/// A legal name without its legal form: `Brückner Maschinenbau GmbH` → `Brückner Maschinenbau`.
pub fn without_form(name: &str) -> String {
    static FORM_AT_END: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(&format!(r",?\s+(?:{LEGAL_FORMS})$")).expect("static regex"));
    let bare = FORM_AT_END.replace(name.trim(), "").trim().to_string();
    if bare.is_empty() { name.trim().to_string() } else { bare }
}

static DIRECTOR_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|\|\s*)(?:vertretungsberechtigte[rn]?\s+)?(?:geschäftsführ(?:er(?:in|innen)?|ung|ende[rn]?\s+gesellschafter(?:in)?)|vertreten\s+durch(?:\s+(?:den|die)\s+geschäftsführer(?:in)?)?|vorstand|managing\s+directors?|directors?|directeur\s+de\s+(?:la\s+)?publication|directrice\s+de\s+(?:la\s+)?publication|président(?:e)?|gérant(?:e)?s?|représentant(?:e)?\s+légal(?:e)?|statutair\s+bestuurders?|bestuurders?|directie|administrador(?:es)?(?:\s+únicos?)?|amministratore(?:\s+(?:delegato|unico))?|legale\s+rappresentante)\s*:?\s*",
    )
    .expect("static regex")
});

/// Titles before a name.
const TITLES: &[&str] = &[
    "dr.",
    "prof.",
    "dipl.-ing.",
    "dipl.-kfm.",
    "mr",
    "mr.",
    "ms",
    "ms.",
    "mrs",
    "mrs.",
    "m.",
    "mme",
    "herr",
    "frau",
    "dhr.",
    "mevr.",
    "sr.",
    "sra.",
    "dott.",
    "ing.",
];
const PARTICLES: &[&str] = &["von", "van", "de", "der", "den", "di", "da", "la", "le", "del", "zu", "ter", "du"];

/// A person's name: two to four words, each a capital (or a particle), no figures.
fn person(raw: &str) -> Option<String> {
    let mut words: Vec<&str> = raw.split_whitespace().collect();
    while words.first().is_some_and(|w| TITLES.contains(&w.to_lowercase().as_str())) {
        words.remove(0);
    }
    let plausible = (2..=4).contains(&words.len())
        && words.iter().all(|w| {
            PARTICLES.contains(w)
                || (w.chars().next().is_some_and(char::is_uppercase)
                    && w.chars().all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '.'))
        })
        && !LEGAL_NAME.is_match(raw);
    plausible.then(|| words.join(" "))
}

/// The people the imprint names as the company's directors or representatives.
fn directors(own: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, line) in own.iter().enumerate() {
        let Some(label) = DIRECTOR_LABEL.find(line) else { continue };
        let rest = line[label.end()..].split('|').next().unwrap_or_default();
        // The names follow on the label's line, or on the lines under a label standing alone.
        let candidates: Vec<&str> = if rest.trim().is_empty() {
            own.iter().skip(i + 1).take(4).map(String::as_str).take_while(|l| person_list(l).is_some()).collect()
        } else {
            vec![rest]
        };
        for names in candidates.iter().filter_map(|c| person_list(c)) {
            for name in names {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        if !out.is_empty() {
            break;
        }
    }
    out.truncate(10);
    out
}

/// `Anna Schmidt, Jonas Weber und Dr. Eva Roth` → the three names; `None` unless every part is one.
fn person_list(text: &str) -> Option<Vec<String>> {
    static SPLIT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r",|;|\s+(?:und|and|et|en|y|e|&)\s+").expect("static regex"));
    let text = text.trim().trim_end_matches('.');
    let names: Vec<String> =
        SPLIT.split(text).map(str::trim).filter(|s| !s.is_empty()).map(person).collect::<Option<_>>()?;
    (!names.is_empty()).then_some(names)
}

static PHONE_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\+?[\d(][\d ()./\-\u{a0}]{5,40}\d").expect("static regex"));

static STANDALONE_PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\+\d[\d ()./\-\u{a0}]{6,22}\d)(?:-\d)?$").expect("static regex"));

/// Numbers after a phone label in `text` (`970 19 400 / 907 63 475` is two), then numbers
/// written internationally on a line or a line's part of their own in `own`, with no label
/// (`+420 603 788 636`; `+234 1 2714711-2`, a range of lines, is its first), as written. Fax
/// numbers are not phones.
fn phones(text: &str, own: &[String]) -> Vec<String> {
    let labelled = PHONE_LABEL
        .find_iter(text)
        .filter(|label| {
            let before = text[..label.start()].to_lowercase();
            !(before.trim_end().ends_with("fax") || before.trim_end().ends_with("fax/"))
        })
        .filter_map(|label| PHONE_NUMBER.find(&text[label.end()..]))
        .flat_map(|numbers| numbers.as_str().split(" / "))
        .map(str::trim)
        .filter(|n| n.len() >= 6);
    let standing = own.iter().enumerate().flat_map(|(i, line)| {
        let after_fax = i.checked_sub(1).is_some_and(|j| own[j].to_lowercase().trim_end_matches(':').ends_with("fax"));
        segments(line)
            .filter(move |_| !after_fax)
            .filter_map(|segment| STANDALONE_PHONE.captures(segment).and_then(|c| c.get(1)).map(|m| m.as_str()))
    });
    let mut out: Vec<String> = Vec::new();
    for number in labelled.chain(standing) {
        if !out.iter().any(|n| n == number) {
            out.push(number.to_string());
        }
    }
    out
}

static OBFUSCATED_AT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*[(\[{<]\s*(?:at|ät|@|arroba|chiocciola|apenstaartje)\s*[)\]}>]\s*|\s+(?:\(at\)|\[at\])\s+")
        .expect("static regex")
});
static OBFUSCATED_DOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*[(\[{<]\s*(?:dot|punkt|point|punto|punt)\s*[)\]}>]\s*").expect("static regex")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b")
        .expect("static regex")
});

/// `name(at)domain.de`, `name [at] domain [dot] de` → `name@domain.de`.
pub fn deobfuscate(text: &str) -> String {
    let text = OBFUSCATED_AT.replace_all(text, "@");
    OBFUSCATED_DOT.replace_all(&text, ".").into_owned()
}

/// Email addresses written in the text, de-obfuscated, lower-case.
pub fn emails(text: &str) -> Vec<String> {
    let text = deobfuscate(text);
    let mut out: Vec<String> = Vec::new();
    for m in EMAIL.find_iter(&text) {
        let email = m.as_str().trim_end_matches('.').to_lowercase();
        let image = [".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"].iter().any(|e| email.ends_with(e));
        if !image && !out.contains(&email) {
            out.push(email);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[&str]) -> Vec<Line> {
        texts.iter().map(|t| Line { text: t.to_string(), ..Line::default() }).collect()
    }

    #[test]
    fn a_german_impressum() {
        let facts = read(
            &lines(&[
                "Impressum",
                "Angaben gemäß § 5 TMG",
                "Brückner Maschinenbau GmbH",
                "Invalidenstraße 42",
                "10115 Berlin",
                "Vertreten durch die Geschäftsführer: Dr. Anna Schmidt und Jonas Weber",
                "Telefon: +49 (0)30 1234567-0",
                "Telefax: +49 (0)30 1234567-9",
                "E-Mail: info(at)brueckner-maschinen.de",
                "Registergericht: Amtsgericht Berlin-Charlottenburg",
                "Registernummer: HRB 123456 B",
                "Umsatzsteuer-Identifikationsnummer gemäß § 27 a Umsatzsteuergesetz: DE 123 456 704",
                "Webdesign und Hosting",
                "Pixelwerk Agentur GmbH",
                "Hafenstraße 3",
                "20459 Hamburg",
                "hallo@pixelwerk.de",
                "Haftung für Inhalte",
            ]),
            Some("DE"),
        );
        assert_eq!(facts.legal_name.as_deref(), Some("Brückner Maschinenbau GmbH"));
        assert_eq!(facts.registration.register.as_deref(), Some("Amtsgericht Berlin-Charlottenburg"));
        assert_eq!(facts.registration.number.as_deref(), Some("HRB 123456 B"));
        assert_eq!(facts.registration.vat_id.as_deref(), Some("DE123456704"));
        assert_eq!(facts.directors, ["Anna Schmidt", "Jonas Weber"]);
        let a = facts.address.unwrap();
        assert_eq!(
            (a.street.as_deref(), a.postal_code.as_deref(), a.city.as_deref(), a.country_code.as_deref()),
            (Some("Invalidenstraße 42"), Some("10115"), Some("Berlin"), Some("DE"))
        );
        assert_eq!(facts.emails, ["info@brueckner-maschinen.de"], "the agency's address is not the company's");
        assert_eq!(facts.phones, ["+49 (0)30 1234567-0"], "no fax");
    }

    #[test]
    fn mentions_legales_skip_the_host() {
        let facts = read(
            &lines(&[
                "Mentions légales",
                "Éditeur du site : Lumière Logiciels SAS au capital de 10 000 €",
                "Siège social : 12 rue de la République, 69002 Lyon, France",
                "RCS Lyon 812 345 601 – TVA intracommunautaire : FR 85 812345601",
                "Directeur de la publication : Marie Dupont",
                "Contact : contact [at] lumiere-logiciels [dot] fr",
                "Hébergeur",
                "OVH SAS",
                "2 rue Kellermann, 59100 Roubaix, France",
                "Propriété intellectuelle",
            ]),
            Some("FR"),
        );
        assert_eq!(facts.legal_name.as_deref(), Some("Lumière Logiciels SAS"));
        assert_eq!(
            (facts.registration.register.as_deref(), facts.registration.number.as_deref()),
            (Some("RCS Lyon"), Some("812 345 601"))
        );
        assert_eq!(facts.registration.vat_id.as_deref(), Some("FR85812345601"));
        assert_eq!(facts.directors, ["Marie Dupont"]);
        let a = facts.address.unwrap();
        assert_eq!((a.street.as_deref(), a.city.as_deref()), (Some("12 rue de la République"), Some("Lyon")));
        assert_eq!(facts.emails, ["contact@lumiere-logiciels.fr"]);
    }

    #[test]
    fn a_uk_footer() {
        let facts = read(
            &lines(&[
                "© 2024 Harbour Analytics Ltd. Registered in England and Wales No. 09876543.",
                "Registered office: 1 King Street, London EC2V 8AU. VAT No. GB 123 4567 27",
                "Auditors: Smith & Co LLP, 10 Deansgate, Manchester M3 2BW",
            ]),
            None,
        );
        assert_eq!(facts.legal_name.as_deref(), Some("Harbour Analytics Ltd."));
        assert_eq!(facts.registration.number.as_deref(), Some("09876543"));
        assert_eq!(facts.registration.register.as_deref(), Some("Companies House (England and Wales)"));
        assert_eq!(facts.registration.vat_id.as_deref(), Some("GB123456727"));
        let a = facts.address.unwrap();
        assert_eq!(
            (a.street.as_deref(), a.city.as_deref(), a.postal_code.as_deref(), a.country_code.as_deref()),
            (Some("1 King Street"), Some("London"), Some("EC2V 8AU"), Some("GB"))
        );
    }

    #[test]
    fn dutch_spanish_italian_and_us_forms() {
        let nl = read(
            &lines(&[
                "Colofon",
                "Voorbeeld Data B.V.",
                "Herengracht 100",
                "1015 BS Amsterdam",
                "KvK 12345678",
                "BTW NL123456708B01",
            ]),
            None,
        );
        assert_eq!(nl.legal_name.as_deref(), Some("Voorbeeld Data B.V."));
        assert_eq!(
            (nl.registration.register.as_deref(), nl.registration.number.as_deref()),
            (Some("KvK"), Some("12345678"))
        );
        assert_eq!(nl.registration.vat_id.as_deref(), Some("NL123456708B01"));
        assert_eq!(nl.address.unwrap().city.as_deref(), Some("Amsterdam"));
        let es = read(
            &lines(&[
                "Aviso legal",
                "Razón social: Ejemplo Soluciones S.L. CIF: B12345609",
                "Domicilio social: Calle Mayor 10, 28013 Madrid",
                "Inscrita en el Registro Mercantil de Madrid, Tomo 1234, Folio 56, Hoja M-123456",
            ]),
            Some("ES"),
        );
        assert_eq!(es.legal_name.as_deref(), Some("Ejemplo Soluciones S.L."));
        assert_eq!(es.registration.vat_id.as_deref(), Some("ESB12345609"));
        assert_eq!(es.registration.register.as_deref(), Some("Registro Mercantil de Madrid"));
        assert_eq!(es.registration.number.as_deref(), Some("M-123456"));
        assert_eq!(es.address.unwrap().street.as_deref(), Some("Calle Mayor 10"));
        let it = read(
            &lines(&[
                "Esempio Digitale S.r.l. – Sede legale: Via Roma 1, 20121 Milano (MI) – P.IVA 12345670017 – REA MI-1234567",
            ]),
            Some("IT"),
        );
        assert_eq!(it.legal_name.as_deref(), Some("Esempio Digitale S.r.l."));
        assert_eq!(it.registration.vat_id.as_deref(), Some("IT12345670017"));
        assert_eq!(
            (it.registration.register.as_deref(), it.registration.number.as_deref()),
            (Some("REA MI"), Some("1234567"))
        );
        let a = it.address.unwrap();
        assert_eq!(
            (a.city.as_deref(), a.region.as_deref(), a.country_code.as_deref()),
            (Some("Milano"), Some("MI"), Some("IT"))
        );
        let suite = read(&lines(&["Northwind Labs, Inc.", "548 Market St, Suite 200, San Francisco, CA 94104"]), None);
        assert_eq!(suite.address.unwrap().street.as_deref(), Some("548 Market St, Suite 200"));
        let us = read(&lines(&["Northwind Labs, Inc.", "548 Market St, San Francisco, CA 94104"]), None);
        let a = us.address.unwrap();
        assert_eq!(
            (
                a.street.as_deref(),
                a.city.as_deref(),
                a.region.as_deref(),
                a.postal_code.as_deref(),
                a.country_code.as_deref()
            ),
            (Some("548 Market St"), Some("San Francisco"), Some("CA"), Some("94104"), Some("US"))
        );
        assert_eq!(us.legal_name.as_deref(), Some("Northwind Labs, Inc."));
    }

    #[test]
    fn legal_forms_come_off() {
        assert_eq!(without_form("Brückner Maschinenbau GmbH"), "Brückner Maschinenbau");
        assert_eq!(without_form("Northwind Labs, Inc."), "Northwind Labs");
        assert_eq!(without_form("Voorbeeld Data B.V."), "Voorbeeld Data");
        assert_eq!(without_form("GmbH"), "GmbH");
    }

    #[test]
    fn obfuscated_emails() {
        assert_eq!(emails("name(at)domain.de"), ["name@domain.de"]);
        assert_eq!(emails("name [at] domain [dot] co [dot] uk"), ["name@domain.co.uk"]);
        assert_eq!(emails("Mail: Info@Example.com."), ["info@example.com"]);
        assert_eq!(emails("logo@2x.png and at the office"), Vec::<String>::new());
    }

    #[test]
    fn copyright_lines_name_the_holder() {
        for (line, holder) in [
            ("© 2024 Harbour Analytics Ltd. Registered in England and Wales.", Some("Harbour Analytics Ltd")),
            ("© 2012-2026 by www.fotobox.example", Some("fotobox.example")),
            ("Copyright © 2019 Acme Rockets. All rights reserved.", Some("Acme Rockets")),
            ("© Alltid Ordning — Stil & Struktur AB • Org.nr 556784-7099", Some("Alltid Ordning")),
            ("© 2016 - Movilegno srl - Via Asolana, 26G", Some("Movilegno srl")),
            ("Alle Rechte vorbehalten", None),
            ("© 2024", None),
        ] {
            assert_eq!(copyright_holder(line).as_deref(), holder, "{line}");
        }
    }

    #[test]
    fn a_name_inside_someone_else_s_sentence_is_not_the_company_s() {
        let facts = read(
            &lines(&[
                "Diese Website benutzt Google Analytics, einen Webanalysedienst der Google Inc. („Google“).",
                "Auf unseren Seiten sind Plugins des sozialen Netzwerks Facebook, 1601 South California Avenue, Palo Alto, CA 94304, USA integriert. Die Facebook-Plugins erkennen Sie an dem Facebook-Logo oder dem Like-Button auf unserer Seite.",
            ]),
            Some("AT"),
        );
        assert_eq!(facts.legal_name, None);
        assert_eq!(facts.address, None, "an address in a sentence about a network is the network's");
        let own = read(
            &lines(&[
                "Betreiber: Alpenblick Touristik GmbH",
                "Bitflux Communications Limited was incorporated in 2014.",
            ]),
            None,
        );
        assert_eq!(own.legal_name.as_deref(), Some("Alpenblick Touristik GmbH"));
        for (line, name) in [
            ("A Petralux Szolgáltató Kft. 1992 óta tevékenykedik", "Petralux Szolgáltató Kft."),
            ("ALL IN HOLDINGS株式会社", "ALL IN HOLDINGS株式会社"),
            ("© 2026 ALL IN HOLDINGS Co., Ltd.", "ALL IN HOLDINGS Co., Ltd."),
            ("Lionsfield México, SA de CV", "Lionsfield México, SA de CV"),
            ("Stil & Struktur i Åkersberga AB", "Stil & Struktur i Åkersberga AB"),
            ("Lunatech (Pty) Ltd", "Lunatech (Pty) Ltd"),
            ("AGRIVOLT ΜΟΝΟΠΡΟΣΩΠΗ ΙΚΕ", "AGRIVOLT ΜΟΝΟΠΡΟΣΩΠΗ ΙΚΕ"),
            ("Ässä Golf Oy", "Ässä Golf Oy"),
            ("Przeprowadzki Kowalski sp. z o.o.", "Przeprowadzki Kowalski sp. z o.o."),
        ] {
            assert_eq!(legal_name(line, Some("SE")).as_deref(), Some(name), "{line}");
        }
    }

    #[test]
    fn a_privacy_policy_speaks_of_the_company_only_in_its_controller_s_block() {
        let facts = read_controller(
            &lines(&[
                "Datenschutzerklärung",
                "Verantwortlicher",
                "Alpenblick Touristik GmbH",
                "Hauptstraße 5",
                "6020 Innsbruck",
                "Hosting",
                "Wir nutzen Server der Example Hosting GmbH, Industriestraße 1, 90000 Nürnberg.",
                "Example Analytics Ltd, 1 Dock Road, Dublin D02 XY45, Ireland",
            ]),
            Some("AT"),
        );
        assert_eq!(facts.legal_name.as_deref(), Some("Alpenblick Touristik GmbH"));
        assert_eq!(facts.address.and_then(|a| a.city).as_deref(), Some("Innsbruck"));
        assert_eq!(
            read_controller(&lines(&["Google Ireland Limited, Gordon House, Dublin 4"]), None),
            LegalFacts::default()
        );
        assert_eq!(legal_name("Grimshaw AB, T0H 1W0", None), None, "a province, not a Swedish company");
    }

    #[test]
    fn postal_lines_of_more_countries() {
        let city = |texts: &[&str]| {
            let a = read(&lines(texts), None).address.unwrap_or_default();
            (a.street, a.postal_code, a.city)
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            city(&["Svojsíkova 1594/6", "708 00 Ostrava-Poruba"]),
            (some("Svojsíkova 1594/6"), some("708 00"), some("Ostrava-Poruba"))
        );
        assert_eq!(
            city(&["Cyganowice 161", "33-340 Stary Sącz"]),
            (some("Cyganowice 161"), some("33-340"), some("Stary Sącz"))
        );
        assert_eq!(
            city(&["Postadress: Acme i Åkersberga AB, Israel Perssons Väg 50, 184 70 Åkersberga"]),
            (some("Israel Perssons Väg 50"), some("184 70"), some("Åkersberga"))
        );
        assert_eq!(
            city(&["Domicilio: San Pedro, 24 bajo, 20304 Irún (Gipuzkoa)"]),
            (some("San Pedro, 24 bajo"), some("20304"), some("Irún"))
        );
        assert_eq!(
            city(&["Székhely és levelezési cím: 1106 Budapest, Porcelán utca 3-9."]),
            (some("Porcelán utca 3-9"), some("1106"), some("Budapest"))
        );
        assert_eq!(
            city(&["Impressum acme.example Anna Muster Clemens-Holzmeister Str.2 6020 Innsbruck"]).2,
            some("Innsbruck")
        );
        assert_eq!(
            city(&["J-Bay Surf Village, 2a Da Gama Rd, Jeffreys Bay, 6330, South Africa"]),
            (some("2a Da Gama Rd"), some("6330"), some("Jeffreys Bay"))
        );
        assert_eq!(city(&["PO Box 650", "Grimshaw AB, T0H 1W0"]).2, some("Grimshaw"));
        assert_eq!(
            city(&[
                "Le site est édité par Marine, dont le siège est situé Avenue de Bastia, 20137 Porto-Vecchio, France."
            ])
            .0,
            some("Avenue de Bastia")
        );
        assert_eq!(
            city(&["8450 Falls Of Neuse Road, Suite 202", "Raleigh, NC 27615"]).2,
            some("Raleigh"),
            "a street is no city"
        );
    }

    #[test]
    fn nothing_from_nothing() {
        let facts = read(&lines(&["Welcome to our site", "We make great things since forever."]), Some("DE"));
        assert_eq!(facts, LegalFacts::default());
    }
}
