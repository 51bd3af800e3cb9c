//! One parse per page: everything krawlr reads from a page's HTML is taken in a single pass
//! over one parsed document (`scraper::Html` cannot cross an `.await`, and parsing dominates the
//! cost of a page), and kept as plain data for the stages.

use crate::scrape::facts::founding;
use crate::scrape::facts::founding::Statement;
use crate::scrape::facts::legal;
use crate::scrape::facts::legal::LegalFacts;
use crate::scrape::model::report::{RenderedPage, Technology};
use crate::scrape::model::text::fold_whitespace;
use crate::scrape::model::{PageType, Response, Validators};
use crate::scrape::read::meta;
use crate::scrape::read::meta::PageMeta;
use crate::scrape::read::wall::{self, Verdict};
use crate::scrape::read::{framework, html, lines, listing, redirect, tech};
use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;
use std::time::Duration;
use url::Url;

struct Selectors {
    anchors: Selector,
    images: Selector,
    alternates: Selector,
    title: Selector,
    assets: Selector,
    generator: Selector,
}

static SEL: LazyLock<Selectors> = LazyLock::new(|| {
    let s = |css| Selector::parse(css).expect("static selector");
    Selectors {
        anchors: s("a[href]"),
        images: s("img[src]"),
        alternates: s("link[rel~=alternate][hreflang]"),
        title: s("title"),
        assets: s("script[src], link[href], img[src], iframe[src], source[src]"),
        generator: s("meta[name=generator i]"),
    }
});

#[derive(Debug, Clone, Default)]
pub struct PageFacts {
    pub meta: PageMeta,
    /// `href`s of the page's links, as written.
    pub links: Vec<String>,
    /// The words a reader sees, a line per block: no scripts, styles or markup.
    pub text: String,
    /// `<title>`, white space folded.
    pub title: Option<String>,
    /// An `<img>` that calls itself a logo, preferring one in a header or nav.
    pub logo_image: Option<String>,
    /// `hreflang`s of the page's alternates.
    pub hreflangs: Vec<String>,
    /// Script, style, image and frame URLs, lower-case.
    pub assets: Vec<String>,
    /// `<meta name="generator">` values, lower-case.
    pub generators: Vec<String>,
    /// What the page's own text states of the company: read on imprint, legal, contact and
    /// about pages (by their path), empty on the others.
    pub legal: LegalFacts,
    /// What the page's footer states of the company.
    pub footer: LegalFacts,
    /// Sentences that state a founding year, outside quotations and footers.
    pub founding: Vec<Statement>,
    /// The country the page is believed to be in: its TLD's, else its language's.
    pub country: Option<String>,
    /// The page's language: as its markup declares it, else as its text reads (ISO 639-1).
    pub language: Option<String>,
    /// Characters of text the page shows without its script, white space aside.
    pub visible_chars: usize,
    /// Where the page's embedded data came from, when a page with little text of its own was
    /// read from it (`__NEXT_DATA__`, `window.__INITIAL_STATE__`…); its lines end `text`.
    pub embedded: Vec<String>,
    /// Characters of text those lines hold, white space aside.
    pub embedded_chars: usize,
    /// The dated items a news or press page lists (linked headings with their dates, posts its
    /// JSON-LD declares); empty on other pages.
    pub listed: Vec<listing::Listed>,
    /// Where the page sends its reader on by itself (a meta refresh; a script, on a page with
    /// nothing to read), as written; these are among `links` too.
    pub redirects: Vec<String>,
}

impl PageFacts {
    /// The page's main content (no navigation, footer or sidebars), else all its visible text.
    pub fn main_text(&self) -> &str {
        self.meta.main_text.as_deref().unwrap_or(&self.text)
    }
}

/// The lines of the page's footer: those inside `<footer>` or an element its class calls so.
/// A page that marks none (utility-class layouts) still ends in one: its lines from a few above
/// the copyright line among its last ones to its end.
fn footer_lines(lines: &[lines::Line]) -> Vec<lines::Line> {
    const LAST: usize = 30;
    const ABOVE: usize = 15;
    let marked: Vec<_> = lines.iter().filter(|l| l.footer).cloned().collect();
    if !marked.is_empty() {
        return marked;
    }
    let tail = lines.len().saturating_sub(LAST);
    let copyright = lines[tail..].iter().position(|l| {
        let lower = l.text.to_lowercase();
        lower.contains('©') || lower.contains("copyright") || lower.contains("(c) 20")
    });
    copyright.map_or_else(Vec::new, |at| lines[(tail + at).saturating_sub(ABOVE)..].to_vec())
}

