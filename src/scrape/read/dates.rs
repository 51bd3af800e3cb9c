//! Dates as pages write them: RFC 3339 and RFC 2822, offsets without a colon, bare days,
//! "May 26, 2016" and its kin, and the day in a dated permalink. Every reader takes any text
//! and never panics; what does not parse is `None`.

use url::Url;

/// A date in any of the common forms, as RFC 3339 in the offset it was written in (`Z` when
/// none was): a page's day is its publisher's day, and 21:46 in Buenos Aires is already
/// tomorrow in UTC. `None` when it does not parse.
pub fn iso_date(raw: &str) -> Option<String> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc2822;
    use time::macros::format_description;
    let raw = raw.trim();
    let parsed = iso_like(raw)
        .or_else(|| OffsetDateTime::parse(raw, &Rfc2822).ok())
        .or_else(|| text_date(raw).map(|d| d.midnight().assume_utc()))?;
    if parsed.offset().is_utc() {
        parsed.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
    } else {
        parsed.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3][offset_hour sign:mandatory]:[offset_minute]"
        ))
    }
    .ok()
}

/// ISO 8601 as pages bend it: `YYYY-MM-DD`, then optionally `T` or a space and
/// `HH:MM[:SS[.fraction]]`, then optionally (after spaces) `Z`, `UTC`, `GMT` or an offset
/// `±HH`, `±HHMM`, `±HH:MM`. A time without an offset is taken as UTC; what follows is ignored.
fn iso_like(raw: &str) -> Option<time::OffsetDateTime> {
    use time::{Date, Month, Time, UtcOffset};
    let mut at = Cursor { raw, at: 0 };
    let year = at.digits(4)?;
    at.eat(b'-').then_some(())?;
    let month = Month::try_from(u8::try_from(at.digits(2)?).ok()?).ok()?;
    at.eat(b'-').then_some(())?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(at.digits(2)?).ok()?).ok()?;
    let mut time = Time::MIDNIGHT;
    let mut offset = UtcOffset::UTC;
    let before_time = at.at;
    if at.eat(b'T') || at.eat(b' ') {
        let clock = (|| {
            let hour = at.digits(2)?;
            at.eat(b':').then_some(())?;
            let minute = at.digits(2)?;
            let second = if at.eat(b':') { at.digits(2)? } else { 0 };
            let mut nanos = 0u32;
            if at.eat(b'.') || at.eat(b',') {
                let mut scale = 100_000_000;
                while let Some(digit) = at.peek().filter(u8::is_ascii_digit) {
                    nanos += u32::from(digit - b'0') * scale;
                    scale /= 10;
                    at.at += 1;
                }
            }
            let [hour, minute, second] = [hour, minute, second].map(|n| u8::try_from(n).unwrap_or(u8::MAX));
            Time::from_hms_nano(hour, minute, second, nanos).ok()
        })();
        match clock {
            Some(clock) => time = clock,
            None => at.at = before_time,
        }
        while at.eat(b' ') {}
        let rest = raw.get(at.at..).unwrap_or("");
        if clock.is_some() && !(rest.starts_with('Z') || rest.starts_with("UTC") || rest.starts_with("GMT")) {
            let sign = match at.peek() {
                Some(b'+') => Some(1),
                Some(b'-') => Some(-1),
                _ => None,
            };
            if let Some(sign) = sign {
                at.at += 1;
                let stated = (|| {
                    let hours = i8::try_from(at.digits(2)?).ok()?;
                    at.eat(b':');
                    let minutes = at.digits(2).and_then(|m| i8::try_from(m).ok()).unwrap_or(0);
                    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
                })();
                offset = stated.unwrap_or(UtcOffset::UTC);
            }
        }
    }
    Some(date.with_time(time).assume_offset(offset))
}

/// A reading position in a string, moved by whole ASCII bytes only.
struct Cursor<'a> {
    raw: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.raw.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        self.at += usize::from(hit);
        hit
    }

    /// Exactly `n` ASCII digits, read as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.raw.get(self.at..self.at + n)?;
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.at += n;
        s.parse().ok()
    }
}

