//! The data a framework embeds in a page for its script to draw from: Next.js's `__NEXT_DATA__`,
//! Nuxt's `__NUXT_DATA__`, a store's `window.__INITIAL_STATE__` (and its kin), any
//! `<script type="application/json">`. A shell page whose text exists only once its script runs
//! often carries that text here, so it is read before the page is said to need a browser.
//!
//! The data is turned into what a reader of the rendered page would see: a line per labelled
//! value ("Founded: 2015", a paragraph of copy), the schema.org objects it holds, the emails and
//! phone numbers it labels as such, and the site's links. Keys are read by their words, never
//! by one framework's or one site's shape; technical values (ids, hashes, class lists, paths,
//! build settings) are left out.

use scraper::{Html, Selector};
use serde_json::Value;
use std::sync::LazyLock;

/// A script bigger than this is not read.
const MAX_SCRIPT_BYTES: usize = 2 * 1024 * 1024;
/// JSON values looked at, at most, over the whole page.
const MAX_NODES: usize = 100_000;
/// How deep into the data values are read.
const MAX_DEPTH: usize = 48;
/// Lines kept, at most, and characters per value.
const MAX_LINES: usize = 2_000;
const MAX_VALUE_CHARS: usize = 5_000;

/// Globals that stores and frameworks assign their state to in an inline script.
const STATE_GLOBALS: &[&str] = &[
    "__INITIAL_STATE__",
    "__PRELOADED_STATE__",
    "__APOLLO_STATE__",
    "__INITIAL_DATA__",
    "__NUXT__",
    "__APP_STATE__",
    "__SERVER_DATA__",
];

/// Keys whose values are machinery, not content (lower case, words joined).
const TECHNICAL_KEYS: &[&str] = &[
    "key",
    "buildid",
    "etag",
    "locale",
    "locales",
    "defaultlocale",
    "page",
    "query",
    "assetprefix",
    "runtimeconfig",
    "typename",
    "type",
    "slug",
    "icon",
    "color",
    "theme",
    "variant",
    "version",
    "component",
    "template",
    "layout",
    "scripts",
    "chunks",
];

/// Words that make any key machinery (`companyId`, `cssClass`, `apiToken`).
const TECHNICAL_WORDS: &[&str] =
    &["id", "uuid", "class", "classname", "classes", "css", "style", "token", "hash", "nonce", "csrf", "sitekey"];

/// What a page's embedded data holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embedded {
    /// Where the data came from (`__NEXT_DATA__`, `window.__INITIAL_STATE__`, `application/json`).
    pub sources: Vec<String>,
    /// What a reader would see of it, a line per labelled value or paragraph.
    pub lines: Vec<String>,
    /// Objects with a schema.org `@type`, as if the page had them as JSON-LD.
    pub json_ld: Vec<Value>,
    /// Values the data labels as an email or a phone number.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// Site-relative paths and absolute URLs the data names under a link-like key.
    pub links: Vec<String>,
}

impl Embedded {
    /// Characters of text the lines hold, white space aside.
    pub fn text_len(&self) -> usize {
        self.lines.iter().map(|l| l.chars().filter(|c| !c.is_whitespace()).count()).sum()
    }
}

static SCRIPTS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("script:not([src])").expect("static selector"));

