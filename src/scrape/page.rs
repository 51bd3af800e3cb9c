//! One parse per page: everything krawlr reads from a page's HTML is taken in a single pass
//! over one parsed document (`scraper::Html` cannot cross an `.await`, and parsing dominates the
//! cost of a page), and kept as plain data for the stages.

use super::founding::{self, Statement};
use super::legal::{self, LegalFacts};
use super::meta::{self, PageMeta};
use scraper::{ElementRef, Html, Selector};
use std::sync::LazyLock;
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
    /// Characters of text the page shows without its script, white space aside.
    pub visible_chars: usize,
    /// Where the page's embedded data came from, when a page with little text of its own was
    /// read from it (`__NEXT_DATA__`, `window.__INITIAL_STATE__`…); its lines end `text`.
    pub embedded: Vec<String>,
    /// Characters of text those lines hold, white space aside.
    pub embedded_chars: usize,
}

impl PageFacts {
    /// The page's main content (no navigation, footer or sidebars), else all its visible text.
    pub fn main_text(&self) -> &str {
        self.meta.main_text.as_deref().unwrap_or(&self.text)
    }
}

pub fn analyze(html: &str, url: &Url) -> PageFacts {
    let doc = parse(html);
    let mut meta = meta::from_document(&doc, url);
    let mut lines = super::lines::lines(&doc);
    let visible_chars = lines.iter().map(|l| l.text.chars().filter(|c| !c.is_whitespace()).count()).sum();
    let mut links: Vec<String> =
        doc.select(&SEL.anchors).filter_map(|a| a.value().attr("href")).map(str::to_string).collect();
    // A page too sparse to be content by its own text (a shell, or a wall) may hold its
    // content in the data its script draws from: read as if shown.
    let sparse = visible_chars < super::wall::SPARSE_TEXT;
    let embedded = if sparse { super::embedded::read(&doc) } else { Default::default() };
    let embedded_chars = embedded.text_len();
    lines.extend(embedded.lines.into_iter().map(|text| super::lines::Line { text, ..Default::default() }));
    meta.json_ld.extend(embedded.json_ld);
    links.extend(embedded.links);
    for (known, found) in [(&mut meta.emails, embedded.emails), (&mut meta.phones, embedded.phones)] {
        for value in found {
            if !known.contains(&value) {
                known.push(value);
            }
        }
    }
    let country = country_of(url, meta.lang.as_deref());
    let footer: Vec<_> = lines.iter().filter(|l| l.footer).cloned().collect();
    // A whole page's legal facts are read only where the card uses them (an imprint, legal,
    // contact or about page): a blog post's or product page's would be read for nothing.
    use super::crawl::PageType::{About, Contact, Imprint, Legal};
    let states_who = matches!(super::crawl::PageType::of(url), Imprint | Legal | Contact | About);
    PageFacts {
        legal: if states_who { legal::read(&lines, country) } else { LegalFacts::default() },
        footer: legal::read(&footer, country),
        founding: founding::statements(&lines),
        country: country.map(str::to_string),
        visible_chars,
        embedded: embedded.sources,
        embedded_chars,
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

/// The country a page is believed to be in: its country-code TLD's, else its language's where
/// one country speaks it mostly.
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
        ("us", "US"),
        ("ca", "CA"),
        ("au", "AU"),
        ("jp", "JP"),
    ];
    const LANGS: &[(&str, &str)] = &[
        ("de", "DE"),
        ("fr", "FR"),
        ("nl", "NL"),
        ("es", "ES"),
        ("it", "IT"),
        ("da", "DK"),
        ("sv", "SE"),
        ("pl", "PL"),
        ("ja", "JP"),
    ];
    let tld = url.host_str().and_then(|h| h.rsplit('.').next()).unwrap_or_default().to_ascii_lowercase();
    TLDS.iter()
        .find(|(t, _)| *t == tld)
        .or_else(|| LANGS.iter().find(|(l, _)| Some(*l) == lang))
        .map(|(_, country)| *country)
}

/// Open elements deeper than this end the document. Browsers build no deeper trees either
/// (Chromium stops nesting at 512), and html5ever's tree builder scans its stack of open
/// elements at each start tag, so a page of 200,000 nested `<div>`s would cost minutes.
const MAX_NESTING: usize = 2_048;

