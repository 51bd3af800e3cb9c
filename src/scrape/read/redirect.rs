//! Where a page sends its reader on by itself: a `<meta http-equiv="refresh">` naming a URL, or,
//! on a page with nothing to read, a script that sets `location` (`window.location.href =
//! "de/index.html"`, `location.replace("/en/")`). Sites send a bare root on to a language's
//! root this way; the crawl follows, as a browser would.

use regex::Regex;
use scraper::{Html, Selector};
use std::sync::LazyLock;

/// A refresh later than this is a reload of the page, not a way on.
const MAX_REFRESH_SECONDS: f64 = 10.0;
/// Inline scripts looked at, and characters of each.
const MAX_SCRIPTS: usize = 20;
const MAX_SCRIPT_CHARS: usize = 64 * 1024;

struct Selectors {
    refresh: Selector,
    scripts: Selector,
}

static SEL: LazyLock<Selectors> = LazyLock::new(|| {
    let s = |css| Selector::parse(css).expect("static selector");
    Selectors { refresh: s("meta[http-equiv=refresh i][content]"), scripts: s("script:not([src])") }
});

static SCRIPT_TARGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\blocation(?:\.href)?\s*=\s*["']([^"'\s]{1,300})["']|\blocation\.(?:replace|assign)\(\s*["']([^"'\s]{1,300})["']\s*\)"#,
    )
    .expect("static regex")
});

/// The URLs the page sends its reader on to, as written, the meta refresh first. Scripts are
/// read only when `sparse` (a page with text of its own is read where it stands).
pub fn targets(doc: &Html, sparse: bool) -> Vec<String> {
    let mut out: Vec<String> =
        doc.select(&SEL.refresh).filter_map(|m| refresh_target(m.value().attr("content")?)).take(1).collect();
    if sparse {
        for script in doc.select(&SEL.scripts).take(MAX_SCRIPTS) {
            let text: String = script.text().flat_map(str::chars).take(MAX_SCRIPT_CHARS).collect();
            for c in SCRIPT_TARGET.captures_iter(&text) {
                let Some(target) = c.get(1).or(c.get(2)).map(|m| m.as_str()) else { continue };
                if !target.starts_with(['#', '?']) && !target.contains("${") && !out.iter().any(|t| t == target) {
                    out.push(target.to_string());
                }
            }
        }
    }
    out
}

/// `0; URL='/nl/index.html'` → `/nl/index.html`; none for a plain reload or a late one.
fn refresh_target(content: &str) -> Option<String> {
    let (delay, rest) = content.split_once([';', ','])?;
    let delay: f64 = delay.trim().parse().ok()?;
    if !(0.0..=MAX_REFRESH_SECONDS).contains(&delay) {
        return None;
    }
    let rest = rest.trim();
    let url = match rest.get(..4) {
        Some(head) if head.eq_ignore_ascii_case("url=") => &rest[4..],
        _ => rest,
    };
    let url = url.trim().trim_matches(['\'', '"']).trim();
    (!url.is_empty()).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets_of(html: &str, sparse: bool) -> Vec<String> {
        targets(&Html::parse_document(html), sparse)
    }

    #[test]
    fn a_meta_refresh_sends_on() {
        let html = r#"<meta http-equiv="refresh" content="0; URL='/nl/index.html'" /><p>Redirecting…</p>"#;
        assert_eq!(targets_of(html, false), ["/nl/index.html"]);
        assert_eq!(
            targets_of(r#"<meta http-equiv="Refresh" content="3;url=https://acme.test/de/">"#, false),
            ["https://acme.test/de/"]
        );
        assert!(targets_of(r#"<meta http-equiv="refresh" content="300">"#, false).is_empty(), "a reload");
        assert!(targets_of(r#"<meta http-equiv="refresh" content="600; url=/">"#, false).is_empty(), "too late");
        assert!(targets_of(r#"<meta http-equiv="refresh" content="soon; url=/x">"#, false).is_empty());
    }

    #[test]
    fn a_script_only_page_sends_on_to_each_language() {
        let html = r#"<script>const lang = navigator.language;
            if (lang.startsWith('it')) { window.location.href = "it/index.html"; }
            else { window.location.href = "en/index.html"; }</script>"#;
        assert_eq!(targets_of(html, true), ["it/index.html", "en/index.html"]);
        assert!(targets_of(html, false).is_empty(), "a page with text is read where it stands");
        assert_eq!(targets_of(r#"<script>location.replace('/de/')</script>"#, true), ["/de/"]);
        assert!(targets_of(r##"<script>location.href = "#top"; x = `${a}`</script>"##, true).is_empty());
    }
}
