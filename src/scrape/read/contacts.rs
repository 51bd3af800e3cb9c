//! Contacts a page links to: `mailto:` and `tel:` links, WhatsApp chats (`wa.me/<number>`, a
//! number the company answers), and profiles on the social networks.
//! A link that stands by a third party's label ("Website by …", "Hosting: …") is that party's;
//! a link in a byline, an author's box or a comment is its author's, and a profile linked from
//! an article's text is whoever the article cites. Profiles are kept in one spelling per account.

use scraper::{ElementRef, Html, Selector};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use url::Url;

static ANCHORS: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a[href]").expect("static selector"));

/// What a page links to of the company's contacts.
#[derive(Debug, Default)]
pub struct Contacts {
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// Network → the profile's canonical URL.
    pub social_profiles: BTreeMap<String, String>,
}

pub fn contacts(doc: &Html, base: &Url) -> Contacts {
    let mut meta = Contacts::default();
    for a in doc.select(&ANCHORS) {
        let href = a.value().attr("href").unwrap_or_default().trim();
        let lower = href.to_ascii_lowercase();
        let contact = lower.starts_with("mailto:") || lower.starts_with("tel:");
        if (contact && of_a_third_party(a)) || of_an_author(a) {
            continue;
        }
        if lower.starts_with("mailto:") {
            let email = href[7..].split('?').next().unwrap_or_default().trim().to_lowercase();
            if email.contains('@') && !meta.emails.contains(&email) {
                meta.emails.push(email);
            }
        } else if lower.starts_with("tel:") {
            let phone = href[4..].trim().to_string();
            if !phone.is_empty() && !meta.phones.contains(&phone) {
                meta.phones.push(phone);
            }
        } else if let Some(phone) = whatsapp_number(href).filter(|_| !of_a_third_party(a)) {
            if !meta.phones.contains(&phone) {
                meta.phones.push(phone);
            }
        } else if let Ok(url) = base.join(href) {
            let in_article = a.ancestors().filter_map(ElementRef::wrap).any(|e| e.value().name() == "article");
            if let Some(network) = social_network(&url).filter(|_| !in_article) {
                meta.social_profiles.entry(network.to_string()).or_insert_with(|| canonical_profile(&url, network));
            }
        }
    }
    meta
}

/// The number a WhatsApp chat link opens (`https://wa.me/351928372914?text=…`,
/// `https://api.whatsapp.com/send?phone=351928372914`), in international form.
fn whatsapp_number(href: &str) -> Option<String> {
    let url = Url::parse(href).ok()?;
    let digits = match url.host_str()? {
        "wa.me" => url.path().trim_matches('/').to_string(),
        "api.whatsapp.com" | "wa.link" | "web.whatsapp.com" => {
            url.query_pairs().find(|(k, _)| k == "phone").map(|(_, v)| v.into_owned())?
        }
        _ => return None,
    };
    let digits = digits.trim_start_matches('+');
    ((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+{digits}"))
}

/// Whether a link belongs to a third party: the part of its block it stands in opens with a
/// third party's label ("Website by …", "Hosting: …"), or its block stands under a heading that
/// is one.
fn of_a_third_party(a: ElementRef) -> bool {
    use crate::scrape::read::parties::segments;
    use crate::scrape::read::parties::third_party_label;
    const CONTEXT_CHARS: usize = 300;
    let fold = |e: ElementRef| crate::scrape::model::text::fold_whitespace(&e.text().collect::<String>());
    let inline = |e: &ElementRef| matches!(e.value().name(), "a" | "span" | "strong" | "b" | "em" | "i" | "small");
    let Some(block) = a.ancestors().filter_map(ElementRef::wrap).find(|e| !inline(e)) else { return false };
    let (own, text) = (fold(a), fold(block));
    if text.len() <= CONTEXT_CHARS && !own.is_empty() {
        // A label opens the third party's part for the rest of the block.
        let mut theirs = false;
        for part in segments(&text) {
            theirs |= third_party_label(part);
            if part.contains(own.as_str()) {
                return theirs;
            }
        }
    }
    let heading = block.prev_siblings().filter_map(ElementRef::wrap).next().map(fold);
    heading.is_some_and(|h| h.len() <= 60 && third_party_label(&h))
}

/// Whether a link stands in a byline, an author's box or a comment (by its block's class or id).
fn of_an_author(a: ElementRef) -> bool {
    const AUTHOR: &[&str] = &["author", "byline", "bio", "comment", "comments", "contributor", "vcard-author"];
    a.ancestors().filter_map(ElementRef::wrap).take(12).any(|e| {
        [e.value().attr("class"), e.value().attr("id")]
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(|c: char| !c.is_ascii_alphanumeric()))
            .any(|w| AUTHOR.contains(&w.to_ascii_lowercase().as_str()))
    }) || a.value().attr("rel").is_some_and(|r| r.split_whitespace().any(|r| r.eq_ignore_ascii_case("author")))
}

/// One spelling per account: `https`, the network's own host, no query, fragment, trailing `/`
/// or `@`; lower-case where the network ignores case (all but YouTube's channel ids).
pub fn canonical_profile(url: &Url, network: &str) -> String {
    let host = match network {
        "linkedin" => "www.linkedin.com",
        "twitter" => match url.host_str().map(|h| h.trim_start_matches("www.")) {
            Some("x.com") => "x.com",
            _ => "twitter.com",
        },
        "github" => "github.com",
        "facebook" => "www.facebook.com",
        "instagram" => "www.instagram.com",
        "youtube" => "www.youtube.com",
        "crunchbase" => "www.crunchbase.com",
        _ => url.host_str().unwrap_or_default(),
    };
    let path = url.path().trim_end_matches('/').replace("/@", "/");
    let path = if network == "youtube" && path.starts_with("/channel/") { path } else { path.to_lowercase() };
    format!("https://{host}{path}")
}

/// The social network a profile URL belongs to; share and intent links, posts and people's
/// pages are not profiles.
pub fn social_network(url: &Url) -> Option<&'static str> {
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let network = match host {
        "linkedin.com" | "uk.linkedin.com" if matches!(first, "company" | "school" | "showcase") => "linkedin",
        "twitter.com" | "x.com"
            if !matches!(first, "intent" | "share" | "home" | "hashtag" | "search" | "i")
                && !path.contains("/status") =>
        {
            "twitter"
        }
        "github.com" => "github",
        "facebook.com" | "m.facebook.com" if !matches!(first, "sharer" | "sharer.php" | "dialog" | "share.php") => {
            "facebook"
        }
        "instagram.com" if !matches!(first, "p" | "explore" | "reel" | "stories") => "instagram",
        "youtube.com" if matches!(first, "channel" | "c" | "user") || first.starts_with('@') => "youtube",
        "crunchbase.com" if first == "organization" => "crunchbase",
        _ => return None,
    };
    Some(network)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whatsapp_chat_is_a_number() {
        assert_eq!(whatsapp_number("https://wa.me/351928372914?text=Ol%C3%A1").as_deref(), Some("+351928372914"));
        assert_eq!(
            whatsapp_number("https://api.whatsapp.com/send?phone=4915753708864").as_deref(),
            Some("+4915753708864")
        );
        assert_eq!(whatsapp_number("https://wa.me/message/ABCDEF"), None);
        assert_eq!(whatsapp_number("https://example.com/351928372914"), None);
    }
}
