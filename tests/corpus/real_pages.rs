//! The real-page sweep: `krawlr extract` over every page of `../shared/fixtures/real-pages/`
//! (952 pages nobody here wrote, in many languages and character sets) ends cleanly and in
//! time on each; and a sample of them, served as sites, goes through the real worker to a job
//! that ends.

use crate::helpers::{Client, KEY, Site, TestEnv};
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One page may take this long in the test build (the release build is many times faster).
const PER_PAGE: Duration = Duration::from_secs(30);

struct Case {
    id: String,
    url: String,
    html: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let root = crate::shared("real-pages");
    let index: Value = serde_json::from_slice(&std::fs::read(root.join("cases.json")).unwrap()).unwrap();
    let cases = index["cases"].as_array().unwrap();
    cases
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            let gz = std::fs::read(root.join("pages").join(format!("{id}.html.gz"))).unwrap();
            let mut html = Vec::new();
            flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut html).unwrap();
            Case { id, url: c["url"].as_str().unwrap().to_string(), html }
        })
        .collect()
}

/// What went wrong with one page, if anything, and how long it took.
fn extract(env: &TestEnv, case: &Case) -> (Option<String>, Duration) {
    let started = Instant::now();
    let mut child = env
        .command(&["extract", "-", "--url", &case.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let html = case.html.clone();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&html);
    });
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let _ = out.read_to_end(&mut o);
        let _ = err.read_to_end(&mut e);
        (o, e)
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > PER_PAGE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let (stdout, stderr) = reader.join().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&stderr);
    let problem = match status {
        None => Some(format!("still running after {PER_PAGE:?}")),
        Some(s) if !s.success() => Some(format!("exit {s}: {}", stderr.trim())),
        Some(_) if stderr.contains("panic") => Some(format!("panicked: {}", stderr.trim())),
        Some(_) => match serde_json::from_slice::<Value>(&stdout) {
            Ok(meta) if meta.is_object() => None,
            _ => Some("no JSON object on stdout".to_string()),
        },
    };
    (problem, elapsed)
}

