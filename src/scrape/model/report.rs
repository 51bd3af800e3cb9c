//! The report: what a finished job returns. Versioned; fields a stage could not fill stay
//! empty and the stage's reason goes in `errors`.

use crate::scrape::model::PageType;
use crate::scrape::model::Validators;
use crate::scrape::model::naics::Naics;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// 2: `sources` entries carry a method and a confidence; `headquarters` is structured;
/// `registration` and `directors` are new.
pub const REPORT_SCHEMA_VERSION: u32 = 2;

/// A company report, as `GET /api/v1/scrape/{id}` and `krawlr scrape` return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(title = "krawlr company report", description = "schema_version 2")]
pub struct Report {
    pub schema_version: u32,
    /// The submitted URL.
    pub url: String,
    pub domain: String,
    pub company: Company,
    pub website: Option<Website>,
    pub financials: Option<crate::scrape::model::report::Financials>,
    pub funding: Option<crate::scrape::model::report::Funding>,
    pub news: Vec<crate::scrape::model::report::NewsItem>,
    pub enrichment: Option<crate::scrape::model::report::Enrichment>,
    /// Where each fact came from, keyed by the fact's path (`company.name`,
    /// `company.headquarters`, `funding`): the page, how it was read, and how sure that is.
    pub sources: BTreeMap<String, Source>,
    /// Stages that failed or found less than they looked for, with why.
    pub errors: Vec<StageError>,
    /// Stages that had nothing to do for this company, with why (no stock ticker on a private
    /// company's site): not failures.
    #[serde(default)]
    pub not_applicable: Vec<StageError>,
    /// What of the site could be read: the pages read, and those that were bot walls or needed
    /// JavaScript.
    pub coverage: Option<Coverage>,
    /// RFC 3339.
    pub scraped_at: String,
}

/// What of the site the report could read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Coverage {
    /// Pages fetched and read (the homepage included); walls are not among them.
    pub pages_read: usize,
    /// Pages rendered in a browser (their scripts run) before they were read.
    pub pages_rendered: usize,
    /// Which pages the worker renders: `auto` (those that need their scripts), `always`, or
    /// `off` (turned off, or no browser found: `note` says which).
    pub rendering: Option<crate::config::RenderMode>,
    /// The pages rendered: what each took, and the requests refused (private addresses,
    /// robots.txt, caps).
    #[serde(default)]
    pub rendered: Vec<RenderedPage>,
    /// Pages with little text of their own that were read from the data their framework
    /// embeds (`__NEXT_DATA__`, `window.__INITIAL_STATE__`…), without a browser.
    #[serde(default)]
    pub embedded_data: Vec<EmbeddedPage>,
    /// Bot walls (challenges, captchas, access denied) met instead of pages: nothing of them is
    /// in the report.
    pub blocked: Vec<BlockedPage>,
    /// Pages whose content exists only once their scripts run and that were not rendered
    /// (rendering off or failed): only what they show without them was read.
    pub js_required: Vec<ShellPage>,
    /// Pages that could not be fetched (`website.skipped` says why).
    pub skipped: usize,
    /// What the pages that need JavaScript mean for this report, when there are any; or that
    /// the site was unchanged.
    pub note: Option<String>,
    /// A monitor's run whose pages and feeds all answered `304 Not Modified`: the job whose
    /// report this one repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchanged_since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RenderedPage {
    pub url: String,
    /// Requests the page made (images, fonts, media and styles are refused unfetched).
    pub requests: usize,
    /// Body bytes fetched for it.
    pub bytes: usize,
    pub elapsed_ms: u64,
    /// The page was still busy at `KRAWLR_RENDER_TIMEOUT_SECONDS` and was read as it stood.
    pub timed_out: bool,
    /// Requests refused, with why.
    pub refused: Vec<RefusedRequest>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RefusedRequest {
    pub url: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EmbeddedPage {
    pub url: String,
    /// Where the data was: `__NEXT_DATA__`, `__NUXT_DATA__`, `window.__INITIAL_STATE__`…
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BlockedPage {
    pub url: String,
    /// Whose wall, as far as its marks tell: `cloudflare`, `datadome`, `perimeterx`, `akamai`,
    /// `imperva`, `distil`, `captcha`, or `http` for a bare refusal.
    pub vendor: String,
    /// The status, headers and markers that gave it away.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShellPage {
    pub url: String,
    /// The app root, the `<noscript>` and the little text that gave it away.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Company {
    pub name: Option<String>,
    pub legal_name: Option<String>,
    pub domain: String,
    pub description: Option<String>,
    pub logo: Option<String>,
    pub favicon: Option<String>,
    pub founded_year: Option<i32>,
    /// The registered or head office.
    pub headquarters: Option<Address>,
    /// The company's entry in a commercial register, and its VAT id.
    pub registration: Option<Registration>,
    /// Directors and legal representatives, as the imprint names them.
    pub directors: Vec<String>,
    /// Lower-case; none that belongs to a named third party (a host, an agency, an auditor).
    pub emails: Vec<String>,
    /// E.164 (`+493012345670`) where the number is valid for its region, else as written.
    pub phones: Vec<String>,
    /// Network name (`linkedin`, `twitter`, `github`, …) → profile URL.
    pub social_profiles: BTreeMap<String, String>,
    pub industry: Vec<String>,
    pub languages: Vec<String>,
}

/// A postal address, in parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Address {
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// A state or province as the address writes it (`CA`, `MI`).
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
}

/// An entry in a commercial register.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Registration {
    /// The register (`Amtsgericht Berlin-Charlottenburg`, `Companies House (England and Wales)`,
    /// `RCS Lyon`, `KvK`, `Registro Mercantil de Madrid`, `REA MI`).
    pub register: Option<String>,
    /// The number in it (`HRB 123456 B`, `09876543`).
    pub number: Option<String>,
    /// The VAT id, country prefix first, no spaces (`DE123456789`).
    pub vat_id: Option<String>,
}

