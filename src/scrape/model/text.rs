//! Text helpers: white space folded as a browser lays it out, and text cut into sentences.

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
