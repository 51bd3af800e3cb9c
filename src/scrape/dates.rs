//! Dates as pages write them: RFC 3339 and RFC 2822, offsets without a colon, bare days,
//! "May 26, 2016" and its kin, and the day in a dated permalink. Every reader takes any text
//! and never panics; what does not parse is `None`.

use url::Url;

/// A date in any of the common forms, as RFC 3339 UTC; `None` when it does not parse.
pub fn iso_date(raw: &str) -> Option<String> {
    use time::format_description::well_known::{Rfc2822, Rfc3339};
    use time::macros::format_description;
    use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};
    let raw = raw.trim();
    let parsed = OffsetDateTime::parse(raw, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(raw, &Rfc2822))
        .ok()
        .or_else(|| {
            // An offset without a colon, 2021-02-12T16:09:42+0000, read before a bare time is
            // taken as UTC.
            let cut = raw.len().checked_sub(5)?;
            let (head, tail) = (raw.get(..cut)?, raw.get(cut..)?);
            let offset =
                UtcOffset::parse(tail, format_description!("[offset_hour sign:mandatory][offset_minute]")).ok()?;
            let naive = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
            PrimitiveDateTime::parse(head.get(..19)?, naive).ok().map(|p| p.assume_offset(offset))
        })
        .or_else(|| {
            let naive = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
            let trimmed = raw.get(..19)?;
            PrimitiveDateTime::parse(trimmed, naive).ok().map(|p| p.assume_utc())
        })
        .or_else(|| {
            let day = format_description!("[year]-[month]-[day]");
            Date::parse(raw.get(..10)?, day).ok().map(|d| d.midnight().assume_utc())
        })
        .or_else(|| text_date(raw).map(|d| d.midnight().assume_utc()))?;
    let utc = parsed.to_offset(UtcOffset::UTC);
    let out = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    utc.format(out).ok()
}

/// The first of `candidates` (strongest first) that states a time of day, else the first that
/// parses: `2016-01-20` in a meta tag yields to JSON-LD's `2016-01-20T21:50:42+00:00`.
pub fn precise_date<const N: usize>(candidates: [Option<String>; N]) -> Option<String> {
    let parsed: Vec<(bool, String)> =
        candidates.into_iter().flatten().filter_map(|raw| Some((raw.contains(':'), iso_date(&raw)?))).collect();
    parsed.iter().find(|(timed, _)| *timed).or(parsed.first()).map(|(_, d)| d.clone())
}

/// The day in a dated permalink (`/blog/2016/05/16/slug`), the weakest sign of a publication date.
pub fn url_date(url: &Url) -> Option<String> {
    let parts: Vec<&str> = url.path_segments()?.collect();
    parts.windows(3).find_map(|w| {
        let [y, m, d] = [w[0], w[1], w[2]];
        let all_digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(y, 4) && all_digits(m, 2) && all_digits(d, 2)) {
            return None;
        }
        let year: i32 = y.parse().ok().filter(|y| (1990..=2100).contains(y))?;
        let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
        let date = time::Date::from_calendar_date(year, month, d.parse().ok()?).ok()?;
        iso_date(&date.to_string())
    })
}

/// A calendar date as people write it: "Thursday, May 26, 2016", "Aug 14, 2020",
/// "October 11th 2017", "26 May 2016", "4/6/2016" (month first).
pub fn text_date(raw: &str) -> Option<time::Date> {
    let lower = raw.to_lowercase();
    if let Some(date) = cjk_date(&lower) {
        return Some(date);
    }
    // Words that stand between a day and its month in some languages: "12 de marzo de 2024".
    const LINKS: &[&str] = &["de", "del", "di", "du", "of", "the"];
    let tokens: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
        .filter(|t| !t.is_empty() && !LINKS.contains(t))
        .collect();
    let day_of = |t: &str| {
        let digits = t.trim_end_matches(|c: char| c.is_alphabetic());
        digits.parse::<u8>().ok().filter(|d| (1..=31).contains(d) && t.chars().count() <= 4)
    };
    let year_of = |t: &str| t.parse::<i32>().ok().filter(|y| (1990..=2100).contains(y));
    let build = |y: i32, m: u8, d: u8| time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok();
    for (i, t) in tokens.iter().enumerate() {
        if let Some(m) = month_named(t) {
            // Month D YYYY
            if let (Some(d), Some(y)) =
                (tokens.get(i + 1).and_then(|t| day_of(t)), tokens.get(i + 2).and_then(|t| year_of(t)))
            {
                return build(y, m, d);
            }
            // D Month YYYY
            if let (Some(d), Some(y)) =
                (i.checked_sub(1).and_then(|j| day_of(tokens[j])), tokens.get(i + 1).and_then(|t| year_of(t)))
            {
                return build(y, m, d);
            }
        }
        let parts: Vec<&str> = t.split('/').collect();
        if let [m, d, y] = parts[..] {
            if let (Ok(m), Some(d), Some(y)) = (m.parse::<u8>(), day_of(d), year_of(y)) {
                if (1..=12).contains(&m) {
                    return build(y, m, d);
                }
            }
        }
    }
    None
}

