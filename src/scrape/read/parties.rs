//! Third parties a page names by a label ("Hosting: …", "Website by …", "Independent
//! auditors"): their sections and links are someone else's, never the company's.

/// Labels that open a section about a third party: its facts are not the company's.
const THIRD_PARTY: &[&str] = &[
    // English
    "hosting",
    "hosted by",
    "web hosting",
    "website by",
    "site by",
    "designed by",
    "design by",
    "design and development",
    "web design",
    "webdesign",
    "built by",
    "developed by",
    "photo credits",
    "image credits",
    "photography",
    "photos",
    "photo",
    "images",
    "pictures",
    "illustrations",
    "auditor",
    "auditors",
    "independent auditor",
    "transfer agent",
    "registrar",
    "data protection officer",
    "legal counsel",
    // German
    "hoster",
    "webhosting",
    "gestaltung",
    "konzept",
    "realisierung",
    "realisation",
    "umsetzung",
    "technische umsetzung",
    "programmierung",
    "design",
    "bilder",
    "bildnachweis",
    "bildnachweise",
    "bildquellen",
    "fotos",
    "fotografie",
    "abschlussprüfer",
    "wirtschaftsprüfer",
    "datenschutzbeauftragter",
    "datenschutzbeauftragte",
    "externer datenschutzbeauftragter",
    "agentur",
    // French
    "hébergeur",
    "hébergement",
    "hebergeur",
    "hebergement",
    "site réalisé par",
    "réalisation",
    "conception",
    "crédits photos",
    "crédits",
    "photographie",
    "photographies",
    "commissaire aux comptes",
    "développement",
    // Dutch
    "ontwerp",
    "realisatie",
    "accountant",
    // Spanish
    "alojamiento",
    "diseño",
    "fotografía",
    "desarrollo web",
    "auditoría",
    // Hungarian, Nordic, Portuguese, Polish, Czech
    "tárhely",
    "tárhelyszolgáltató",
    "tárhely szolgáltató",
    "tárhely szolgáltató adatai",
    "tárhelyszolgáltató adatai",
    "webbhotell",
    "hospedagem",
    "alojamento",
    "webhotel",
    "hostingpartner",
    "hosting provider",
    "webhosting provider",
    // Italian
    "realizzazione",
    "sviluppo",
    "credits",
    "crediti fotografici",
    "fotografia",
    "revisore",
    "società di revisione",
];

/// Whether `text` opens with a third party's label: the label stands alone as a heading
/// ("Hosting", "Independent Auditors", "Webdesign und Hosting"), before a colon ("Design:
/// Pixelwerk"), or ends in "by" ("Website by Pixelwerk"). "Design your kitchen" is no label.
pub fn third_party_label(text: &str) -> bool {
    let lower = text.trim_start_matches(|c: char| !c.is_alphanumeric()).trim_end().to_lowercase();
    label_at_start(&lower, true)
}

fn label_at_start(lower: &str, joined: bool) -> bool {
    const INTRODUCING: &[&str] = &["by", "par", "von", "door", "por", "da", "di"];
    const JOINING: &[&str] = &["und ", "and ", "& ", "et ", "y ", "e ", "en ", "+ "];
    THIRD_PARTY.iter().any(|label| {
        let Some(rest) = lower.strip_prefix(label) else { return false };
        // A label's plural is the label ("Auditors", "Photos"); a longer word is another word.
        let rest = match rest.strip_prefix('s') {
            Some(r) if r.is_empty() || r.starts_with([' ', ':', '\u{a0}']) => r,
            _ => rest,
        };
        if !(rest.is_empty() || rest.starts_with([' ', ':', '\u{a0}', '-'])) {
            return false;
        }
        let rest = rest.trim_start_matches([' ', '\u{a0}']);
        let introduces = label.rsplit(' ').next().is_some_and(|w| INTRODUCING.contains(&w));
        rest.is_empty()
            || rest.starts_with([':', '-'])
            || introduces
            || (joined && JOINING.iter().any(|j| rest.strip_prefix(j).is_some_and(|more| label_at_start(more, false))))
    })
}

/// Whether a third party is named anywhere in `text` by a label ("… | Website by Pixelwerk").
pub fn mentions_third_party(text: &str) -> bool {
    segments(text).any(third_party_label)
}

/// A line's parts as footers and imprints separate them: `Acme GmbH · Street 1 | Berlin`.
pub fn segments(line: &str) -> impl Iterator<Item = &str> {
    line.split(['|', '·', '•', ';'])
        .flat_map(|s| s.split(" – "))
        .flat_map(|s| s.split(" — "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_open_third_parties_sections() {
        assert!(!third_party_label("Designer lamps for your home"));
        assert!(third_party_label("Design: Pixelwerk"));
        assert!(third_party_label("Independent Auditors"));
        assert!(!third_party_label("Designs for every room"));
        assert!(!third_party_label("Design your kitchen"));
        assert!(third_party_label("Webdesign und Hosting"));
        assert!(third_party_label("Site réalisé par Atelier Web"));
        assert!(third_party_label("Hébergeur : OVH SAS"));
        assert!(mentions_third_party("© Acme · Website by Pixelwerk"));
    }
}
