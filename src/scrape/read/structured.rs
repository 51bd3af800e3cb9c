//! Structured data embedded in pages: JSON-LD blocks (parsed leniently: comments, raw control
//! characters in strings and trailing semicolons are tolerated, as browsers' authors write
//! them) and HTML microdata (`itemscope`/`itemprop`), in the shapes extruct gives them.

use scraper::{ElementRef, Html, Selector};
use serde_json::{Map, Value};
use std::sync::LazyLock;
use url::Url;

static JSON_LD: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse(r#"script[type="application/ld+json" i]"#).expect("static selector"));
static SCOPES: LazyLock<Selector> = LazyLock::new(|| Selector::parse("[itemscope]").expect("static selector"));

/// Every JSON-LD block that parses, as written (not flattened).
pub fn json_ld_blocks(doc: &Html) -> Vec<Value> {
    doc.select(&JSON_LD).filter_map(|s| lenient_json(&s.text().collect::<String>())).collect()
}

/// Every JSON-LD object on the page, `@graph`s and top-level arrays flattened; blocks are
/// parsed leniently and those that do not parse at all are skipped.
pub fn json_ld_objects(doc: &Html) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    for block in json_ld_blocks(doc) {
        flatten_json_ld(block, &mut out);
    }
    out
}

/// Pulls `@graph` members and array items out as objects of their own; a graph's container is
/// kept only if it says more than `@context`.
pub fn flatten_json_ld(value: Value, out: &mut Vec<Map<String, Value>>) {
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| flatten_json_ld(v, out)),
        Value::Object(mut map) => {
            let graph = map.remove("@graph");
            let had_graph = graph.is_some();
            if let Some(graph) = graph {
                flatten_json_ld(graph, out);
            }
            if !had_graph || map.keys().any(|k| k != "@context") {
                out.push(map);
            }
        }
        _ => {}
    }
}

/// Parses JSON as pages write it: strict first, then without comments, with control
/// characters inside strings escaped, without a trailing `;`, and out of the `<![CDATA[ … ]]>`
/// wrapper some pages keep from XHTML days.
pub fn lenient_json(text: &str) -> Option<Value> {
    let mut text = text.trim();
    for (open, close) in [("<![CDATA[", "]]>"), ("//<![CDATA[", "//]]>"), ("/*<![CDATA[*/", "/*]]>*/")] {
        if let Some(inner) = text.strip_prefix(open) {
            text = inner.trim_end().strip_suffix(close).unwrap_or(inner).trim();
        }
    }
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    out.push(c);
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
                '"' => {
                    in_string = false;
                    out.push(c);
                }
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
            continue;
        }
        let next = chars.peek().copied();
        match (c, next) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
            }
            ('/', Some('/')) => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            // A trailing comma before `}` or `]` (often left by a commented-out last member).
            (',', _) if trailing(&chars) => {}
            _ => out.push(c),
        }
    }
    let out = out.trim().trim_end_matches(';').trim();
    let out = out.strip_prefix("<!--").and_then(|s| s.strip_suffix("-->")).unwrap_or(out);
    serde_json::from_str(out.trim()).ok()
}

