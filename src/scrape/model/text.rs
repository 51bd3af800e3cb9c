//! Text helpers: white space folded as a browser lays it out, text cut into sentences and
//! words, and names compared however they are spaced and punctuated.

/// `text` cut into sentences: after `.`, `!` or `?` and a space, unless the full stop ends an
/// initial or a common abbreviation (`U.S.`, `Inc.`, `Dr.`).
pub fn sentences(text: &str) -> Vec<&str> {
    const ABBREVIATIONS: &[&str] = &[
        "inc", "ltd", "co", "corp", "mr", "ms", "mrs", "dr", "prof", "st", "vs", "e.g", "i.e", "etc", "no", "nr",
        "mio", "mrd", "ca", "bzw", "inkl", "vgl", "z.b", "u.a", "d.h", "str", "tel", "abs", "mme", "sr", "sra", "dott",
        "ing",
    ];
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if !matches!(c, '.' | '!' | '?') || !text[i + 1..].starts_with(char::is_whitespace) {
            continue;
        }
        let word = text[start..i].rsplit(char::is_whitespace).next().unwrap_or_default();
        let last = word.rsplit('.').next().unwrap_or_default();
        let initial = last.chars().count() == 1 && last.chars().all(char::is_uppercase);
        if c == '.' && (initial || ABBREVIATIONS.contains(&word.to_lowercase().as_str())) {
            continue;
        }
        out.push(text[start..=i].trim());
        start = i + 1;
    }
    out.push(text[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// `s`'s letters and figures only, lower-case: `Acme-Rockets, Inc.` → `acmerocketsinc`.
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase()
}

/// Whether two names are one, spelled more or less fully: either, squashed, holds the other, and
/// both have three characters at least (`Fotobox Tirol` and `fotobox.tirol`, `Acme` and `Acme
/// Rockets GmbH`).
pub fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (squash(a), squash(b));
    a.len() >= 3 && b.len() >= 3 && (a.contains(&b) || b.contains(&a))
}

/// `text`'s words, lower-case, without the punctuation between them.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Whether `words` (lower-case) hold the words of `phrase` in a row; with `slack`, a word may
/// run on by that many letters past the phrase's (`responsables` for `responsable`).
pub fn has_phrase<S: AsRef<str>>(words: &[S], phrase: &str, slack: usize) -> bool {
    let phrase: Vec<&str> = phrase.split(' ').collect();
    words.windows(phrase.len()).any(|w| {
        w.iter().zip(&phrase).all(|(word, p)| {
            let word = word.as_ref();
            word.starts_with(p) && word.len() <= p.len() + slack
        })
    })
}

/// `s` with each run of white space made one space and none at either end, the way a browser
/// lays out text.
pub fn fold_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_folded(&mut out, s);
    out
}

/// Appends the words of `s` to `out`, one space apart and from what `out` holds already.
fn push_folded(out: &mut String, s: &str) {
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_phrases_compare_as_words() {
        assert_eq!(squash("Acme-Rockets, Inc."), "acmerocketsinc");
        assert!(same_name("Fotobox Tirol", "fotobox.tirol"));
        assert!(same_name("Acme", "Acme Rockets GmbH"));
        assert!(!same_name("AB", "ABC Corp"), "too short to tell");
        let w = words("Responsables: Acme (Sede legale)");
        assert_eq!(w, ["responsables", "acme", "sede", "legale"]);
        assert!(has_phrase(&w, "sede legale", 0));
        assert!(has_phrase(&w, "responsable", 2));
        assert!(!has_phrase(&w, "responsable", 0));
        assert!(!has_phrase(&words("IP-Adresse"), "ip adresse gespeichert", 0));
    }
}
