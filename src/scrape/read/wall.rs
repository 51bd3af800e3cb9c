//! Walls and shells: pages that are not the company's content. A *wall* is a bot challenge, a
//! captcha or an access-denied answer put in front of the site (Cloudflare's "Just a moment…",
//! DataDome, PerimeterX/HUMAN, Akamai, Imperva, a captcha form, a bare 402/403/429); a *shell*
//! is a page whose content exists only after its JavaScript runs (an empty app root, a
//! `<noscript>` asking for JavaScript). Both are recognised from what any such page shows (its
//! status, headers and markup), by vendor and kind, never by site.

use reqwest::header::HeaderMap;
use serde::Serialize;

/// What a fetched page is.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Content,
    Blocked(Wall),
    /// Little visible text, and the marks of a page built by its script: what was seen.
    JsRequired(Vec<String>),
}

/// A wall: who put it up (as far as its marks tell), and the marks.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Wall {
    /// `cloudflare`, `datadome`, `perimeterx`, `akamai`, `imperva`, `captcha`, or `http` for a
    /// bare refusal.
    pub vendor: String,
    /// What gave it away: the status, headers and markers seen.
    pub evidence: Vec<String>,
}

/// A page with less visible text than this may be a wall or a shell; more is content, whatever
/// widgets it embeds.
pub const SPARSE_TEXT: usize = 600;
/// A shell has next to no text of its own.
pub const SHELL_TEXT: usize = 200;

/// Markers of each vendor's challenge, in the markup (lower case).
const MARKERS: &[(&str, &[&str])] = &[
    ("cloudflare", &["/cdn-cgi/challenge-platform/", "_cf_chl_opt", "cf-browser-verification", "cf_chl_"]),
    ("datadome", &["captcha-delivery.com", "datadome"]),
    ("perimeterx", &["_pxappid", "px-captcha", "/_px/", "perimeterx"]),
    ("akamai", &["errors.edgesuite.net", "_abck"]),
    ("imperva", &["_incapsula_resource", "incapsula incident id"]),
];

/// Headers that bot-protection vendors set on what they answer, by vendor.
const VENDOR_HEADERS: &[(&str, &str)] = &[("x-datadome", "datadome"), ("x-dd-b", "datadome"), ("x-iinfo", "imperva")];

/// Titles of challenge and denial pages (lower case), by vendor.
const TITLES: &[(&str, &str)] = &[
    ("cloudflare", "just a moment"),
    ("cloudflare", "attention required"),
    ("cloudflare", "please wait while we verify"),
    ("distil", "pardon our interruption"),
    ("akamai", "access denied"),
    ("captcha", "are you a robot"),
    ("captcha", "are you a human"),
    ("captcha", "verify you are human"),
    ("captcha", "security check"),
    ("captcha", "bot verification"),
];

/// Captcha widgets.
const CAPTCHAS: &[&str] = &["g-recaptcha", "h-captcha", "cf-turnstile", "recaptcha/api", "hcaptcha.com", "captcha"];

/// Marks of a page that its script builds.
const APP_ROOTS: &[&str] = &[
    "id=\"root\"",
    "id=\"app\"",
    "id=\"__next\"",
    "id=\"__nuxt\"",
    "id=\"svelte\"",
    "data-reactroot",
    "ng-version",
    "ng-app",
    "ember-application",
    "id='root'",
    "id='app'",
];

/// What a `<noscript>` says when the page needs JavaScript, in a few languages (lower case).
const NEEDS_JS: &[&str] = &[
    "enable javascript",
    "javascript is required",
    "requires javascript",
    "javascript to run this app",
    "javascript enabled",
    "turn on javascript",
    "javascript aktivieren",
    "javascript erforderlich",
    "activer javascript",
    "activez javascript",
    "habilita javascript",
    "habilitar javascript",
    "attiva javascript",
    "abilita javascript",
    "javascript inschakelen",
];

