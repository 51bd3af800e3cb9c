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
