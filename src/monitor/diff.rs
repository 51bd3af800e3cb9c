//! What changed between two reports of one company, field by field.
//!
//! Objects are compared key by key (`company.headquarters.city`); a list is a set, its items
//! told apart by what names them (a `url`, else a `name`, else a `title`, else the whole item),
//! so an item that arrives is `news[+]`, one that goes is `website.technologies[-]`, and a new
//! order is no change. What varies from one scrape of an unchanged site to the next (when it was
//! scraped, response times and sizes, which pages were read, the sources' confidences) is left
//! out, and `fields` (path prefixes) can narrow what counts further.

pub use crate::store::{Changed, Diff, Entry};
use serde_json::Value;
use std::collections::HashSet;

/// Paths that change with every scrape, or say how the report was made rather than what it
/// says of the company.
const VOLATILE: &[&str] = &[
    "schema_version",
    "scraped_at",
    "sources",
    "errors",
    "coverage",
    "website.pages",
    "website.total_bytes",
    "website.average_response_ms",
    "website.skipped",
];

/// How deep objects are compared; deeper, a subtree is compared whole.
const MAX_DEPTH: usize = 32;
/// Entries kept per kind, at most.
const MAX_ENTRIES: usize = 500;

/// What changed from `old` to `new`; with `fields`, only under those paths
/// (`company.headquarters`, `funding.rounds`, `news`).
pub fn diff(old: &Value, new: &Value, fields: &[String]) -> Diff {
    let mut out = Diff::default();
    let mut stack: Vec<(String, &Value, &Value, usize)> = vec![(String::new(), old, new, 0)];
    while let Some((path, old, new, depth)) = stack.pop() {
        if VOLATILE.iter().any(|v| under(&path, v)) || !wanted(&path, fields) {
            continue;
        }
        match (old, new) {
            (Value::Object(a), Value::Object(b)) if depth < MAX_DEPTH => {
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                for key in keys.into_iter().rev() {
                    let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    let (x, y) = (a.get(key).unwrap_or(&Value::Null), b.get(key).unwrap_or(&Value::Null));
                    stack.push((at, x, y, depth + 1));
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                let (a_ids, b_ids): (Vec<String>, Vec<String>) =
                    (a.iter().map(identity).collect(), b.iter().map(identity).collect());
                let (in_a, in_b): (HashSet<&str>, HashSet<&str>) =
                    (a_ids.iter().map(String::as_str).collect(), b_ids.iter().map(String::as_str).collect());
                for (item, id) in b.iter().zip(&b_ids) {
                    if !in_a.contains(id.as_str()) && !blank(item) {
                        push(&mut out.added, Entry { path: format!("{path}[+]"), value: item.clone() });
                    }
                }
                for (item, id) in a.iter().zip(&a_ids) {
                    if !in_b.contains(id.as_str()) && !blank(item) {
                        push(&mut out.removed, Entry { path: format!("{path}[-]"), value: item.clone() });
                    }
                }
            }
            (a, b) if a == b => {}
            (a, b) if blank(a) => push(&mut out.added, Entry { path, value: b.clone() }),
            (a, b) if blank(b) => push(&mut out.removed, Entry { path, value: a.clone() }),
            (a, b) => push(&mut out.changed, Changed { path, old: a.clone(), new: b.clone() }),
        }
    }
    out
}

fn push<T>(list: &mut Vec<T>, item: T) {
    if list.len() < MAX_ENTRIES {
        list.push(item);
    }
}

/// Whether `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// Whether `path` is to be compared: on the way to a wanted field, or at or below one.
fn wanted(path: &str, fields: &[String]) -> bool {
    fields.is_empty() || path.is_empty() || fields.iter().any(|f| under(path, f) || under(f, path))
}

/// Nothing said: null, an empty string, list or object.
fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// What names a list's item: its `url`, `name` or `title`, else all of it.
fn identity(item: &Value) -> String {
    ["url", "name", "title"]
        .iter()
        .find_map(|k| item.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()))
        .map_or_else(|| item.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(city: &str, rounds: Value, tech: &[&str], scraped_at: &str) -> Value {
        json!({
            "schema_version": 2,
            "company": {"name": "Acme", "headquarters": {"city": city, "country_code": "US"}, "emails": ["hi@acme.test"]},
            "website": {"technologies": tech.iter().map(|t| json!({"name": t, "category": "x"})).collect::<Vec<_>>(),
                        "average_response_ms": 120, "pages": [{"url": "/", "response_ms": 40}]},
            "funding": {"rounds": rounds},
            "news": [],
            "coverage": {"pages_read": 5},
            "scraped_at": scraped_at
        })
    }

    #[test]
    fn an_unchanged_site_is_no_change_however_it_was_scraped() {
        let a = report("Austin", json!([]), &["React", "Stripe"], "2026-01-01T00:00:00Z");
        let mut b = report("Austin", json!([]), &["Stripe", "React"], "2026-02-01T00:00:00Z");
        b["website"]["average_response_ms"] = json!(300);
        b["website"]["pages"] = json!([{"url": "/about", "response_ms": 10}]);
        b["coverage"]["pages_read"] = json!(7);
        assert!(diff(&a, &b, &[]).is_empty(), "{:?}", diff(&a, &b, &[]));
    }

    #[test]
    fn fields_that_move_are_named_with_old_and_new_values() {
        let a = report("Austin", json!([]), &["React", "jQuery"], "t1");
        let round = json!({"url": "https://acme.test/press/series-b", "round_type": "series_b", "amount": 40000000});
        let mut b = report("Denver", json!([round.clone()]), &["React"], "t2");
        b["company"]["name"] = json!("Acme Rockets");
        b["company"]["founded_year"] = json!(2011);
        let d = diff(&a, &b, &[]);
        assert_eq!(
            d.changed,
            [
                Changed { path: "company.headquarters.city".into(), old: json!("Austin"), new: json!("Denver") },
                Changed { path: "company.name".into(), old: json!("Acme"), new: json!("Acme Rockets") },
            ]
        );
        assert_eq!(
            d.added,
            [
                Entry { path: "company.founded_year".into(), value: json!(2011) },
                Entry { path: "funding.rounds[+]".into(), value: round },
            ]
        );
        assert_eq!(
            d.removed,
            [Entry { path: "website.technologies[-]".into(), value: json!({"name": "jQuery", "category": "x"}) }]
        );
    }

    #[test]
    fn fields_narrow_what_counts() {
        let a = report("Austin", json!([]), &["React"], "t1");
        let b = report("Denver", json!([]), &[], "t2");
        let only_hq = diff(&a, &b, &["company.headquarters".to_string()]);
        assert_eq!(only_hq.changed.len(), 1);
        assert!(only_hq.removed.is_empty(), "technologies are not watched");
        assert!(diff(&a, &b, &["news".to_string()]).is_empty());
    }
}