impl Registration {
    pub fn is_empty(&self) -> bool {
        self.register.is_none() && self.number.is_none() && self.vat_id.is_none()
    }
}

/// Where a fact came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Source {
    /// The page (or API document) it was read from.
    pub url: String,
    pub method: SourceMethod,
    /// 0 to 1: how sure the method is that the fact is the company's and right. Facts below
    /// [`MIN_CONFIDENCE`] are not reported.
    pub confidence: f64,
}

/// Facts less sure than this are left out of the report (null or empty), not guessed.
pub const MIN_CONFIDENCE: f64 = 0.5;

/// How a fact was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceMethod {
    /// The page's JSON-LD (`Organization`, `Article`, …).
    Jsonld,
    /// Microdata or RDFa.
    Microdata,
    /// The page's metadata: `<title>`, `<meta>`, `<link>` (icons, feeds).
    Meta,
    /// Links the page makes: `mailto:`, `tel:`, profiles on social networks.
    Link,
    /// The imprint or legal page.
    Imprint,
    /// The site's footer.
    Footer,
    /// The page's text (the main content of its about or home page, its press releases).
    Text,
    /// A file the site serves at a well-known place (`/favicon.ico`).
    Probe,
    /// SEC EDGAR.
    Edgar,
    /// The configured language model.
    Llm,
    /// The offline enrichment method.
    Heuristic,
}

impl SourceMethod {
    /// How sure this method is, by itself, that what it read is the company's.
    pub fn confidence(self) -> f64 {
        match self {
            SourceMethod::Jsonld | SourceMethod::Edgar => 0.95,
            SourceMethod::Imprint => 0.9,
            SourceMethod::Microdata | SourceMethod::Probe => 0.85,
            SourceMethod::Meta | SourceMethod::Link => 0.8,
            SourceMethod::Footer => 0.75,
            SourceMethod::Text | SourceMethod::Llm => 0.7,
            SourceMethod::Heuristic => 0.6,
        }
    }
}

/// Confidences of readings surer or less sure than their method by itself.
pub mod confidence {
    /// A name that is the part of the homepage's title that spells the domain's name, or the
    /// legal name: as sure as a footer.
    pub const TITLE_PART_NAMED: f64 = 0.75;
    /// A name that is the first part of the title and matches nothing: often a slogan, below
    /// [`super::MIN_CONFIDENCE`], so kept only where nothing surer is found.
    pub const TITLE_PART: f64 = 0.4;
    /// A logo guessed from an image whose name or alt text says "logo".
    pub const LOGO_IMAGE: f64 = 0.6;
    /// The legal name without its legal form, taken as the name: as sure as the page's text.
    pub const LEGAL_NAME_WITHOUT_FORM: f64 = 0.7;
}

impl Source {
    pub fn new(url: impl Into<String>, method: SourceMethod) -> Source {
        Source { url: url.into(), method, confidence: method.confidence() }
    }

    pub fn with_confidence(mut self, confidence: f64) -> Source {
        self.confidence = confidence;
        self
    }
}