/// The first of `candidates` (strongest first) that states a time of day, else the first that
/// parses: `2016-01-20` in a meta tag yields to JSON-LD's `2016-01-20T21:50:42+00:00`.
pub fn precise_date<const N: usize>(candidates: [Option<String>; N]) -> Option<String> {
    let parsed: Vec<(bool, String)> =
        candidates.into_iter().flatten().filter_map(|raw| Some((raw.contains(':'), iso_date(&raw)?))).collect();
    parsed.iter().find(|(timed, _)| *timed).or(parsed.first()).map(|(_, d)| d.clone())
}

/// The day in a dated permalink (`/blog/2016/05/16/slug`, `/2017/7/12/`, `/20220503/`): the
/// day a publisher filed the page under, which a later edit does not move.
pub fn url_date(url: &Url) -> Option<String> {
    let parts: Vec<&str> = url.path_segments()?.collect();
    let digits =
        |s: &str, n: std::ops::RangeInclusive<usize>| n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let date = parts
        .windows(3)
        .find_map(|w| {
            let [y, m, d] = [w[0], w[1], w[2]];
            if !(digits(y, 4..=4) && digits(m, 1..=2) && digits(d, 1..=2)) {
                return None;
            }
            calendar_date(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
        })
        .or_else(|| {
            // One segment of eight figures, YYYYMMDD.
            parts.iter().filter(|p| digits(p, 8..=8)).find_map(|p| {
                calendar_date(p.get(..4)?.parse().ok()?, p.get(4..6)?.parse().ok()?, p.get(6..8)?.parse().ok()?)
            })
        })
        .or_else(|| {
            // One segment that is a whole dashed day: 2021-10-29, or 29-10-2021 when the day
            // cannot be a month (10-11-2021 could be either).
            parts.iter().find_map(|p| {
                let numbers: Vec<&str> = p.split('-').collect();
                let [a, b, c] = numbers[..] else { return None };
                let n = |s: &str| s.parse::<u8>().ok();
                if digits(a, 4..=4) && digits(b, 1..=2) && digits(c, 1..=2) {
                    calendar_date(a.parse().ok()?, n(b)?, n(c)?)
                } else if digits(a, 1..=2) && digits(b, 1..=2) && digits(c, 4..=4) && n(a)? > 12 {
                    calendar_date(c.parse().ok()?, n(b)?, n(a)?)
                } else {
                    None
                }
            })
        })?;
    iso_date(&date.to_string())
}

/// A calendar date as people write it: "Thursday, May 26, 2016", "Aug 14, 2020",
/// "October 11th 2017", "26 May 2016", "12. März 2024", "27.01.2022" (day first),
/// "2022-01-27", "4/6/2016" (month first unless the first number cannot be a month). In a longer
/// text, the first date it states.
pub fn text_date(raw: &str) -> Option<time::Date> {
    let lower = raw.to_lowercase();
    if let Some(date) = cjk_date(&lower) {
        return Some(date);
    }
    // Words that stand between a day and its month in some languages: "12 de marzo de 2024".
    const LINKS: &[&str] = &["de", "del", "di", "du", "of", "the"];
    let words = lower.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty());
    // A word that is a whole numeric date stays whole; the others are cut at their dots, so that
    // "6. nov. 2023" reads as day, month and year.
    let tokens: Vec<Token> = words
        .flat_map(|w| match numeric_date(w) {
            Some(date) => vec![Token::Date(date)],
            None => w.split('.').filter(|t| !t.is_empty() && !LINKS.contains(t)).map(Token::Word).collect(),
        })
        .collect();
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => Some(*w),
        _ => None,
    };
    let day_of = |t: &str| {
        let digits = t.trim_end_matches(|c: char| c.is_alphabetic());
        digits.parse::<u8>().ok().filter(|d| (1..=31).contains(d) && t.chars().count() <= 4)
    };
    let year_of = |t: &str| t.parse::<i32>().ok();
    for (i, token) in tokens.iter().enumerate() {
        let t = match token {
            Token::Date(date) => return Some(*date),
            Token::Word(t) => *t,
        };
        if let Some(m) = month_named(t) {
            // Month D YYYY
            if let (Some(d), Some(y)) = (word(i + 1).and_then(day_of), word(i + 2).and_then(year_of)) {
                return calendar_date(y, m, d);
            }
            // D Month YYYY
            if let (Some(d), Some(y)) =
                (i.checked_sub(1).and_then(word).and_then(day_of), word(i + 1).and_then(year_of))
            {
                return calendar_date(y, m, d);
            }
        }
    }
    None
}

