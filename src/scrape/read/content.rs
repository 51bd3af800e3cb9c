//! A page's main content: the text a reader came for, without navigation, headers, footers,
//! sidebars, share bars, comments, captions and related links.
//!
//! The method is trafilatura's and Readability's, on scraper's tree: the container is the
//! first of the places pages mark their body in (`itemprop="articleBody"`, a body class such as
//! `entry-content`, `<article>`, `<main>`) that holds enough text, else the element whose
//! paragraphs score highest (length and commas, shared with the ancestors, less link text);
//! inside it, boilerplate subtrees are dropped by tag, by role and by class or id, and the
//! text is taken block by block, leaving out blocks that are mostly links. Every walk is over
//! the tree's open/close edges: no recursion, whatever the page's depth.

use ego_tree::{NodeId, iter::Edge};
use scraper::{ElementRef, Html, Node, Selector};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Below this many characters a marked container is not taken as the body.
const MIN_BODY_CHARS: usize = 200;
/// The main text is cut (at a line) past this many bytes.
const MAX_TEXT_BYTES: usize = 100_000;
/// Nodes a walk looks at, at most.
const NODE_BUDGET: usize = 400_000;
/// A block with this many characters of its own, mostly not links, is a paragraph.
const PARAGRAPH_CHARS: usize = 25;
/// Marked containers weighed at most (a page of teasers marks hundreds).
const MAX_MARKED: usize = 200;
/// A marked container more than this share links is a list of links, not a body.
const MAX_BODY_LINK_DENSITY: f64 = 0.5;
/// A list, table or section more than this share links is a menu or a list of related links.
const MENU_LINK_DENSITY: f64 = 0.6;

/// Where pages mark their article body, most specific first.
static BODY: LazyLock<Vec<Selector>> = LazyLock::new(|| {
    [
        r#"[itemprop="articleBody"], [itemprop="articlebody"]"#,
        r#"[class~="entry-content"], [class~="post-content"], [class~="article-content"], [class~="article-body"],
           [class~="article__body"], [class~="article__content"], [class~="articleBody"], [class~="story-body"],
           [class~="post-body"], [class~="post_content"], [class~="post-text"], [class~="article-text"],
           [class~="content-body"], [class~="entry-body"], [class~="news-text"], [class~="text-content"],
           [class~="blog-content"], [class~="single-content"], [id="article-body"], [id="articleBody"],
           [id="post-content"], [id="story-body"]"#,
        "article",
        r#"main, [role="main"]"#,
    ]
    .iter()
    .map(|css| Selector::parse(css).expect("static selector"))
    .collect()
});

static BODY_ELEMENT: LazyLock<Selector> = LazyLock::new(|| Selector::parse("body").expect("static selector"));

/// Elements that are never main content.
const DROPPED_TAGS: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "head",
    "nav",
    "aside",
    "footer",
    "button",
    "select",
    "option",
    "input",
    "textarea",
    "label",
    "iframe",
    "object",
    "embed",
    "video",
    "audio",
    "canvas",
    "dialog",
    "figcaption",
    "menu",
    "map",
];

/// Elements that are dropped unless they hold most of the container (pages wrap everything in
/// a `<form>` or put the article inside a `<header>` too).
const SMALL_DROPPED_TAGS: &[&str] = &["header", "form", "figure"];

/// ARIA roles of boilerplate.
const DROPPED_ROLES: &[&str] =
    &["navigation", "banner", "contentinfo", "complementary", "menu", "menubar", "search", "dialog", "alert"];

/// Words in a class or id that mark boilerplate wherever they stand in a token: distinctive
/// enough not to occur inside the names of content wrappers.
const BOILERPLATE_WORDS: &[&str] = &[
    "comment",
    "footer",
    "sidebar",
    "sharing",
    "social",
    "related",
    "newsletter",
    "subscri",
    "cookie",
    "consent",
    "breadcrumb",
    "pagination",
    "copyright",
    "navbar",
    "masthead",
    "readmore",
    "taglist",
    "signup",
    "paywall",
    "outbrain",
    "taboola",
    "disqus",
    "sr-only",
    "visually-hidden",
    "screen-reader",
    "skip-link",
    "author-box",
    "author-info",
    "about-author",
    "post-meta",
    "entry-meta",
    "article-meta",
    "meta-data",
    "more-articles",
    "read-more",
    "tag-list",
    "teaser-list",
    "video-player",
];

