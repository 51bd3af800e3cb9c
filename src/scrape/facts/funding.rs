//! The funding section: rounds announced in the company's press releases, news pages and feed
//! items — "Acme raises $20 million Series A led by Example Ventures, with participation from
//! …". A round needs a funding verb and an amount or a round type in the same sentence; the
//! same round told twice (by two pages, or a page and a feed item) is merged.
//!
//! A round is the company's only when the sentence says the company raised it: the company (one
//! of its names) or "we" is the last actor named before the funding verb. A customer's Series C
//! in a case study ("With Acme, Globex raised $40M") is Globex's. Investor names end at their
//! clause, and a date after them ("led by Northwind Ventures March 14") is no part of a name.

use crate::scrape::model::report::{Funding, Round};
use crate::scrape::model::text::fold_whitespace;

/// One announcement to read: a page or a feed item.
pub struct Announcement<'a> {
    pub text: &'a str,
    pub url: &'a str,
    pub date: Option<&'a str>,
}

const VERBS: &[&str] = &[
    "raises",
    "raised",
    "raising",
    "secures",
    "secured",
    "closes",
    "closed",
    "lands",
    "landed",
    "announces",
    "announced",
    "completes",
    "completed",
    "receives",
    "received",
    "funding",
    "investment",
    "financing",
    // German, French, Spanish, Dutch, Italian.
    "sammelt",
    "sammelte",
    "erhält",
    "erhielt",
    "schließt",
    "schloss",
    "abgeschlossen",
    "finanzierungsrunde",
    "lève",
    "levé",
    "levée",
    "boucle",
    "obtient",
    "levanta",
    "cierra",
    "recauda",
    "haalt",
    "ontvangt",
    "raccoglie",
    "chiude",
];

/// Words that make a sentence about money raised rather than money earned.
const RAISING: &[&str] = &[
    "raise",
    "funding",
    "financing",
    "investment",
    "finanzierung",
    "investoren",
    "levée",
    "lève",
    "financement",
    "ronda",
    "financiación",
    "inversión",
    "investering",
    "financieringsronde",
    "finanziamento",
    "round",
];