#[test]
fn krawlr_extract_reads_every_real_page_without_a_crash() {
    let cases = cases();
    assert!(cases.len() >= 900, "{} cases", cases.len());
    let env = TestEnv::new();
    let threads = std::thread::available_parallelism().map_or(2, usize::from).clamp(2, 4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(String, Option<String>, Duration)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(case) = cases.get(i) else { return done };
                        let (problem, took) = extract(&env, case);
                        done.push((case.id.clone(), problem, took));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let slowest = results.iter().max_by_key(|r| r.2).unwrap();
    let problems: Vec<String> =
        results.iter().filter_map(|(id, p, _)| p.as_ref().map(|p| format!("{id}: {p}"))).collect();
    println!(
        "{} real pages extracted; slowest {} in {:?}; {} problems",
        results.len(),
        slowest.0,
        slowest.2,
        problems.len()
    );
    assert_eq!(results.len(), cases.len());
    assert!(problems.is_empty(), "{} pages failed:\n{}", problems.len(), problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn real_pages_served_as_sites_end_their_jobs() {
    // Every 40th page, as the homepage of a site of its own (its links lead to 404s).
    let sample: Vec<Case> = cases().into_iter().step_by(40).collect();
    let mut sites = Vec::new();
    for case in &sample {
        let html = case.html.clone();
        let router = Router::new().route(
            "/",
            get(move || async move { ([(header::CONTENT_TYPE, "text/html")], html.clone()).into_response() }),
        );
        sites.push(Site::start(router).await);
    }
    let env = TestEnv::new()
        .set("KRAWLR_MAX_PAGES", "5")
        .set("KRAWLR_FETCH_TIMEOUT_SECONDS", "5")
        .set("KRAWLR_CRAWL_TIMEOUT_SECONDS", "20")
        .set("KRAWLR_WORKER_CONCURRENCY", "8");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let mut ids = Vec::new();
    for site in &sites {
        ids.push(client.submit(&site.url("/")).await);
    }
    let mut completed = 0;
    for (id, case) in ids.iter().zip(&sample) {
        let status = client.wait_status(id, &["completed", "failed"], Duration::from_secs(240)).await;
        assert!(status["status"] == "completed" || status["status"] == "failed", "{}: {status}", case.id);
        completed += usize::from(status["status"] == "completed");
    }
    println!("{} real pages as sites: {completed} completed, {} failed", sample.len(), sample.len() - completed);
    assert_eq!(completed, sample.len(), "every real page is an HTML homepage that a job reads to the end");
    assert_eq!(client.get("/healthz").await.0, 200, "the process lives on");
}

/// The pages that declare an Organization in JSON-LD, with the JSON-LD taken out: what the
/// fallbacks (meta tags, the title, the imprint and footer, links) recover of the declared name,
/// logo and profiles, and what they invent — a name that shares no word with the declared one,
/// a profile on a network the declaration names another account for.
#[test]
fn without_json_ld_the_fallbacks_recover_and_invent_little() {
    use krawlr::scrape::assemble::card as profile;
    use krawlr::scrape::model::decode;
    use krawlr::scrape::page;
    use krawlr::scrape::read::meta;
    const ORGANIZATIONS: &[&str] = &["Organization", "Corporation", "NewsMediaOrganization", "LocalBusiness"];
    let fold = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let words = |s: &str| -> Vec<String> {
        fold(s).split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(str::to_string).collect()
    };
    // A variant of the declared name (`computerbild.de` of `COMPUTER BILD`) is no invention.
    let squash = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    let variant = |a: &str, b: &str| {
        let (a, b) = (squash(a), squash(b));
        !a.is_empty() && !b.is_empty() && (a.contains(&b) || b.contains(&a))
    };
    let (mut declared, mut same, mut related, mut missing, mut invented) = (0, 0, 0, 0, 0);
    let (mut profiles, mut profiles_found, mut profiles_wrong) = (0, 0, 0);
    for case in cases() {
        let Ok(url) = url::Url::parse(&case.url) else { continue };
        let html = decode(&case.html, None);
        if !html.to_ascii_lowercase().contains("ld+json") {
            continue;
        }
        let facts = page::analyze(&html, &url);
        // The Organization the page declares: at the top, else as its article's publisher.
        let objects = facts.meta.json_ld.iter().filter_map(Value::as_object);
        let top = objects.clone().find(|o| meta::is_type(o, ORGANIZATIONS));
        let nested =
            || objects.filter_map(|o| o.get("publisher")?.as_object()).find(|o| meta::is_type(o, ORGANIZATIONS));
        let org = top.or_else(nested);
        let Some(name) = org.and_then(|o| o.get("name")).and_then(meta::string_of) else { continue };
        declared += 1;
        let card = profile::extract(&strip_json_ld(&html), &url, None);
        match card.company.name.as_deref() {
            None => missing += 1,
            Some(got) if fold(got) == fold(&name) => same += 1,
            Some(got) if variant(got, &name) || words(got).iter().any(|w| words(&name).contains(w)) => related += 1,
            Some(got) => {
                invented += 1;
                println!(
                    "  {}: declared {name:?}, the fallbacks say {got:?} ({:?})",
                    case.id,
                    card.sources.get("company.name").map(|s| s.method)
                );
            }
        }
        let declared_profiles = profile::extract(&html, &url, None).company.social_profiles;
        let same_as = org.and_then(|o| o.get("sameAs")).is_some();
        if same_as {
            for (network, want) in &declared_profiles {
                profiles += 1;
                match card.company.social_profiles.get(network) {
                    Some(got) if got == want => profiles_found += 1,
                    Some(got) => {
                        profiles_wrong += 1;
                        println!("  {}: {network} declared {want}, the page links {got}", case.id);
                    }
                    None => {}
                }
            }
        }
    }
    println!(
        "Organization pages without their JSON-LD: {declared} names declared; the fallbacks give the same name on \
         {same}, a related one on {related}, none on {missing}, an unrelated one on {invented}; profiles: {profiles_found} \
         of {profiles} declared recovered, {profiles_wrong} another account"
    );
    assert!(declared >= 300, "{declared}");
    // Measured when written: 22 of 328 names unrelated to the declared one, each of them read:
    // the site's own name where the declaration names its operator or owner (`Tages-Anzeiger`
    // for Tamedia AG, `FAZ.NET` for Frankfurter Allgemeine Zeitung), a platform's (`Medium`),
    // a section's (`Política`). Kept as the bound, so that no change adds one unseen.
    assert!(invented * 1000 <= declared * 70, "{invented} of {declared} names unrelated to the declared one");
}

/// `html` without its `<script type="application/ld+json">` elements.
fn strip_json_ld(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let mut at = 0;
    while let Some(start) = lower[at..].find("<script").map(|i| at + i) {
        let Some(tag_end) = lower[start..].find('>').map(|i| start + i) else { break };
        let Some(end) = lower[tag_end..].find("</script>").map(|i| tag_end + i + "</script>".len()) else { break };
        out.push_str(&html[at..start]);
        if !lower[start..tag_end].contains("ld+json") {
            out.push_str(&html[start..end]);
        }
        at = end;
    }
    out.push_str(&html[at..]);
    out
}
