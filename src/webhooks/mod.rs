//! Webhooks, as the original's webhook service did them and as receivers expect them today:
//! `krawlr webhooks` consumes `scrape-completed` (and `scrape-progress`), writes one durable
//! [`Delivery`] per event and target, then delivers each with a Standard Webhooks signature on
//! a retry schedule, recording every attempt.
//!
//! Targets are the job's own `webhook_url` (signed with its key's default secret) and the
//! endpoints a key registered, each with its own secret and event filter. The delivery's id
//! is the `webhook-id` header: derived from the event and the target, so a redelivered
//! message never makes a second delivery, and receivers can de-duplicate by it.

mod service;
pub mod sign;

pub use crate::job::EventKind;
pub use crate::store::{Attempt, Delivery, DeliveryStatus, Endpoint, EndpointStatus, delivery_id};
pub use service::{ROTATION_OVERLAP, Webhooks, ensure_default_endpoint};

impl Endpoint {
    /// A new, active endpoint with a new signing secret; the secret, to show once, comes back
    /// beside it (the endpoint holds it sealed).
    pub fn new(
        id: String,
        key_id: &str,
        url: Option<String>,
        events: Vec<EventKind>,
        description: String,
        secrets: &sign::SecretBox,
    ) -> (Endpoint, String) {
        let secret = sign::new_secret();
        let now = crate::job::now_ms();
        let endpoint = Endpoint {
            secret: secrets.seal(&secret, &id),
            id,
            key_id: key_id.to_string(),
            url,
            events,
            description,
            previous_secret: None,
            previous_secret_until: None,
            status: EndpointStatus::Active,
            status_reason: None,
            created_at: now,
            updated_at: now,
        };
        (endpoint, secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{Job, JobEvent, Stage};

    #[test]
    fn a_delivery_id_names_the_event_and_the_endpoint() {
        let mut job = Job::new("j1".into(), "k".into(), url::Url::parse("https://example.com/").unwrap(), 0);
        let early = delivery_id("ep_a", &JobEvent::of(&job, 2));
        job.current_stage = Stage::News;
        assert_ne!(early, delivery_id("ep_a", &JobEvent::of(&job, 3)), "each change is an event");
        job.status = crate::job::JobStatus::Completed;
        let completed = JobEvent::of(&job, 4);
        assert_eq!(completed.kind, EventKind::Completed);
        assert_eq!(delivery_id("ep_a", &completed), delivery_id("ep_a", &completed.clone()), "published twice, one id");
        assert_ne!(delivery_id("ep_a", &completed), delivery_id("ep_b", &completed));
        job.current_stage = Stage::Starting;
        job.status = crate::job::JobStatus::Processing;
        assert_ne!(
            delivery_id("ep_a", &JobEvent::of(&job, 5)),
            delivery_id("ep_a", &JobEvent::of(&job, 2)),
            "a second attempt's progress is delivered too"
        );
        let older = JobEvent { event_id: String::new(), ..completed.clone() };
        assert_ne!(delivery_id("ep_a", &older), delivery_id("ep_a", &completed), "messages without an event id");
        assert!(early.starts_with("msg_") && early.len() == 36);
    }
}
