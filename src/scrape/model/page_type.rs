//! What a page is to a company report, told by its path.

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageType {
    Home,
    About,
    Team,
    Contact,
    Careers,
    Pricing,
    Press,
    News,
    Blog,
    Investors,
    /// The page where the law makes a company state who it is: Impressum, mentions légales,
    /// colofon, aviso legal, note legali, legal notice.
    Imprint,
    Legal,
    Product,
    Other,
}

/// Path words of a privacy policy (a kind of [`PageType::Legal`] page), in the languages read.
const PRIVACY: &[&str] = &[
    "privacy",
    "datenschutz",
    "datenschutzerklaerung",
    "datenschutzerklarung",
    "dsgvo",
    "gdpr",
    "rgpd",
    "privacidad",
    "privacidade",
    "confidentialite",
    "riservatezza",
    "adatvedelem",
    "tietosuoja",
    "tietosuojaseloste",
    "personvern",
    "integritetspolicy",
    "integritet",
    "privatlivspolitik",
    "privatliv",
    "prywatnosci",
    "osobnich",
    "cookies",
    "cookie",
];

impl PageType {
    /// What a path says the page is, by its words; `Other` when it says nothing.
    pub fn of(url: &Url) -> PageType {
        let path = url.path().to_ascii_lowercase();
        if path == "/" || path.is_empty() {
            return PageType::Home;
        }
        let words: Vec<&str> = path.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
        let pair = |a: &str, b: &str| words.windows(2).any(|w| w[0] == a && w[1] == b);
        if has(&[
            "impressum",
            "imprint",
            "mentions",
            "colofon",
            "colophon",
            "aviso",
            "avisolegal",
            "notelegali",
            "impresszum",
            "impresum",
            "kolofon",
            "tiraz",
        ]) || pair("legal", "notice")
            || pair("note", "legali")
            || pair("legal", "disclosure")
        {
            PageType::Imprint
        } else if has(&["investors", "investor", "ir", "shareholders", "stockholders"]) {
            PageType::Investors
        } else if has(&["press", "newsroom", "media", "pressroom", "releases", "presse", "pers", "prensa", "stampa"]) {
            PageType::Press
        } else if has(&["team", "leadership", "management", "founders", "people"]) {
            PageType::Team
        } else if has(&[
            "about",
            "company",
            "who",
            "story",
            "mission",
            "ueber",
            "uber",
            "über",
            "unternehmen",
            "propos",
            "entreprise",
            "nosotros",
            "empresa",
            "azienda",
            "overview",
            "profile",
            "history",
            "historia",
            "historie",
            "geschichte",
            "histoire",
            "storia",
            "om",
            "firma",
            "firme",
            "firmie",
            "firmu",
            "spolecnosti",
            "virksomhed",
            "virksomheten",
            "foretaget",
            "yritys",
            "meista",
            "rolunk",
            "cegunkrol",
            "sobre",
            "somos",
        ]) || pair("over", "ons")
            || pair("chi", "siamo")
            || pair("o", "nas")
            || pair("o", "nama")
        {
            PageType::About
        } else if has(&[
            "contact",
            "contacts",
            "kontakt",
            "locations",
            "offices",
            "contacto",
            "contactos",
            "contatti",
            "contactez",
            "contato",
            "contatos",
            "kontakta",
            "kontakty",
            "yhteystiedot",
            "yhteys",
            "kapcsolat",
            "elerhetoseg",
            "elerhetosegek",
            "epikoinonia",
            "sijainnit",
        ]) || words
            .iter()
            .any(|w| w.strip_prefix("contact").is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
        {
            PageType::Contact
        } else if has(&[
            "careers",
            "career",
            "jobs",
            "join",
            "hiring",
            "karriere",
            "emplois",
            "vacatures",
            "empleo",
            "lavora",
        ]) {
            PageType::Careers
        } else if has(&["pricing", "plans", "price", "prices", "preise", "tarifs", "prijzen", "precios", "prezzi"]) {
            PageType::Pricing
        } else if has(&["news", "announcements", "updates", "aktuelles", "actualites", "nieuws", "noticias", "notizie"])
        {
            PageType::News
        } else if has(&["blog", "insights", "articles", "stories"]) {
            PageType::Blog
        } else if has(PRIVACY)
            || has(&[
                "legal",
                "terms",
                "tos",
                "agb",
                "cgv",
                "toimitusehdot",
                "villkor",
                "vilkar",
                "handelsbetingelser",
                "regulamin",
                "podminky",
                "termos",
                "policy",
            ])
        {
            PageType::Legal
        } else if has(&["product", "products", "features", "platform", "solutions", "services"]) {
            PageType::Product
        } else {
            PageType::Other
        }
    }

    /// Whether the path names a privacy policy (a kind of [`PageType::Legal`] page): it names
    /// the processors a site uses, and only its controller's block speaks of the company.
    pub fn is_privacy(url: &Url) -> bool {
        let path = url.path().to_ascii_lowercase();
        path.split(|c: char| !c.is_alphanumeric()).any(|w| PRIVACY.contains(&w))
    }

    /// Lower comes first.
    pub fn rank(self) -> u8 {
        match self {
            PageType::Home => 0,
            PageType::About => 1,
            PageType::Team => 2,
            PageType::Contact => 3,
            PageType::Imprint => 4,
            PageType::Investors => 5,
            PageType::Press => 6,
            PageType::News => 7,
            PageType::Careers => 8,
            PageType::Pricing => 9,
            PageType::Blog => 10,
            PageType::Product => 11,
            PageType::Legal => 12,
            PageType::Other => 13,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_say_what_a_page_is() {
        let t = |p: &str| PageType::of(&Url::parse(&format!("https://acme.test{p}")).unwrap());
        assert_eq!(t("/"), PageType::Home);
        assert_eq!(t("/about-us"), PageType::About);
        assert_eq!(t("/company/leadership"), PageType::Team);
        assert_eq!(t("/investors/sec-filings"), PageType::Investors);
        assert_eq!(t("/newsroom/2024/acme-raises"), PageType::Press);
        assert_eq!(t("/careers"), PageType::Careers);
        assert_eq!(t("/de/impressum"), PageType::Imprint);
        assert_eq!(t("/mentions-legales"), PageType::Imprint);
        assert_eq!(t("/legal-notice"), PageType::Imprint);
        assert_eq!(t("/privacy"), PageType::Legal);
        assert_eq!(t("/ueber-uns"), PageType::About);
        assert_eq!(t("/fr/a-propos"), PageType::About);
        assert_eq!(t("/p/12345"), PageType::Other);
        assert_eq!(t("/impresszum.html"), PageType::Imprint);
        assert_eq!(t("/o_firme.html"), PageType::About);
        assert_eq!(t("/om-oss"), PageType::About);
        assert_eq!(t("/pl/o-nas"), PageType::About);
        assert_eq!(t("/yhteystiedot.html"), PageType::Contact);
        assert_eq!(t("/contact1.html"), PageType::Contact);
        assert_eq!(t("/contactless-payments"), PageType::Other);
        assert_eq!(t("/datenschutzerklaerung"), PageType::Legal);
        assert_eq!(t("/tietosuojaseloste.html"), PageType::Legal);
    }
}