/// Classifies a page from its status, headers, markup and the length of its visible text.
pub fn classify(status: u16, headers: &HeaderMap, html: &str, visible_text: usize) -> Verdict {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let mut evidence = Vec::new();
    let refused = worth_reading(status);
    let vendor_header = std::iter::once("cf-mitigated").chain(VENDOR_HEADERS.iter().map(|(h, _)| *h));
    if !refused && visible_text >= SPARSE_TEXT && vendor_header.clone().all(|h| !headers.contains_key(h)) {
        // A page with a reader's worth of text is content, whatever widgets it embeds.
        return Verdict::Content;
    }
    let lower = html.to_ascii_lowercase();
    if refused {
        evidence.push(format!("HTTP {status}"));
    }
    // The vendors' own headers say so outright.
    if header("cf-mitigated").as_deref() == Some("challenge") {
        evidence.push("cf-mitigated: challenge".into());
        return wall("cloudflare", evidence);
    }
    for (name, vendor) in VENDOR_HEADERS {
        if header(name).is_some() && (refused || visible_text < SPARSE_TEXT) {
            evidence.push(format!("{name} header"));
            return wall(vendor, evidence);
        }
    }
    let sparse = visible_text < SPARSE_TEXT;
    if refused || sparse {
        let title = title_of(&lower);
        if let Some((vendor, _)) = TITLES.iter().find(|(_, t)| title.contains(t)) {
            evidence.push(format!("title: {}", title.trim()));
            return wall(vendor, evidence);
        }
        if let Some((vendor, marker)) =
            MARKERS.iter().find_map(|(v, ms)| ms.iter().find(|m| lower.contains(*m)).map(|m| (*v, *m)))
        {
            evidence.push(format!("marker: {marker}"));
            return wall(vendor, evidence);
        }
        if sparse && lower.contains("<form") {
            if let Some(widget) = CAPTCHAS.iter().find(|c| lower.contains(*c)) {
                evidence.push(format!("a captcha form ({widget}) and {visible_text} characters of text"));
                return wall("captcha", evidence);
            }
        }
    }
    if refused {
        // A bare 401–403 is a wall; a bare 429 or 503 is a rate limit or an outage, which pass.
        return if status <= 403 { wall("http", evidence) } else { Verdict::Content };
    }
    if visible_text < SHELL_TEXT {
        let mut seen: Vec<String> =
            APP_ROOTS.iter().filter(|m| lower.contains(*m)).map(|m| format!("app root: {m}")).collect();
        if let Some(noscript) = noscript_asking_for_js(&lower) {
            seen.push(format!("noscript: {noscript}"));
        }
        if !seen.is_empty() {
            seen.push(format!("{visible_text} characters of visible text"));
            return Verdict::JsRequired(seen);
        }
    }
    Verdict::Content
}

/// Whether a refused answer with this status may be a wall, and is worth reading for its marks.
pub fn worth_reading(status: u16) -> bool {
    matches!(status, 401..=403 | 429 | 503)
}

/// How many characters of text a reader would see: what is outside tags, scripts, styles and
/// comments, white space aside. A rough count, for error pages that are not parsed.
pub fn visible_text_len(html: &str) -> usize {
    let lower = html.to_ascii_lowercase();
    let (mut count, mut rest) = (0, lower.as_str());
    while let Some(open) = rest.find('<') {
        count += rest[..open].chars().filter(|c| !c.is_whitespace()).count();
        rest = &rest[open..];
        // What hides its insides, and where that ends.
        let hidden = [("script", "</script"), ("style", "</style"), ("!--", "-->")];
        let skip_to = hidden.iter().find(|(tag, _)| rest[1..].starts_with(tag)).map(|(_, closer)| *closer);
        // Past the closing tag's (or comment's) last `>`.
        let from = skip_to.map_or(Some(0), |closer| rest.find(closer));
        let end = from.and_then(|at| rest[at..].find('>').map(|gt| at + gt + 1)).unwrap_or(rest.len());
        rest = rest.get(end..).unwrap_or_default();
    }
    count + rest.chars().filter(|c| !c.is_whitespace()).count()
}

fn wall(vendor: &str, evidence: Vec<String>) -> Verdict {
    Verdict::Blocked(Wall { vendor: vendor.to_string(), evidence })
}

/// The text of the first `<title>`, lower case, at most 120 characters.
fn title_of(lower: &str) -> String {
    let Some(start) = lower.find("<title") else { return String::new() };
    let rest = &lower[start..];
    let Some(open_end) = rest.find('>') else { return String::new() };
    let rest = &rest[open_end + 1..];
    let end = rest.find("</title").unwrap_or(rest.len());
    rest[..end].chars().take(120).collect()
}

