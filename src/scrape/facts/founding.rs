//! The year a company was founded, from the sentences that state one ("Acme was founded in
//! 2011", "Wir wurden 1998 gegründet", "Fondée en 2012", "Opgericht in 2005", "Fundada en
//! 2009", "Fondata nel 1987"). A page states many years about many things: a statement counts
//! only when it is the company's own — it names the company or speaks as "we" — and never from
//! a quotation (a testimonial's "founded in 1989" is its author's company).

use crate::scrape::read::lines::Line;

/// A sentence that states a founding year, as the page wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub year: i32,
    pub sentence: String,
}

/// Words that say "founded" and stand before the year ("founded in 2011").
const BEFORE_YEAR: &[&str] = &[
    "founded in",
    "founded",
    "founding year",
    "year founded",
    "established in",
    "established",
    "incorporated in",
    "started in",
    "since",
    "gegründet im jahr",
    "gegründet",
    "gründung",
    "gründungsjahr",
    "seit",
    "fondée en",
    "fondé en",
    "créée en",
    "créé en",
    "depuis",
    "opgericht in",
    "sinds",
    "fundada en",
    "fundado en",
    "desde",
    "fondata nel",
    "fondato nel",
    "dal",
    "since the year",
    "seit dem jahr",
    "depuis l'année",
    "desde el año",
    "desde o ano",
    "année de création",
    "date de création",
    "year of establishment",
    "fundada em",
    "fundado em",
    "siden",
    "sedan",
    "grundlagt i",
    "grundlagt",
    "etablert i",
    "etablert",
    "grundat",
    "grundades",
    "grundad",
    "perustettu vuonna",
    "perustettu",
    "vuodesta",
    "od roku",
    "założona w roku",
    "założona w",
    "założony w",
    "założona",
    "založena v roce",
    "založena",
    "alapítva",
    "ημερομηνία σύστασης",
    "έτος ίδρυσης",
    "設立日",
    "設立",
    "創業",
    "創立",
    "成立日期",
    "成立时间",
    "成立時間",
];
/// Words that say "founded" and may stand a few words before "in" and the year ("we started
/// Acme in 2017").
const SPREAD: &[&str] = &[
    "started",
    "founded",
    "established",
    "incorporated",
    "began",
    "founding",
    "gründeten",
    "fondé",
    "fondée",
    "fundó",
    "nasce",
    "nace",
    "nata",
    "nato",
    "fundou",
    "grundade",
    "grundlagde",
    "perusti",
    "založil",
    "założył",
];
/// Words that say "founded" and stand after the year ("1998 gegründet").
const AFTER_YEAR: &[&str] = &["gegründet", "opgericht", "óta", "alapítva", "perustettu"];

/// Words by which a company speaks of itself.
const FIRST_PERSON: &[&str] = &[
    "we",
    "we've",
    "we're",
    "our company",
    "our firm",
    "our business",
    "wir",
    "unser unternehmen",
    "unsere firma",
    "nous",
    "notre entreprise",
    "notre société",
    "wij",
    "we zijn",
    "ons bedrijf",
    "nosotros",
    "nuestra empresa",
    "noi",
    "la nostra azienda",
    "la nostra società",
    "vi",
    "vår",
    "vårt",
    "vores",
    "my",
    "nasza firma",
    "naše firma",
    "me",
    "mi",
    "cégünk",
    "nós",
    "a nossa empresa",
    "nossa empresa",
];