/// Words that mark boilerplate only as a whole part of a token split at `-` and `_`. Words
/// that name content wrappers as often (`hidden` in `field--label-hidden`, `widget` in
/// `elementor-widget`, `print` in `print-step`) are in neither list.
const BOILERPLATE_TOKENS: &[&str] = &[
    "ad",
    "ads",
    "advert",
    "nav",
    "navigation",
    "menu",
    "meta",
    "tag",
    "tags",
    "keywords",
    "share",
    "date",
    "author",
    "byline",
    "topics",
    "more",
    "image",
    "img",
    "photo",
    "picture",
    "figure",
    "media",
    "thumbnail",
    "icon",
    "logo",
    "source",
    "caption",
    "credit",
    "credits",
    "gallery",
    "slider",
    "carousel",
    "popup",
    "modal",
    "toolbar",
    "rating",
    "promo",
    "sponsor",
    "sponsored",
    "banner",
    "login",
    "infobox",
    "toc",
    "recommended",
];

/// Block elements: their text is a line of its own. Not `lines::BLOCKS`: navigation, asides,
/// footers and forms are dropped here before lines are cut, and counting them as blocks moved
/// what the label and link-line rules see (one real page fewer right).
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "br",
    "hr",
    "header",
    "figure",
    "address",
    "details",
    "summary",
];

/// The main text of a page, lines apart; `None` when no text was found.
pub fn main_text(doc: &Html) -> Option<String> {
    let lengths = Lengths::of(doc);
    let root = container(doc, &lengths)?;
    let text = blocks_of(root, &lengths);
    (!text.is_empty()).then_some(text)
}

/// What each node holds, in characters of visible text (white space not counted).
#[derive(Clone, Copy, Default)]
struct Held {
    text: usize,
    link: usize,
    /// Text in paragraphs: blocks with [`PARAGRAPH_CHARS`] or more of their own, mostly not links.
    para: usize,
}

/// [`Held`] for every node, in one walk.
struct Lengths(HashMap<NodeId, Held>);

impl Lengths {
    fn of(doc: &Html) -> Lengths {
        struct Open {
            id: NodeId,
            block: bool,
            link: bool,
            held: Held,
            /// Text and link text of the block elements inside.
            in_blocks: (usize, usize),
        }
        let mut lengths = HashMap::new();
        let mut stack: Vec<Open> = Vec::new();
        let mut hidden_depth = 0usize;
        let mut link_depth = 0usize;
        for edge in doc.tree.root().traverse().take(NODE_BUDGET) {
            match edge {
                Edge::Open(node) => {
                    let element = node.value().as_element();
                    if hidden_depth > 0 || element.is_some_and(|e| invisible(e.name())) {
                        hidden_depth += 1;
                        continue;
                    }
                    if let Node::Text(t) = node.value() {
                        let n = t.chars().filter(|c| !c.is_whitespace()).count();
                        if let Some(top) = stack.last_mut() {
                            top.held.text += n;
                            if link_depth > 0 {
                                top.held.link += n;
                            }
                        }
                    }
                    let link = element.is_some_and(|e| e.name() == "a");
                    link_depth += usize::from(link);
                    let block = element.is_some_and(|e| BLOCKS.contains(&e.name()));
                    stack.push(Open { id: node.id(), block, link, held: Held::default(), in_blocks: (0, 0) });
                }
                Edge::Close(_) if hidden_depth > 0 => hidden_depth -= 1,
                Edge::Close(_) => {
                    let Some(mut open) = stack.pop() else { continue };
                    link_depth -= usize::from(open.link);
                    if open.block {
                        let own = open.held.text - open.in_blocks.0;
                        let own_link = open.held.link - open.in_blocks.1;
                        if own >= PARAGRAPH_CHARS && own_link * 2 < own {
                            open.held.para += own;
                        }
                    }
                    lengths.insert(open.id, open.held);
                    if let Some(parent) = stack.last_mut() {
                        parent.held.text += open.held.text;
                        parent.held.link += open.held.link;
                        parent.held.para += open.held.para;
                        if open.block {
                            parent.in_blocks.0 += open.held.text;
                            parent.in_blocks.1 += open.held.link;
                        } else {
                            parent.in_blocks.0 += open.in_blocks.0;
                            parent.in_blocks.1 += open.in_blocks.1;
                        }
                    }
                }
            }
        }
        Lengths(lengths)
    }

