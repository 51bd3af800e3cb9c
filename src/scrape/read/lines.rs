//! A page as the lines a reader sees: each block element's text a line of its own, with where
//! it stands (a footer, a quotation). Imprints, footers and founding sentences are read from
//! these lines, so that a label and its value stay together and a testimonial stays apart.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// Nodes looked at, at most: a page bigger than this is read in part.
const NODE_BUDGET: usize = 400_000;
/// Lines kept, at most, and characters per line.
const MAX_LINES: usize = 5_000;
const MAX_LINE_CHARS: usize = 2_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// White space folded.
    pub text: String,
    /// Inside `<footer>` or an element whose class or id says footer.
    pub footer: bool,
    /// Inside a quotation: `<blockquote>`, `<q>`, or an element whose class or id speaks of a
    /// testimonial, quote or review. Someone else's words.
    pub quoted: bool,
}

/// Elements whose text is a line of its own.
pub(crate) const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "aside",
    "nav",
    "header",
    "footer",
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
    "address",
    "figure",
    "figcaption",
    "form",
    "details",
    "summary",
];

const HIDDEN: &[&str] = &["script", "style", "noscript", "template", "svg", "head", "title", "select", "option"];

/// What an element's name, class or id says it is.
#[derive(Clone, Copy, Default)]
struct Marks {
    footer: bool,
    quoted: bool,
}

fn marks(el: &scraper::node::Element) -> Marks {
    let words = [el.attr("class"), el.attr("id")]
        .into_iter()
        .flatten()
        .flat_map(|v| v.split(|c: char| !c.is_ascii_alphanumeric()))
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    Marks {
        footer: el.name() == "footer" || has(&["footer", "colophon", "site-footer", "page-footer"]),
        quoted: matches!(el.name(), "blockquote" | "q")
            || has(&["testimonial", "testimonials", "quote", "quotes", "review", "reviews", "blockquote"]),
    }
}

/// The page's lines, top to bottom; empty lines left out.
pub fn lines(doc: &Html) -> Vec<Line> {
    let mut out = Vec::new();
    let mut current = String::new();
    // Per open element: its marks as inherited, and whether it is a block or hidden.
    let mut stack: Vec<(Marks, bool, bool)> = Vec::new();
    let mut hidden = 0usize;
    let flush = |current: &mut String, marks: Marks, out: &mut Vec<Line>| {
        let text = current.split_whitespace().collect::<Vec<_>>().join(" ");
        current.clear();
        if !text.is_empty() && out.len() < MAX_LINES {
            let text = match text.char_indices().nth(MAX_LINE_CHARS) {
                Some((cut, _)) => text[..cut].to_string(),
                None => text,
            };
            out.push(Line { text, footer: marks.footer, quoted: marks.quoted });
        }
    };
    for edge in doc.tree.root().traverse().take(NODE_BUDGET) {
        let inherited = stack.last().map(|s| s.0).unwrap_or_default();
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let hide = HIDDEN.contains(&el.name());
                    let block = BLOCKS.contains(&el.name());
                    hidden += usize::from(hide);
                    if block && hidden == 0 {
                        flush(&mut current, inherited, &mut out);
                    }
                    let own = marks(el);
                    let marks =
                        Marks { footer: inherited.footer || own.footer, quoted: inherited.quoted || own.quoted };
                    stack.push((marks, block, hide));
                }
                Node::Text(t) if hidden == 0 => {
                    current.push(' ');
                    current.push_str(t);
                }
                _ => {}
            },
            Edge::Close(node) => {
                if node.value().is_element() {
                    let Some((marks, block, hide)) = stack.pop() else { continue };
                    if block && hidden == 0 {
                        flush(&mut current, marks, &mut out);
                    }
                    hidden -= usize::from(hide);
                }
            }
        }
    }
    flush(&mut current, Marks::default(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_lines_and_know_where_they_stand() {
        let doc = Html::parse_document(
            r#"<body><h1>Über <b>uns</b></h1><p>Acme GmbH<br>Invalidenstr. 42</p>
            <blockquote>Founded in 1989, we love it</blockquote><div class="c-testimonial"><p>Great</p></div>
            <script>var x = 1;</script><footer><p>© Acme</p><span>Imprint</span></footer></body>"#,
        );
        let got: Vec<(String, bool, bool)> = lines(&doc).into_iter().map(|l| (l.text, l.footer, l.quoted)).collect();
        let want = [
            ("Über uns", false, false),
            ("Acme GmbH", false, false),
            ("Invalidenstr. 42", false, false),
            ("Founded in 1989, we love it", false, true),
            ("Great", false, true),
            ("© Acme", true, false),
            ("Imprint", true, false),
        ];
        assert_eq!(got, want.map(|(t, f, q)| (t.to_string(), f, q)));
    }

    #[test]
    fn deep_pages_need_no_stack() {
        let html = "<div>".repeat(20_000) + "deep";
        let lines = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || lines(&crate::scrape::read::html::parse(&html)))
            .unwrap()
            .join()
            .unwrap();
        assert!(lines.len() <= 1);
    }
}
