//! Funding rounds, filled as part of the `news` stage: read from the news items and from the
//! press, news, blog, about, investor and home pages.

use super::Gathered;
use crate::scrape::assemble::card::names_of;
use crate::scrape::facts::funding::{Announcement, extract};
use crate::scrape::model::PageType::*;
use crate::scrape::model::report::Funding;

pub fn run(gathered: &mut Gathered) {
    gathered.report.funding = Some(read(gathered));
}

fn read(gathered: &Gathered) -> Funding {
    let item_texts: Vec<(String, Option<&str>, Option<&str>)> = gathered
        .report
        .news
        .iter()
        .map(|i| {
            (format!("{}. {}", i.title, i.summary.as_deref().unwrap_or_default()), i.url.as_deref(), i.date.as_deref())
        })
        .collect();
    let pages: Vec<(&str, String, Option<&str>)> = gathered
        .pages()
        .iter()
        .filter(|p| matches!(p.page_type, Press | News | Blog | About | Investors | Home))
        .map(|p| (p.facts.main_text(), p.url.to_string(), p.facts.meta.published.as_deref()))
        .collect();
    let mut announcements: Vec<Announcement> = item_texts
        .iter()
        .map(|(text, url, date)| Announcement { text, url: url.unwrap_or_default(), date: *date })
        .collect();
    announcements.extend(pages.iter().map(|(text, url, date)| Announcement { text, url, date: *date }));
    extract(&announcements, &names_of(&gathered.report.company))
}