    fn held(&self, id: NodeId) -> Held {
        self.0.get(&id).copied().unwrap_or_default()
    }

    fn text(&self, id: NodeId) -> usize {
        self.held(id).text
    }

    fn link_density(&self, id: NodeId) -> f64 {
        let held = self.held(id);
        if held.text == 0 { 1.0 } else { held.link as f64 / held.text as f64 }
    }
}

fn invisible(tag: &str) -> bool {
    matches!(tag, "script" | "style" | "noscript" | "template" | "svg" | "head")
}

/// The element that holds the page's body: the first marked container with enough text, else
/// the best-scoring one, else `<body>`.
fn container<'a>(doc: &'a Html, lengths: &Lengths) -> Option<ElementRef<'a>> {
    for selector in BODY.iter() {
        // Of several marked containers (a list of teasers), the one with the most text.
        let best = doc
            .select(selector)
            .take(MAX_MARKED)
            .filter(|e| lengths.link_density(e.id()) < MAX_BODY_LINK_DENSITY)
            .max_by_key(|e| lengths.text(e.id()));
        if let Some(el) = best.filter(|e| kept_chars(*e, lengths) >= MIN_BODY_CHARS) {
            return Some(el);
        }
    }
    scored(doc, lengths).or_else(|| doc.select(&BODY_ELEMENT).next()).or(Some(doc.root_element()))
}

/// The element whose paragraphs outweigh everything else it holds: paragraph text counts for
/// it, other text (menus, teasers, footers) against it, boilerplate classes and link-heavy
/// elements least.
fn scored<'a>(doc: &'a Html, lengths: &Lengths) -> Option<ElementRef<'a>> {
    lengths
        .0
        .iter()
        .filter(|(_, held)| held.para > 0)
        .filter_map(|(&id, held)| {
            let el = ElementRef::wrap(doc.tree.get(id)?)?;
            let other = held.text - held.para;
            let mut score = held.para as f64 - OTHER_TEXT_WEIGHT * other as f64;
            if boilerplate(el) {
                score /= 2.0;
            }
            Some((el, score))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.id().cmp(&b.0.id())))
        .map(|(el, _)| el)
}

/// How much a character of other text weighs against a character of paragraph text.
const OTHER_TEXT_WEIGHT: f64 = 1.0;

/// Whether a class or id names boilerplate.
fn boilerplate(el: ElementRef) -> bool {
    let v = el.value();
    [v.attr("class"), v.attr("id")].into_iter().flatten().any(|attr| {
        attr.split_ascii_whitespace().any(|token| {
            let token = token.to_ascii_lowercase();
            BOILERPLATE_WORDS.iter().any(|w| token.contains(w))
                || token.split(['-', '_']).any(|part| !part.is_empty() && BOILERPLATE_TOKENS.contains(&part))
        })
    })
}

