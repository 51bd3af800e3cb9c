//! The OpenAPI 3.1 document (`GET /openapi.json`), generated from the handlers' annotations
//! (utoipa), with the report's JSON Schema (schemars, the same as `krawlr schema`) folded into
//! its components; and a small page that lists it (`GET /docs`), with no assets from elsewhere.

use super::error::ErrorBody;
use super::scrape::Report;
use axum::Json;
use axum::response::{Html, IntoResponse};
use serde_json::Value;
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An API key")).build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "krawlr", description = "Company website reports, asynchronously: submit a site, follow the job, fetch the report."),
    paths(
        super::scrape::submit, super::scrape::status, super::scrape::result,
        super::jobs::list, super::jobs::batch, super::jobs::cancel, super::jobs::retry, super::jobs::events, super::jobs::queue_stats,
        super::webhooks::create, super::webhooks::list, super::webhooks::one, super::webhooks::update,
        super::webhooks::delete, super::webhooks::rotate, super::webhooks::deliveries, super::webhooks::redeliver,
        super::monitors::create, super::monitors::list, super::monitors::one, super::monitors::update,
        super::monitors::delete, super::monitors::changes,
        super::health::healthz, super::health::ready, super::health::metrics,
    ),
    components(schemas(ErrorBody, Report)),
    modifiers(&BearerKey),
    tags((name = "jobs", description = "Scrape jobs"), (name = "webhooks", description = "Signed event deliveries"),
        (name = "monitors", description = "Sites re-scraped on a schedule, and what changed"),
        (name = "operations", description = "Health and metrics")),
)]
struct ApiDoc;

/// The document, built once.
pub static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
    doc["info"]["version"] = env!("CARGO_PKG_VERSION").into();
    let mut report =
        serde_json::to_value(schemars::schema_for!(crate::scrape::model::report::Report)).expect("serializes");
    let defs = report.as_object_mut().and_then(|r| r.remove("$defs")).unwrap_or_default();
    if let Some(r) = report.as_object_mut() {
        r.remove("$schema");
    }
    let schemas = doc["components"]["schemas"].as_object_mut().expect("components.schemas");
    schemas.insert("Report".into(), report);
    for (name, schema) in defs.as_object().into_iter().flatten() {
        match schemas.get(name) {
            None => {
                schemas.insert(name.clone(), schema.clone());
            }
            // One Rust enum both documents describe (`Stage`): the same values, kept once.
            Some(api) if api.get("enum").is_some() && api.get("enum") == schema.get("enum") => {}
            Some(_) => panic!("the report's schema {name} clashes with an API schema"),
        }
    }
    rewrite_refs(&mut doc);
    doc
}

/// schemars refers to `#/$defs/X`; in the document they live at `#/components/schemas/X`.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) if r.starts_with("#/$defs/") => {
                        *r = r.replacen("#/$defs/", "#/components/schemas/", 1);
                    }
                    (_, v) => rewrite_refs(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

pub async fn openapi_json() -> impl IntoResponse {
    Json(DOCUMENT.clone())
}

pub async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

/// The dashboard: one self-contained page (no assets from elsewhere, no build step).
pub async fn dashboard() -> Html<&'static str> {
    Html(include_str!("dashboard.html"))
}