pub fn analyze(html: &str, url: &Url) -> PageFacts {
    let doc = html::parse(html);
    let mut meta = meta::from_document(&doc, url);
    let mut lines = lines::lines(&doc);
    let footer = footer_lines(&lines);
    let visible_chars = lines.iter().map(|l| l.text.chars().filter(|c| !c.is_whitespace()).count()).sum();
    let mut links: Vec<String> =
        doc.select(&SEL.anchors).filter_map(|a| a.value().attr("href")).map(str::to_string).collect();
    // A page too sparse to be content by its own text (a shell, or a wall) may hold its
    // content in the data its script draws from: read as if shown.
    let sparse = visible_chars < wall::SPARSE_TEXT;
    let embedded = if sparse { framework::read(&doc) } else { Default::default() };
    let embedded_chars = embedded.text_len();
    let redirects = redirect::targets(&doc, sparse);
    links.extend(redirects.iter().cloned());
    lines.extend(embedded.lines.into_iter().map(|text| lines::Line { text, ..Default::default() }));
    meta.json_ld.extend(embedded.json_ld);
    links.extend(embedded.links);
    for (known, found) in [(&mut meta.emails, embedded.emails), (&mut meta.phones, embedded.phones)] {
        for value in found {
            if !known.contains(&value) {
                known.push(value);
            }
        }
    }
    let language = meta.lang.clone().or_else(|| detect_language(&lines));
    let country = country_of(url, language.as_deref());
    // A whole page's legal facts are read only where the card uses them (an imprint, legal,
    // contact or about page; of a privacy policy, its controller's block): a blog post's or
    // product page's would be read for nothing. Likewise listings, on news and press pages.
    use PageType::{About, Contact, Imprint, Legal, News, Press};
    let page_type = PageType::of(url);
    let legal = match page_type {
        Legal if PageType::is_privacy(url) => legal::read_controller(&lines, country),
        Imprint | Legal | Contact | About => legal::read(&lines, country),
        _ => LegalFacts::default(),
    };
    let listed = match page_type {
        News | Press => {
            let declared = listing::declared_items(&meta.json_ld);
            if declared.len() >= 2 { declared } else { listing::dated_items(&doc) }
        }
        _ => Vec::new(),
    };
    PageFacts {
        legal,
        footer: legal::read(&footer, country),
        founding: founding::statements(&lines),
        country: country.map(str::to_string),
        language,
        visible_chars,
        embedded: embedded.sources,
        embedded_chars,
        redirects,
        listed,
        meta,
        links,
        text: lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n"),
        title: doc.select(&SEL.title).next().map(|t| fold_whitespace(&t.text().collect::<String>())),
        logo_image: logo_image(&doc),
        hreflangs: doc
            .select(&SEL.alternates)
            .filter_map(|l| l.value().attr("hreflang"))
            .map(|l| l.trim().to_string())
            .collect(),
        assets: doc
            .select(&SEL.assets)
            .filter_map(|e| e.value().attr("src").or_else(|| e.value().attr("href")))
            .map(str::to_ascii_lowercase)
            .collect(),
        generators: doc
            .select(&SEL.generator)
            .filter_map(|m| m.value().attr("content"))
            .map(str::to_ascii_lowercase)
            .collect(),
    }
}

/// The language a page's text is written in, when the text says so reliably (ISO 639-1).
fn detect_language(lines: &[lines::Line]) -> Option<String> {
    use whatlang::Lang::*;
    const SAMPLE_CHARS: usize = 4_000;
    let mut sample = String::new();
    for line in lines.iter().filter(|l| l.text.split_whitespace().count() >= 4) {
        sample.push_str(&line.text);
        sample.push('\n');
        if sample.len() >= SAMPLE_CHARS {
            break;
        }
    }
    let info = whatlang::detect(&sample).filter(|i| i.is_reliable())?;
    let code = match info.lang() {
        Eng => "en",
        Deu => "de",
        Fra => "fr",
        Nld => "nl",
        Spa => "es",
        Ita => "it",
        Por => "pt",
        Dan => "da",
        Swe => "sv",
        Nob => "no",
        Fin => "fi",
        Pol => "pl",
        Ces => "cs",
        Slk => "sk",
        Hun => "hu",
        Ell => "el",
        Ron => "ro",
        Bul => "bg",
        Hrv => "hr",
        Slv => "sl",
        Est => "et",
        Lav => "lv",
        Lit => "lt",
        Tur => "tr",
        Rus => "ru",
        Ukr => "uk",
        Ara => "ar",
        Heb => "he",
        Jpn => "ja",
        Kor => "ko",
        Cmn => "zh",
        Hin => "hi",
        Ind => "id",
        Vie => "vi",
        Tha => "th",
        _ => return None,
    };
    Some(code.to_string())
}