/// Whether an element inside the container is left out, with what it holds.
fn dropped(el: ElementRef, root_chars: usize, lengths: &Lengths) -> bool {
    let v = el.value();
    let name = v.name();
    let large = || lengths.text(el.id()) * 2 > root_chars;
    if DROPPED_TAGS.contains(&name) {
        return true;
    }
    if v.attr("hidden").is_some() || v.attr("aria-hidden").is_some_and(|a| a.eq_ignore_ascii_case("true")) {
        return true;
    }
    if v.attr("style").is_some_and(|s| {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    }) {
        return true;
    }
    if v.attr("role").is_some_and(|r| DROPPED_ROLES.iter().any(|d| r.eq_ignore_ascii_case(d))) {
        return true;
    }
    if (SMALL_DROPPED_TAGS.contains(&name) || boilerplate(el)) && !large() {
        return true;
    }
    // A list or table of links (a menu, a list of related articles).
    matches!(name, "ul" | "ol" | "dl" | "table" | "div" | "section")
        && lengths.link_density(el.id()) > MENU_LINK_DENSITY
        && !large()
}

/// Characters the container keeps once its boilerplate is dropped.
fn kept_chars(root: ElementRef, lengths: &Lengths) -> usize {
    let root_chars = lengths.text(root.id());
    let mut kept = root_chars;
    let mut skip_depth = 0usize;
    for edge in root.traverse().take(NODE_BUDGET).skip(1) {
        match edge {
            Edge::Open(node) => {
                if skip_depth > 0 {
                    skip_depth += 1;
                } else if let Some(el) = ElementRef::wrap(node).filter(|el| dropped(*el, root_chars, lengths)) {
                    kept = kept.saturating_sub(lengths.text(el.id()));
                    skip_depth = 1;
                }
            }
            Edge::Close(_) => skip_depth = skip_depth.saturating_sub(1),
        }
    }
    kept
}

/// The container's text, a line per block, boilerplate and link-heavy lines left out, and the
/// heading of a dropped block (`Related articles` above a list of links) with it.
fn blocks_of(root: ElementRef, lengths: &Lengths) -> String {
    let root_chars = lengths.text(root.id());
    let mut lines = Lines::default();
    let mut line = Line::default();
    let mut skip_depth = 0usize;
    let mut link_depth = 0usize;
    for edge in root.traverse().take(NODE_BUDGET) {
        match edge {
            Edge::Open(node) => {
                if skip_depth > 0 {
                    skip_depth += 1;
                    continue;
                }
                match node.value() {
                    Node::Element(e) => {
                        let el = ElementRef::wrap(node).expect("an element");
                        if node.id() != root.id() && dropped(el, root_chars, lengths) {
                            lines.end(&mut line);
                            if lengths.text(node.id()) > 0 {
                                lines.drop_label();
                            }
                            skip_depth = 1;
                            continue;
                        }
                        if BLOCKS.contains(&e.name()) {
                            lines.end(&mut line);
                        }
                        if e.name() == "a" {
                            link_depth += 1;
                        }
                    }
                    Node::Text(t) => line.push(t, link_depth > 0),
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                if let Node::Element(e) = node.value() {
                    if e.name() == "a" {
                        link_depth = link_depth.saturating_sub(1);
                    }
                    if BLOCKS.contains(&e.name()) {
                        lines.end(&mut line);
                    }
                }
            }
        }
        if lines.bytes > MAX_TEXT_BYTES {
            break;
        }
    }
    lines.end(&mut line);
    lines.finish()
}

/// A line shorter than this (in characters) is a label: a heading, a caption, `Share:`.
const LABEL_CHARS: usize = 40;

/// The lines kept so far.
#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    bytes: usize,
}

impl Lines {
    /// Ends `line`: kept, white space folded, unless empty, mostly links, or just seen.
    fn end(&mut self, line: &mut Line) {
        let line = std::mem::take(line);
        if line.chars == 0 || line.link_chars * 2 > line.chars {
            return;
        }
        let folded = crate::scrape::model::text::fold_whitespace(&line.text);
        if self.lines.iter().rev().take(3).any(|l| *l == folded) {
            return;
        }
        self.bytes += folded.len() + 1;
        self.lines.push(folded);
    }