enum Token<'a> {
    Word(&'a str),
    Date(time::Date),
}

/// A day of the years pages are dated in (1990–2100); `None` for what is no such day.
fn calendar_date(year: i32, month: u8, day: u8) -> Option<time::Date> {
    if !(1990..=2100).contains(&year) {
        return None;
    }
    time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// One word that is a date in figures: `27.01.2022` and `27/01/2022` (day first), `4/6/2016`
/// (month first when both could be), `2022-01-27`, `2022/01/27`. Trailing punctuation is
/// ignored; a year outside 1990–2100 is no date.
fn numeric_date(word: &str) -> Option<time::Date> {
    let word = word.trim_matches(|c: char| !c.is_ascii_digit());
    // The day of an ISO time written in text: 2016-04-08T20:30:39+00:00.
    let word = match word.get(..11) {
        Some(head) if head.ends_with(['t', 'T']) => &head[..10],
        _ => word,
    };
    let sep = word.chars().find(|c| matches!(c, '.' | '/' | '-'))?;
    let parts: Vec<&str> = word.split(sep).collect();
    let [a, b, c] = parts[..] else { return None };
    let number = |s: &str, lens: std::ops::RangeInclusive<usize>| {
        (lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u16>().ok()).flatten()
    };
    let small = |n: u16| u8::try_from(n).ok();
    if let (Some(y), Some(m), Some(d)) = (number(a, 4..=4), number(b, 1..=2), number(c, 1..=2)) {
        return calendar_date(i32::from(y), small(m)?, small(d)?);
    }
    let (first, second, y) = (number(a, 1..=2)?, number(b, 1..=2)?, i32::from(number(c, 4..=4)?));
    let (month, day) = match sep {
        '.' => (second, first),
        '/' if first > 12 => (second, first),
        '/' => (first, second),
        _ => return None,
    };
    calendar_date(y, small(month)?, small(day)?)
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
    fn dates_in_common_forms_keep_their_offset() {
        for (raw, want) in [
            ("2021-02-12T16:09:42+00:00", "2021-02-12T16:09:42.000Z"),
            ("2021-02-12T18:09:42+02:00", "2021-02-12T18:09:42.000+02:00"),
            ("2022-05-03T21:46:08-03:00", "2022-05-03T21:46:08.000-03:00"),
            ("2021-02-12T16:09:42Z", "2021-02-12T16:09:42.000Z"),
            ("2021-02-12T16:09:42+0000", "2021-02-12T16:09:42.000Z"),
            ("2016-04-29T19:31:03-0400", "2016-04-29T19:31:03.000-04:00"),
            ("2021-02-12T16:09:42", "2021-02-12T16:09:42.000Z"),
            ("2021-02-12", "2021-02-12T00:00:00.000Z"),
            ("2025-08-07 09:37:22 -0400", "2025-08-07T09:37:22.000-04:00"),
            ("2025-08-07 09:37", "2025-08-07T09:37:00.000Z"),
            ("2020-03-01T10:00:00.123456+05:30", "2020-03-01T10:00:00.123+05:30"),
            ("2020-03-01T10:00:00 GMT", "2020-03-01T10:00:00.000Z"),
            ("2020-03-01T10:00+01", "2020-03-01T10:00:00.000+01:00"),
            ("2020-03-01T25:00:00", "2020-03-01T00:00:00.000Z"),
            ("Fri, 12 Feb 2021 16:09:42 +0000", "2021-02-12T16:09:42.000Z"),
            ("Thursday, May 26, 2016", "2016-05-26T00:00:00.000Z"),
            ("Aug 14, 2020", "2020-08-14T00:00:00.000Z"),
            ("Wednesday, October 11th 2017 (12:00 pm)", "2017-10-11T00:00:00.000Z"),
            ("26 May 2016", "2016-05-26T00:00:00.000Z"),
            ("4/6/2016", "2016-04-06T00:00:00.000Z"),
            ("Posted 2016-04-08T20:30:39+00:00", "2016-04-08T00:00:00.000Z"),
        ] {
            assert_eq!(iso_date(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(iso_date("yesterday"), None);
    }

    #[test]
    fn a_candidate_with_a_time_wins() {
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            precise_date([some("2016-01-20"), some("2016-01-20T21:50:42+00:00")]).as_deref(),
            Some("2016-01-20T21:50:42.000Z")
        );
        assert_eq!(
            precise_date([None, some("not a date"), some("2020-01-02")]).as_deref(),
            Some("2020-01-02T00:00:00.000Z")
        );
    }

    #[test]
    fn dated_permalinks_give_a_day() {
        let day = |u: &str| url_date(&Url::parse(u).unwrap());
        assert_eq!(day("https://x.com/blog/2016/05/16/circleci-raises/").as_deref(), Some("2016-05-16T00:00:00.000Z"));
        assert_eq!(day("https://x.com/2017/7/12/a").as_deref(), Some("2017-07-12T00:00:00.000Z"));
        assert_eq!(day("https://x.com/news/20220503/a").as_deref(), Some("2022-05-03T00:00:00.000Z"));
        assert_eq!(day("https://x.com/2023/10/3-fragen-an"), None, "a day is a whole segment");
        assert_eq!(day("https://x.com/item/12345678"), None, "no such day");
        assert_eq!(day("https://x.com/products/1234/56/78"), None);
        assert_eq!(day("https://x.com/2016/02/30/"), None, "no such day");
        assert_eq!(day("https://x.com/meldungen/29-10-2021").as_deref(), Some("2021-10-29T00:00:00.000Z"));
        assert_eq!(day("https://x.com/news/2021-10-29/").as_deref(), Some("2021-10-29T00:00:00.000Z"));
        assert_eq!(day("https://x.com/news/10-11-2021"), None, "month or day first: unknown");
        assert_eq!(day("https://x.com/item-29-10-2021"), None, "a whole segment");
    }

    #[test]
    fn dates_in_any_script_are_read_or_left_alone() {
        // Each cut a byte string inside a multibyte character before. What has a day, a month
        // and a year is read; the rest (no year, Arabic month names, which are not read) gives
        // no date rather than a made-up one.
        for (raw, day) in [
            ("3 января, пятница", None),
            ("3 января 2024", Some("2024-01-03")),
            ("2024年1月5日", Some("2024-01-05")),
            ("2024年1月5日 金曜日", Some("2024-01-05")),
            ("١٢ مارس ٢٠٢٤", None),
            ("12 مارس 2024", None),
            ("12. März 2024", Some("2024-03-12")),
            ("🗓️🗓️", None),
            ("é", None),
            ("2021-02-12T16:09:42+0٠٠٠", Some("2021-02-12")),
        ] {
            let iso = iso_date(raw);
            assert_eq!(iso.as_deref().and_then(|d| d.get(..10)), day, "{raw}");
            let precise = precise_date([Some(raw.to_string()), Some(format!("{raw}:00"))]);
            assert_eq!(precise.as_deref().and_then(|d| d.get(..10)), day, "{raw}");
            assert_eq!(text_date(raw).map(|d| d.to_string()).as_deref(), day, "{raw}");
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
            ("Datum: 03.02.2022 / 04.02.2022 - 00:00 Uhr", "2022-02-03"),
            ("publié le 27/01/2022", "2022-01-27"),
            ("Posted 4/6/2016.", "2016-04-06"),
            ("Stand: 2022-01-27", "2022-01-27"),
        ] {
            assert_eq!(text_date(raw).map(|d| d.to_string()).as_deref(), Some(want), "{raw}");
        }
        for not_a_date in [
            "martes 12 markets 2024",
            "maison 3 mais 2020",
            "12 marks 2024",
            "2024年",
            "年月日",
            "v1.2.3",
            "31.02.2022",
            "10/20/30",
            "1.5.1887",
        ] {
            assert_eq!(text_date(not_a_date), None, "{not_a_date}");
        }
    }
}