const CURRENCIES: &[(&str, &str)] = &[
    ("us$", "USD"),
    ("usd", "USD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("eur", "EUR"),
    ("£", "GBP"),
    ("gbp", "GBP"),
    ("chf", "CHF"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("cad", "CAD"),
    ("a$", "AUD"),
];

/// Every round the company raised that `announcements` state, merged, oldest first. `names`
/// are the company's names (its name, legal name, domain label).
pub fn extract(announcements: &[Announcement], names: &[String]) -> Funding {
    let mut rounds: Vec<Round> = Vec::new();
    for a in announcements {
        for sentence in sentences(a.text) {
            if let Some(round) = read_round(&sentence, a).filter(|_| raised_by_company(&sentence, names)) {
                merge(&mut rounds, round);
            }
        }
    }
    rounds.sort_by(|x, y| x.date.cmp(&y.date));
    let currencies: Vec<&String> = rounds.iter().filter_map(|r| r.currency.as_ref()).collect();
    let one_currency = currencies.windows(2).all(|w| w[0] == w[1]);
    let amounts: Vec<f64> = rounds.iter().filter_map(|r| r.amount).collect();
    let (total_raised, currency) = if !amounts.is_empty() && one_currency {
        (Some(amounts.iter().sum()), currencies.first().map(|c| c.to_string()))
    } else {
        (None, None)
    };
    Funding { rounds, total_raised, currency }
}

fn sentences(text: &str) -> Vec<String> {
    text.lines()
        .flat_map(crate::scrape::model::text::sentences)
        .map(fold_whitespace)
        .filter(|s| s.len() > 10 && s.len() < 600)
        .collect()
}

fn read_round(sentence: &str, a: &Announcement) -> Option<Round> {
    let lower = sentence.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    if !VERBS.iter().any(|v| words.contains(v)) {
        return None;
    }
    let round_type = round_type(&lower);
    let money = amount(sentence).or_else(|| amount_before_currency(sentence));
    if money.is_none() && round_type.is_none() {
        return None;
    }
    // An amount alone (no round named) must come with "funding"/"raise" words, not revenue.
    if round_type.is_none() && !RAISING.iter().any(|w| lower.contains(w)) {
        return None;
    }
    let (amount, currency) = money.map_or((None, None), |(v, c)| (Some(v), Some(c)));
    let lead_investors = names_after(
        sentence,
        &[
            "led by ",
            "co-led by ",
            "angeführt von ",
            "unter der führung von ",
            "menée par ",
            "mené par ",
            "liderada por ",
            "geleid door ",
            "guidato da ",
        ],
    );
    let mut investors = names_after(
        sentence,
        &[
            "participation from ",
            "participation of ",
            "alongside ",
            "joined by ",
            "along with ",
            "together with ",
            "investors including ",
            "investors include ",
            "backed by ",
            "beteiligung von ",
            "participation de ",
            "participación de ",
            "partecipazione di ",
            "deelname van ",
        ],
    );
    investors.retain(|i| !lead_investors.contains(i));
    Some(Round {
        date: a.date.map(str::to_string),
        amount,
        currency,
        round_type,
        lead_investors,
        investors,
        source_url: a.url.to_string(),
        evidence: sentence.to_string(),
    })
}

fn round_type(lower: &str) -> Option<String> {
    // Other languages' names: Serie A, série A, Series-A-Runde, Seed-Runde, ronda semilla.
    let lower = &lower.replace("série ", "series ").replace("serie ", "series ").replace("series-", "series ");
    for letter in ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] {
        if lower.contains(&format!("series {letter}-")) {
            return Some(format!("series_{letter}"));
        }
        if lower.contains(&format!("series {letter} "))
            || lower.contains(&format!("series {letter},"))
            || lower.ends_with(&format!("series {letter}"))
            || lower.contains(&format!("series {letter}."))
        {
            return Some(format!("series_{letter}"));
        }
    }
    let kinds = [
        ("pre-seed", "pre-seed"),
        ("pre seed", "pre-seed"),
        ("seed round", "seed"),
        ("seed-runde", "seed"),
        ("seed-finanzierung", "seed"),
        ("tour de table d'amorçage", "seed"),
        ("amorçage", "seed"),
        ("ronda semilla", "seed"),
        ("ronda seed", "seed"),
        ("seed-ronde", "seed"),
        ("seed funding", "seed"),
        ("seed financing", "seed"),
        ("seed investment", "seed"),
        ("growth round", "growth"),
        ("growth equity", "growth"),
        ("growth funding", "growth"),
        ("debt financing", "debt"),
        ("venture debt", "debt"),
        ("credit facility", "debt"),
        ("initial public offering", "ipo"),
        (" ipo", "ipo"),
        ("strategic investment", "strategic"),
    ];
    kinds.iter().find(|(cue, _)| lower.contains(cue)).map(|(_, kind)| kind.to_string())
}

/// `$20 million`, `€5.5M`, `USD 10 million`, `£3m`, `$1.2 billion` → (value, currency).
fn amount(sentence: &str) -> Option<(f64, String)> {
    let lower = sentence.to_lowercase();
    for (symbol, code) in CURRENCIES {
        let mut from = 0;
        while let Some(at) = lower[from..].find(symbol) {
            let start = from + at + symbol.len();
            from = start;
            if symbol.chars().all(char::is_alphabetic)
                && lower[..start - symbol.len()].ends_with(|c: char| c.is_alphanumeric())
            {
                continue;
            }
            let rest = lower[start..].trim_start();
            let number: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',').collect();
            let number = number.trim_end_matches(['.', ',']);
            let Ok(value) = number.replace(',', "").parse::<f64>() else { continue };
            let after = rest[number.len()..].trim_start();
            let scale = [
                ("billion", 1e9),
                ("bn", 1e9),
                ("b ", 1e9),
                ("million", 1e6),
                ("mn", 1e6),
                ("m ", 1e6),
                ("m.", 1e6),
                ("m,", 1e6),
                ("thousand", 1e3),
                ("k ", 1e3),
            ]
            .iter()
            .find(|(w, _)| after.starts_with(w) || (w.len() > 1 && w.ends_with(' ') && after == w.trim()))
            .map_or(1.0, |(_, s)| *s);
            let value = value * scale;
            if value >= 10_000.0 {
                return Some((value, code.to_string()));
            }
        }
    }
    None
}