/// Parses a page, cut where its nesting first passes [`MAX_NESTING`].
pub fn parse(html: &str) -> Html {
    crate::failpoint!("page_parse");
    Html::parse_document(&html[..nesting_cut(html.as_bytes())])
}

/// Where `html`'s element nesting, as a quick scan of its tags estimates it, first passes
/// [`MAX_NESTING`] (always at a `<`, so a char boundary), or its length. Void elements,
/// elements whose end tag may be left out, self-closing tags, comments and the contents of
/// raw-text elements do not nest.
fn nesting_cut(html: &[u8]) -> usize {
    const FLAT: &[&[u8]] = &[
        b"area",
        b"base",
        b"br",
        b"col",
        b"embed",
        b"hr",
        b"img",
        b"input",
        b"link",
        b"meta",
        b"param",
        b"source",
        b"track",
        b"wbr",
        b"p",
        b"li",
        b"dt",
        b"dd",
        b"option",
        b"optgroup",
        b"rp",
        b"rt",
        b"tr",
        b"td",
        b"th",
        b"tbody",
        b"thead",
        b"tfoot",
        b"colgroup",
        b"caption",
        b"html",
        b"head",
        b"body",
    ];
    const RAW: &[&[u8]] = &[b"script", b"style", b"textarea", b"title", b"xmp", b"noembed", b"noframes", b"plaintext"];
    let find = |from: usize, needle: &[u8]| {
        html.get(from..)
            .and_then(|rest| rest.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)))
            .map_or(html.len(), |at| from + at + needle.len())
    };
    let (mut depth, mut i) = (0usize, 0usize);
    while let Some(at) = html.get(i..).and_then(|rest| rest.iter().position(|&b| b == b'<')) {
        let start = i + at;
        let rest = &html[start + 1..];
        if rest.starts_with(b"!--") {
            i = find(start + 4, b"-->");
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_at = start + 1 + usize::from(closing);
        let name_len = html[name_at..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        // Every scan for a `>` moves `i` past what it read, or to the end: the walk is linear.
        if name_len == 0 || !html[name_at].is_ascii_alphabetic() {
            let markup = closing || rest.first().is_some_and(|b| matches!(b, b'!' | b'?'));
            i = if markup { find(name_at, b">") } else { start + 1 };
            continue;
        }
        let tag_end = find(name_at, b">");
        let name = &html[name_at..name_at + name_len];
        let flat = FLAT.iter().any(|f| f.eq_ignore_ascii_case(name));
        if closing {
            if !flat {
                depth = depth.saturating_sub(1);
            }
            i = tag_end;
            continue;
        }
        if RAW.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            let mut end = b"</".to_vec();
            end.extend_from_slice(name);
            i = find(tag_end, &end);
            continue;
        }
        let self_closing = tag_end >= 2 && html.get(tag_end - 2) == Some(&b'/');
        if !flat && !self_closing {
            depth += 1;
            if depth > MAX_NESTING {
                return start;
            }
        }
        i = tag_end;
    }
    html.len()
}

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
    fn nesting_is_cut_where_it_passes_the_bound() {
        let deep = "<div>".repeat(MAX_NESTING + 10) + "tail";
        let cut = nesting_cut(deep.as_bytes());
        assert_eq!(cut, MAX_NESTING * 5, "at the first start tag past the bound");
        for flat in [
            "<p>a<p>b<li>c<br><img src=x><input/>".repeat(5_000),
            "<div></div><span>x</span>".repeat(5_000),
            format!(
                "<script>{}</script><!-- {} --><style>{}</style>",
                "<div>".repeat(5_000),
                "<b>".repeat(5_000),
                "<i>".repeat(5_000)
            ),
            "<x-widget/>".repeat(5_000),
            "a < b and c<3 and <<<< and </ and <!doctype html> <? x ?>".repeat(1_000),
            "a < b ".repeat(100_000),
            "<diiv".to_string(),
            "<".to_string(),
            "</".to_string(),
            "<!--".to_string(),
            "<script".to_string(),
        ] {
            assert_eq!(nesting_cut(flat.as_bytes()), flat.len(), "{}", &flat[..flat.len().min(60)]);
        }
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
