//! Scraping a company site into a [`Report`]. Knows nothing of queues, stores or HTTP serving:
//! the worker drives a [`Run`] stage by stage and records progress in between, and
//! `krawlr scrape` drives the same run in the foreground.

pub mod address;
pub mod contacts;
pub mod content;
pub mod cpu;
pub mod crawl;
pub mod dates;
pub mod edgar;
pub mod embedded;
pub mod enrich;
pub mod fetch;
pub mod founding;
pub mod funding;
pub mod legal;
pub mod lines;
pub mod links;
pub mod meta;
pub mod news;
pub mod page;
pub mod phones;
pub mod profile;
pub mod render;
pub mod report;
pub mod robots;
pub mod structured;
pub mod tech;
pub mod wall;
pub mod website;

use crate::job::{JobOptions, Stage, rfc3339};
use crawl::{Crawl, CrawledPage};
use fetch::{FetchError, Fetcher};
use report::{Report, Source, SourceMethod, StageError};
use url::Url;

/// The stages a run performs, in order; `saving` and `completed` belong to the caller.
pub const STAGES: [Stage; 6] =
    [Stage::Starting, Stage::Profile, Stage::Website, Stage::Financial, Stage::News, Stage::Enrichment];

/// Why a whole job fails. A stage that merely finds nothing records it in `errors` instead.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url} is not an HTML page (Content-Type: {content_type})")]
    NotHtml { url: String, content_type: String },
    /// A bug met by this input (a panic in a stage): the attempt fails, the process lives on.
    #[error("internal_error: {0}")]
    Internal(String),
    /// The attempt ran past `KRAWLR_JOB_TIMEOUT_SECONDS` and was abandoned.
    #[error("the attempt ran past its deadline of {0:?} and was abandoned")]
    DeadlineExceeded(std::time::Duration),
}

impl ScrapeError {
    pub fn is_transient(&self) -> bool {
        match self {
            ScrapeError::Fetch(e) => e.is_transient(),
            // Tried again like any other failure, up to the attempts allowed, then failed.
            ScrapeError::Internal(_) | ScrapeError::DeadlineExceeded(_) => true,
            ScrapeError::NotHtml { .. } => false,
        }
    }
}

/// Everything a run reaches out with, built once from the settings.
pub struct Scraper {
    pub fetcher: Fetcher,
    pub edgar: edgar::Edgar,
    /// The enrichment model and its client, when configured.
    pub llm: Option<(reqwest::Client, crate::config::LlmSettings)>,
    /// Where pages are parsed and read (the fetcher's robots.txt files too).
    pub cpu: std::sync::Arc<cpu::CpuPool>,
    /// Where pages that need their scripts are rendered.
    pub browser: crate::browser::Browser,
}

impl Scraper {
    pub fn new(settings: &crate::config::Settings) -> Result<Scraper, reqwest::Error> {
        if let Some(reason) = &settings.render.unavailable {
            tracing::warn!("rendering is off: {reason}; pages that need their scripts are read without them");
        }
        let fetcher = Fetcher::new(settings.fetch.clone())?;
        Ok(Scraper {
            cpu: fetcher.cpu.clone(),
            fetcher,
            edgar: edgar::Edgar::new(&settings.sec, settings.fetch.proxy.as_ref())?,
            llm: match &settings.llm {
                Some(llm) => {
                    let builder = crate::net::through(reqwest::Client::builder(), settings.fetch.proxy.as_ref())?;
                    Some((builder.build()?, llm.clone()))
                }
                None => None,
            },
            browser: crate::browser::Browser::new(settings.render.clone()),
        })
    }
}

