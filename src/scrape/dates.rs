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
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let lower = raw.to_lowercase();
    let tokens: Vec<&str> =
        lower.split(|c: char| c.is_whitespace() || c == ',' || c == '.').filter(|t| !t.is_empty()).collect();
    let month_of = |t: &str| {
        (t.len() >= 3 && t.chars().all(|c| c.is_ascii_alphabetic()))
            .then(|| MONTHS.iter().position(|m| t.starts_with(m)))
            .flatten()
    };
    let day_of = |t: &str| {
        let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        digits.parse::<u8>().ok().filter(|d| (1..=31).contains(d) && t.len() <= 4)
    };
    let year_of = |t: &str| t.parse::<i32>().ok().filter(|y| (1990..=2100).contains(y));
    let build =
        |y: i32, m: usize, d: u8| time::Date::from_calendar_date(y, time::Month::try_from(m as u8 + 1).ok()?, d).ok();
    for (i, t) in tokens.iter().enumerate() {
        if let Some(m) = month_of(t) {
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
            if let (Ok(m), Some(d), Some(y)) = (m.parse::<usize>(), day_of(d), year_of(y)) {
                if (1..=12).contains(&m) {
                    return build(y, m - 1, d);
                }
            }
        }
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
}