/// What a `<noscript>` says, if it asks for JavaScript.
fn noscript_asking_for_js(lower: &str) -> Option<String> {
    lower.split("<noscript").skip(1).find_map(|after| {
        let block = after.split("</noscript").next().unwrap_or_default();
        NEEDS_JS.iter().find(|p| block.contains(*p)).map(|p| p.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    fn vendor(v: Verdict) -> String {
        match v {
            Verdict::Blocked(w) => w.vendor,
            other => panic!("not a wall: {other:?}"),
        }
    }

    #[test]
    fn challenges_are_walls_by_their_vendor_s_marks() {
        let cf = r#"<html><head><title>Just a moment...</title></head><body><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script></body></html>"#;
        let v = classify(403, &headers(&[("cf-mitigated", "challenge"), ("server", "cloudflare")]), cf, 20);
        let Verdict::Blocked(w) = v else { panic!("{v:?}") };
        assert_eq!(w.vendor, "cloudflare");
        assert_eq!(w.evidence, ["HTTP 403", "cf-mitigated: challenge"]);
        assert_eq!(vendor(classify(403, &HeaderMap::new(), cf, 20)), "cloudflare", "by its title alone");
        let dd = r#"<html><body><script src="https://ct.captcha-delivery.com/c.js"></script></body></html>"#;
        assert_eq!(vendor(classify(403, &HeaderMap::new(), dd, 0)), "datadome");
        let px = r#"<html><title>Access to this page has been denied</title><div id="px-captcha"></div></html>"#;
        assert_eq!(vendor(classify(403, &HeaderMap::new(), px, 40)), "perimeterx");
        let pardon = "<html><title>Pardon Our Interruption</title><p>As you were browsing something about your browser made us think you were a bot.</p></html>";
        assert_eq!(vendor(classify(200, &HeaderMap::new(), pardon, 90)), "distil");
        assert_eq!(vendor(classify(403, &HeaderMap::new(), "<html><p>Forbidden</p></html>", 9)), "http");
        let busy = classify(429, &HeaderMap::new(), "<html><p>Too many requests</p></html>", 17);
        assert_eq!(busy, Verdict::Content, "a bare rate limit is no wall");
    }

    #[test]
    fn a_captcha_form_on_a_bare_page_is_a_wall_but_not_on_a_real_one() {
        let wall = r#"<html><title>Welcome</title><form action="/verify"><div class="g-recaptcha" data-sitekey="x"></div><button>Continue</button></form></html>"#;
        assert_eq!(vendor(classify(200, &HeaderMap::new(), wall, 18)), "captcha");
        let contact = wall.replace("Welcome", "Contact us");
        assert_eq!(
            classify(200, &HeaderMap::new(), &contact, 4_000),
            Verdict::Content,
            "a long page with a contact form"
        );
    }

    #[test]
    fn visible_text_leaves_out_markup_scripts_and_comments() {
        let html = "<html><head><style>p{color:red}</style><script>var a = '<b>';</script></head>\
                    <body><!-- <p>hidden</p> --><p>Hello  world</p><p>é</p></body></html>";
        assert_eq!(visible_text_len(html), "Helloworldé".chars().count());
        assert_eq!(visible_text_len("<p>unclosed <b"), "unclosed".len());
        assert_eq!(visible_text_len("<script>never closed"), 0);
    }

    #[test]
    fn a_script_built_page_needs_javascript() {
        let shell = r#"<html><head><title>Acme</title></head><body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div><script src="/static/js/main.js"></script></body></html>"#;
        let Verdict::JsRequired(seen) = classify(200, &HeaderMap::new(), shell, 4) else { panic!() };
        assert!(
            seen.contains(&"app root: id=\"root\"".to_string()) && seen.iter().any(|s| s.starts_with("noscript")),
            "{seen:?}"
        );
        let next = r#"<html><body><div id="__next"></div></body></html>"#;
        assert!(matches!(classify(200, &HeaderMap::new(), next, 0), Verdict::JsRequired(_)));
        let rendered = r#"<html><body><div id="root"><h1>Acme Rockets</h1><p>We build rockets for small satellites, launched from Texas since 2015.</p></div></body></html>"#;
        assert_eq!(classify(200, &HeaderMap::new(), rendered, 250), Verdict::Content, "server-rendered into its root");
        let plain = "<html><body><p>Hello</p></body></html>";
        assert_eq!(classify(200, &HeaderMap::new(), plain, 5), Verdict::Content, "short is not a shell by itself");
    }
}
