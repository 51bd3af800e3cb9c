//! Phone numbers in E.164, read with libphonenumber's rules (the `phonenumber` crate): a number
//! written nationally (`030 1234567-0`, `+49 (0)30 1234567-0`, `(415) 555-0132`) is read for
//! the region the site is in, and a number that is not valid there is no number.

use phonenumber::{Mode, country};

/// Characters a written number may hold, at most; longer text is no phone number.
const MAX_CHARS: usize = 40;

/// `raw` in E.164 (`+493012345670`), read for `region` (ISO 3166-1 alpha-2) when it has no
/// country code; `None` when it is not a valid number.
pub fn e164(raw: &str, region: Option<&str>) -> Option<String> {
    let raw = raw.trim().trim_start_matches("tel:").trim();
    if raw.is_empty() || raw.chars().count() > MAX_CHARS {
        return None;
    }
    // The trunk prefix some countries write in brackets after the country code: +49 (0)30 …
    let raw = raw.replace("(0)", "");
    // A number in the North American plan's own layout, `(415) 555-2671` or `415-555-2671`,
    // read where nothing says which country the site is in.
    let nanp = || {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let layout = raw.chars().all(|c| c.is_ascii_digit() || " ()-.".contains(c));
        (layout && digits.len() == 10 && (raw.contains('(') || raw.matches(['-', '.']).count() == 2)).then_some("US")
    };
    let region: Option<country::Id> = region.or_else(nanp).and_then(|r| r.to_ascii_uppercase().parse().ok());
    let valid = |raw: &str| {
        let number = phonenumber::parse(region, raw).ok()?;
        number.is_valid().then(|| number.format().mode(Mode::E164).to_string())
    };
    // `+44 20 7946 0018-9` is a range of lines: the first, when the whole is no number.
    valid(&raw).or_else(|| {
        let (first, last) = raw.rsplit_once('-')?;
        (last.len() == 1 && last.bytes().all(|b| b.is_ascii_digit())).then(|| valid(first)).flatten()
    })
}

/// The country (ISO 3166-1 alpha-2) an E.164 number belongs to.
pub fn region_of(e164: &str) -> Option<String> {
    let number = phonenumber::parse(None, e164).ok()?;
    number.country().id().map(|id| id.as_ref().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_spellings_become_one() {
        let want = Some("+493012345670".to_string());
        assert_eq!(e164("+49 (0)30 1234567-0", None), want);
        assert_eq!(e164("030 1234567-0", Some("DE")), want);
        assert_eq!(e164("+49 30 12345670", Some("FR")), want, "a country code wins over the region");
        assert_eq!(e164("tel:+493012345670", None), want);
        assert_eq!(e164("+44 (0)20 7946 0018", None).as_deref(), Some("+442079460018"));
        assert_eq!(e164("020 7946 0018", Some("GB")).as_deref(), Some("+442079460018"));
        assert_eq!(e164("04 72 00 00 00", Some("FR")).as_deref(), Some("+33472000000"));
        assert_eq!(e164("(415) 555-2671", Some("US")).as_deref(), Some("+14155552671"));
        assert_eq!(e164("(415) 555-2671", None).as_deref(), Some("+14155552671"), "the plan's own layout");
        assert_eq!(e164("415-555-2671", None).as_deref(), Some("+14155552671"));
        assert_eq!(e164("415 555 2671", None), None, "no layout of its own: no country known");
        assert_eq!(e164("+44 20 7946 0018-9", None).as_deref(), Some("+442079460018"), "a range of lines");
    }

    #[test]
    fn numbers_know_their_country() {
        assert_eq!(region_of("+436643918228").as_deref(), Some("AT"));
        assert_eq!(region_of("+14155552671").as_deref(), Some("US"));
        assert_eq!(region_of("0664 3918228"), None);
    }

    #[test]
    fn what_is_no_number_gives_none() {
        assert_eq!(e164("12", Some("DE")), None);
        assert_eq!(e164("030 1234567-0", None), None, "a national number needs its region");
        assert_eq!(e164("call us", Some("US")), None);
        assert_eq!(e164(&"9".repeat(400), Some("US")), None);
        assert_eq!(e164("+999 123", None), None);
    }
}