/// What the crawl saw of the site itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Website {
    pub pages: Vec<PageSummary>,
    /// The kinds of page found, in rank order.
    pub page_types: Vec<PageType>,
    pub technologies: Vec<Technology>,
    pub https: bool,
    /// The `Strict-Transport-Security` header of the homepage.
    pub hsts: Option<String>,
    /// Security headers the homepage sent, by lower-case name.
    pub security_headers: BTreeMap<String, String>,
    pub missing_security_headers: Vec<String>,
    pub robots_txt: bool,
    pub sitemaps: Vec<String>,
    pub feeds: Vec<Feed>,
    pub total_bytes: u64,
    pub average_response_ms: u64,
    /// Pages that could not be fetched, with the reason.
    pub skipped: Vec<SkippedPage>,
}

/// A page the crawl read, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PageSummary {
    pub url: String,
    pub page_type: PageType,
    pub status: u16,
    pub bytes: u64,
    pub response_ms: u64,
    pub title: Option<String>,
    /// The page's `etag` and `last_modified`, when it sent them (a monitor's next run asks
    /// whether it changed).
    #[serde(flatten)]
    pub validators: Validators,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SkippedPage {
    pub url: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageError {
    pub stage: crate::job::Stage,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Enrichment {
    pub summary: Option<String>,
    /// The NAICS industry's title (`naics.title`).
    pub industry: Option<String>,
    /// The industry in the North American Industry Classification System (2022), at the level
    /// the evidence supports (sector `52`, industry `522320`).
    pub naics: Option<Naics>,
    /// `B2B`, `B2C` or `B2B2C`.
    pub business_model: Option<String>,
    pub products: Vec<String>,
    pub target_customers: Vec<String>,
    pub tags: Vec<String>,
    pub method: Method,
}

/// How the enrichment was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// By the configured model (`KRAWLR_LLM_*`).
    Llm,
    /// Offline, from the pages alone.
    #[default]
    Heuristic,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Financials {
    pub ticker: Option<String>,
    pub exchange: Option<String>,
    /// Ten digits, as EDGAR writes it.
    pub cik: Option<String>,
    pub sec_name: Option<String>,
    pub revenue: Option<Fact>,
    pub net_income: Option<Fact>,
    pub total_assets: Option<Fact>,
    pub operating_cash_flow: Option<Fact>,
    pub shares_outstanding: Option<Fact>,
    /// The filer's Standard Industrial Classification, as EDGAR's submissions record states it.
    pub sic: Option<Sic>,
    /// The companyfacts document the figures came from.
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sic {
    /// Four digits (`7372`).
    pub code: String,
    /// EDGAR's title for it (`Services-Prepackaged Software`).
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Fact {
    /// As filed, unscaled.
    pub value: serde_json::Number,
    pub unit: String,
    /// `us-gaap:Revenues`, `ifrs-full:Revenue`, …
    pub concept: String,
    pub fiscal_year: Option<i64>,
    pub fiscal_period: Option<String>,
    pub form: String,
    pub filed: String,
    pub period_end: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Funding {
    pub rounds: Vec<Round>,
    /// Sum of the rounds' amounts, when they share one currency.
    pub total_raised: Option<f64>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Round {
    /// RFC 3339, from the announcement.
    pub date: Option<String>,
    pub amount: Option<f64>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// `pre-seed`, `seed`, `series_a` … `series_h`, `growth`, `debt`, `ipo`, `strategic`.
    pub round_type: Option<String>,
    pub lead_investors: Vec<String>,
    pub investors: Vec<String>,
    pub source_url: String,
    /// The sentence the round was read from.
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewsItem {
    pub title: String,
    pub url: Option<String>,
    /// RFC 3339, UTC.
    pub date: Option<String>,
    /// The feed's title, or its host.
    pub source: String,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Technology {
    pub name: String,
    pub category: String,
    /// What gave it away, e.g. `script: js.stripe.com/v3`.
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Icon {
    pub url: String,
    pub rel: String,
    /// Largest declared side in pixels (`sizes="32x32"`), if any.
    pub size: Option<u32>,
    #[serde(rename = "type")]
    pub mime: Option<String>,
}

/// A feed the site declares (`<link rel="alternate">` with a feed's type).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Feed {
    pub url: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub title: Option<String>,
    /// The feed's `etag` and `last_modified` when the news stage fetched it (a monitor's next
    /// run asks whether it changed).
    #[serde(flatten)]
    pub validators: Validators,
}