/// What of the site the crawl could read, and how.
fn coverage(crawled: &Crawl, browser: &crate::browser::Browser) -> report::Coverage {
    let js_required: Vec<report::ShellPage> = crawled
        .pages
        .iter()
        .filter_map(|p| match &p.verdict {
            wall::Verdict::JsRequired(evidence) => {
                Some(report::ShellPage { url: p.url.to_string(), evidence: evidence.clone() })
            }
            _ => None,
        })
        .collect();
    let rendered: Vec<report::RenderedPage> = crawled.pages.iter().filter_map(|p| p.rendered.clone()).collect();
    let embedded_data = crawled
        .pages
        .iter()
        .filter(|p| !p.facts.embedded.is_empty())
        .map(|p| report::EmbeddedPage { url: p.url.to_string(), sources: p.facts.embedded.clone() })
        .collect();
    let mode = browser.mode();
    let note = (!js_required.is_empty()).then(|| {
        let why = match (mode, browser.unavailable()) {
            (crate::config::RenderMode::Off, Some(reason)) => format!("rendering is off: {reason}"),
            (crate::config::RenderMode::Off, None) => "rendering is off (KRAWLR_RENDER=off)".to_string(),
            _ => "rendering them failed (each page's evidence says why)".to_string(),
        };
        format!(
            "{} of the pages read show their content only once their scripts run, and {why}: what those pages \
             hold is missing from this report",
            js_required.len()
        )
    });
    report::Coverage {
        pages_read: crawled.pages.len(),
        pages_rendered: rendered.len(),
        rendering: Some(mode),
        rendered,
        embedded_data,
        blocked: crawled
            .blocked
            .iter()
            .map(|(url, w)| report::BlockedPage {
                url: url.clone(),
                vendor: w.vendor.clone(),
                evidence: w.evidence.clone(),
            })
            .collect(),
        js_required,
        skipped: crawled.failures.len(),
        note,
        unchanged_since: None,
    }
}

/// One company report in the making.
pub struct Run<'a> {
    scraper: &'a Scraper,
    url: Url,
    max_pages: usize,
    /// Set by the `profile` stage: the homepage and its response headers.
    home: Option<(CrawledPage, reqwest::header::HeaderMap)>,
    /// Set by the `website` stage.
    crawl: Option<Crawl>,
    /// The company card, filled by the `profile` and `website` stages.
    card: profile::Card,
    report: Report,
}

impl<'a> Run<'a> {
    pub fn new(scraper: &'a Scraper, url: Url, options: &JobOptions) -> Self {
        let domain = url.host_str().unwrap_or_default().trim_start_matches("www.").to_string();
        let report =
            Report { schema_version: report::REPORT_SCHEMA_VERSION, url: url.to_string(), domain, ..Report::default() };
        let max_pages = options.max_pages.unwrap_or(scraper.fetcher.settings().max_pages) as usize;
        Run { scraper, url, max_pages, home: None, crawl: None, card: profile::Card::default(), report }
    }

    pub async fn step(&mut self, stage: Stage) -> Result<(), ScrapeError> {
        match stage {
            Stage::Profile => self.profile().await,
            Stage::Website => {
                self.website().await;
                Ok(())
            }
            Stage::News => {
                self.news().await;
                // Rounds are read from the news items and the crawled pages together.
                self.report.funding = Some(self.funding());
                Ok(())
            }
            Stage::Financial => {
                self.financial().await;
                Ok(())
            }
            Stage::Enrichment => {
                self.enrich().await;
                Ok(())
            }
            Stage::Starting | Stage::Saving | Stage::Completed => Ok(()),
        }
    }

    /// The homepage must be reachable, allowed and HTML, or the job fails.
    async fn profile(&mut self) -> Result<(), ScrapeError> {
        let page = self.scraper.fetcher.get(&self.url).await?;
        if !page.is_html() {
            return Err(ScrapeError::NotHtml {
                url: page.url.to_string(),
                content_type: page.content_type().unwrap_or("none").to_string(),
            });
        }
        let headers = page.headers.clone();
        let home = render::read(self.scraper, page, crawl::PageType::Home, None).await;
        // A wall served as the homepage (a captcha answered with 200): nothing of it is the
        // company's, and trying again would meet it again.
        if let wall::Verdict::Blocked(wall) = home.verdict {
            return Err(FetchError::Blocked { url: home.url.to_string(), wall }.into());
        }
        let language = headers.get(reqwest::header::CONTENT_LANGUAGE).and_then(|v| v.to_str().ok());
        self.card = profile::Card::from_home(&home.facts, &home.url, language);
        self.show_card();
        self.home = Some((home, headers));
        Ok(())
    }

    /// The card as the report shows it.
    fn show_card(&mut self) {
        self.report.company = self.card.company.clone();
        self.report.sources.retain(|k, _| !k.starts_with("company."));
        self.report.sources.extend(self.card.sources.clone());
    }

