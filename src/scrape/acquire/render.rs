//! Reading a fetched page the way a visitor's browser shows it: a page that needs its scripts
//! (or, with `KRAWLR_RENDER=always`, every page) is rendered in the browser (`crate::browser`)
//! and read again from the document its scripts left. Every request the browser makes goes through the
//! [`Fetcher`]: documents as pages (robots.txt obeyed), the rest as single guarded exchanges.

use crate::browser::{Answer, Network, Request, Unanswered};
use crate::config::RenderMode;
use crate::net::NetError;
use crate::scrape::acquire::fetch::{FetchError, Fetcher};
use crate::scrape::model::PageType;
use crate::scrape::model::Response;
use crate::scrape::model::report::{RefusedRequest, RenderedPage};
use crate::scrape::page::CrawledPage;
use crate::scrape::read::wall::Verdict;
use futures_util::future::BoxFuture;
use std::time::Duration;

/// Reads `page` on the CPU pool, rendered first when the settings and the page call for it and
/// there is time left before `deadline` (the crawl's).
pub async fn read(
    fetcher: &Fetcher,
    browser: &crate::browser::Browser,
    page: Response,
    page_type: PageType,
    deadline: Option<std::time::Instant>,
) -> CrawledPage {
    let (mut read, page) = fetcher.cpu.run(move || (CrawledPage::read(&page, page_type), page)).await;
    let wanted = match (browser.mode(), &read.verdict) {
        (_, Verdict::Blocked(_)) | (RenderMode::Off, _) => false,
        (RenderMode::Always, _) => true,
        (RenderMode::Auto, verdict) => matches!(verdict, Verdict::JsRequired(_)),
    };
    if !wanted {
        return read;
    }
    let (url, status, elapsed) = (page.url.clone(), page.status, page.elapsed);
    let document = Answer { status, headers: headers_of(&page.headers), body: page.body };
    let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(std::time::Instant::now()));
    let network = Through(fetcher);
    let rendering = tokio::time::timeout(left, browser.render(&url, document, &network));
    let rendered = rendering.await.unwrap_or(Err(crate::browser::RenderError::OutOfTime));
    match rendered {
        Ok(rendered) => {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(reqwest::header::CONTENT_TYPE, "text/html; charset=utf-8".parse().expect("static"));
            let report = RenderedPage {
                url: rendered.url.to_string(),
                requests: rendered.requests,
                bytes: rendered.bytes,
                elapsed_ms: u64::try_from(rendered.elapsed.as_millis()).unwrap_or(u64::MAX),
                timed_out: rendered.timed_out,
                refused: rendered.refused.into_iter().map(|(url, reason)| RefusedRequest { url, reason }).collect(),
            };
            let response = Response {
                url: rendered.url,
                status,
                headers,
                body: rendered.html.into_bytes(),
                truncated: false,
                elapsed: elapsed + rendered.elapsed,
            };
            let mut again = fetcher.cpu.run(move || CrawledPage::read(&response, page_type)).await;
            // The document's validators stay the document's.
            again.validators = read.validators;
            // Its scripts ran: what it shows now is all it shows (a wall it turned into is still one).
            if matches!(again.verdict, Verdict::JsRequired(_)) {
                again.verdict = Verdict::Content;
            }
            again.rendered = Some(report);
            again
        }
        Err(e) => {
            tracing::warn!(url = %url, "rendering failed: {e}");
            if let Verdict::JsRequired(evidence) = &mut read.verdict {
                evidence.push(format!("rendering failed: {e}"));
            }
            read
        }
    }
}

fn headers_of(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers.iter().filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string()))).collect()
}

/// The browser's network: krawlr's fetcher.
pub struct Through<'a>(pub &'a Fetcher);

impl Network for Through<'_> {
    fn fetch(&self, request: Request) -> BoxFuture<'_, Result<Answer, Unanswered>> {
        Box::pin(async move {
            let fetched = if request.document {
                // A frame or a navigation is a page: robots.txt and the fetcher's caps apply.
                self.0.get(&request.url).await
            } else {
                let cap = request.cap.min(self.0.settings().max_body_bytes);
                self.0.exchange(&request.method, &request.url, &request.headers, request.body, cap).await
            };
            match fetched {
                Ok(response) => {
                    Ok(Answer { status: response.status, headers: headers_of(&response.headers), body: response.body })
                }
                Err(
                    e @ (FetchError::Net(NetError::Refused { .. } | NetError::ForbiddenAddress { .. })
                    | FetchError::RobotsDisallowed { .. }),
                ) => Err(Unanswered::Refused(e.to_string())),
                Err(e) => Err(Unanswered::Failed(crate::telemetry::chain(&e))),
            }
        })
    }
}
