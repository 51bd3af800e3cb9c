//! Company sites of our own (`tests/sites/`), in six languages and several layouts, each with a
//! `truth.json`: every value under `expect` must be in the report exactly, and no value under
//! `decoys` — another company's round in a case study, a testimonial's founding year, a web
//! agency's or host's email, an auditor's city — may be. Each site is served on 127.0.0.1 and
//! scraped by the real binary (`krawlr scrape`).
//!
//! Paths name report fields: `company.headquarters.city`; `x[]` stands for every element of the
//! list `x` (`funding.rounds[].amount`). A list under `expect` is compared as a set.

use crate::helpers::{Site, TestEnv};
use axum::Router;
use axum::http::{StatusCode, Uri, header};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn sites_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sites")
}

/// Serves `dir`: `/` is `index.html`, `/a/b` is `a/b.html`.
async fn serve(dir: PathBuf) -> Site {
    Site::start(Router::new().fallback(move |uri: Uri| {
        let dir = dir.clone();
        async move {
            let path = uri.path().trim_matches('/');
            let file = if path.is_empty() { "index.html".to_string() } else { format!("{path}.html") };
            if file.contains("..") {
                return Err(StatusCode::NOT_FOUND);
            }
            let body = std::fs::read(dir.join(file)).map_err(|_| StatusCode::NOT_FOUND)?;
            Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body))
        }
    }))
    .await
}

/// The values at `path` in `report`: one for a plain path, one per element for each `[]`.
fn values_at<'a>(report: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut at = vec![report];
    for part in path.split('.') {
        let (key, each) = match part.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (part, false),
        };
        at = at
            .into_iter()
            .flat_map(|v| {
                let v = &v[key];
                match (each, v) {
                    (true, Value::Array(items)) => items.iter().collect(),
                    (true, _) => Vec::new(),
                    (false, v) => vec![v],
                }
            })
            .collect();
    }
    at
}

fn sorted(values: Vec<Value>) -> Vec<Value> {
    let mut values = values;
    values.sort_by_key(|v| v.to_string());
    values
}

/// What went wrong on one site, a line per field.
fn check(name: &str, report: &Value, truth: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    for (path, want) in truth["expect"].as_object().expect("expect") {
        let got: Vec<Value> = values_at(report, path).into_iter().cloned().collect();
        let agrees = match (path.contains("[]"), want) {
            (true, Value::Array(want)) => sorted(got.clone()) == sorted(want.clone()),
            (false, Value::Array(want)) => {
                got.len() == 1 && got[0].as_array().is_some_and(|g| sorted(g.clone()) == sorted(want.clone()))
            }
            (_, want) => got.len() == 1 && &got[0] == want,
        };
        if !agrees {
            wrong.push(format!("{name}: {path} is {got:?}, the truth is {want}"));
        }
    }
    for (path, decoys) in truth["decoys"].as_object().expect("decoys") {
        let got = values_at(report, path);
        for decoy in decoys.as_array().expect("a list of decoys") {
            if got.contains(&decoy) {
                wrong.push(format!("{name}: {path} took the decoy {decoy}"));
            }
        }
    }
    wrong
}

fn sites() -> Vec<PathBuf> {
    let mut sites: Vec<PathBuf> = std::fs::read_dir(sites_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("truth.json").is_file())
        .collect();
    sites.sort();
    sites
}