/// The country a page is believed to be in: its country-code TLD's, else its language's where
/// one country speaks it mostly (German, French, Dutch, Spanish, Italian, Portuguese and
/// English are each several countries' and say nothing alone: see [`countries_speaking`]).
pub fn country_of(url: &Url, lang: Option<&str>) -> Option<&'static str> {
    const TLDS: &[(&str, &str)] = &[
        ("de", "DE"),
        ("at", "AT"),
        ("ch", "CH"),
        ("fr", "FR"),
        ("uk", "GB"),
        ("nl", "NL"),
        ("be", "BE"),
        ("es", "ES"),
        ("it", "IT"),
        ("ie", "IE"),
        ("lu", "LU"),
        ("dk", "DK"),
        ("se", "SE"),
        ("no", "NO"),
        ("fi", "FI"),
        ("pl", "PL"),
        ("pt", "PT"),
        ("cz", "CZ"),
        ("hu", "HU"),
        ("gr", "GR"),
        ("us", "US"),
        ("ca", "CA"),
        ("au", "AU"),
        ("jp", "JP"),
        ("za", "ZA"),
        ("in", "IN"),
        ("mx", "MX"),
    ];
    const LANGS: &[(&str, &str)] = &[
        ("da", "DK"),
        ("sv", "SE"),
        ("nb", "NO"),
        ("nn", "NO"),
        ("no", "NO"),
        ("fi", "FI"),
        ("pl", "PL"),
        ("cs", "CZ"),
        ("sk", "SK"),
        ("hu", "HU"),
        ("el", "GR"),
        ("ja", "JP"),
        ("is", "IS"),
        ("et", "EE"),
        ("lv", "LV"),
        ("lt", "LT"),
        ("sl", "SI"),
        ("hr", "HR"),
        ("bg", "BG"),
        ("ro", "RO"),
        ("ko", "KR"),
    ];
    let tld = url.host_str().and_then(|h| h.rsplit('.').next()).unwrap_or_default().to_ascii_lowercase();
    let lang = lang.map(|l| l.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase());
    TLDS.iter()
        .find(|(t, _)| *t == tld)
        .or_else(|| LANGS.iter().find(|(l, _)| Some(*l) == lang.as_deref()))
        .map(|(_, country)| *country)
}

/// The countries where a language of several countries is spoken as the main language, the
/// largest first: one of them is the site's only when another clue (a postal code's format)
/// agrees.
pub fn countries_speaking(lang: &str) -> &'static [&'static str] {
    match lang.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase().as_str() {
        "de" => &["DE", "AT", "CH", "LI", "LU"],
        "fr" => &["FR", "BE", "CH", "LU", "CA"],
        "nl" => &["NL", "BE"],
        "it" => &["IT", "CH"],
        "es" => &["ES", "MX"],
        "pt" => &["PT"],
        "en" => &["US", "GB", "IE", "CA", "AU", "NZ", "ZA", "IN"],
        "sv" => &["SE", "FI"],
        _ => &[],
    }
}

fn logo_image(doc: &Html) -> Option<String> {
    let is_logo = |img: &ElementRef| {
        ["src", "alt", "class", "id"]
            .iter()
            .filter_map(|a| img.value().attr(a))
            .any(|v| v.to_ascii_lowercase().contains("logo"))
    };
    let in_header = |img: &ElementRef| {
        img.ancestors().filter_map(ElementRef::wrap).any(|a| matches!(a.value().name(), "header" | "nav"))
    };
    let logos: Vec<ElementRef> = doc.select(&SEL.images).filter(is_logo).take(20).collect();
    logos.iter().find(|i| in_header(i)).or(logos.first()).and_then(|i| i.value().attr("src")).map(str::to_string)
}

/// What the crawl keeps of a fetched page: its facts, not its bytes, so that a crawl's memory
/// grows with what it learned rather than with the pages' sizes.
#[derive(Debug, Clone)]
pub struct CrawledPage {
    /// Where the page came from, after redirects.
    pub url: Url,
    pub page_type: PageType,
    pub status: u16,
    /// The body's size as fetched.
    pub bytes: usize,
    pub elapsed: Duration,
    pub facts: PageFacts,
    /// The technologies the page shows, with their evidence.
    pub technologies: Vec<Technology>,
    /// Content, a bot wall, or a page that needs its scripts to show its content.
    pub verdict: Verdict,
    /// What rendering the page in a browser took, when it was rendered before it was read.
    pub rendered: Option<RenderedPage>,
    /// The document's `ETag` and `Last-Modified`, as sent (a rendered page keeps its document's).
    pub validators: Validators,
}

