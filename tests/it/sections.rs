//! Report sections from local sources. The financial stage against SEC EDGAR's real responses (`tests/fixtures/sec-edgar/`)
//! served on 127.0.0.1. The expected figures are the latest annual (FY, 10-K/20-F) values in
//! those files: Snowflake's fiscal 2025 10-K (revenue $3,626,396,000, net loss $1,285,640,000)
//! and Logistic Properties of the Americas' 2024 20-F (IFRS).

use crate::helpers::{Site, TestEnv};
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_ticker_on_the_investor_page_leads_to_edgar_figures() {
    let sec = Site::sec().await;
    let site = Site::start(
        Router::new()
            .route("/", get(|| async { Html(r#"<title>Snowflake</title><a href="/investors">Investors</a>"#) }))
            .route("/investors", get(|| async { Html("<p>Snowflake Inc. (NYSE: SNOW) is listed.</p>") })),
    )
    .await;
    let env = TestEnv::new().set("KRAWLR_SEC_WWW_URL", &sec.base).set("KRAWLR_SEC_DATA_URL", &sec.base);
    let report = env.scrape(&site.url("/"));
    let f = &report["financials"];
    assert_eq!(f["ticker"], "SNOW");
    assert_eq!(f["exchange"], "NYSE");
    assert_eq!(f["cik"], "0001640147");
    assert_eq!(f["sec_name"], "SNOWFLAKE INC.");
    assert_eq!(
        f["revenue"],
        json!({"value": 3626396000u64, "unit": "USD", "concept": "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
               "fiscal_year": 2025, "fiscal_period": "FY", "form": "10-K", "filed": "2025-03-21", "period_end": "2025-01-31"})
    );
    assert_eq!(f["net_income"]["value"], -1285640000i64);
    assert_eq!(f["total_assets"]["value"], 9033938000u64);
    assert_eq!(f["operating_cash_flow"]["value"], 959764000u64);
    assert_eq!(f["shares_outstanding"]["value"], 334100000u64);
    assert_eq!(f["shares_outstanding"]["unit"], "shares");
    assert_eq!(
        f["sic"],
        json!({"code": "7372", "description": "Services-Prepackaged Software"}),
        "from the submissions record"
    );
    assert_eq!(f["source"], format!("{}/api/xbrl/companyfacts/CIK0001640147.json", sec.base).as_str());
    assert!(report["errors"].as_array().unwrap().iter().all(|e| e["stage"] != "financial"), "{}", report["errors"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ifrs_filer_s_figures_come_from_ifrs_full() {
    let sec = Site::sec().await;
    let home = r#"<title>LPA</title><script type="application/ld+json">
        {"@context": "https://schema.org", "@type": "Corporation", "name": "Logistic Properties of the Americas",
         "tickerSymbol": "NYSE American:LPA"}</script>"#;
    let site = Site::start(Router::new().route("/", get(move || async move { Html(home) }))).await;
    let env = TestEnv::new().set("KRAWLR_SEC_WWW_URL", &sec.base).set("KRAWLR_SEC_DATA_URL", &sec.base);
    let f = &env.scrape(&site.url("/"))["financials"];
    assert_eq!((f["ticker"].as_str(), f["exchange"].as_str()), (Some("LPA"), Some("NYSE American")));
    assert_eq!(f["revenue"]["value"], 43862372);
    assert_eq!(f["revenue"]["concept"], "ifrs-full:Revenue");
    assert_eq!(f["revenue"]["form"], "20-F");
    assert_eq!(f["net_income"]["value"], -19426051);
    assert_eq!(f["total_assets"]["value"], 607019578);
    assert_eq!(f["operating_cash_flow"], Value::Null, "not reported under the concepts read");
    assert_eq!(f["sic"], Value::Null, "no submissions record served: no SIC, and the figures stand");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_ticker_means_no_financials_and_a_reason() {
    let site =
        Site::start(Router::new().route("/", get(|| async { Html("<title>Private Co</title><p>Hello.</p>") }))).await;
    let report = TestEnv::new().scrape(&site.url("/"));
    assert_eq!(report["financials"], Value::Null);
    let reason = report["not_applicable"].as_array().unwrap().iter().find(|e| e["stage"] == "financial").unwrap();
    assert!(reason["message"].as_str().unwrap().contains("no stock ticker"), "{reason}");
    assert!(report["errors"].as_array().unwrap().iter().all(|e| e["stage"] != "financial"), "not a failure");
}

/// An undeclared /favicon.ico counts only if the site really serves an image there.
#[tokio::test(flavor = "multi_thread")]
async fn an_undeclared_favicon_is_used_only_when_it_is_an_image() {
    let with_icon = Site::start(
        Router::new()
            .route("/", get(|| async { Html("<title>Co</title>") }))
            .route("/favicon.ico", get(|| async { ([("content-type", "image/x-icon")], vec![0u8, 0, 1, 0, 1, 0]) })),
    )
    .await;
    let report = TestEnv::new().scrape(&with_icon.url("/"));
    assert_eq!(report["company"]["favicon"], with_icon.url("/favicon.ico").as_str());
    assert_eq!(report["sources"]["company.favicon"]["url"], with_icon.url("/favicon.ico").as_str());
    assert_eq!(report["sources"]["company.favicon"]["method"], "probe");

    let soft_404 = Site::start(
        Router::new()
            .route("/", get(|| async { Html("<title>Co</title>") }))
            .route("/favicon.ico", get(|| async { Html("<title>Not found</title>") })),
    )
    .await;
    let report = TestEnv::new().scrape(&soft_404.url("/"));
    assert_eq!(report["company"]["favicon"], Value::Null, "an HTML page is not an icon");
}