fn name_of(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_truth_value_is_found_and_no_decoy_taken() {
    let sites = sites();
    assert!(sites.len() >= 6, "the set has a site per language at least");
    let env = TestEnv::new();
    let mut wrong = Vec::new();
    let mut checks = 0;
    for dir in sites {
        let truth: Value = serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
        let site = serve(dir.clone()).await;
        let report = env.scrape(&site.url("/"));
        checks += truth["expect"].as_object().unwrap().len() + truth["decoys"].as_object().unwrap().len();
        let found = check(&name_of(&dir), &report, &truth);
        if !found.is_empty() {
            println!("{}: report {}", name_of(&dir), serde_json::to_string_pretty(&report["company"]).unwrap());
        }
        wrong.extend(found);
    }
    println!("company sites: {checks} checks, {} wrong", wrong.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_company_field_names_its_source() {
    let dir = sites_dir().join("de-maschinenbau");
    let site = serve(dir).await;
    let report = TestEnv::new().scrape(&site.url("/"));
    let sources = report["sources"].as_object().unwrap();
    for (field, value) in report["company"].as_object().unwrap() {
        let empty = value.is_null()
            || value.as_array().is_some_and(|a| a.is_empty())
            || value.as_object().is_some_and(|o| o.is_empty());
        if field == "domain" || empty {
            continue;
        }
        let source = &sources[&format!("company.{field}")];
        assert!(source["url"].as_str().is_some_and(|u| u.starts_with(&site.base)), "{field}: {source}");
        assert!(source["confidence"].as_f64().is_some_and(|c| (0.5..=1.0).contains(&c)), "{field}: {source}");
    }
    let method = |field: &str| sources[field]["method"].as_str().unwrap().to_string();
    assert_eq!(method("company.registration"), "imprint");
    assert_eq!(sources["company.registration"]["url"], site.url("/impressum").as_str());
    assert_eq!(method("company.name"), "meta");
    assert_eq!(method("company.founded_year"), "text");
}

/// A bare root that sends the reader on to its German root by a meta refresh, an imprint there,
/// and a privacy policy naming its processors: the crawl continues from `/de/`, the name is
/// what the titles share, the country the one the Austrian number and the four-figure postal
/// code agree on, and nothing of the processors is the company's.
#[tokio::test(flavor = "multi_thread")]
async fn a_redirected_root_an_imprint_and_a_privacy_policy() {
    const NAV: &str = r#"<nav><a href="/de/impressum">Impressum</a> <a href="/de/datenschutz">Datenschutz</a></nav>"#;
    let page =
        |title: &str, body: &str| format!("<html><head><title>{title}</title></head><body>{NAV}{body}</body></html>");
    let pages: Vec<(&str, String)> = vec![
        (
            "",
            r#"<html><head><meta http-equiv="refresh" content="0; URL='/de/'"></head><body>Weiter…</body></html>"#
                .into(),
        ),
        (
            "de",
            page(
                "Start | Alpenblick Reisen",
                "<h1>Wanderreisen in Tirol</h1><p>Wir planen Ihre Reise in die Berge.</p>",
            ),
        ),
        (
            "de/impressum",
            page(
                "Impressum | Alpenblick Reisen",
                "<h1>Impressum</h1><p>Alpenblick Reisen GmbH</p><p>Hauptstraße 5</p><p>6020 Innsbruck</p>\
                 <p>Tel.: +43 512 123456</p><p>E-Mail: office@alpenblick.example</p>",
            ),
        ),
        (
            "de/datenschutz",
            page(
                "Datenschutz | Alpenblick Reisen",
                "<h1>Datenschutzerklärung</h1><h2>Verantwortlicher</h2><p>Alpenblick Reisen GmbH</p><h2>Google Analytics</h2>\
                 <p>Google Ireland Limited</p><p>Gordon House, Barrow Street</p><p>Dublin 4, Irland</p>\
                 <p>Diese Website benutzt Google Analytics, einen Webanalysedienst der Google Ireland Limited, \
                 Gordon House, Barrow Street, Dublin 4, Irland, und speichert dabei Cookies auf Ihrem Rechner.</p>",
            ),
        ),
    ];
    let site = Site::start(Router::new().fallback(move |uri: Uri| {
        let found = pages.iter().find(|(p, _)| *p == uri.path().trim_matches('/')).map(|(_, body)| body.clone());
        async move {
            found.map(|body| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)).ok_or(StatusCode::NOT_FOUND)
        }
    }))
    .await;
    let report = TestEnv::new().scrape(&site.url("/"));
    let company = &report["company"];
    assert_eq!(company["name"], "Alpenblick Reisen", "{company}");
    assert_eq!(company["legal_name"], "Alpenblick Reisen GmbH", "{company}");
    assert_eq!(company["headquarters"]["city"], "Innsbruck", "{company}");
    assert_eq!(company["headquarters"]["country_code"], "AT", "{company}");
    assert_eq!(company["phones"], serde_json::json!(["+43512123456"]), "{company}");
    assert!(!company.to_string().contains("Google") && !company.to_string().contains("Dublin"), "{company}");
}