/// The month (1–12) a lower-case word names, in English, German, French, Spanish, Italian,
/// Dutch, Portuguese or Russian, written out or cut after three letters or more.
fn month_named(word: &str) -> Option<u8> {
    // Each month's stem per language; a word names the month when it starts with a stem and is
    // no longer than the stem's longest spelling allows.
    const STEMS: [&[&str]; 12] = [
        &["jan", "janv", "ene", "gen", "янв"],
        &["feb", "fév", "fev", "febr", "fevr", "фев"],
        &["mar", "mär", "mrt", "март", "мар"],
        &["apr", "avr", "abr", "апр"],
        &["may", "mai", "mei", "mag", "mayo", "maio", "мая", "май"],
        &["jun", "juin", "giu", "июн"],
        &["jul", "juil", "lug", "июл"],
        &["aug", "aoû", "aou", "ago", "авг"],
        &["sep", "set", "сен"],
        &["oct", "okt", "ott", "out", "окт"],
        &["nov", "ноя"],
        &["dec", "dez", "déc", "dic", "дек"],
    ];
    let letters = word.chars().count();
    if !(3..=11).contains(&letters) || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    // "mai" (May) and "mar" (March) are also the start of other words: only whole month names
    // and their usual cuts count, so a word must be one of the spellings a month is known by.
    const NAMES: [&[&str]; 12] = [
        &["january", "januar", "janvier", "enero", "gennaio", "januari", "janeiro", "января", "январь"],
        &[
            "february",
            "februar",
            "février",
            "fevrier",
            "febrero",
            "febbraio",
            "februari",
            "fevereiro",
            "февраля",
            "февраль",
        ],
        &["march", "märz", "maerz", "mars", "marzo", "maart", "março", "marco", "марта", "март"],
        &["april", "avril", "abril", "aprile", "апреля", "апрель"],
        &["may", "mai", "mayo", "maggio", "mei", "maio", "мая", "май"],
        &["june", "juni", "juin", "junio", "giugno", "junho", "июня", "июнь"],
        &["july", "juli", "juillet", "julio", "luglio", "julho", "июля", "июль"],
        &["august", "août", "aout", "agosto", "augustus", "августа", "август"],
        &["september", "septembre", "septiembre", "settembre", "setembro", "сентября", "сентябрь"],
        &["october", "oktober", "octobre", "octubre", "ottobre", "outubro", "октября", "октябрь"],
        &["november", "novembre", "noviembre", "novembro", "ноября", "ноябрь"],
        &["december", "dezember", "décembre", "decembre", "diciembre", "dicembre", "dezembro", "декабря", "декабрь"],
    ];
    (0..12u8).find_map(|m| {
        let i = usize::from(m);
        let named = NAMES[i].contains(&word);
        // A cut of a name: at least three letters, a stem, and the start of one of its names.
        let cut = STEMS[i].iter().any(|s| word.starts_with(s)) && NAMES[i].iter().any(|n| n.starts_with(word));
        (named || cut).then_some(m + 1)
    })
}