/// Reads every block of embedded data on the page.
pub fn read(doc: &Html) -> Embedded {
    let mut out = Embedded::default();
    let mut budget = MAX_NODES;
    for script in doc.select(&SCRIPTS) {
        let kind = script.value().attr("type").unwrap_or_default().trim().to_ascii_lowercase();
        let id = script.value().attr("id").unwrap_or_default();
        let text: String = script.text().collect();
        if text.len() > MAX_SCRIPT_BYTES {
            continue;
        }
        let (source, value) = if kind == "application/json" {
            let source = if id.is_empty() { "application/json".to_string() } else { id.to_string() };
            (source, serde_json::from_str::<Value>(text.trim()).ok())
        } else if kind.is_empty() || kind.contains("javascript") || kind == "module" {
            match assigned_state(&text) {
                Some((global, value)) => (format!("window.{global}"), Some(value)),
                None => continue,
            }
        } else {
            // JSON-LD is read as such elsewhere; templates and the rest are not data.
            continue;
        };
        let Some(value) = value else { continue };
        let before = out.lines.len() + out.json_ld.len() + out.emails.len() + out.phones.len();
        if source == "__NUXT_DATA__" || is_devalue(&value) {
            walk_devalue(&value, &mut out, &mut budget);
        } else {
            walk(&value, &mut out, &mut budget);
        }
        if out.lines.len() + out.json_ld.len() + out.emails.len() + out.phones.len() > before {
            out.sources.push(source);
        }
    }
    out
}

/// `window.NAME = {…}` (or `NAME=[…]`) in an inline script: the global and its JSON value.
fn assigned_state(script: &str) -> Option<(&'static str, Value)> {
    STATE_GLOBALS.iter().find_map(|global| {
        let at = script.find(global)?;
        let rest = script[at + global.len()..].trim_start().trim_start_matches(['"', '\'', ']']).trim_start();
        let rest = rest.strip_prefix('=')?.trim_start();
        if !rest.starts_with(['{', '[']) {
            // A function call (Nuxt 2's `(function(a,b){…}(…))`) or `JSON.parse`: script, not data.
            return None;
        }
        let value = serde_json::Deserializer::from_str(rest).into_iter::<Value>().next()?.ok()?;
        Some((*global, value))
    })
}

/// Nuxt 3's flattened form (the `devalue` format): an array whose objects and arrays point at
/// other items of it by index, the first a reactive wrapper (`["ShallowReactive", 1]`).
fn is_devalue(value: &Value) -> bool {
    let Some(Value::Array(first)) = value.as_array().and_then(|items| items.first()) else { return false };
    matches!(first.as_slice(), [Value::String(kind), Value::Number(_)] if kind.ends_with("Reactive") || kind == "Ref")
}

/// Reads a devalue array without following its pointers recursively: each object's keys are
/// matched with the items they point at.
fn walk_devalue(value: &Value, out: &mut Embedded, budget: &mut usize) {
    let Value::Array(items) = value else { return };
    for item in items {
        if *budget == 0 || out.lines.len() >= MAX_LINES {
            return;
        }
        *budget -= 1;
        let Value::Object(map) = item else { continue };
        for (key, pointer) in map {
            let Some(target) = pointer.as_u64().and_then(|i| items.get(usize::try_from(i).ok()?)) else { continue };
            if !target.is_object() && !target.is_array() {
                leaf(Some(key), target, out);
            }
        }
    }
}

/// Walks the data depth first, without recursion, within the node budget.
fn walk(value: &Value, out: &mut Embedded, budget: &mut usize) {
    let mut stack: Vec<(Option<&str>, &Value, usize)> = vec![(None, value, 0)];
    while let Some((key, value, depth)) = stack.pop() {
        if *budget == 0 || out.lines.len() >= MAX_LINES {
            return;
        }
        *budget -= 1;
        if key.is_some_and(is_technical) {
            continue;
        }
        match value {
            Value::Object(map) => {
                if map.get("@type").is_some_and(|t| t.is_string() || t.is_array()) {
                    out.json_ld.push(value.clone());
                    continue;
                }
                if depth < MAX_DEPTH {
                    // Pushed in reverse so that lines come out in key order.
                    stack.extend(map.iter().rev().map(|(k, v)| (Some(k.as_str()), v, depth + 1)));
                }
            }
            Value::Array(items) if depth < MAX_DEPTH => {
                // An array's items speak under the array's key ("emails": ["a@b.c"]).
                stack.extend(items.iter().rev().map(|v| (key, v, depth + 1)));
            }
            _ => leaf(key, value, out),
        }
    }
}

