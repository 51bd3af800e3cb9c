//! Page metadata measured on real third-party pages (`tests/fixtures/html-pages/`): per-field
//! agreement with metascraper's expected output. Prints the table; fails below the floor set
//! from the measured figure, so extraction can only get better.

use krawlr::scrape::read::dates::iso_date;
use krawlr::scrape::read::meta::{PageMeta, extract};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use url::Url;

/// Measured 90.1 % (335 of 372 checks) when this floor was set; raise it with every improvement.
const METASCRAPER_FLOOR: f64 = 0.90;

fn fixtures() -> PathBuf {
    crate::helpers::fixtures("html-pages")
}

fn same_url(got: Option<&str>, want: &str) -> bool {
    let parse = |s: &str| Url::parse(s).map(|u| u.to_string()).unwrap_or_else(|_| s.to_string());
    got.is_some_and(|g| parse(g) == parse(want))
}

/// Equal up to white space and typography: metascraper turns straight quotes into curly ones.
fn same_text(got: Option<&str>, want: &str) -> bool {
    let norm = |s: &str| {
        // Typographic equivalents: curly and straight quotes, an ellipsis and three dots.
        let s = s.replace(['‘', '’'], "'").replace(['“', '”'], "\"").replace("...", "…");
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    got.is_some_and(|g| norm(g) == norm(want))
}

fn field_agrees(meta: &PageMeta, page_url: &str, field: &str, want: &str) -> Option<bool> {
    Some(match field {
        // krawlr gives the headline without the site's name that metascraper keeps (`Headline |
        // Site`): a title that is one whole side of a separator in metascraper's agrees.
        "title" => same_text(meta.title.as_deref(), want) || meta.title.as_deref().is_some_and(|t| side_of(want, t)),
        "description" => same_text(meta.description.as_deref(), want),
        "publisher" => same_text(meta.publisher.as_deref(), want),
        "author" => same_text(meta.author.as_deref(), want),
        "lang" => meta.lang.as_deref() == Some(want),
        "image" => same_url(meta.image.as_deref(), want),
        "logo" => same_url(meta.logo.as_deref(), want),
        "url" => same_url(Some(meta.canonical.as_deref().unwrap_or(page_url)), want),
        // metascraper's `date` is the latest the page states: modified, else published. It
        // writes a date without a time as noon; such a value is compared by its day.
        "date" => {
            let ours = meta.modified.as_ref().or(meta.published.as_ref());
            match (ours, iso_date(want)) {
                (Some(ours), Some(want)) if want.ends_with("T12:00:00.000Z") => ours[..10] == want[..10],
                (Some(ours), Some(want)) => same_instant(ours, &want),
                _ => false,
            }
        }
        _ => return None,
    })
}

/// `part` is what stands before the last or after the first title separator in `title`.
fn side_of(title: &str, part: &str) -> bool {
    const SEPARATORS: &[&str] = &[" | ", " - ", " – ", " — ", " · ", " :: ", " » ", " // "];
    let part = part.trim();
    !part.is_empty()
        && SEPARATORS.iter().any(|sep| {
            title.rsplit_once(sep).is_some_and(|(head, _)| head.trim() == part)
                || title.split_once(sep).is_some_and(|(_, tail)| tail.trim() == part)
        })
}

/// Two RFC 3339 times name the same instant, whatever offsets they are written in.
fn same_instant(a: &str, b: &str) -> bool {
    use time::{OffsetDateTime, format_description::well_known::Rfc3339};
    matches!((OffsetDateTime::parse(a, &Rfc3339), OffsetDateTime::parse(b, &Rfc3339)), (Ok(a), Ok(b)) if a == b)
}

#[test]
fn metascraper_fields_agree_on_real_pages() {
    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut dirs: Vec<_> =
        std::fs::read_dir(fixtures().join("metascraper")).unwrap().flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let expected: Value = serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let page_url = expected["url"].as_str().unwrap();
        let html = krawlr::scrape::model::decode(&std::fs::read(dir.join("page.html")).unwrap(), None);
        let meta = extract(&html, &Url::parse(page_url).unwrap());
        let mut checks: Vec<(String, String)> = expected["expected_exact"]
            .as_object()
            .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        for a in expected["assertions"].as_array().into_iter().flatten() {
            if a["op"] == "equals" {
                if let (Some(f), Some(v)) = (a["field"].as_str(), a["value"].as_str()) {
                    checks.push((f.to_string(), v.to_string()));
                }
            }
        }
        for (field, want) in checks {
            let Some(ok) = field_agrees(&meta, page_url, &field, &want) else { continue };
            let entry = table.entry(field.clone()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(ok);
            if !ok {
                misses.push(format!("{} {field}: want {want:?}", dir.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    let (checks, agreed) = table.values().fold((0, 0), |(c, a), (ci, ai)| (c + ci, a + ai));
    println!("{:<12} {:>6} {:>6} {:>7}", "field", "checks", "agree", "%");
    for (field, (c, a)) in &table {
        println!("{field:<12} {c:>6} {a:>6} {:>6.1}%", 100.0 * *a as f64 / *c as f64);
    }
    let overall = agreed as f64 / checks as f64;
    println!("{:<12} {checks:>6} {agreed:>6} {:>6.1}%", "all", 100.0 * overall);
    for miss in &misses {
        println!("  miss: {miss}");
    }
    assert!(checks > 300, "the fixtures were read: {checks} checks");
    assert!(overall >= METASCRAPER_FLOOR, "agreement {overall:.3} fell below the floor {METASCRAPER_FLOOR}");
}

/// The 60 RSS 2.0, RSS 1.0 and Atom fixture feeds: each parses, and its first item's title,
/// link and date agree with the upstream parser's (feed-rs's and rss-parser's) output.
#[test]
fn feeds_parse_like_their_upstream_parsers() {
    use krawlr::scrape::read::feeds::parse_feed;
    let root = crate::helpers::fixtures("feeds");
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let (mut parsed, mut checks, mut agreed) = (0, 0, 0);
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let stem = name.trim_end_matches(".xml").trim_end_matches(".rss").trim_end_matches(".atom");
        let expected_path = file.with_file_name(format!("{stem}.expected.json"));
        let Ok(expected) = std::fs::read(&expected_path) else { continue };
        let expected: Value = serde_json::from_slice(&expected).unwrap();
        let summary = &expected["summary_by_stager"];
        let base = Url::parse("https://feeds.example/feed").unwrap();
        let items = parse_feed(&std::fs::read(file).unwrap(), &base);
        let Some(items) = items else {
            println!("  not parsed: {name}");
            continue;
        };
        parsed += 1;
        let first = &summary["first_entry"];
        let Some(item) = items.first() else { continue };
        if let Some(title) = first["title"].as_str() {
            checks += 1;
            let ok = same_text(Some(&item.title), title);
            agreed += usize::from(ok);
            if !ok {
                println!("  title {name}: {:?} vs {title:?}", item.title);
            }
        }
        if let Some(links) = first["links"].as_array().filter(|l| !l.is_empty()) {
            checks += 1;
            // Upstream leaves relative links as they are; krawlr resolves them against the feed.
            let resolved =
                |l: &Value| base.join(l.as_str().unwrap_or_default()).map(|u| u.to_string()).unwrap_or_default();
            let ok = links.iter().any(|l| same_url(item.url.as_deref(), &resolved(l)));
            agreed += usize::from(ok);
            if !ok {
                println!("  link {name}: {:?} vs {links:?}", item.url);
            }
        }
        if let Some(date) = first["published"].as_str().or(first["updated"].as_str()) {
            checks += 1;
            let ok = item.date.is_some() && item.date.as_deref().and_then(iso_date) == iso_date(date);
            agreed += usize::from(ok);
            if !ok {
                println!("  date {name}: {:?} vs {date:?}", item.date);
            }
        }
    }
    println!("feeds: {parsed} of {} parsed; first items: {agreed} of {checks} checks agree", files.len());
    assert_eq!(parsed, 60, "every fixture feed parses");
    assert_eq!(agreed, checks, "measured 155 of 155 when written");
}

/// extruct's JSON-LD, microdata and Open Graph expectations on its own test pages.
/// Every string that is an absolute http(s) URL, in its serialised (normalised) form.
fn same_urls(value: Value) -> Value {
    match value {
        Value::String(s) => match Url::parse(&s) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Value::String(url.to_string()),
            _ => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(same_urls).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, same_urls(v))).collect()),
        other => other,
    }
}

#[test]
fn structured_data_agrees_with_extruct() {
    use krawlr::scrape::read::structured::flatten_json_ld;
    let mut dirs: Vec<_> = std::fs::read_dir(fixtures().join("extruct")).unwrap().flatten().map(|e| e.path()).collect();
    dirs.sort();
    let (mut checks, mut agreed) = (0, 0);
    for dir in dirs {
        let expected: Value = serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let base = expected["base_url"].as_str().unwrap_or("https://example.com/");
        let html = krawlr::scrape::model::decode(&std::fs::read(dir.join("page.html")).unwrap(), None);
        let meta = extract(&html, &Url::parse(base).unwrap());
        let syntax = expected["extractor"]["syntax"].as_str().unwrap_or_default();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (want, got): (Value, Value) = match syntax {
            "json-ld" => {
                let mut flat = Vec::new();
                flatten_json_ld(expected["expected"].clone(), &mut flat);
                (
                    Value::from(flat.into_iter().map(Value::Object).collect::<Vec<_>>()),
                    Value::from(meta.json_ld.clone()),
                )
            }
            "microdata" => (expected["expected"].clone(), Value::from(meta.microdata.clone())),
            "opengraph" => {
                let mut want: Vec<(String, String)> = expected["expected"][0]["properties"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|p| Some((p[0].as_str()?.strip_prefix("og:")?.to_string(), p[1].as_str()?.to_string())))
                    .collect();
                let mut got: Vec<(String, String)> =
                    meta.open_graph.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone()))).collect();
                want.sort();
                got.sort();
                got.retain(|g| want.iter().any(|w| w.0 == g.0));
                (serde_json::to_value(want).unwrap(), serde_json::to_value(got).unwrap())
            }
            _ => continue,
        };
        checks += 1;
        // An absolute URL is compared as a URL: `http://x.com` and `http://x.com/` are one.
        let (want, got) = (same_urls(want), same_urls(got));
        if want == got {
            agreed += 1;
        } else {
            println!("  {name} ({syntax}):\n    want {want}\n    got  {got}");
        }
    }
    println!("extruct: {agreed} of {checks} pages agree");
    assert!(checks >= 10, "{checks}");
    // Measured 11 of 11 since microdata text keeps paragraph and line breaks as readers see them.
    assert_eq!(agreed, checks, "{agreed} of {checks}");
}

