//! Outside sources: SEC EDGAR, news feeds, and the enrichment model's endpoint.

pub mod edgar;
pub mod llm;
pub mod news;