impl CrawledPage {
    /// Decodes, parses and reads `page` (CPU work: run it on the scraper's CPU pool); only its
    /// facts are kept, not its body.
    pub fn read(page: &Response, page_type: PageType) -> CrawledPage {
        let html = page.text();
        let facts = crate::scrape::page::analyze(&html, &page.url);
        let technologies = tech::detect_page(&html, &page.headers, &facts.assets, &facts.generators);
        let mut verdict = wall::classify(page.status, &page.headers, &html, facts.visible_chars);
        // A shell that embeds its content as data was read from it, as a browser would show it.
        if matches!(verdict, Verdict::JsRequired(_)) && facts.embedded_chars >= wall::SHELL_TEXT {
            verdict = Verdict::Content;
        }
        CrawledPage {
            url: page.url.clone(),
            page_type,
            status: page.status,
            bytes: page.body.len(),
            elapsed: page.elapsed,
            facts,
            technologies,
            verdict,
            rendered: None,
            validators: page.validators(),
        }
    }
}

/// Links to this many pages below its own path make a page a section's index.
pub const INDEX_CHILDREN: usize = 3;

impl CrawledPage {
    /// The pages below this one's path that it links to: a section index's items.
    pub fn children(&self) -> Vec<Url> {
        let own = self.url.path().trim_end_matches('/');
        let mut children: Vec<Url> = Vec::new();
        for href in &self.facts.links {
            let Ok(mut url) = self.url.join(href.trim()) else { continue };
            url.set_fragment(None);
            let below = url.path().strip_prefix(own).is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'));
            if below && url.host_str() == self.url.host_str() && !children.contains(&url) {
                children.push(url);
            }
        }
        children
    }

    /// A section's index (a press page listing its releases) rather than an item of it: it
    /// links to three or more pages below its own path.
    pub fn is_index(&self) -> bool {
        self.children().len() >= INDEX_CHILDREN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_folds_to_single_spaces() {
        assert_eq!(fold_whitespace(""), "");
        assert_eq!(fold_whitespace(" \t\r\n "), "");
        assert_eq!(fold_whitespace("  Acme \t builds\n\nrockets.\r\n"), "Acme builds rockets.");
        assert_eq!(fold_whitespace("a\u{a0}b\u{2003}c\u{3000}d\u{85}e\u{b}f"), "a b c d e f", "Unicode's white space");
        assert_eq!(fold_whitespace("zero\u{200b}width"), "zero\u{200b}width", "not white space");
        let html = "<p>  one<b>two</b>\n three </p><p>four</p>";
        let text = analyze(html, &Url::parse("https://acme.test/").unwrap()).text;
        assert_eq!(text, "one two three\nfour", "text nodes are words apart, blocks lines apart");
    }

    #[test]
    fn a_footer_no_markup_names_is_found_by_its_copyright_line() {
        let body: String = (1..=40).map(|i| format!("<p>Our work, part {i}.</p>")).collect();
        let html = format!(
            r#"<html lang="en"><body><div class="mt-8">{body}</div><div class="grid gap-4">
            <p>100Starlings Ltd Company Number: 09479495</p><p>Registered in England and Wales</p>
            <p>© 2023 100Starlings Ltd. All rights reserved.</p></div></body></html>"#
        );
        let facts = analyze(&html, &Url::parse("https://acme.test/").unwrap());
        assert_eq!(facts.footer.legal_name.as_deref(), Some("100Starlings Ltd"));
        assert_eq!(facts.footer.registration.number.as_deref(), Some("09479495"));
        // A copyright line high up the page (a quoted notice) makes no footer of the page.
        let html = format!("<p>© 2020 Someone Else GmbH</p>{body}{body}<p>Acme Widgets Ltd</p>");
        assert_eq!(analyze(&html, &Url::parse("https://acme.test/").unwrap()).footer.legal_name, None);
    }

    #[test]
    fn a_page_nested_past_the_bound_is_read_in_time() {
        let start = std::time::Instant::now();
        let facts = analyze(
            &format!("<p>before</p>{}", "<div itemscope>".repeat(200_000)),
            &Url::parse("https://acme.test/").unwrap(),
        );
        assert_eq!(facts.text, "before");
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "{:?}", start.elapsed());
    }

    #[test]
    fn one_pass_reads_text_links_and_assets() {
        let html = r#"<html><head><title> Acme |  Home </title><meta name="generator" content="Hugo 0.1">
            <script src="/App.js"></script><style>p{}</style></head><body><header><img src="/l.svg" alt="Acme Logo"></header>
            <p>Hello <b>world</b>.</p><script>var hidden = 1;</script><a href="/about">About</a>
            <link rel="alternate" hreflang="de" href="/de"></body></html>"#;
        let f = analyze(html, &Url::parse("https://acme.test/").unwrap());
        assert_eq!(f.text, "Hello world .\nAbout");
        assert_eq!(f.title.as_deref(), Some("Acme | Home"));
        assert_eq!(f.links, ["/about"]);
        assert_eq!(f.logo_image.as_deref(), Some("/l.svg"));
        assert_eq!(f.hreflangs, ["de"]);
        assert!(f.assets.contains(&"/app.js".to_string()));
        assert_eq!(f.generators, ["hugo 0.1"]);
    }
}