/// Whether only white space and comments stand between here and a closing bracket.
fn trailing(rest: &std::iter::Peekable<std::str::Chars>) -> bool {
    let mut look = rest.clone();
    while let Some(c) = look.next() {
        match c {
            c if c.is_whitespace() => {}
            '/' if look.peek() == Some(&'/') => {
                for d in look.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '}' | ']' => return true,
            _ => return false,
        }
    }
    false
}

/// Top-level microdata items read at most from one page.
const MAX_ITEMS: usize = 200;
/// Items nested in items at most; a deeper one is read as its text.
const MAX_ITEM_DEPTH: usize = 16;
/// Property values one item keeps at most.
const MAX_PROPERTIES: usize = 256;

/// Top-level microdata items: `{"type": …, "properties": {…}}`, nested items inline. Walks
/// with an explicit stack and a bounded item depth, so a page of 200,000 nested scopes costs
/// time in proportion to its size and no stack.
pub fn microdata(doc: &Html, base: &Url) -> Vec<Value> {
    doc.select(&SCOPES)
        .filter(|e| e.value().attr("itemprop").is_none())
        .take(MAX_ITEMS)
        .map(|e| item(e, base, 0))
        .collect()
}

/// A microdata item in JSON-LD's shape: `@type` the type's last path segment
/// (`https://schema.org/Organization` → `Organization`), the properties as keys, nested items
/// alike, so that one reader serves both syntaxes. Items are at most [`MAX_ITEM_DEPTH`] deep, and
/// so is this walk.
pub fn microdata_as_json_ld(item: &Value) -> Option<Map<String, Value>> {
    let object = item.as_object()?;
    let mut out = Map::new();
    let type_name =
        |t: &Value| t.as_str().map(|t| Value::from(t.trim_end_matches('/').rsplit(['/', '#']).next().unwrap_or(t)));
    match object.get("type") {
        Some(Value::Array(types)) => {
            out.insert("@type".into(), types.iter().filter_map(type_name).collect());
        }
        Some(t) => {
            out.extend(type_name(t).map(|t| ("@type".to_string(), t)));
        }
        None => {}
    }
    let convert = |v: &Value| match v {
        Value::Object(_) => microdata_as_json_ld(v).map(Value::Object).unwrap_or(Value::Null),
        other => other.clone(),
    };
    for (key, value) in object.get("properties").and_then(Value::as_object).into_iter().flatten() {
        let value = match value {
            Value::Array(values) => values.iter().map(convert).collect(),
            other => convert(other),
        };
        out.insert(key.clone(), value);
    }
    Some(out)
}

fn item(scope: ElementRef, base: &Url, depth: usize) -> Value {
    let mut properties = Map::new();
    collect(scope, base, depth, &mut properties);
    let mut out = Map::new();
    if let Some(types) = scope.value().attr("itemtype") {
        let types: Vec<&str> = types.split_whitespace().collect();
        out.insert(
            "type".into(),
            if types.len() == 1 { types[0].into() } else { types.into_iter().map(Value::from).collect() },
        );
    }
    if let Some(id) = scope.value().attr("itemid") {
        out.insert("id".into(), id.trim().into());
    }
    out.insert("properties".into(), Value::Object(properties));
    Value::Object(out)
}

/// Properties under `scope` that belong to its item: a depth-first walk in page order that
/// does not enter nested scopes (they are items of their own).
fn collect(scope: ElementRef, base: &Url, depth: usize, properties: &mut Map<String, Value>) {
    fn children(el: ElementRef) -> impl Iterator<Item = ElementRef> {
        el.children().filter_map(ElementRef::wrap).collect::<Vec<_>>().into_iter().rev()
    }
    let mut stack: Vec<ElementRef> = children(scope).collect();
    let mut kept = 0;
    while let Some(child) = stack.pop() {
        let scoped = child.value().attr("itemscope").is_some();
        if let Some(names) = child.value().attr("itemprop") {
            let value =
                if scoped && depth < MAX_ITEM_DEPTH { item(child, base, depth + 1) } else { value_of(child, base) };
            for name in names.split_whitespace() {
                kept += 1;
                if kept > MAX_PROPERTIES {
                    return;
                }
                match properties.get_mut(name) {
                    Some(Value::Array(list)) => list.push(value.clone()),
                    Some(existing) => *existing = Value::Array(vec![existing.clone(), value.clone()]),
                    None => {
                        properties.insert(name.to_string(), value.clone());
                    }
                }
            }
        }
        if !scoped {
            stack.extend(children(child));
        }
    }
}

/// An attribute for the elements that carry their value in one (URLs resolved), else the text.
fn value_of(el: ElementRef, base: &Url) -> Value {
    let e = el.value();
    let url = |a: &str| {
        e.attr(a).map(|v| base.join(v.trim()).map(|u| u.to_string()).unwrap_or_else(|_| v.trim().to_string()))
    };
    let attr = match e.name() {
        "meta" => e.attr("content").map(|v| v.trim().to_string()),
        "img" | "audio" | "video" | "source" | "embed" | "iframe" | "track" => url("src"),
        "a" | "link" | "area" => url("href"),
        "object" => url("data"),
        "time" => e.attr("datetime").map(|v| v.trim().to_string()),
        "data" | "meter" => e.attr("value").map(|v| v.trim().to_string()),
        _ => None,
    };
    attr.unwrap_or_else(|| text_content(el)).into()
}

/// Text as people read it: source white space folded to one space, a line break for `<br>`,
/// a blank line between blocks (paragraphs, list items, headings…); breaks never stack beyond
/// what the strongest one asks for.
fn text_content(el: ElementRef) -> String {
    let mut text = Readable::default();
    text.element(el);
    text.out
}

#[derive(Default)]
struct Readable {
    out: String,
    /// Line breaks owed before the next word.
    pending: usize,
    /// White space seen since the last word.
    space: bool,
}

impl Readable {
    const BLOCKS: &[&str] = &[
        "p",
        "div",
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
        "table",
        "tr",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "blockquote",
        "pre",
        "figure",
        "address",
        "hr",
        "main",
        "nav",
    ];

    /// Most nodes read for one value; the rest of a huge element is left out.
    const MAX_NODES: usize = 10_000;

    /// Walks `el` with ego_tree's open/close edges, so no depth costs stack.
    fn element(&mut self, el: ElementRef) {
        use ego_tree::iter::Edge;
        // While inside a script, style or template: the depth of nesting within it.
        let mut hidden = 0usize;
        for (seen, edge) in el.traverse().skip(1).enumerate() {
            if seen >= Self::MAX_NODES {
                break;
            }
            match edge {
                Edge::Open(node) => {
                    if let Some(name) = node.value().as_element().map(|e| e.name()) {
                        if hidden > 0 || matches!(name, "script" | "style" | "template") {
                            hidden += 1;
                        } else if name == "br" {
                            self.pending = self.pending.max(1);
                        } else if Self::BLOCKS.contains(&name) {
                            self.pending = self.pending.max(2);
                        }
                    } else if let Some(text) = node.value().as_text().filter(|_| hidden == 0) {
                        self.text(text);
                    }
                }
                Edge::Close(node) => {
                    if let Some(name) = node.value().as_element().map(|e| e.name()) {
                        if hidden > 0 {
                            hidden -= 1;
                        } else if Self::BLOCKS.contains(&name) {
                            self.pending = self.pending.max(2);
                        }
                    }
                }
            }
        }
    }

    fn text(&mut self, text: &str) {
        let mut words = text.split_whitespace().peekable();
        if words.peek().is_none() {
            self.space |= !text.is_empty();
            return;
        }
        if !self.out.is_empty() {
            if self.pending > 0 {
                self.out.push_str(&"\n".repeat(self.pending));
            } else if self.space || text.starts_with(char::is_whitespace) {
                self.out.push(' ');
            }
        }
        for (i, word) in words.enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            self.out.push_str(word);
        }
        self.pending = 0;
        self.space = text.ends_with(char::is_whitespace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_ld_as_pages_write_it() {
        assert_eq!(lenient_json("{\"a\": 1 /* note */, // more\n \"b\": 2};"), Some(json!({"a": 1, "b": 2})));
        assert_eq!(lenient_json("{\"data\": \"line 1\nline 2\"}"), Some(json!({"data": "line 1\nline 2"})));
        assert_eq!(lenient_json("{\"url\": \"http://x/y\"}"), Some(json!({"url": "http://x/y"})));
        assert_eq!(lenient_json("{\"a\": \"b\", // last\n //\"c\": 1\n}"), Some(json!({"a": "b"})));
        assert_eq!(lenient_json("[1, 2, ]"), Some(json!([1, 2])));
        assert_eq!(lenient_json("not json"), None);
        assert_eq!(lenient_json("\n  <![CDATA[\n {\"a\": 1}\n ]]>\n"), Some(json!({"a": 1})));
        assert_eq!(lenient_json("//<![CDATA[\n[1]\n//]]>"), Some(json!([1])));
    }

    #[test]
    fn microdata_items_nest() {
        let html = r#"<div itemscope itemtype="http://schema.org/Product"><span itemprop="name">Anvil</span>
            <img itemprop="image" src="a.jpg"><div itemprop="offers" itemscope itemtype="http://schema.org/Offer">
            <meta itemprop="price" content="119.99"><span itemprop="name">Deal</span></div></div>"#;
        let items = microdata(&Html::parse_document(html), &Url::parse("https://acme.test/p/").unwrap());
        assert_eq!(
            items,
            [
                json!({"type": "http://schema.org/Product", "properties": {"name": "Anvil", "image": "https://acme.test/p/a.jpg",
                "offers": {"type": "http://schema.org/Offer", "properties": {"price": "119.99", "name": "Deal"}}}})
            ]
        );
    }

    #[test]
    fn deeply_nested_items_need_no_stack() {
        let depth = 200_000;
        let mut html = String::with_capacity(depth * 60);
        for i in 0..depth {
            html.push_str(&format!("<div itemprop=\"p{}\" itemscope>", i % 7));
        }
        html.push_str("<span itemprop=name>deep</span>");
        let html = format!("<div itemscope>{html}</div>");
        // On a thread with a small stack, so that a walker recursing per level would overflow.
        let items = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || {
                microdata(&crate::scrape::read::html::parse(&html), &Url::parse("https://acme.test/").unwrap())
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(items.len(), 1);
        let mut value = &items[0];
        let mut levels = 0;
        while let Some(inner) = value["properties"].as_object().and_then(|p| p.values().next()) {
            value = inner;
            levels += 1;
        }
        assert!(levels <= MAX_ITEM_DEPTH + 1, "{levels}");
    }

    #[test]
    fn microdata_items_read_as_json_ld() {
        let html = r#"<div itemscope itemtype="https://schema.org/Organization"><span itemprop="name">Acme</span>
            <div itemprop="address" itemscope itemtype="http://schema.org/PostalAddress">
            <span itemprop="addressLocality">Berlin</span></div></div>"#;
        let items = microdata(&Html::parse_document(html), &Url::parse("https://acme.test/").unwrap());
        let ld = microdata_as_json_ld(&items[0]).unwrap();
        assert_eq!(
            Value::Object(ld),
            json!({"@type": "Organization", "name": "Acme",
            "address": {"@type": "PostalAddress", "addressLocality": "Berlin"}})
        );
    }

    #[test]
    fn the_microdata_walker_needs_no_stack_per_level() {
        // Parsed directly (no nesting cut), 20,000 levels: a walker recursing per level would
        // overflow the small stack it runs on here.
        let html = format!(
            "<div itemscope>{}<span itemprop=name>deep</span>",
            "<div><div itemprop=x itemscope>".repeat(10_000)
        );
        let items = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || microdata(&Html::parse_document(&html), &Url::parse("https://acme.test/").unwrap()).len())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(items, 1);
    }
}