    /// A label just before a dropped block names that block: it goes with it.
    fn drop_label(&mut self) {
        if self.lines.last().is_some_and(|l| is_label(l)) {
            self.lines.pop();
        }
    }

    /// The text, without the labels it ends on (`Share this`, `Tags`, `Read more`).
    fn finish(mut self) -> String {
        while self.lines.last().is_some_and(|l| is_label(l)) {
            self.lines.pop();
        }
        self.lines.join("\n")
    }
}

fn is_label(line: &str) -> bool {
    line.chars().count() < LABEL_CHARS
}

/// The text of one block as it is read, and how much of it is link text.
#[derive(Default)]
struct Line {
    text: String,
    link_chars: usize,
    chars: usize,
}

impl Line {
    fn push(&mut self, text: &str, in_link: bool) {
        let n = text.chars().filter(|c| !c.is_whitespace()).count();
        self.chars += n;
        if in_link {
            self.link_chars += n;
        }
        self.text.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(html: &str) -> String {
        main_text(&Html::parse_document(html)).unwrap_or_default()
    }

    #[test]
    fn the_article_is_kept_and_its_surroundings_dropped() {
        let para = "Acme builds rockets for small satellites, and it has done so since its founding in a garage.";
        let html = format!(
            r#"<html><body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
            <header><p>Subscribe to our daily newsletter and never miss a story again, ever.</p></header>
            <div class="layout"><div class="story"><h1>Launch day</h1><p>{para}</p><p>{para} Again.</p>
            <figure><img src="x.jpg"><figcaption>Photo: Jane Roe</figcaption></figure>
            <div class="share-bar">Share this article</div>
            <h3>Related</h3><ul><li><a href="/a">Another story about something else entirely</a></li>
            <li><a href="/b">Yet another story that is not this one at all</a></li></ul></div>
            <aside><p>Most read: a list of things nobody came to this page for, at length.</p></aside></div>
            <footer><p>© 2024 Acme Inc. All rights reserved. Imprint and privacy policy.</p></footer></body></html>"#
        );
        let text = text_of(&html);
        assert!(text.contains(para) && text.contains("Launch day"), "{text}");
        for boilerplate in ["Home", "Subscribe", "Photo:", "Share this", "Related", "Another story", "Most read", "©"]
        {
            assert!(!text.contains(boilerplate), "{boilerplate} in {text}");
        }
    }

    #[test]
    fn a_marked_body_wins_and_inline_markup_does_not_split_words() {
        let html = r#"<div class="teasers"><p>A teaser paragraph that is long enough to count as one, with commas, here.</p></div>
            <div itemprop="articleBody"><p>The <b>re</b>al article body, long enough to be taken as the body of the page
            by every measure: it goes on and on, with commas, clauses, and a second sentence. Then a third sentence
            that makes it longer still, so that it passes the bound of two hundred characters.</p></div>"#;
        let text = text_of(html);
        assert!(text.starts_with("The real article body"), "{text}");
        assert!(!text.contains("teaser"), "{text}");
    }

    #[test]
    fn a_content_wrapper_named_like_boilerplate_in_part_is_kept() {
        let para = "Our field engineers install and maintain the turbines across the region, year round.";
        let html = format!(
            r#"<div class="field--label-hidden"><p>{para}</p></div><div class="elementor-widget"><p>{para} Twice.</p></div>"#
        );
        let text = text_of(&html);
        assert!(text.contains(para) && text.contains("Twice."), "{text}");
    }

    #[test]
    fn no_text_and_deep_pages_are_handled() {
        assert_eq!(main_text(&Html::parse_document("")), None);
        assert_eq!(main_text(&Html::parse_document("<nav><a href=/>Home</a></nav>")), None);
        let deep =
            format!("{}<p>deep text that is long enough to be a paragraph of its own</p>", "<div>".repeat(2_000));
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || assert!(text_of(&deep).contains("deep text")))
            .expect("thread")
            .join()
            .expect("no stack overflow");
    }
}
