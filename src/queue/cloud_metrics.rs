//! Pub/Sub's subscription figures, which Pub/Sub itself does not serve: Cloud Monitoring's
//! `timeSeries.list` (REST) for `num_undelivered_messages`, `num_outstanding_messages`,
//! `oldest_unacked_message_age` and the `dead_letter_message_count` of the last 7 days.
//! Google samples these once a minute, so they trail the queue by a minute or two.

use super::{QueueError, SubscriptionStats};
use crate::job::rfc3339;
use gcloud_sdk::google_cloud_auth::credentials::{self, CacheableResource, Credentials};
use serde::Deserialize;
use std::time::Duration;

pub const MONITORING_URL: &str = "https://monitoring.googleapis.com";
/// How far back a gauge's latest sample is looked for.
const GAUGE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// The window the dead-lettered count covers.
const DEAD_LETTER_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

pub struct Monitoring {
    http: reqwest::Client,
    base: url::Url,
    project: String,
    /// None: no authentication (a local stand-in).
    credentials: Option<Credentials>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse {
    #[serde(default)]
    time_series: Vec<TimeSeries>,
}

#[derive(Debug, Deserialize)]
struct TimeSeries {
    #[serde(default)]
    points: Vec<Point>,
}

#[derive(Debug, Deserialize)]
struct Point {
    value: Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Value {
    /// Int64 values travel as strings in Google's JSON.
    int64_value: Option<String>,
    double_value: Option<f64>,
}

impl Value {
    fn number(&self) -> f64 {
        self.int64_value.as_deref().and_then(|v| v.parse().ok()).or(self.double_value).unwrap_or(0.0)
    }
}

fn failed(e: impl std::error::Error + 'static) -> QueueError {
    QueueError::Unavailable(format!("Cloud Monitoring: {}", crate::telemetry::chain(&e)).into())
}

impl Monitoring {
    /// Google Cloud at `base` with the Application Default Credentials, or, with `anonymous`,
    /// a server that needs none.
    pub fn new(project: &str, base: url::Url, anonymous: bool) -> Result<Monitoring, QueueError> {
        let credentials = if anonymous {
            None
        } else {
            Some(credentials::Builder::default().build().map_err(|e| QueueError::Backend(Box::new(e)))?)
        };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().map_err(failed)?;
        Ok(Monitoring { http, base, project: project.to_string(), credentials })
    }

    pub async fn stats(&self, subscription: &str, topic: &str) -> Result<SubscriptionStats, QueueError> {
        let gauge = |metric: &'static str| self.latest(metric, subscription);
        let (backlog, in_flight, oldest, dead) = tokio::try_join!(
            gauge("num_undelivered_messages"),
            gauge("num_outstanding_messages"),
            gauge("oldest_unacked_message_age"),
            self.dead_lettered(subscription),
        )?;
        Ok(SubscriptionStats {
            subscription: subscription.to_string(),
            topic: topic.to_string(),
            backlog: backlog as u64,
            in_flight: in_flight as u64,
            oldest_unacked_age_seconds: oldest,
            dead_lettered: dead as u64,
        })
    }

    /// The newest sample of a gauge, 0 when Monitoring has none (an idle subscription).
    async fn latest(&self, metric: &str, subscription: &str) -> Result<f64, QueueError> {
        let series = self.list(metric, subscription, GAUGE_WINDOW, None).await?;
        // Points come newest first.
        Ok(series.iter().filter_map(|s| s.points.first()).map(|p| p.value.number()).sum())
    }

    async fn dead_lettered(&self, subscription: &str) -> Result<f64, QueueError> {
        let sum = Some(("ALIGN_SUM", DEAD_LETTER_WINDOW));
        let series = self.list("dead_letter_message_count", subscription, DEAD_LETTER_WINDOW, sum).await?;
        Ok(series.iter().flat_map(|s| &s.points).map(|p| p.value.number()).sum())
    }

    async fn list(
        &self,
        metric: &str,
        subscription: &str,
        window: Duration,
        aligner: Option<(&str, Duration)>,
    ) -> Result<Vec<TimeSeries>, QueueError> {
        let mut url = self.base.clone();
        url.set_path(&format!("/v3/projects/{}/timeSeries", self.project));
        let now = crate::job::now_ms();
        let filter = format!(
            "metric.type = \"pubsub.googleapis.com/subscription/{metric}\" AND \
             resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"{subscription}\""
        );
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("filter", &filter)
                .append_pair("interval.startTime", &rfc3339(now - window.as_millis() as i64))
                .append_pair("interval.endTime", &rfc3339(now));
            if let Some((aligner, period)) = aligner {
                query
                    .append_pair("aggregation.alignmentPeriod", &format!("{}s", period.as_secs()))
                    .append_pair("aggregation.perSeriesAligner", aligner);
            }
        }
        let mut request = self.http.get(url);
        if let Some(credentials) = &self.credentials {
            match credentials.headers(axum::http::Extensions::new()).await.map_err(failed)? {
                CacheableResource::New { data, .. } => request = request.headers(data),
                CacheableResource::NotModified => {}
            }
        }
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            let body: String = response.text().await.unwrap_or_default().chars().take(300).collect();
            let error = QueueError::Monitoring { status: status.as_u16(), body };
            return Err(if status.is_server_error() || status == 429 {
                QueueError::Unavailable(Box::new(error))
            } else {
                error
            });
        }
        let list: ListResponse = response.json().await.map_err(failed)?;
        Ok(list.time_series)
    }
}