/// One scalar value: a line, an email, a phone number, a link, or nothing.
fn leaf(key: Option<&str>, value: &Value, out: &mut Embedded) {
    if key.is_some_and(is_technical) {
        return;
    }
    let words = key.map(key_words).unwrap_or_default();
    let has = |w: &str| words.iter().any(|k| k == w);
    let text = match value {
        Value::String(s) => s.trim(),
        // A number means something only under a label ("founded": 2015, "employees": 40).
        Value::Number(_) if !words.is_empty() => {
            let n = value.to_string();
            out.lines.push(format!("{}: {n}", label(&words)));
            return;
        }
        _ => return,
    };
    if text.is_empty() || text.chars().count() > MAX_VALUE_CHARS {
        return;
    }
    if has("email") || has("mail") {
        let email = text.trim_start_matches("mailto:").to_lowercase();
        if is_email(&email) && !out.emails.contains(&email) {
            out.emails.push(email);
        }
        return;
    }
    if has("phone") || has("telephone") || has("tel") {
        let phone = text.trim_start_matches("tel:").to_string();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if (6..=16).contains(&digits) && !out.phones.contains(&phone) {
            out.phones.push(phone);
        }
        return;
    }
    if text.starts_with('/') || text.starts_with("http://") || text.starts_with("https://") {
        if (has("href") || has("url") || has("link") || has("path")) && !text.contains(char::is_whitespace) {
            out.links.push(text.to_string());
        }
        return;
    }
    if !reads_as_text(text) {
        return;
    }
    let text = if text.contains('<') && text.contains('>') { strip_markup(text) } else { text.to_string() };
    let line = if words.is_empty() || text.chars().count() > 80 || has("text") || has("body") || has("content") {
        text
    } else {
        format!("{}: {text}", label(&words))
    };
    if !line.is_empty() {
        out.lines.push(line);
    }
}

/// A key's words, lower case: `foundedYear`, `founded_year` and `founded-year` are
/// `["founded", "year"]`.
fn key_words(key: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            words.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    words.extend((!current.is_empty()).then_some(current));
    words
}

/// Words of a key as a label: `["founded", "year"]` is "Founded year".
fn label(words: &[String]) -> String {
    let joined = words.join(" ");
    let mut chars = joined.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn is_technical(key: &str) -> bool {
    let words = key_words(key);
    key.starts_with(['_', '$', '@'])
        || TECHNICAL_KEYS.contains(&words.concat().as_str())
        || words.iter().any(|w| TECHNICAL_WORDS.contains(&w.as_str()))
}

/// Whether a string is words a reader would see: it has letters and a space, or is a single
/// word that is no identifier, hash, class list or code.
fn reads_as_text(s: &str) -> bool {
    let letters = s.chars().filter(|c| c.is_alphabetic()).count();
    if letters == 0 {
        // A bare year or figure means something only under a label, which numbers get above.
        return s.chars().any(|c| c.is_ascii_digit()) && s.chars().count() <= 12;
    }
    let code = ["{", "}", "=>", "();", "function(", "var(", "px;"];
    if code.iter().any(|c| s.contains(c)) {
        return false;
    }
    if s.contains(' ') {
        // Words, unless they are a class list (`flex items-center md:gap-2`).
        let words: Vec<&str> = s.split_whitespace().collect();
        let coded = words.iter().filter(|w| w.contains(['-', '_', ':'])).count();
        return !(s.chars().all(|c| !c.is_uppercase()) && coded * 2 >= words.len());
    }
    // One word: a name or a label, not an identifier (`a1b2c3`, `btn-primary`, `SOME_CONST`).
    let identifier = s.contains(['_', '-', '.', '/', ':', '#'])
        || s.chars().any(|c| c.is_ascii_digit())
        || (s.chars().count() > 3 && s.chars().all(|c| c.is_uppercase()));
    !identifier && s.chars().count() <= 40
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace) && s.len() <= 254
}

