//! Report assembly from what was read: the company card, the website section and what of the
//! site was covered, and the offline enrichment.

pub mod card;
pub mod coverage;
pub mod heuristics;
pub mod website;