/// Every founding statement in the page's own lines (quotations and footers left out).
pub fn statements(lines: &[Line]) -> Vec<Statement> {
    const MAX: usize = 20;
    let this_year = time::OffsetDateTime::now_utc().year();
    let mut out = Vec::new();
    let own: Vec<&Line> = lines.iter().filter(|l| !l.quoted && !l.footer).collect();
    for (i, line) in own.iter().enumerate() {
        // A table's or list's label on a line of its own, its date on the next ("Founded" /
        // "2011", "Ημερομηνία σύστασης" / "08/01/2016", "設立日" / "2026年3月10日").
        let label = line.text.trim().trim_end_matches([':', '：']).to_lowercase();
        let joined = match own.get(i + 1) {
            Some(next) if BEFORE_YEAR.contains(&label.as_str()) && next.text.chars().count() <= 24 => {
                format!("{} {}", line.text.trim(), next.text.trim())
            }
            _ => line.text.clone(),
        };
        for sentence in joined.split_inclusive(['.', '!', '?']).filter(|s| !s.trim().is_empty()) {
            if let Some(year) = year_in(sentence).filter(|y| (1800..=this_year).contains(y)) {
                out.push(Statement { year, sentence: sentence.trim().to_string() });
                if out.len() >= MAX {
                    return out;
                }
            }
        }
    }
    out
}

/// The year a sentence says something was founded in.
fn year_in(sentence: &str) -> Option<i32> {
    let lower = sentence.to_lowercase();
    // A label's colon is no word of its own ("Founded: 2011").
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_end_matches(':'))
        .filter(|w| !w.is_empty())
        .collect();
    // A year, or a date that ends in one (`08/01/2016`, `1.3.1998`).
    let year_at = |i: usize| -> Option<i32> {
        let w = words.get(i)?.trim_end_matches(['.', ')', ';', ':', '!']);
        let w = w.trim_end_matches(['-', '–']);
        // `2026年3月10日`: the year before 年.
        let w = w.split_once('年').map_or(w, |(year, _)| year);
        let date_year = w.rsplit(['/', '.']).next().filter(|_| w.contains(['/', '.'])).unwrap_or(w);
        let digits = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit());
        let date = w.split(['/', '.']).all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
        (digits(date_year) && (date_year == w || date)).then(|| date_year.parse().ok()).flatten()
    };
    for (i, _) in words.iter().enumerate() {
        for cue in BEFORE_YEAR {
            let cue_words: Vec<&str> = cue.split(' ').collect();
            if words.get(i..i + cue_words.len()) == Some(&cue_words[..]) {
                // The year right after the cue, or after one more word ("founded in early 2011").
                let after = i + cue_words.len();
                if let Some(year) = year_at(after).or_else(|| year_at(after + 1)) {
                    return Some(year);
                }
            }
        }
        // "We started Acme in 2017", "founded the company in 2011": the cue, a few words, "in".
        if SPREAD.contains(&words[i]) {
            let found = (i + 1..(i + 7).min(words.len()))
                .filter(|&j| matches!(words[j], "in" | "im" | "en" | "nel" | "em" | "i" | "w" | "v" | "vuonna"))
                .find_map(|j| year_at(j + 1));
            if found.is_some() {
                return found;
            }
        }
        if AFTER_YEAR.contains(&words[i].trim_end_matches(['.', '!'])) {
            if let Some(year) = (1..=3).filter_map(|back| i.checked_sub(back)).find_map(year_at) {
                return Some(year);
            }
        }
    }
    None
}