/// Words by which a company speaks of itself as the one that raised.
const WE: &[&str] = &["we", "we've", "we're", "wir", "nous", "wij", "it"];
/// Capitalised words that may follow a company's name without naming another actor.
const AFTER_NAME: &[&str] = &[
    "inc", "ltd", "llc", "gmbh", "ag", "sa", "sas", "bv", "nv", "corp", "co", "plc", "limited", "the", "today", "this",
    "on", "in", "we", "it", "has", "have", "and",
];

/// Whether the company is the one the sentence says raised: the last actor named before the
/// first funding verb is one of `names` or "we"/"it" (after the company was named).
fn raised_by_company(sentence: &str, names: &[String]) -> bool {
    // Words split before they are lower-cased, so that both lists keep the same positions
    // (lower-casing can turn one letter into a letter and a combining mark).
    let split = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).map(str::to_string).collect()
    };
    let original = split(sentence);
    let words: Vec<String> = original.iter().map(|w| w.to_lowercase()).collect();
    let Some(verb) = words.iter().position(|w| VERBS.contains(&w.as_str())) else { return false };
    let name_words: Vec<Vec<String>> = names
        .iter()
        .map(|n| split(n).iter().map(|w| w.to_lowercase()).collect::<Vec<_>>())
        .filter(|n| !n.is_empty() && n.concat().chars().count() >= 2)
        .collect();
    // Where the company (or "we") is last named before the verb, and where that naming ends.
    let mut named_end = None;
    for i in 0..verb {
        // The longest of the names that starts here ("Acme Rockets, Inc." over "Acme").
        let longest = name_words
            .iter()
            .filter(|name| i + name.len() <= verb && words[i..i + name.len()] == name[..])
            .map(|name| i + name.len())
            .max();
        if longest.is_some() {
            named_end = longest;
        }
        if WE.contains(&words[i].as_str()) && (words[i] != "it" || named_end.is_some()) {
            named_end = Some(i + 1);
        }
    }
    // Where no actor stands before the verb, the subject may follow it (German puts the verb
    // second: "2021 schloss die Acme GmbH eine Runde ab").
    let named_at = |at: usize| name_words.iter().any(|name| words.get(at..at + name.len()) == Some(&name[..]));
    let Some(end) = named_end else {
        const ARTICLES: &[&str] = &["die", "der", "das", "the", "la", "le", "el", "de", "het", "il", "lo"];
        let subject = (verb + 1..words.len()).find(|&j| !ARTICLES.contains(&words[j].as_str()));
        let no_actor_before =
            original[..verb].iter().all(|w| !w.chars().next().is_some_and(char::is_uppercase) || verb == 0);
        return no_actor_before && subject.is_some_and(named_at);
    };
    // No other actor (a capitalised word) between that naming and the verb.
    original
        .get(end..verb)
        .unwrap_or_default()
        .iter()
        .all(|w| !w.chars().next().is_some_and(char::is_uppercase) || AFTER_NAME.contains(&w.to_lowercase().as_str()))
}

/// `5 Mio. Euro`, `2,5 millions d'euros`, `3 millones de euros`, `10 miljoen euro`, `4 milioni
/// di euro`, `12 M€`: the number first, its scale, then the currency, as most of Europe writes
/// it (a comma is the decimal mark there).
fn amount_before_currency(sentence: &str) -> Option<(f64, String)> {
    use regex::Regex;
    use std::sync::LazyLock;
    static MONEY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)(\d{1,4}(?:[.,]\d{1,3})?)\s*(mio\.?|millionen|million|millions|millones|milioni|miljoen|mrd\.?|milliarden?|milliards?|mil millones|m|mn)\s*(?:d['’]\s*|de\s+|di\s+)?(€|euros?|eur|\$|dollars?|usd|chf|francs?|£|pfund|livres?)(?:[^\p{L}]|$)",
        )
        .expect("static regex")
    });
    let c = MONEY.captures(sentence)?;
    let value: f64 = c[1].replace(',', ".").parse().ok()?;
    let scale = match c[2].to_lowercase().trim_end_matches('.') {
        "mrd" | "milliarde" | "milliarden" | "milliard" | "milliards" | "mil millones" => 1e9,
        _ => 1e6,
    };
    let currency = match c[3].to_lowercase().as_str() {
        "€" | "euro" | "euros" | "eur" => "EUR",
        "$" | "dollar" | "dollars" | "usd" => "USD",
        "chf" | "franc" | "francs" => "CHF",
        _ => "GBP",
    };
    Some((value * scale, currency.to_string()))
}