/// besticon's icon lists on 20 company homepages: every icon the page declares (not the
/// root files besticon probes, which a page alone cannot show) is found, and the icon krawlr
/// picks as the company's favicon is one besticon lists.
/// Equal but for the scheme: besticon fetched over http what a page names scheme-relative.
fn same_resource(got: &str, want: &str) -> bool {
    let strip = |s: &str| {
        let s = s.trim_start_matches("https:").trim_start_matches("http:").to_string();
        Url::parse(&format!("http:{s}")).map(|u| u.to_string()).unwrap_or(s)
    };
    strip(got) == strip(want)
}

#[test]
fn icons_agree_with_besticon() {
    let mut dirs: Vec<_> =
        std::fs::read_dir(fixtures().join("besticon")).unwrap().flatten().map(|e| e.path()).collect();
    dirs.sort();
    let (mut declared, mut found, mut picks, mut good_picks) = (0, 0, 0, 0);
    for dir in dirs {
        let expected: Value = serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let response = &expected["homepage_response"];
        if expected["expected_icons"].as_array().is_none_or(|a| a.is_empty()) {
            continue;
        }
        // The recording gives the final host and path, not the scheme: take the scheme of a
        // listed icon on that host, else the one of the address asked for.
        let asked = Url::parse(expected["url"].as_str().unwrap()).unwrap();
        let host = response["host"].as_str().or(asked.host_str()).unwrap_or_default().to_string();
        let host = host.as_str();
        let scheme = expected["expected_icons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| Url::parse(i["url"].as_str()?).ok())
            .find(|u| u.host_str() == Some(host))
            .map_or_else(|| asked.scheme().to_string(), |u| u.scheme().to_string());
        let page_url = Url::parse(&format!("{scheme}://{host}{}", response["path"].as_str().unwrap_or("/"))).unwrap();
        let html = krawlr::scrape::model::decode(&std::fs::read(dir.join("page.html")).unwrap(), None);
        let profile = krawlr::scrape::assemble::card::extract(&html, &page_url, None);
        let meta = extract(&html, &page_url);
        let icons: Vec<&Value> = expected["expected_icons"].as_array().unwrap().iter().collect();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        for icon in icons.iter().filter(|i| i["path_in_html"] == true) {
            declared += 1;
            let want = icon["url"].as_str().unwrap();
            if meta.icons.iter().any(|i| same_resource(&i.url, want)) {
                found += 1;
            } else {
                println!("  {name}: declared icon {want} not found");
            }
        }
        if let Some(pick) = &profile.company.favicon {
            picks += 1;
            if icons.iter().any(|i| same_resource(pick, i["url"].as_str().unwrap())) {
                good_picks += 1;
            } else {
                println!("  {name}: picked {pick}, besticon lists none such");
            }
        }
    }
    println!("besticon: {found} of {declared} declared icons found; {good_picks} of {picks} favicon picks listed");
    assert!(declared > 20);
    // Measured 26 of 34 and 12 of 14 when written. Every miss among the "declared" icons is a
    // root /favicon.ico or /apple-touch-icon.png that besticon probed and whose path merely
    // appears elsewhere in the page; both wrong picks are icons the page does declare.
    assert!(found >= 26, "{found} of {declared}");
    assert!(good_picks >= 12, "{good_picks} of {picks}");
}

/// html-metadata's `parseAll()` on its three test pages: the general fields (title, canonical
/// link, language, author) and the plain Open Graph properties.
#[test]
fn general_fields_agree_with_html_metadata() {
    let mut dirs: Vec<_> =
        std::fs::read_dir(fixtures().join("html-metadata")).unwrap().flatten().map(|e| e.path()).collect();
    dirs.sort();
    let (mut checks, mut agreed) = (0, 0);
    for dir in dirs {
        let expected: Value = serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        let html = krawlr::scrape::model::decode(&std::fs::read(dir.join("page.html")).unwrap(), None);
        let url = Url::parse("http://example.com/turtles").unwrap();
        let facts = krawlr::scrape::page::analyze(&html, &url);
        let general = &expected["expected"]["general"];
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut check = |field: &str, got: Option<String>, want: &Value| {
            let Some(want) = want.as_str() else { return };
            checks += 1;
            if same_text(got.as_deref(), want) {
                agreed += 1;
            } else {
                println!("  {name} {field}: {got:?} vs {want:?}");
            }
        };
        check("title", facts.title.clone(), &general["title"]);
        check("author", facts.meta.author.clone(), &general["author"]);
        check("lang", facts.meta.lang.clone(), &general["lang"]);
        let doc = scraper::Html::parse_document(&html);
        check("canonical", krawlr::scrape::read::meta::link_href(&doc, "canonical"), &general["canonical"]);
        for (key, want) in expected["expected"]["openGraph"].as_object().into_iter().flatten() {
            if want.is_string() {
                // html-metadata files `article:author` and the like under their bare names too.
                let og = &facts.meta.open_graph;
                let got =
                    og.get(key).or_else(|| og.iter().find(|(k, _)| k.ends_with(&format!(":{key}"))).map(|(_, v)| v));
                check(&format!("og:{key}"), got.and_then(|v| v.first().cloned()), want);
            }
        }
    }
    println!("html-metadata: {agreed} of {checks} checks agree");
    assert!(checks >= 20, "{checks}");
    // Measured 41 of 42 before `og:type` values were lower-cased (html-metadata does; pages write "Article").
    assert_eq!(agreed, checks, "measured 42 of 42");
}