/// Whether the statement is the company's own: it names the company (one of `names`, whole
/// words), speaks as "we", opens with its cue ("Since 2004 we …", "Od roku 1997 se …", whose
/// subject is the speaker), or is a bare label ("Founded 2011", "Seit 1998").
pub fn is_own(statement: &Statement, names: &[String]) -> bool {
    let lower = statement.sentence.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).collect();
    let has_phrase = |phrase: &str| crate::scrape::model::text::has_phrase(&words, phrase, 0);
    let named = names.iter().any(|n| {
        let n = n.to_lowercase();
        let n = n.trim();
        n.chars().count() >= 3
            && has_phrase(
                &n.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "),
            )
    });
    let opens_with_cue = BEFORE_YEAR.iter().any(|cue| {
        let cue: Vec<&str> = cue.split(|c: char| !c.is_alphanumeric() && c != '\'').collect();
        words.len() >= cue.len() && words[..cue.len()] == cue[..]
    });
    named || opens_with_cue || FIRST_PERSON.iter().any(|p| has_phrase(p)) || words.len() <= 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, quoted: bool) -> Line {
        Line { text: text.into(), quoted, footer: false }
    }

    #[test]
    fn a_label_with_its_date_on_the_next_line() {
        for (label, value, year) in
            [("Ημερομηνία σύστασης", "08/01/2016", 2016), ("設立日", "2026年3月10日", 2026), ("Founded:", "2011", 2011)]
        {
            let lines = [line("Company details", false), line(label, false), line(value, false)];
            let found = statements(&lines);
            assert_eq!(found.iter().map(|s| s.year).collect::<Vec<_>>(), [year], "{label}");
            assert!(is_own(&found[0], &[]), "a label states the company's own: {label}");
        }
        let prose = [line("Founded", false), line("Our partners and their long story together.", false)];
        assert!(statements(&prose).is_empty(), "a label with no date below");
    }

    #[test]
    fn founding_years_in_several_languages() {
        for (text, year) in [
            ("Acme was founded in 2011 in Austin.", 2011),
            ("Established 1998. Family owned.", 1998),
            ("Founded: 2011", 2011),
            ("Year founded: 2011", 2011),
            ("Founding year: 2011", 2011),
            ("Serving customers since 2004", 2004),
            ("Die Firma wurde 1998 gegründet.", 1998),
            ("Gegründet 1972 in Stuttgart", 1972),
            ("Fondée en 2012, Lumière édite des logiciels.", 2012),
            ("Het bedrijf is in 2005 opgericht.", 2005),
            ("Fundada en 2009 en Madrid.", 2009),
            ("Fondata nel 1987 a Milano.", 1987),
            ("We started Alpenglow Robotics in 2017 in a garage.", 2017),
            ("Two engineers founded the company in 2011.", 2011),
            ("Cascadia was incorporated in Washington in 1961 and has been listed since 1987.", 1961),
            ("Vi som har vårt daglige virke på kennelen har drevet siden 1986.", 1986),
            ("Od roku 1997 se zaměřujeme především na elektroinstalace.", 1997),
            ("Desde el año 2003 proveemos capacitación empresarial.", 2003),
            ("A Petralux Kft. 1992 óta tevékenykedik Magyarországon.", 1992),
            ("Movilegno nace nel 1997 dall'esperienza di un artigiano.", 1997),
            ("Ημερομηνία σύστασης 08/01/2016", 2016),
            ("Année de création : 2007", 2007),
            ("Firma grundades 1998 i Malmö.", 1998),
        ] {
            let found = statements(&[line(text, false)]);
            assert_eq!(found.first().map(|s| s.year), Some(year), "{text}");
        }
        for text in [
            "Since 12 months we grow",
            "We re-established 3000 links",
            "nothing here",
            "Founded in 3024",
            "We started shipping robots to customers in many countries in 2020 and 2021.",
        ] {
            assert!(statements(&[line(text, false)]).is_empty(), "{text}");
        }
    }

    #[test]
    fn only_the_company_s_own_statements_count() {
        let names = vec!["Acme Rockets".to_string(), "acme".to_string()];
        let own = |text: &str| is_own(&statements(&[line(text, false)])[0], &names);
        assert!(own("Acme was founded in 2011 in Austin."));
        assert!(own("We have been building rockets since 2011."));
        assert!(own("Founded 2011"));
        assert!(own("Od roku 1997 se zaměřujeme především na elektroinstalace."));
        assert!(own("Vi har drevet siden 1986 og elsker hunder."));
        assert!(!own("Our customer Globex, founded in 1989, ships parts worldwide."));
        assert!(!own("The Space Act of 1998 was established in 1998 by Congress."));
        assert!(statements(&[line("As a family business founded in 1989, we trust Acme.", true)]).is_empty());
    }
}