/// Words that end an investor's name: what follows it is a date or another clause.
fn ends_name(word: &str) -> bool {
    const MONTHS: &[&str] = &[
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ];
    let lower = word.trim_end_matches(['.', ',']).to_lowercase();
    MONTHS.contains(&lower.as_str()) || word.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// The name that starts `part`: its capitalised words (and the small words inside names), up to
/// the first word that is none, or a date.
fn name_in(part: &str) -> String {
    const INSIDE: &[&str] = &["&", "of", "de", "van", "der", "von", "du", "la", "y", "for"];
    let mut words: Vec<&str> = Vec::new();
    for word in part.split_whitespace() {
        let capital = word.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() && words.is_empty());
        if ends_name(word) && !words.is_empty() || !(capital || (!words.is_empty() && INSIDE.contains(&word))) {
            break;
        }
        words.push(word);
    }
    while words.last().is_some_and(|w| INSIDE.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// Organisation names after a cue, up to the end of the clause: "led by A and B, with …".
fn names_after(sentence: &str, cues: &[&str]) -> Vec<String> {
    // Found in the sentence itself, not in a lower-cased copy: lower-casing changes the length
    // of some letters (İ, K, ẞ), so an index into the copy is not one into the sentence.
    let Some((at, cue)) =
        cues.iter().filter_map(|c| find_ascii_ignore_case(sentence, c).map(|i| (i, c))).min_by_key(|(i, _)| *i)
    else {
        return Vec::new();
    };
    let rest = &sentence[at + cue.len()..];
    let end = [
        ", with ",
        " with ",
        ". ",
        "; ",
        " to ",
        " in order",
        " bringing",
        " which ",
        " as well as existing",
        ", alongside ",
        " alongside ",
        ", joined by ",
        " joined by ",
        " along with ",
        " together with ",
    ]
    .iter()
    .filter_map(|stop| rest.find(stop))
    .min()
    .unwrap_or(rest.len());
    rest[..end]
        .trim_end_matches('.')
        .split([','])
        .flat_map(|part| part.split(" and "))
        .map(|name| {
            let name = name.trim().trim_start_matches("and ").trim_start_matches("existing investors ").trim();
            ["der ", "die ", "dem ", "den ", "the ", "la ", "le ", "les ", "el ", "los ", "de "]
                .iter()
                .fold(name, |n, article| n.strip_prefix(article).unwrap_or(n))
        })
        .map(name_in)
        .filter(|name| name.chars().next().is_some_and(char::is_uppercase) && name.len() <= 60)
        .take(10)
        .collect()
}

/// The byte offset of ASCII `needle` in `haystack`, ignoring ASCII case; always a char
/// boundary, as the match starts and ends with ASCII bytes.
fn find_ascii_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    (0..=hay.len().checked_sub(needle.len())?).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// The same round (type and amount agree, or one says less) from another source is merged.
fn merge(rounds: &mut Vec<Round>, round: Round) {
    let same = |r: &Round| {
        let types = r.round_type.is_some() && r.round_type == round.round_type;
        let amounts = match (r.amount, round.amount) {
            (Some(x), Some(y)) => (x - y).abs() < 1.0,
            _ => true,
        };
        let no_type = r.round_type.is_none() || round.round_type.is_none();
        amounts && (types || (no_type && r.amount.is_some() && r.amount == round.amount))
    };
    match rounds.iter_mut().find(|r| same(r)) {
        Some(existing) => {
            existing.date = existing.date.take().into_iter().chain(round.date).min();
            existing.amount = existing.amount.or(round.amount);
            existing.currency = existing.currency.take().or(round.currency);
            existing.round_type = existing.round_type.take().or(round.round_type);
            for lead in round.lead_investors {
                if !existing.lead_investors.contains(&lead) {
                    existing.lead_investors.push(lead);
                }
            }
            for investor in round.investors {
                if !existing.investors.contains(&investor) && !existing.lead_investors.contains(&investor) {
                    existing.investors.push(investor);
                }
            }
        }
        None => rounds.push(round),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["Acme Rockets".into(), "Acme Rockets, Inc.".into(), "acme".into()]
    }

    fn one(text: &str) -> Funding {
        extract(
            &[Announcement { text, url: "https://acme.test/press/a", date: Some("2024-01-15T14:30:00Z") }],
            &names(),
        )
    }

    #[test]
    fn a_press_release_gives_a_round() {
        let f = one(
            "AUSTIN, Texas — Acme Rockets, Inc. today announced it has raised $20 million in Series A funding led by \
             Example Ventures, with participation from Seed Capital, Orbit Partners and Jane Doe. The money funds a new pad.",
        );
        assert_eq!(f.rounds.len(), 1, "{f:?}");
        let r = &f.rounds[0];
        assert_eq!(
            (r.amount, r.currency.as_deref(), r.round_type.as_deref()),
            (Some(20e6), Some("USD"), Some("series_a"))
        );
        assert_eq!(r.lead_investors, ["Example Ventures"]);
        assert_eq!(r.investors, ["Seed Capital", "Orbit Partners", "Jane Doe"]);
        assert_eq!(f.total_raised, Some(20e6));
    }

    #[test]
    fn co_investors_alongside_the_lead_and_amounts_exact() {
        let f = one(
            "Acme Rockets raised $22.5 million in a Series B led by Northwind Ventures, alongside Seed Capital and \
             Orbit Partners.",
        );
        let r = &f.rounds[0];
        assert_eq!((r.amount, r.currency.as_deref()), (Some(22_500_000.0), Some("USD")), "22.5 M stays 22.5 M");
        assert_eq!(r.lead_investors, ["Northwind Ventures"], "{r:?}");
        assert_eq!(r.investors, ["Seed Capital", "Orbit Partners"]);
        let f = one("Acme Rockets closed a €1.25 million seed round, joined by Alpen Capital and Spree Angels.");
        let r = &f.rounds[0];
        assert_eq!((r.amount, r.currency.as_deref()), (Some(1_250_000.0), Some("EUR")));
        assert_eq!(r.investors, ["Alpen Capital", "Spree Angels"]);
    }

    #[test]
    fn amounts_in_their_usual_forms() {
        assert_eq!(amount("raised €5.5M from"), Some((5.5e6, "EUR".into())));
        assert_eq!(amount("a USD 10 million round"), Some((10e6, "USD".into())));
        assert_eq!(amount("£3m seed"), Some((3e6, "GBP".into())));
        assert_eq!(amount("$1.2 billion"), Some((1.2e9, "USD".into())));
        assert_eq!(amount("$25,000,000 Series B"), Some((25e6, "USD".into())));
        assert_eq!(amount("costs $5 a month"), None, "too small to be a round");
    }

    #[test]
    fn revenue_and_idle_talk_are_not_rounds() {
        assert!(one("Revenue grew to $40 million last year.").rounds.is_empty());
        assert!(one("We help startups prepare their Series A pitch.").rounds.is_empty());
        assert!(one("Acme announced a new rocket.").rounds.is_empty());
    }

    #[test]
    fn the_same_round_from_two_sources_is_merged() {
        let f = extract(
            &[
                Announcement {
                    text: "Acme raises $20 million Series A led by Example Ventures.",
                    url: "https://acme.test/feed",
                    date: Some("2024-01-16T00:00:00Z"),
                },
                Announcement {
                    text: "Acme closed a $20M Series A with participation from Orbit Partners.",
                    url: "https://acme.test/press",
                    date: Some("2024-01-15T00:00:00Z"),
                },
                Announcement {
                    text: "In 2022 Acme raised a $3 million seed round.",
                    url: "https://acme.test/about",
                    date: None,
                },
            ],
            &names(),
        );
        assert_eq!(f.rounds.len(), 2, "{f:#?}");
        let a = f.rounds.iter().find(|r| r.round_type.as_deref() == Some("series_a")).unwrap();
        assert_eq!(a.date.as_deref(), Some("2024-01-15T00:00:00Z"), "the earliest date");
        assert_eq!(a.lead_investors, ["Example Ventures"]);
        assert_eq!(a.investors, ["Orbit Partners"]);
        assert_eq!(f.total_raised, Some(23e6));
    }

    #[test]
    fn another_company_s_round_is_not_the_company_s() {
        assert!(one("With Acme's launch service, Globex raised $40 million in Series C funding.").rounds.is_empty());
        assert!(one("Our customer Globex raised a $40 million Series C last year.").rounds.is_empty());
        assert!(one("Globex, Inc. announced a $40 million Series C led by Big Fund.").rounds.is_empty());
        assert_eq!(one("Today we closed a $5 million seed round.").rounds.len(), 1);
        assert_eq!(
            one("Acme Rockets, Inc. today announced it has raised $20 million in Series A funding.").rounds.len(),
            1
        );
    }

    #[test]
    fn investor_names_end_at_their_clause() {
        let f =
            one("Acme raised $12 million in Series A funding led by Northwind Ventures March 14, 2023 with Big Fund.");
        assert_eq!(f.rounds[0].lead_investors, ["Northwind Ventures"]);
        let f = one("Acme closed a $30 million Series B led by Bank of Ideas and Sequoia Capital on Monday.");
        assert_eq!(f.rounds[0].lead_investors, ["Bank of Ideas", "Sequoia Capital"]);
    }

    #[test]
    fn rounds_told_in_other_languages() {
        let names = vec!["Brückner".to_string(), "Lumière Logiciels".to_string(), "Ejemplo".to_string()];
        let read = |text: &str| extract(&[Announcement { text, url: "u", date: None }], &names).rounds;
        let de = read(
            "Brückner schließt eine Series-A-Finanzierungsrunde über 12 Mio. Euro ab, angeführt von Alpen Capital.",
        );
        assert_eq!(
            (de[0].amount, de[0].currency.as_deref(), de[0].round_type.as_deref()),
            (Some(12e6), Some("EUR"), Some("series_a"))
        );
        assert_eq!(de[0].lead_investors, ["Alpen Capital"]);
        let fr = read("Lumière Logiciels lève 2,5 millions d'euros en amorçage auprès de Rhône Ventures.");
        assert_eq!((fr[0].amount, fr[0].round_type.as_deref()), (Some(2.5e6), Some("seed")));
        let es = read("Ejemplo cierra una ronda Serie B de 8 millones de euros.");
        assert_eq!((es[0].amount, es[0].round_type.as_deref()), (Some(8e6), Some("series_b")));
        assert!(read("Der Umsatz stieg auf 40 Mio. Euro.").is_empty(), "revenue is no round");
        let v2 = read("2021 schloss die Brückner Maschinenbau GmbH eine Finanzierungsrunde über 5 Mio. Euro ab.");
        assert_eq!(v2.first().and_then(|r| r.amount), Some(5e6), "the subject after the verb");
        let led = read("Brückner erhält 3 Mio. Euro in einer Seed-Runde, angeführt von der Spree Beteiligungen GmbH.");
        assert_eq!(led[0].lead_investors, ["Spree Beteiligungen GmbH"]);
        assert!(
            read("Hansa Logistik sammelte 25 Mio. Euro in einer Finanzierungsrunde ein.").is_empty(),
            "another company"
        );
    }

    #[test]
    fn rounds_in_one_currency_add_up() {
        let f = extract(
            &[
                Announcement { text: "Acme raised a €4 million seed round.", url: "u1", date: Some("2021-01-01") },
                Announcement {
                    text: "Acme raised €12 million in Series A funding.",
                    url: "u2",
                    date: Some("2023-01-01"),
                },
            ],
            &names(),
        );
        assert_eq!((f.total_raised, f.currency.as_deref()), (Some(16e6), Some("EUR")));
    }

    #[test]
    fn letters_that_change_length_when_lower_cased_do_not_shift_the_investors() {
        // İ (2 bytes) lower-cases to "i̇" (3 bytes), the Kelvin sign K (3) to "k" (1), ẞ (3) to "ß" (2):
        // an index found in the lower-cased sentence points elsewhere in the sentence itself.
        for prefix in ["İİİİİİ İstanbul'da", "KKKKKKKKKK Kelvin Labs", "ẞẞẞẞẞ GROẞ AG"] {
            let f = extract(
                &[Announcement {
                    text: &format!("{prefix} raised $12 million in Series B funding led by Northwind Ventures."),
                    url: "u",
                    date: None,
                }],
                &[prefix.split(' ').next_back().unwrap().to_string()],
            );
            assert_eq!(f.rounds.len(), 1, "{prefix}: {f:?}");
            assert_eq!(f.rounds[0].lead_investors, ["Northwind Ventures"], "{prefix}");
        }
        assert_eq!(find_ascii_ignore_case("İx LED BY y", "led by "), Some(4));
        assert_eq!(find_ascii_ignore_case("ab", "abc"), None);
    }
}