/// The text of an HTML fragment (rich text from a CMS).
fn strip_markup(s: &str) -> String {
    let fragment = Html::parse_fragment(s);
    crate::scrape::model::text::fold_whitespace(&fragment.root_element().text().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded(html: &str) -> Embedded {
        read(&Html::parse_document(html))
    }

    #[test]
    fn next_data_is_read_as_what_the_page_would_show() {
        let html = r#"<html><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">
            {"props":{"pageProps":{"company":{"id":"c_81f3","name":"Lumen Freight","foundedYear":2014,
             "tagline":"Freight software for small carriers","contactEmail":"hello@lumen.test",
             "phone":"+1 512 555 0142","about":"<p>We move freight for <b>4,000</b> carriers.</p>",
             "links":[{"href":"/about"},{"href":"/careers"}]},"className":"hero-xl"}},
             "page":"/","query":{},"buildId":"x9Yq2","locale":"en"}</script></body></html>"#;
        let found = embedded(html);
        assert_eq!(found.sources, ["__NEXT_DATA__"]);
        assert_eq!(
            found.lines,
            [
                "About: We move freight for 4,000 carriers.",
                "Founded year: 2014",
                "Name: Lumen Freight",
                "Tagline: Freight software for small carriers",
            ]
        );
        assert_eq!(found.emails, ["hello@lumen.test"]);
        assert_eq!(found.phones, ["+1 512 555 0142"]);
        assert_eq!(found.links, ["/about", "/careers"]);
    }

    #[test]
    fn store_state_assigned_in_a_script_is_read_but_script_is_not() {
        let html = r#"<script>window.__INITIAL_STATE__ = {"site":{"title":"Brasserie Aurore","since":1998}};
            console.log("x");</script><script>window.__NUXT__=(function(a){return {b:a}}("Nope"))</script>"#;
        let found = embedded(html);
        assert_eq!(found.sources, ["window.__INITIAL_STATE__"]);
        assert_eq!(found.lines, ["Since: 1998", "Title: Brasserie Aurore"]);
    }

    #[test]
    fn nuxt_s_flattened_data_is_matched_key_to_value() {
        let html = r#"<script type="application/json" id="__NUXT_DATA__">[["ShallowReactive",1],{"data":2},
            {"company":3},{"name":4,"foundingYear":5,"email":6},"Kestrel Analytics",2019,"team@kestrel.test"]</script>"#;
        let found = embedded(html);
        assert_eq!(found.lines, ["Founding year: 2019", "Name: Kestrel Analytics"]);
        assert_eq!(found.emails, ["team@kestrel.test"]);
    }

    #[test]
    fn schema_org_objects_are_kept_as_such_and_machinery_is_left_out() {
        let html = r#"<script type="application/json">{"org":{"@type":"Organization","name":"Acme"},
            "cssClass":"btn btn-primary","token":"eyJhbGciOi","hash":"a1b2c3","chunk":"static/js/main.3f2a.js",
            "CONSTANT_NAME":"PRODUCTION","n":[1,2,3]}</script>"#;
        let found = embedded(html);
        assert_eq!(found.json_ld.len(), 1);
        assert!(found.lines.iter().all(|l| l.starts_with("N: ")), "{:?}", found.lines);
    }

    #[test]
    fn hostile_data_is_bounded() {
        let deep = format!(r#"<script type="application/json">{}{}</script>"#, "[".repeat(5000), "]".repeat(5000));
        assert_eq!(embedded(&deep), Embedded::default());
        let wide = format!(
            r#"<script type="application/json">[{}]</script>"#,
            (0..50_000).map(|i| format!(r#"{{"title":"Item number {i}"}}"#)).collect::<Vec<_>>().join(",")
        );
        assert_eq!(embedded(&wide).lines.len(), MAX_LINES);
        let cut = r#"<script>window.__INITIAL_STATE__ = {"a": "unterminated</script>"#;
        assert_eq!(embedded(cut), Embedded::default());
    }
}