    /// Crawls the site from the homepage; contacts found on its other pages join the profile.
    async fn website(&mut self) {
        let Some((home, home_headers)) = self.home.take() else { return };
        let settings = self.scraper.fetcher.settings();
        let limits = crawl::Limits {
            max_pages: self.max_pages,
            max_bytes: settings.crawl_max_bytes,
            deadline: std::time::Instant::now() + settings.crawl_timeout,
        };
        let crawled = crawl::crawl(self.scraper, home, home_headers, limits).await;
        self.report.website = Some(website::summarize(&crawled));
        self.report.coverage = Some(coverage(&crawled, &self.scraper.browser));
        if self.card.company.favicon.is_none() {
            self.probe_favicon(&crawled.pages[0].url).await;
        }
        for page in crawled.pages.iter().skip(1) {
            self.card.add_page(&page.facts, &page.url, page.page_type);
        }
        self.card.settle();
        self.show_card();
        self.crawl = Some(crawled);
    }

    /// A site that declares no icon may still serve `/favicon.ico`: fetched, and kept only if
    /// it is an image.
    async fn probe_favicon(&mut self, home: &Url) {
        let Ok(url) = home.join("/favicon.ico") else { return };
        let Ok(page) = self.scraper.fetcher.get(&url).await else { return };
        let image_type = page.content_type().is_some_and(|t| t.to_ascii_lowercase().starts_with("image/"));
        let magic = [&b"\x00\x00\x01\x00"[..], b"\x89PNG", b"GIF8", b"<svg"];
        if image_type || magic.iter().any(|m| page.body.starts_with(m)) {
            self.card.company.favicon = Some(page.url.to_string());
            self.card.sources.insert("company.favicon".into(), Source::new(page.url.as_str(), SourceMethod::Probe));
        }
    }

