//! One parse per page: everything krawlr reads from a page's HTML is taken in a single pass
//! over one parsed document (`scraper::Html` cannot cross an `.await`, and parsing dominates the
//! cost of a page), and kept as plain data for the stages.

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

/// Elements whose text a reader never sees.
const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "svg", "head"];

#[derive(Debug, Clone, Default)]
pub struct PageFacts {
    pub meta: PageMeta,
    /// `href`s of the page's links, as written.
    pub links: Vec<String>,
    /// The words a reader sees: no scripts, styles or markup.
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
}

pub fn analyze(html: &str, url: &Url) -> PageFacts {
    let doc = Html::parse_document(html);
    PageFacts {
        meta: meta::from_document(&doc, url),
        links: doc.select(&SEL.anchors).filter_map(|a| a.value().attr("href")).map(str::to_string).collect(),
        text: visible_text(&doc),
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

/// Text nodes outside hidden elements, in one walk that skips hidden subtrees whole, folded
/// as they are met (text nodes are words apart).
fn visible_text(doc: &Html) -> String {
    let mut out = String::new();
    let mut stack = vec![*doc.root_element()];
    while let Some(node) = stack.pop() {
        if let Some(el) = node.value().as_element() {
            if HIDDEN.contains(&el.name()) {
                continue;
            }
        }
        if let Some(text) = node.value().as_text() {
            push_folded(&mut out, text);
        }
        stack.extend(node.children().rev());
    }
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
    let logos: Vec<ElementRef> = doc.select(&SEL.images).filter(is_logo).collect();
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
        assert_eq!(text, "one two three four", "text nodes are words apart");
    }

    #[test]
    fn one_pass_reads_text_links_and_assets() {
        let html = r#"<html><head><title> Acme |  Home </title><meta name="generator" content="Hugo 0.1">
            <script src="/App.js"></script><style>p{}</style></head><body><header><img src="/l.svg" alt="Acme Logo"></header>
            <p>Hello <b>world</b>.</p><script>var hidden = 1;</script><a href="/about">About</a>
            <link rel="alternate" hreflang="de" href="/de"></body></html>"#;
        let f = analyze(html, &Url::parse("https://acme.test/").unwrap());
        assert_eq!(f.text, "Hello world . About");
        assert_eq!(f.title.as_deref(), Some("Acme | Home"));
        assert_eq!(f.links, ["/about"]);
        assert_eq!(f.logo_image.as_deref(), Some("/l.svg"));
        assert_eq!(f.hreflangs, ["de"]);
        assert!(f.assets.contains(&"/app.js".to_string()));
        assert_eq!(f.generators, ["hugo 0.1"]);
    }
}
