//! The HTTP API end to end: the original's three responses, auth, bad input, isolation.

use crate::helpers::{Client, KEY, Site, TestEnv};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn submit_walks_through_the_stages_to_a_result() {
    let site = Site::company(Duration::from_millis(400)).await;
    let sec = Site::sec().await;
    let env = TestEnv::new().set("KRAWLR_SEC_WWW_URL", &sec.base).set("KRAWLR_SEC_DATA_URL", &sec.base);
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);

    let started = Instant::now();
    let res = client
        .http
        .post(format!("{base}/api/v1/scrape/company"))
        .bearer_auth(KEY)
        .json(&json!({"url": site.url("/")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let submit_ms = started.elapsed().as_millis();
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    let id = body["scrape_id"].as_str().unwrap().to_string();
    assert_eq!(body, json!({"scrape_id": id, "status": "queued", "message": "Job queued successfully!"}));
    assert_eq!(location, format!("/api/v1/scrape/status/{id}"));
    assert!(submit_ms < 1000, "submit took {submit_ms} ms");

    // Poll the status while the job runs: stages and progress only move forward.
    let order = ["starting", "profile", "website", "financial", "news", "enrichment", "saving", "completed"];
    let mut seen: Vec<(String, String, u64)> = Vec::new();
    let last = loop {
        let s = client.status(&id).await;
        let entry = (
            s["status"].as_str().unwrap().to_string(),
            s["current_stage"].as_str().unwrap().to_string(),
            s["progress_percent"].as_u64().unwrap(),
        );
        if seen.last() != Some(&entry) {
            seen.push(entry);
        }
        if s["status"] == "completed" {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "stuck: {s}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let stage_index = |stage: &str| order.iter().position(|s| *s == stage).unwrap();
    for pair in seen.windows(2) {
        assert!(stage_index(&pair[0].1) <= stage_index(&pair[1].1), "stage went back: {seen:?}");
        assert!(pair[0].2 <= pair[1].2, "progress went back: {seen:?}");
    }
    assert!(
        seen.contains(&("processing".into(), "profile".into(), 15)),
        "the 400 ms homepage fetch should show the profile stage: {seen:?}"
    );

    // The status document.
    assert_eq!(last["job_id"], id.as_str());
    assert_eq!(last["status"], "completed");
    assert_eq!(last["progress_percent"], 100);
    assert_eq!(last["current_stage"], "completed");
    assert!(last["duration_seconds"].is_u64());
    assert_eq!(last["url"], site.url("/").as_str());
    assert_eq!(last["attempts"], 1);
    assert_eq!(last["error"], Value::Null);
    assert_eq!(last["result_url"], format!("/api/v1/scrape/{id}").as_str());
    for field in ["created_at", "updated_at", "started_at", "completed_at"] {
        let t = last[field].as_str().unwrap_or_else(|| panic!("{field} missing"));
        assert!(t.ends_with('Z') && t.contains('T'), "{field}: {t}");
    }

    // The report.
    let (code, report) = client.get(&format!("/api/v1/scrape/{id}")).await;
    assert_eq!(code, 200);
    assert_eq!(report["job_id"], id.as_str());
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["url"], site.url("/").as_str());
    let company = &report["company"];
    assert_eq!(company["name"], "Acme Rockets");
    assert_eq!(company["legal_name"], "Acme Rockets, Inc.");
    assert_eq!(company["description"], "Acme builds reusable rockets for small satellites.");
    assert_eq!(company["logo"], site.url("/static/logo.svg").as_str());
    assert_eq!(company["favicon"], site.url("/static/favicon-32.png").as_str());
    assert_eq!(company["founded_year"], 2014);
    assert_eq!(
        company["headquarters"],
        json!({"street": null, "postal_code": null, "city": "Austin", "region": "TX", "country_code": "US"})
    );
    assert_eq!(company["emails"], json!(["press@acme.example", "hello@acme.example"]));
    assert_eq!(company["phones"], json!(["+15125550100"]), "E.164");
    assert_eq!(company["languages"], json!(["en"]));
    assert_eq!(
        company["social_profiles"],
        json!({
            "linkedin": "https://www.linkedin.com/company/acme-rockets",
            "github": "https://github.com/acme-rockets",
            "twitter": "https://x.com/acmerockets",
            "facebook": "https://www.facebook.com/acmerockets"
        })
    );
    assert_eq!(
        report["sources"]["company.name"],
        json!({"url": site.url("/"), "method": "jsonld", "confidence": 0.95})
    );
    // Contacts found on the crawled pages join the profile, with their source.
    assert_eq!(company["social_profiles"]["facebook"], "https://www.facebook.com/acmerockets");
    assert_eq!(report["sources"]["company.emails"]["url"], site.url("/").as_str());

    let website = &report["website"];
    let pages: Vec<(&str, &str)> = website["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["url"].as_str().unwrap(), p["page_type"].as_str().unwrap()))
        .collect();
    let (home, about, contact, careers) =
        (site.url("/"), site.url("/about"), site.url("/contact"), site.url("/careers"));
    let (investors, press) = (site.url("/investors"), site.url("/press/acme-raises-series-a"));
    assert_eq!(
        pages,
        [
            (&*home, "home"),
            (&*about, "about"),
            (&*contact, "contact"),
            (&*investors, "investors"),
            (&*press, "press"),
            (&*careers, "careers")
        ]
    );
    assert_eq!(website["page_types"], json!(["home", "about", "contact", "investors", "press", "careers"]));
    assert_eq!(website["https"], false);
    assert_eq!(website["robots_txt"], false);
    assert_eq!(website["sitemaps"], json!([site.url("/sitemap.xml")]));
    assert_eq!(website["feeds"][0]["url"], site.url("/feed.xml").as_str());
    assert!(website["total_bytes"].as_u64().unwrap() > 1000);
    assert_eq!(website["missing_security_headers"].as_array().unwrap().len(), 6);

    let news = report["news"].as_array().unwrap();
    let titles: Vec<&str> = news.iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        ["Acme opens a launch site in Texas", "Acme raises $20M", "Acme raises $20 million in Series A funding"],
        "the feed's items and the dated press release, newest first"
    );
    assert_eq!(news[0]["url"], site.url("/news/launch-site").as_str());
    assert_eq!(news[0]["date"], "2024-04-02T09:00:00Z");
    assert_eq!(news[0]["source"], "Acme news");
    assert_eq!(news[0]["summary"], "A new pad.");
    assert_eq!(news[1]["url"], press.as_str());
    assert_eq!(news[1]["source"], "Acme Rockets");

    let failed: Vec<(&str, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["stage"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert!(failed.is_empty(), "every stage found what it looked for: {failed:?}");
    assert_eq!(
        website["technologies"],
        json!([{"name": "Stripe", "category": "Payments", "evidence": "asset: https://js.stripe.com/v3/"}])
    );
    // The investor page's ticker, then EDGAR's figures (real data served locally).
    let financials = &report["financials"];
    assert_eq!((financials["ticker"].as_str(), financials["exchange"].as_str()), (Some("SNOW"), Some("NYSE")));
    assert_eq!(financials["revenue"]["value"], 3626396000u64);
    assert_eq!(financials["revenue"]["fiscal_year"], 2025);
    assert_eq!(
        report["sources"]["financials"]["url"],
        format!("{}/api/xbrl/companyfacts/CIK0001640147.json", sec.base).as_str()
    );
    assert_eq!(report["sources"]["financials"]["method"], "edgar");
    // The feed item and the press release tell one round.
    let funding = &report["funding"];
    assert_eq!(funding["rounds"].as_array().unwrap().len(), 1, "{funding}");
    let round = &funding["rounds"][0];
    assert_eq!(round["round_type"], "series_a");
    assert_eq!(round["amount"], 20000000.0);
    assert_eq!(round["currency"], "USD");
    assert_eq!(round["date"], "2024-01-15T14:30:00Z");
    assert_eq!(round["lead_investors"], json!(["Example Ventures"]));
    assert_eq!(round["investors"], json!(["Orbit Partners"]));
    assert_eq!(funding["total_raised"], 20000000.0);
    let enrichment = &report["enrichment"];
    assert_eq!(enrichment["method"], "heuristic");
    assert_eq!(enrichment["industry"], "Guided Missile and Space Vehicle Manufacturing");
    assert_eq!(enrichment["naics"]["code"], "336414");
    assert_eq!(company["industry"], json!(["Guided Missile and Space Vehicle Manufacturing"]));
    assert_eq!(report["sources"]["company.industry"]["method"], "heuristic");
    assert!(enrichment["summary"].as_str().unwrap().starts_with("Acme builds reusable rockets"));
    assert_eq!(site.hits(), 1, "the homepage is fetched once");

    // The result validates against the published schema (`krawlr schema`).
    let (code, schema, err) = env.run(&["schema"]);
    assert_eq!(code, 0, "{err}");
    let schema: Value = serde_json::from_str(&schema).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let problems: Vec<String> =
        validator.iter_errors(&report).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let mut broken = report.clone();
    broken["company"]["emails"] = json!("not a list");
    assert!(!validator.is_valid(&broken), "the schema is strict enough to catch a wrong type");
}

/// Authorization header, content type, body, expected status, expected error code.
type Case<'a> = (Option<String>, (&'a str, &'a str), String, u16, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_clear_errors_and_write_nothing() {
    let env = TestEnv::new().set("KRAWLR_ALLOW_PRIVATE_NETWORKS", "false");
    let (_api, base) = env.serve("api", "api").await;
    let revoked = env.create_key("old");
    let revoked_id = env
        .run(&["keys", "list"])
        .1
        .lines()
        .find(|l| l.ends_with(" old"))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(env.run(&["keys", "revoke", &revoked_id]).0, 0);

    let http = reqwest::Client::new();
    let submit = format!("{base}/api/v1/scrape/company");
    let json_ct = ("content-type", "application/json");
    let big = format!(r#"{{"url": "https://example.com/{}"}}"#, "a".repeat(100 * 1024));
    let long = format!(r#"{{"url": "https://example.com/{}"}}"#, "a".repeat(10 * 1024));
    let nested =
        format!(r#"{{"url": "https://example.com", "options": {}{}}}"#, "{\"a\":".repeat(3000), "}".repeat(3000));
    let cases: Vec<Case> = vec![
        (None, json_ct, r#"{"url":"https://example.com"}"#.into(), 401, "missing_api_key"),
        (Some("Basic abc".into()), json_ct, r#"{"url":"https://example.com"}"#.into(), 401, "invalid_authorization"),
        (Some("Bearer".into()), json_ct, r#"{"url":"https://example.com"}"#.into(), 401, "invalid_authorization"),
        (
            Some("Bearer kr_nope_nope_nope".into()),
            json_ct,
            r#"{"url":"https://example.com"}"#.into(),
            401,
            "invalid_api_key",
        ),
        (Some(format!("Bearer {revoked}")), json_ct, r#"{"url":"https://example.com"}"#.into(), 401, "invalid_api_key"),
        (Some(format!("Bearer {KEY}")), json_ct, "{}".into(), 422, "missing_field"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":""}"#.into(), 422, "missing_field"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"ftp://example.com/"}"#.into(), 422, "invalid_url"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"http://"}"#.into(), 422, "invalid_url"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"http://169.254.169.254/"}"#.into(), 422, "invalid_url"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"http://127.1/"}"#.into(), 422, "invalid_url"),
        (
            Some(format!("Bearer {KEY}")),
            json_ct,
            r#"{"url":"https://example.com","webhook_url":"http://10.0.0.1/"}"#.into(),
            422,
            "invalid_url",
        ),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url": 42}"#.into(), 400, "invalid_json"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url": "https://example.com""#.into(), 400, "invalid_json"),
        (Some(format!("Bearer {KEY}")), json_ct, "[".repeat(5000), 400, "invalid_json"),
        (
            Some(format!("Bearer {KEY}")),
            json_ct,
            r#"{"url":"https://example.com","options":{"max_pagez":3}}"#.into(),
            400,
            "invalid_json",
        ),
        (
            Some(format!("Bearer {KEY}")),
            ("content-type", "text/plain"),
            r#"{"url":"https://example.com"}"#.into(),
            415,
            "unsupported_media_type",
        ),
        (Some(format!("Bearer {KEY}")), json_ct, big, 413, "payload_too_large"),
        (Some(format!("Bearer {KEY}")), json_ct, long, 422, "invalid_url"),
        (Some(format!("Bearer {KEY}")), json_ct, nested, 400, "invalid_json"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"https://u:p@example.com/"}"#.into(), 422, "invalid_url"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"http://example.com:22/"}"#.into(), 422, "invalid_url"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"http://example.com:70000/"}"#.into(), 422, "invalid_url"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"https://xn--/"}"#.into(), 422, "invalid_url"),
        (Some(format!("Bearer {KEY}")), json_ct, r#"{"url":"https://exa\u0000mple.com/"}"#.into(), 422, "invalid_url"),
    ];
    for (auth, (ct_name, ct), body, status, code) in cases {
        let mut req = http.post(&submit).header(ct_name, ct).body(body.clone());
        if let Some(auth) = &auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().await.unwrap();
        let got = res.status().as_u16();
        let json: Value = res.json().await.unwrap_or(Value::Null);
        let shown = &body[..body.len().min(80)];
        assert_eq!(got, status, "{auth:?} {shown}: {json}");
        assert_eq!(json["error"]["code"], code, "{auth:?} {shown}: {json}");
        assert!(json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Non-UTF-8 body.
    let res = http
        .post(&submit)
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x7b])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    assert_eq!(env.count("SELECT count(*) FROM jobs"), 0, "a refused request wrote a job");
    assert_eq!(env.count("SELECT count(*) FROM messages"), 0, "a refused request wrote a message");

    let client = Client::new(&base, KEY);
    for path in ["/api/v1/scrape/status/nope", "/api/v1/scrape/nope", "/api/v2/nothing"] {
        let (code, body) = client.get(path).await;
        assert_eq!(code, 404, "{path}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let res = http.delete(&submit).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_key_cannot_see_another_keys_job_and_results_wait_for_completion() {
    let env = TestEnv::new();
    // Only the api: the job stays queued.
    let (_api, base) = env.serve("api", "api").await;
    let other = env.create_key("other");
    let mine = Client::new(&base, KEY);
    let theirs = Client::new(&base, &other);
    let id = mine.submit("https://example.com").await;

    for path in [format!("/api/v1/scrape/status/{id}"), format!("/api/v1/scrape/{id}")] {
        let (code, body) = theirs.get(&path).await;
        assert_eq!(code, 404, "{path}: {body}");
        assert_eq!(body["error"]["message"], "job not found", "no hint that the job exists");
    }
    // Cancelling or streaming another key's job answers exactly as for a job that never was.
    let nobody = "00000000000000000000000000000000";
    for (path, method) in [("cancel", reqwest::Method::POST), ("events", reqwest::Method::GET)] {
        let answer = |job: String| {
            let req = theirs.http.request(method.clone(), format!("{base}/api/v1/scrape/{job}/{path}"));
            let req = req.bearer_auth(&other);
            async move {
                let res = req.send().await.unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        };
        let (of_mine, of_nobody) = (answer(id.clone()).await, answer(nobody.into()).await);
        assert_eq!(of_mine.0, 404, "{path}: {}", of_mine.1);
        assert_eq!(of_mine, of_nobody, "{path}: another key's job looks like no job at all");
    }
    let (code, listed) = theirs.get("/api/v1/scrape").await;
    assert_eq!((code, listed["jobs"].as_array().unwrap().len()), (200, 0), "{listed}");
    // An idempotency key is the key holder's own: the same one under another API key is a new job.
    let with_idem = |client: &Client, key: &str| {
        let req = client
            .http
            .post(format!("{base}/api/v1/scrape/company"))
            .bearer_auth(key)
            .header("idempotency-key", "order-1")
            .json(&json!({"url": "https://example.com"}));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap()["scrape_id"].clone() }
    };
    let (first, second) = (with_idem(&mine, KEY).await, with_idem(&theirs, &other).await);
    assert!(first.is_string() && second.is_string());
    assert_ne!(first, second);
    assert_eq!(mine.status(&id).await["status"], "queued", "still queued: the other key's cancel did nothing");

    // A result asked for too early: 202 with the status document, not an error.
    let res = mine.http.get(format!("{base}/api/v1/scrape/{id}")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(res.headers()["retry-after"], "2");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "queued");
    assert_eq!(body["job_id"], id.as_str());
    assert_eq!(body["progress_percent"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_job_result_answers_409_with_the_reason() {
    let env = TestEnv::new();
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);
    let id = client.submit("http://does-not-exist.invalid/").await;
    let status = client.wait_status(&id, &["failed"], Duration::from_secs(20)).await;
    assert!(status["error"].as_str().unwrap().contains("does not resolve"), "{status}");
    let (code, body) = client.get(&format!("/api/v1/scrape/{id}")).await;
    assert_eq!(code, 409);
    assert_eq!(body["error"]["code"], "job_failed");
    assert!(body["error"]["message"].as_str().unwrap().contains("does not resolve"));
}

#[tokio::test(flavor = "multi_thread")]
async fn per_key_caps_on_pages_endpoints_and_event_streams_hold() {
    use crate::helpers::post;
    // A homepage that answers after 5 s keeps the job running while its streams are tried.
    let site = Site::company(Duration::from_secs(5)).await;
    let env = TestEnv::new()
        .set("KRAWLR_MAX_PAGES_LIMIT", "30")
        .set("KRAWLR_MAX_WEBHOOK_ENDPOINTS_PER_KEY", "2")
        .set("KRAWLR_MAX_EVENT_STREAMS_PER_KEY", "2")
        .set("KRAWLR_EVENT_STREAM_MAX_SECONDS", "1");
    let (_up, base) = env.serve("up", "up").await;
    let client = Client::new(&base, KEY);

    for pages in [0, 31, 10_000] {
        let (code, body) =
            post(&client, "/api/v1/scrape/company", json!({"url": site.url("/"), "options": {"max_pages": pages}}))
                .await;
        assert_eq!((code, body["error"]["code"].as_str()), (422, Some("invalid_field")), "{pages}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("KRAWLR_MAX_PAGES_LIMIT"), "{body}");
    }
    let (code, body) =
        post(&client, "/api/v1/scrape/company", json!({"url": site.url("/"), "options": {"max_pages": 30}})).await;
    assert_eq!(code, 202, "{body}");
    let job = body["scrape_id"].as_str().unwrap().to_string();

    for i in 0..2 {
        let (code, body) =
            post(&client, "/api/v1/webhooks", json!({"url": format!("https://hooks.example.com/{i}")})).await;
        assert_eq!(code, 201, "{body}");
    }
    let (code, body) = post(&client, "/api/v1/webhooks", json!({"url": "https://hooks.example.com/2"})).await;
    assert_eq!((code, body["error"]["code"].as_str()), (409, Some("too_many_endpoints")), "{body}");

    let stream = || client.http.get(format!("{base}/api/v1/scrape/{job}/events")).bearer_auth(KEY).send();
    let opened = Instant::now();
    let (first, second) = (stream().await.unwrap(), stream().await.unwrap());
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
    let third = stream().await.unwrap();
    assert_eq!(third.status().as_u16(), 429);
    let third: Value = third.json().await.unwrap();
    assert_eq!(third["error"]["code"], "too_many_streams", "{third}");
    // Each stream ends at its lifetime, though the job runs on, and gives its place back.
    let body = tokio::time::timeout(Duration::from_secs(4), first.text()).await.expect("the stream ended").unwrap();
    assert!(body.contains("event: progress"), "{body}");
    assert!(opened.elapsed() < Duration::from_secs(4), "{:?}", opened.elapsed());
    let _ = tokio::time::timeout(Duration::from_secs(4), second.text()).await.expect("the stream ended");
    assert_ne!(client.status(&job).await["status"], "completed", "the job was still running");
    assert_eq!(stream().await.unwrap().status().as_u16(), 200, "places given back");

    // A method nobody uses is counted as `other`, not as a label of its own.
    let odd = reqwest::Method::from_bytes(b"BREW").unwrap();
    let _ = client.http.request(odd, format!("{base}/healthz")).send().await.unwrap();
    let metrics = client.http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("method=\"other\""), "{metrics}");
    assert!(!metrics.contains("BREW"));
}