    /// The ticker the site states, then SEC EDGAR's figures for it.
    async fn financial(&mut self) {
        let pages = self.crawl.as_ref().map(|c| c.pages.as_slice()).unwrap_or_default();
        let mut ranked: Vec<&crawl::CrawledPage> = pages.iter().collect();
        ranked.sort_by_key(|p| p.page_type != crawl::PageType::Investors);
        let json_ld: Vec<serde_json::Value> = ranked.iter().flat_map(|p| p.facts.meta.json_ld.clone()).collect();
        let texts: Vec<&str> = ranked.iter().map(|p| p.facts.text.as_str()).collect();
        let stage = Stage::Financial;
        let Some((ticker, exchange)) = edgar::find_ticker(&json_ld, &texts) else {
            let message = "no stock ticker found on the site (a private company, or one that does not say)".into();
            self.report.errors.push(StageError { stage, message });
            return;
        };
        let mut financials = edgar::Financials { ticker: Some(ticker.clone()), exchange, ..Default::default() };
        let looked_up = match self.scraper.edgar.lookup(&ticker).await {
            Ok(Some((cik, _))) => self.scraper.edgar.facts(cik).await.map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        match looked_up {
            Ok(Some((facts, source))) => {
                financials = edgar::Financials { ticker: financials.ticker, exchange: financials.exchange, ..facts };
                self.report.sources.insert("financials".into(), Source::new(source.as_str(), SourceMethod::Edgar));
                financials.source = Some(source);
            }
            Ok(None) => {
                self.report.errors.push(StageError { stage, message: format!("SEC EDGAR lists no ticker {ticker}") })
            }
            Err(e) => self.report.errors.push(StageError { stage, message: e.to_string() }),
        }
        self.report.financials = Some(financials);
    }

    async fn enrich(&mut self) {
        let pages = self.crawl.as_ref().map(|c| c.pages.as_slice()).unwrap_or_default();
        let mut ranked: Vec<&crawl::CrawledPage> = pages.iter().collect();
        ranked.sort_by_key(|p| !matches!(p.page_type, crawl::PageType::Home | crawl::PageType::About));
        let texts: Vec<String> = ranked.iter().take(6).map(|p| p.facts.main_text().to_string()).collect();
        let product_names = pages
            .iter()
            .filter(|p| p.page_type == crawl::PageType::Product)
            .filter_map(|p| p.facts.meta.title.clone())
            .map(|t| t.split(['|', '–', '—']).next().unwrap_or_default().trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let company = &self.report.company;
        let evidence = enrich::Evidence {
            name: company.name.as_deref(),
            description: company.description.as_deref(),
            texts,
            product_names,
        };
        let enrichment = match &self.scraper.llm {
            Some((client, llm)) => match enrich::with_llm(client, llm, &evidence).await {
                Ok(found) => found,
                Err(e) => {
                    let message = format!("{}; used the offline method instead", crate::telemetry::chain(&e));
                    self.report.errors.push(StageError { stage: Stage::Enrichment, message });
                    enrich::heuristic(&evidence)
                }
            },
            None => enrich::heuristic(&evidence),
        };
        let method = match enrichment.method {
            enrich::Method::Llm => SourceMethod::Llm,
            enrich::Method::Heuristic => SourceMethod::Heuristic,
        };
        let home = self.report.url.clone();
        if self.report.company.industry.is_empty() && enrichment.industry.is_some() {
            self.report.company.industry = enrichment.industry.iter().cloned().collect();
            self.report.sources.insert("company.industry".into(), Source::new(home.as_str(), method));
        }
        self.report.sources.insert("enrichment".into(), Source::new(home, method));
        self.report.enrichment = Some(enrichment);
    }

    /// Rounds told by the news items and by the press, news, blog, about and investor pages.
    fn funding(&self) -> funding::Funding {
        use crawl::PageType::*;
        let item_texts: Vec<(String, &news::NewsItem)> = self
            .report
            .news
            .iter()
            .map(|i| (format!("{}. {}", i.title, i.summary.as_deref().unwrap_or_default()), i))
            .collect();
        let pages: Vec<(String, String, Option<String>)> = self
            .crawl
            .as_ref()
            .map(|c| c.pages.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|p| matches!(p.page_type, Press | News | Blog | About | Investors | Home))
            .map(|p| (p.facts.main_text().to_string(), p.url.to_string(), p.facts.meta.published.clone()))
            .collect();
        let mut announcements: Vec<funding::Announcement> = item_texts
            .iter()
            .map(|(text, i)| funding::Announcement {
                text,
                url: i.url.as_deref().unwrap_or_default(),
                date: i.date.as_deref(),
            })
            .collect();
        announcements.extend(pages.iter().map(|(text, url, date)| funding::Announcement {
            text,
            url,
            date: date.as_deref(),
        }));
        funding::extract(&announcements, &profile::names_of(&self.report.company))
    }

    async fn news(&mut self) {
        let feeds = self.report.website.as_ref().map(|w| w.feeds.clone()).unwrap_or_default();
        let query = self.report.company.name.clone().unwrap_or_else(|| self.report.domain.clone());
        let external =
            self.scraper.fetcher.settings().news_feed_url.as_deref().and_then(|t| news::external_feed(t, &query));
        let collected = news::collect(&self.scraper.fetcher, &self.scraper.cpu, &feeds, external).await;
        let (mut items, problems) = (collected.items, collected.problems);
        if let Some(website) = self.report.website.as_mut() {
            for feed in &mut website.feeds {
                if let Some((_, v)) = collected.validators.iter().find(|(u, _)| *u == feed.url) {
                    feed.validators = v.clone();
                }
            }
        }
        // Press releases and news articles the crawl fetched: the dated ones are items too.
        let source = self.report.company.name.clone().unwrap_or_else(|| self.report.domain.clone());
        let pages = self.crawl.as_ref().map(|c| c.pages.as_slice()).unwrap_or_default();
        let items_pages = pages
            .iter()
            .filter(|p| matches!(p.page_type, crawl::PageType::Press | crawl::PageType::News) && !p.is_index());
        for page in items_pages {
            let meta = &page.facts.meta;
            if let (Some(title), Some(date)) = (&meta.title, &meta.published) {
                items.push(news::NewsItem {
                    title: title.clone(),
                    url: Some(page.url.to_string()),
                    date: Some(date.clone()),
                    source: source.clone(),
                    summary: meta.description.clone(),
                });
            }
        }
        self.report.news = news::merge(items);
        for message in problems {
            self.report.errors.push(StageError { stage: Stage::News, message });
        }
    }

    pub fn finish(mut self) -> Report {
        self.report.scraped_at = rfc3339(crate::job::now_ms());
        self.report
    }
}