/// `2024年1月5日` (Chinese, Japanese) and `2024년 1월 5일` (Korean).
fn cjk_date(text: &str) -> Option<time::Date> {
    for (year_mark, month_mark, day_mark) in [('年', '月', '日'), ('년', '월', '일')] {
        let Some(at) = text.find(year_mark) else { continue };
        let digits_before = |s: &str| -> Option<u32> {
            let d: String =
                s.chars().rev().skip_while(|c| c.is_whitespace()).take_while(char::is_ascii_digit).collect();
            d.chars().rev().collect::<String>().parse().ok()
        };
        let year = digits_before(&text[..at])?;
        let rest = &text[at + year_mark.len_utf8()..];
        let month_at = rest.find(month_mark)?;
        let month = digits_before(&rest[..month_at])?;
        let rest = &rest[month_at + month_mark.len_utf8()..];
        let day_at = rest.find(day_mark)?;
        let day = digits_before(&rest[..day_at])?;
        if !(1990..=2100).contains(&year) {
            return None;
        }
        let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
        return time::Date::from_calendar_date(year as i32, month, u8::try_from(day).ok()?).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_common_forms_become_utc() {
        for (raw, want) in [
            ("2021-02-12T16:09:42+00:00", "2021-02-12T16:09:42.000Z"),
            ("2021-02-12T18:09:42+02:00", "2021-02-12T16:09:42.000Z"),
            ("2021-02-12T16:09:42Z", "2021-02-12T16:09:42.000Z"),
            ("2021-02-12T16:09:42+0000", "2021-02-12T16:09:42.000Z"),
            ("2016-04-29T19:31:03-0400", "2016-04-29T23:31:03.000Z"),
            ("2021-02-12T16:09:42", "2021-02-12T16:09:42.000Z"),
            ("2021-02-12", "2021-02-12T00:00:00.000Z"),
            ("Fri, 12 Feb 2021 16:09:42 +0000", "2021-02-12T16:09:42.000Z"),
            ("Thursday, May 26, 2016", "2016-05-26T00:00:00.000Z"),
            ("Aug 14, 2020", "2020-08-14T00:00:00.000Z"),
            ("Wednesday, October 11th 2017 (12:00 pm)", "2017-10-11T00:00:00.000Z"),
            ("26 May 2016", "2016-05-26T00:00:00.000Z"),
            ("4/6/2016", "2016-04-06T00:00:00.000Z"),
        ] {
            assert_eq!(iso_date(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(iso_date("yesterday"), None);
    }

    #[test]
    fn dated_permalinks_give_a_day() {
        let day = |u: &str| url_date(&Url::parse(u).unwrap());
        assert_eq!(day("https://x.com/blog/2016/05/16/circleci-raises/").as_deref(), Some("2016-05-16T00:00:00.000Z"));
        assert_eq!(day("https://x.com/2016/5/16/a"), None, "two-digit month and day only");
        assert_eq!(day("https://x.com/products/1234/56/78"), None);
        assert_eq!(day("https://x.com/2016/02/30/"), None, "no such day");
    }

    #[test]
    fn dates_in_any_script_never_panic() {
        // Each cut a byte string inside a multibyte character before.
        for raw in [
            "3 января, пятница",
            "3 января 2024",
            "2024年1月5日",
            "2024年1月5日 金曜日",
            "١٢ مارس ٢٠٢٤",
            "12 مارس 2024",
            "12. März 2024",
            "🗓️🗓️",
            "é",
            "2021-02-12T16:09:42+0٠٠٠",
        ] {
            let _ = iso_date(raw);
            let _ = precise_date([Some(raw.to_string()), Some(format!("{raw}:00"))]);
            let _ = text_date(raw);
        }
    }

    #[test]
    fn dates_written_in_other_languages() {
        for (raw, want) in [
            ("12. März 2024", "2024-03-12"),
            ("3 января 2024", "2024-01-03"),
            ("2024年1月5日", "2024-01-05"),
            ("2024年1月5日 金曜日", "2024-01-05"),
            ("2024년 1월 5일", "2024-01-05"),
            ("12 de marzo de 2024", "2024-03-12"),
            ("5 septembre 2023", "2023-09-05"),
            ("1 maggio 2022", "2022-05-01"),
            ("14 mei 2021", "2021-05-14"),
            ("Veröffentlicht am 6. Nov. 2023", "2023-11-06"),
            ("November 6th, 2023", "2023-11-06"),
        ] {
            assert_eq!(text_date(raw).map(|d| d.to_string()).as_deref(), Some(want), "{raw}");
        }
        for not_a_date in ["martes 12 markets 2024", "maison 3 mais 2020", "12 marks 2024", "2024年", "年月日"] {
            assert_eq!(text_date(not_a_date), None, "{not_a_date}");
        }
    }
}
