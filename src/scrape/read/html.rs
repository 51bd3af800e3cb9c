//! HTML parsed (html5ever, through scraper) with its nesting cut where it passes a bound.

use scraper::Html;

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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
