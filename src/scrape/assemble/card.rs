//! The company card. Each field is offered by every place that states it — the JSON-LD
//! Organization, the page's metadata, its links, its imprint, its footer, its text — with a
//! [`Source`] saying where and how; a field keeps the surest offer, and an offer below
//! [`MIN_CONFIDENCE`] is never kept. The homepage makes the first card ([`Card::from_home`]);
//! the crawl's other pages add to it ([`Card::add_page`]); phones settle into E.164 last.

use crate::scrape::facts::legal::LegalFacts;
use crate::scrape::model::PageType;
use crate::scrape::model::report::{Address, Company, MIN_CONFIDENCE, Registration, Source, SourceMethod, confidence};
use crate::scrape::model::text::{fold_whitespace, same_name, squash};
use crate::scrape::page::PageFacts;
use crate::scrape::read::meta;
use crate::scrape::read::meta::PageMeta;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use url::Url;

const ORGANIZATION_TYPES: &[&str] = &[
    "Organization",
    "Corporation",
    "LocalBusiness",
    "OnlineBusiness",
    "OnlineStore",
    "NGO",
    "EducationalOrganization",
    "GovernmentOrganization",
    "NewsMediaOrganization",
    "Store",
    "ProfessionalService",
];

/// The company card in the making, with where each field came from.
#[derive(Debug, Clone, Default)]
pub struct Card {
    pub company: Company,
    /// `company.<field>` → its source, for the report's `sources`.
    pub sources: BTreeMap<String, Source>,
    /// The country the site is believed to be in (its TLD's or language's), for phone numbers
    /// written without their country code.
    country: Option<String>,
    /// The homepage's `<title>`, whose parts may name the company once its legal name is known.
    title: Option<String>,
    /// Every page's `<title>`, the homepage's first: the part most of them share is the site's name.
    titles: Vec<String>,
    /// Whom the pages' copyright lines name.
    holders: Vec<String>,
    /// The homepage's URL.
    home: String,
    /// The homepage's and about pages' founding statements, with their pages.
    founding: Vec<(crate::scrape::facts::founding::Statement, String)>,
    /// Every legal name a page stated, with how it was read and whom the page's copyright line
    /// names beside it.
    legal_names: Vec<(String, SourceMethod, Option<String>)>,
}

/// `offer!(company => field, sources, value, source)`: [`offer`]s `value` for `company.field`,
/// its source kept under `company.<field>`; the field is named once.
macro_rules! offer {
    ($company:expr => $field:ident, $($rest:expr),+ $(,)?) => {
        offer(&mut $company.$field, stringify!($field), $($rest),+)
    };
}

/// `add!(company => field, sources, values, source)`: [`add`]s `values` to the list
/// `company.field`, its source kept under `company.<field>`.
macro_rules! add {
    ($company:expr => $field:ident, $($rest:expr),+ $(,)?) => {
        add(&mut $company.$field, stringify!($field), $($rest),+)
    };
}

/// Offers a value for a one-valued field: kept when the field is empty or the offer is surer,
/// and sure enough.
fn offer<T>(
    slot: &mut Option<T>,
    field: &str,
    sources: &mut BTreeMap<String, Source>,
    value: Option<T>,
    source: &Source,
) {
    let Some(value) = value else { return };
    let key = format!("company.{field}");
    let surer = sources.get(&key).is_none_or(|held| source.confidence > held.confidence);
    if source.confidence >= MIN_CONFIDENCE && (slot.is_none() || surer) {
        *slot = Some(value);
        sources.insert(key, source.clone());
    }
}

/// Adds the values a list field does not hold yet; the first source that added any is kept.
fn add(
    list: &mut Vec<String>,
    field: &str,
    sources: &mut BTreeMap<String, Source>,
    values: &[String],
    source: &Source,
) {
    if source.confidence < MIN_CONFIDENCE {
        return;
    }
    let before = list.len();
    for value in values {
        push_unique(list, value);
    }
    if list.len() > before {
        sources.entry(format!("company.{field}")).or_insert_with(|| source.clone());
    }
}

/// The card one page gives, settled.
pub fn extract(html: &str, page_url: &Url, content_language: Option<&str>) -> Card {
    let mut card = Card::from_home(&crate::scrape::page::analyze(html, page_url), page_url, content_language);
    card.settle();
    card
}

impl Card {
    /// The card the homepage gives.
    pub fn from_home(facts: &PageFacts, page_url: &Url, content_language: Option<&str>) -> Card {
        let mut card = Card {
            company: Company {
                domain: page_url.host_str().unwrap_or_default().trim_start_matches("www.").to_string(),
                ..Company::default()
            },
            country: facts.country.clone(),
            title: facts.title.clone(),
            home: page_url.to_string(),
            ..Card::default()
        };
        card.read_names(facts);
        let url = page_url.as_str();
        let page = &facts.meta;
        let (c, sources) = (&mut card.company, &mut card.sources);
        card_from_orgs(c, sources, page, page_url);
        let meta = Source::new(url, SourceMethod::Meta);
        // A site name is a name, not a sentence (some sites put the headline there).
        let site_name = page.publisher.clone().filter(|p| {
            p.split_whitespace().count() <= 6 && p.chars().count() <= 60 && !p.contains("://") && !p.starts_with("www.")
        });
        offer!(c => name, sources, site_name, &meta);
        if let Some((name, matches_domain)) = facts.title.as_deref().and_then(|t| title_name(t, &c.domain, &[])) {
            // A title's first part is often a slogan: only a part that is the domain's name is sure.
            let confidence = if matches_domain { confidence::TITLE_PART_NAMED } else { confidence::TITLE_PART };
            offer!(c => name, sources, Some(name), &meta.clone().with_confidence(confidence));
        }
        offer!(c => description, sources, page.description.clone(), &meta);
        let og_logo = page.open_graph.get("logo").and_then(|v| v.first()).and_then(|u| resolve(page_url, u));
        offer!(c => logo, sources, og_logo, &meta);
        let img_logo = facts.logo_image.as_deref().and_then(|u| resolve(page_url, u));
        offer!(c => logo, sources, img_logo, &meta.clone().with_confidence(confidence::LOGO_IMAGE));
        offer!(c => favicon, sources, favicon(page), &meta);
        let languages = languages(facts, content_language);
        add!(c => languages, sources, &languages, &meta);
        card.add_contacts(page, &page.emails, url);
        card.add_legal(&facts.footer, &Source::new(url, SourceMethod::Footer));
        card.add_founding(facts, url);
        card
    }

    /// What another page of the site adds: its imprint facts (an imprint, legal or contact
    /// page), its footer, its links to contacts, an Organization it declares (an about or
    /// contact page), a founding year its about page states.
    pub fn add_page(&mut self, facts: &PageFacts, url: &Url, page_type: PageType) {
        use PageType::*;
        let at = url.as_str();
        self.read_names(facts);
        self.add_language(facts);
        if self.country.is_none() {
            self.country.clone_from(&facts.country);
        }
        if matches!(page_type, About | Contact | Imprint | Legal) {
            card_from_orgs(&mut self.company, &mut self.sources, &facts.meta, url);
        }
        match page_type {
            // An imprint is the company's own statement, whatever it holds; a privacy policy or
            // terms page counts where its controller's block names the company.
            Imprint => self.add_legal(&facts.legal, &Source::new(at, SourceMethod::Imprint)),
            Legal if facts.legal.identifies() => self.add_legal(&facts.legal, &Source::new(at, SourceMethod::Imprint)),
            Contact | About => self.add_legal(&facts.legal, &Source::new(at, SourceMethod::Text)),
            _ => {}
        }
        self.add_legal(&facts.footer, &Source::new(at, SourceMethod::Footer));
        // Emails and phones from the company's own pages; profiles from any page.
        if matches!(page_type, Team | Investors) {
            // A page of people names their other firms' addresses too (a director's own
            // company): only addresses at the company's own domains count there.
            let own = self.email_domains();
            let at_own = |e: &&String| e.rsplit_once('@').is_some_and(|(_, d)| own.iter().any(|o| o == d));
            let emails: Vec<String> = facts.meta.emails.iter().filter(at_own).cloned().collect();
            self.add_contacts(&facts.meta, &emails, at);
        } else if matches!(page_type, About | Contact | Imprint | Legal | Press | Careers) {
            self.add_contacts(&facts.meta, &facts.meta.emails, at);
        } else {
            self.add_profiles(&facts.meta, &Source::new(at, SourceMethod::Link));
        }
        if page_type == About {
            self.add_founding(facts, at);
        }
    }

    /// The domains the company's addresses are at: its site's and those of the emails it gave.
    fn email_domains(&self) -> Vec<String> {
        let mut domains = vec![self.company.domain.clone()];
        domains.extend(self.company.emails.iter().filter_map(|e| e.rsplit_once('@')).map(|(_, d)| d.to_string()));
        domains
    }

    /// The page's language, when the site has none of its kind yet (`en` and `en-GB` are one).
    fn add_language(&mut self, facts: &PageFacts) {
        let primary = |l: &str| l.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        if let Some(lang) = facts.language.as_deref()
            && !lang.is_empty()
            && !self.company.languages.iter().any(|l| primary(l) == primary(lang))
        {
            self.company.languages.push(lang.to_string());
        }
    }

    /// The page's title and copyright holder, for the site's name.
    fn read_names(&mut self, facts: &PageFacts) {
        const MAX_TITLES: usize = 200;
        if self.titles.len() < MAX_TITLES {
            self.titles.extend(facts.title.clone().filter(|t| !t.is_empty()));
            self.holders.extend(facts.footer.holder.clone().or_else(|| facts.legal.holder.clone()));
        }
    }

    /// The page's linked `emails` (all of the page's, or those kept), phones and profiles.
    fn add_contacts(&mut self, page: &PageMeta, emails: &[String], url: &str) {
        let link = Source::new(url, SourceMethod::Link);
        let (c, sources) = (&mut self.company, &mut self.sources);
        add!(c => emails, sources, emails, &link);
        add!(c => phones, sources, &page.phones, &link);
        self.add_profiles(page, &link);
    }

    /// Profiles on networks the card has none on yet; the first source that added any is kept.
    fn add_profiles(&mut self, page: &PageMeta, source: &Source) {
        let before = self.company.social_profiles.len();
        for (network, profile) in &page.social_profiles {
            self.company.social_profiles.entry(network.clone()).or_insert_with(|| profile.clone());
        }
        if self.company.social_profiles.len() > before {
            self.sources.entry("company.social_profiles".into()).or_insert_with(|| source.clone());
        }
    }

    fn add_legal(&mut self, legal: &LegalFacts, source: &Source) {
        if let Some(name) = &legal.legal_name {
            self.legal_names.push((name.clone(), source.method, legal.holder.clone()));
        }
        let (c, sources) = (&mut self.company, &mut self.sources);
        offer!(c => legal_name, sources, legal.legal_name.clone(), source);
        let registration = Some(legal.registration.clone()).filter(|r| !r.is_empty());
        offer!(c => registration, sources, registration, source);
        if c.directors.is_empty() {
            add!(c => directors, sources, &legal.directors, source);
        }
        offer!(c => headquarters, sources, legal.address.clone(), source);
        add!(c => emails, sources, &legal.emails, source);
        add!(c => phones, sources, &legal.phones, source);
    }

    /// The page's founding statements, weighed once the company's names are known.
    fn add_founding(&mut self, facts: &PageFacts, url: &str) {
        const MAX: usize = 100;
        let room = MAX.saturating_sub(self.founding.len());
        self.founding.extend(facts.founding.iter().take(room).map(|s| (s.clone(), url.to_string())));
    }

    /// The first founding year a page states as the company's own (never from a quotation).
    fn settle_founding(&mut self) {
        let names = names_of(&self.company);
        let own = self.founding.iter().find(|(s, _)| crate::scrape::facts::founding::is_own(s, &names));
        if let Some((statement, url)) = own {
            offer!(self.company => founded_year, &mut self.sources,
                Some(statement.year),
                &Source::new(url.as_str(), SourceMethod::Text),
            );
        }
    }

    /// What is left to settle once every page was read: a name from the homepage's title when a
    /// part of it is the legal name (without its form, or with it), else the legal name without
    /// its legal form; phones in E.164 for the region they were written for (the headquarters'
    /// country, else the site's), one entry per number, numbers not valid there left out.
    pub fn settle(&mut self) {
        if let Some((name, confidence)) = site_name(&self.titles, &self.holders, self.company.legal_name.as_deref()) {
            let source = Source::new(self.home.clone(), SourceMethod::Meta).with_confidence(confidence);
            offer!(self.company => name, &mut self.sources, Some(name), &source);
        }
        self.settle_legal_name();
        if self.company.name.is_none()
            && let Some(legal) = self.company.legal_name.clone()
        {
            let source = self.sources.get("company.legal_name").cloned();
            let bare = crate::scrape::facts::legal::without_form(&legal);
            let from_title = self.title.as_deref().and_then(|t| title_name(t, "", &[legal.as_str(), bare.as_str()]));
            // A legal name only a footer states, that no title of the site spells, names the
            // site's operator (a publisher, a group) more than the site: no name from it.
            let footer_only = source.as_ref().is_some_and(|s| s.method == SourceMethod::Footer);
            let titled = self.titles.iter().any(|t| same_name(t, &bare));
            let named = match from_title {
                Some((name, true)) => Some((name, confidence::TITLE_PART_NAMED)),
                _ if footer_only && !titled => None,
                _ => Some((bare, confidence::LEGAL_NAME_WITHOUT_FORM)),
            };
            if let (Some((name, confidence)), Some(source)) = (named, source) {
                let source = source.with_confidence(confidence);
                offer!(self.company => name, &mut self.sources, Some(name), &source);
            }
        }

        self.settle_founding();
        let region = self.settle_country();
        let mut phones: Vec<String> = Vec::new();
        for raw in &self.company.phones {
            if let Some(e164) = crate::scrape::facts::phones::e164(raw, region.as_deref()) {
                push_unique(&mut phones, &e164);
            }
        }
        self.company.phones = phones;
        if self.company.phones.is_empty() {
            self.sources.remove("company.phones");
        }
    }
}

impl Card {
    /// A legal name that shares nothing with the site's name, stated only where the page's
    /// copyright line names it as the holder (`© Globex Holdings LLC` on a site called Acme),
    /// is someone else's — a parent, an owner — unless an imprint or a privacy policy's
    /// controller states it, or a copyright line names the site's name beside it (`© Acme —
    /// Acme Trading AB`); a legal name that agrees with the site's name is taken instead.
    fn settle_legal_name(&mut self) {
        let (Some(name), Some(legal)) = (self.company.name.clone(), self.company.legal_name.clone()) else { return };
        let agrees = |legal: &str, other: &str| same_name(&crate::scrape::facts::legal::without_form(legal), other);
        let vouched = self.legal_names.iter().filter(|(n, ..)| *n == legal).any(|(_, method, holder)| {
            *method == SourceMethod::Imprint || holder.as_deref().is_none_or(|h| agrees(h, &name) || !agrees(h, &legal))
        });
        if agrees(&legal, &name) || vouched {
            return;
        }
        let agreeing = self.legal_names.iter().find(|(n, ..)| agrees(n, &name)).map(|(n, ..)| n.clone());
        self.company.legal_name = agreeing;
        if self.company.legal_name.is_none() {
            self.sources.remove("company.legal_name");
        }
    }

    /// The country the company is in: its headquarters' as stated; else, for headquarters read
    /// without one, the first country that the site's clues name and the postal code's format
    /// fits — the TLD (or a language of one country), the country codes of the numbers it
    /// writes internationally, its VAT id's prefix, the countries of its languages — and, with
    /// no postal code, the TLD's or the numbers' alone. Never a guess from a language alone.
    fn settle_country(&mut self) -> Option<String> {
        let stated = self.company.headquarters.as_ref().and_then(|a| a.country_code.clone());
        if stated.is_some() {
            return stated;
        }
        let dialled: Vec<String> = self
            .company
            .phones
            .iter()
            .filter(|p| p.trim_start_matches("tel:").trim_start().starts_with('+'))
            .filter_map(|p| crate::scrape::facts::phones::e164(p, None))
            .filter_map(|p| crate::scrape::facts::phones::region_of(&p))
            .collect();
        let vat = self
            .company
            .registration
            .as_ref()
            .and_then(|r| r.vat_id.as_deref())
            .and_then(crate::scrape::facts::registers::country_of_vat);
        let strong: Vec<String> = self.country.iter().cloned().chain(dialled).chain(vat.map(str::to_string)).collect();
        let spoken: Vec<&str> =
            self.company.languages.iter().flat_map(|l| crate::scrape::page::countries_speaking(l)).copied().collect();
        let hq = self.company.headquarters.as_mut();
        let chosen = match hq.as_ref().and_then(|a| a.postal_code.clone()) {
            Some(code) => {
                let fits = |c: &str| crate::scrape::facts::address::postal_code_fits(c, &code);
                // A language's countries name one only when the code fits exactly one of them.
                let mut by_language: Vec<&str> = spoken.iter().copied().filter(|c| fits(c)).collect();
                by_language.dedup();
                strong
                    .iter()
                    .find(|c| fits(c))
                    .cloned()
                    .or_else(|| (by_language.len() == 1).then(|| by_language[0].to_string()))
            }
            None => strong.first().cloned(),
        };
        if let (Some(hq), Some(country)) = (hq, &chosen) {
            hq.country_code = Some(country.clone());
        }
        chosen.or(self.country.clone())
    }
}

/// The site's name as its pages' titles agree on it: the title part (between `|`, `-`, `–`, `—`,
/// `·`, `:`) that the most titles hold, when at least two and half of them do; generic parts
/// ("Home", "Kontakt") and app words ("CMS", "website") left out. Ties go to the part that
/// the copyright holder or the legal name agrees with, then to one written like a name
/// (capitals, no figures), then to the shorter. A holder alone, named on every page with no
/// title to agree, is a name too, less sure.
fn site_name(titles: &[String], holders: &[String], legal_name: Option<&str>) -> Option<(String, f64)> {
    const CONSENSUS: f64 = 0.72;
    const HOLDER: f64 = 0.65;
    let folded: Vec<String> = titles.iter().map(|t| format!(" {} ", words_of(t).join(" "))).collect();
    let mut parts: Vec<String> = Vec::new();
    for title in titles {
        for part in title_parts(title) {
            if !parts.iter().any(|p| p.to_lowercase() == part.to_lowercase()) {
                parts.push(part);
            }
        }
    }
    let held = |part: &str| {
        let needle = format!(" {} ", words_of(part).join(" "));
        folded.iter().filter(|t| t.contains(&needle)).count()
    };
    let name_like = |part: &str| {
        let capitals = part.split_whitespace().all(|w| {
            w.chars().next().is_some_and(|c| !c.is_lowercase())
                || matches!(w, "&" | "and" | "und" | "et" | "de" | "i" | "y" | "e" | "of")
        });
        let figures = part.chars().filter(char::is_ascii_digit).count();
        capitals && figures <= 3
    };
    let best = parts
        .iter()
        .map(|p| {
            let agreed = holders.iter().map(String::as_str).chain(legal_name).any(|e| same_name(p, e));
            (held(p), agreed, name_like(p), std::cmp::Reverse(p.split_whitespace().count()), p)
        })
        .max_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)));
    if let Some((count, agreed, _, _, part)) = best
        && count >= 2
        && count * 2 >= titles.len()
    {
        // A holder that spells the same name more shortly (`acme.tirol` for `Acme Tirol CMS`
        // once the app word is off) keeps the title's spelling.
        return Some((part.clone(), if agreed { confidence::TITLE_PART_NAMED } else { CONSENSUS }));
    }
    let holder = holders.first()?;
    let every = holders.iter().filter(|h| squash(h) == squash(holder)).count();
    let generic = GENERIC_TITLES.contains(&squash(holder).as_str());
    (every >= 2 && !generic && holder.split_whitespace().count() <= 5).then(|| (holder.clone(), HOLDER))
}

/// A title's words, lower-case, without punctuation.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '&').filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Titles and title parts that name no one: pages' generic names and app words.
const GENERIC_TITLES: &[&str] = &[
    "home",
    "homepage",
    "welcome",
    "startseite",
    "accueil",
    "inicio",
    "etusivu",
    "forside",
    "startsida",
    "strona",
    "glowna",
    "kontakt",
    "contact",
    "contacts",
    "about",
    "aboutus",
    "impressum",
    "imprint",
    "datenschutz",
    "privacy",
    "blog",
    "news",
    "website",
    "site",
    "untitled",
    "index",
    "default",
    "page",
    "thankyou",
    "danke",
    "tak",
    "404",
    "notfound",
    "pagenotfound",
    "loading",
    "admin",
    "cms",
    "dashboard",
    "login",
    "app",
];

/// A title's parts, as titles separate them (`|`, `-`, `–`, `—`, `·`, `:`, `•`).
fn split_title(title: &str) -> impl Iterator<Item = String> + '_ {
    title.split(['|', '–', '—', '·', ':', '•']).flat_map(|s| s.split(" - ")).map(fold_whitespace)
}

/// The parts of a title that may name the site: separated as titles separate them, with app
/// words at either end ("CMS", "website", "official site", "welcome to") taken off, generic
/// parts and long sentences left out.
fn title_parts(title: &str) -> Vec<String> {
    const ENDS: &[&str] =
        &["cms", "website", "web site", "homepage", "home page", "official site", "official website", "site officiel"];
    const STARTS: &[&str] = &["welcome to", "willkommen bei", "bienvenue chez", "bienvenido a", "benvenuti da"];
    split_title(title)
        .map(|mut part| {
            for end in ENDS {
                let lower = part.to_lowercase();
                if lower.ends_with(&format!(" {end}")) {
                    part.truncate(part.len() - end.len() - 1);
                }
            }
            for start in STARTS {
                if part.to_lowercase().starts_with(&format!("{start} ")) {
                    part = part[start.len() + 1..].to_string();
                }
            }
            part.trim().to_string()
        })
        .filter(|p| {
            !p.is_empty()
                && p.split_whitespace().count() <= 6
                && p.chars().count() <= 60
                && p.chars().any(char::is_alphabetic)
                && !GENERIC_TITLES.contains(&squash(p).as_str())
        })
        .collect()
}

/// The names a company goes by in its own text: its name, its legal name, its name's first word
/// when that is distinctive ("Acme" of "Acme Rockets"), its domain's first label.
pub fn names_of(company: &Company) -> Vec<String> {
    const COMMON: &[&str] = &[
        "the",
        "die",
        "der",
        "das",
        "les",
        "het",
        "los",
        "las",
        "first",
        "global",
        "united",
        "international",
        "american",
        "national",
        "general",
        "digital",
        "group",
        "new",
    ];
    let mut names: Vec<String> = [&company.name, &company.legal_name].into_iter().flatten().cloned().collect();
    let first = company.name.as_deref().and_then(|n| n.split_whitespace().next()).map(str::to_string);
    names.extend(first.filter(|w| w.chars().count() >= 4 && !COMMON.contains(&w.to_lowercase().as_str())));
    let label = company.domain.split('.').next().unwrap_or_default();
    if label.chars().count() >= 3 && !label.chars().all(|c| c.is_ascii_digit()) {
        names.push(label.to_string());
    }
    names
}

fn resolve(page_url: &Url, href: &str) -> Option<String> {
    page_url.join(href.trim()).ok().map(|u| u.to_string())
}

/// The facts the page's Organization declares, in JSON-LD, else in microdata.
fn card_from_orgs(c: &mut Company, sources: &mut BTreeMap<String, Source>, page: &PageMeta, page_url: &Url) {
    let is_org = |o: &Map<String, Value>| meta::is_type(o, ORGANIZATION_TYPES);
    if let Some(org) = page.json_ld.iter().filter_map(Value::as_object).find(|o| is_org(o)) {
        card_from_org(c, sources, org, &Source::new(page_url.as_str(), SourceMethod::Jsonld), page_url);
    }
    // Microdata items are often embedded widgets (a chart credited to its source): an
    // Organization there is the company only when its name is the site's (its domain's name or
    // part of the page's title).
    let label = squash(
        page_url.host_str().unwrap_or_default().trim_start_matches("www.").split('.').next().unwrap_or_default(),
    );
    let title = squash(page.title.as_deref().unwrap_or_default());
    let the_site_s = |o: &Map<String, Value>| {
        o.get("name").and_then(meta::string_of).map(|n| squash(&n)).is_some_and(|n| {
            n.len() >= 2
                && (n == label || label.contains(&n) || (n.contains(&label) && label.len() >= 3) || title.contains(&n))
        })
    };
    let microdata = page.microdata.iter().filter_map(crate::scrape::read::structured::microdata_as_json_ld);
    if let Some(org) = microdata.filter(|o| is_org(o)).find(|o| the_site_s(o)) {
        card_from_org(c, sources, &org, &Source::new(page_url.as_str(), SourceMethod::Microdata), page_url);
    }
}

/// The facts an Organization declares.
fn card_from_org(
    c: &mut Company,
    sources: &mut BTreeMap<String, Source>,
    org: &Map<String, Value>,
    ld: &Source,
    page_url: &Url,
) {
    let text = |key: &str| org.get(key).and_then(meta::string_of);
    offer!(c => name, sources, text("name"), ld);
    offer!(c => legal_name, sources, text("legalName"), ld);
    if c.description.is_none() {
        offer!(c => description, sources, text("description"), ld);
    }
    let logo = org.get("logo").and_then(meta::url_of).and_then(|u| resolve(page_url, &u));
    offer!(c => logo, sources, logo, ld);
    let founded = text("foundingDate").and_then(|d| d.get(..4)?.parse().ok());
    offer!(c => founded_year, sources, founded, ld);
    offer!(c => headquarters, sources, org.get("address").and_then(address), ld);
    let vat = text("vatID").and_then(|v| crate::scrape::facts::registers::checked_vat_id(&v));
    if c.registration.is_none() && vat.is_some() {
        let registration = Registration { vat_id: vat, ..Registration::default() };
        offer!(c => registration, sources, Some(registration), ld);
    }
    let mut profiles = BTreeMap::new();
    let mut emails = Vec::new();
    let mut phones = Vec::new();
    add_org_contacts(org, page_url, &mut profiles, &mut emails, &mut phones);
    add!(c => emails, sources, &emails, ld);
    add!(c => phones, sources, &phones, ld);
    if !profiles.is_empty() {
        // Profiles the company declares win over links in the page.
        c.social_profiles.extend(profiles);
        sources.insert("company.social_profiles".into(), ld.clone());
    }
}

/// `sameAs` profiles, `email` and `telephone`.
fn add_org_contacts(
    org: &Map<String, Value>,
    page_url: &Url,
    profiles: &mut BTreeMap<String, String>,
    emails: &mut Vec<String>,
    phones: &mut Vec<String>,
) {
    let same_as = match org.get("sameAs") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    for link in same_as {
        if let Ok(url) = page_url.join(link.trim()) {
            if let Some(network) = crate::scrape::read::contacts::social_network(&url) {
                profiles.insert(network.to_string(), crate::scrape::read::contacts::canonical_profile(&url, network));
            }
        }
    }
    if let Some(email) = org.get("email").and_then(meta::string_of) {
        push_unique(emails, &email.trim_start_matches("mailto:").to_lowercase());
    }
    if let Some(phone) = org.get("telephone").and_then(meta::string_of) {
        push_unique(phones, &phone);
    }
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !list.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        list.push(value.to_string());
    }
}

/// The page's language, then its `hreflang` alternates.
fn languages(facts: &PageFacts, content_language: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = facts
        .meta
        .lang
        .clone()
        .or_else(|| content_language.map(str::to_string))
        .or(facts.language.clone())
        .into_iter()
        .collect();
    for lang in &facts.hreflangs {
        if lang != "x-default" && !out.iter().any(|l| l.eq_ignore_ascii_case(lang)) {
            out.push(lang.clone());
        }
    }
    out
}

/// A `PostalAddress` (or a list of them, or one written as text) in parts.
fn address(value: &Value) -> Option<Address> {
    match value {
        Value::Object(map) => {
            let part =
                |k: &str| map.get(k).and_then(meta::string_of).map(|s| fold_whitespace(&s)).filter(|s| !s.is_empty());
            let country = part("addressCountry").and_then(|c| {
                let upper = c.to_ascii_uppercase();
                if upper.len() == 2 && upper.chars().all(|c| c.is_ascii_uppercase()) {
                    Some(upper)
                } else {
                    crate::scrape::facts::address::country_named(&c).map(str::to_string)
                }
            });
            let address = Address {
                street: part("streetAddress"),
                postal_code: part("postalCode"),
                city: part("addressLocality"),
                region: part("addressRegion"),
                country_code: country,
            };
            (address != Address::default()).then_some(address)
        }
        Value::Array(items) => items.iter().find_map(address),
        Value::String(text) => {
            let lines: Vec<_> = text
                .split(['\n', ';'])
                .map(|t| crate::scrape::read::lines::Line { text: t.trim().to_string(), ..Default::default() })
                .collect();
            crate::scrape::facts::legal::read(&lines, None).address
        }
        _ => None,
    }
}

/// The first part of the title that is not a generic word, and whether it is the company's name:
/// the domain's name, or one of `names`.
fn title_name(title: &str, domain: &str, names: &[&str]) -> Option<(String, bool)> {
    let label = squash(domain.split('.').next().unwrap_or_default());
    let parts: Vec<String> =
        split_title(title).filter(|s| !s.is_empty() && !GENERIC_TITLES.contains(&squash(s).as_str())).collect();
    let of_company = |s: &String| {
        let s = squash(s);
        let of_domain =
            !label.is_empty() && (s == label || (s.len() >= 3 && (label.contains(&s) || s.contains(&label))));
        of_domain || (s.len() >= 3 && names.iter().any(|n| squash(n) == s))
    };
    parts
        .iter()
        .find(|s| of_company(s))
        .map(|s| (s.clone(), true))
        .or_else(|| parts.first().map(|s| (s.clone(), false)))
}

/// The declared icon: the largest plain `icon`, else any icon, else an apple-touch-icon.
fn favicon(page: &PageMeta) -> Option<String> {
    let rank = |rel: &str| match rel {
        "icon" => 3,
        r if r.split(' ').any(|x| x == "icon") => 2,
        r if r.contains("apple-touch-icon") => 1,
        _ => 0,
    };
    page.icons
        .iter()
        .filter(|i| rank(&i.rel) > 0)
        .max_by_key(|i| {
            let svg = i.mime.as_deref() == Some("image/svg+xml");
            (rank(&i.rel), i.size.unwrap_or(if svg { 1024 } else { 0 }))
        })
        .map(|i| i.url.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_json_ld_then_meta() {
        let html = r#"<html lang="en-US"><head><title>Payments | Acme</title>
            <meta name="description" content="Acme builds rockets.">
            <meta property="og:site_name" content="Acme Site">
            <link rel="icon" href="/fav-16.png" sizes="16x16"><link rel="icon" href="/fav-32.png" sizes="32x32">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"Acme Web"},
              {"@type":"Organization","name":"Acme","legalName":"Acme, Inc.","logo":{"@type":"ImageObject","url":"/logo.svg"},
               "foundingDate":"2011-03-01","sameAs":["https://www.linkedin.com/company/acme"],
               "address":{"@type":"PostalAddress","addressLocality":"Berlin","addressCountry":"DE"}}]}</script>
            </head><body><a href="https://twitter.com/intent/tweet?x">share</a><a href="https://x.com/acme">X</a>
            <a href="mailto:hello@acme.test?subject=hi">mail</a></body></html>"#;
        let p = extract(html, &Url::parse("https://www.acme.test/").unwrap(), None);
        let c = p.company;
        assert_eq!(c.name.as_deref(), Some("Acme"));
        assert_eq!(c.legal_name.as_deref(), Some("Acme, Inc."));
        assert_eq!(c.domain, "acme.test");
        assert_eq!(c.description.as_deref(), Some("Acme builds rockets."));
        assert_eq!(c.logo.as_deref(), Some("https://www.acme.test/logo.svg"));
        assert_eq!(c.favicon.as_deref(), Some("https://www.acme.test/fav-32.png"));
        assert_eq!(c.founded_year, Some(2011));
        let hq = c.headquarters.unwrap();
        assert_eq!((hq.city.as_deref(), hq.country_code.as_deref()), (Some("Berlin"), Some("DE")));
        assert_eq!(c.emails, ["hello@acme.test"]);
        assert_eq!(c.social_profiles["linkedin"], "https://www.linkedin.com/company/acme");
        assert_eq!(c.social_profiles["twitter"], "https://x.com/acme");
        assert_eq!(c.languages, ["en"]);
        assert_eq!(p.sources["company.name"].url, "https://www.acme.test/");
        assert_eq!(p.sources["company.name"].method, SourceMethod::Jsonld);
        assert_eq!(p.sources["company.emails"].method, SourceMethod::Link);
    }

    #[test]
    fn name_from_title_matches_the_domain() {
        let html = "<title>Online payment processing for internet businesses - Stripe</title>";
        let p = extract(html, &Url::parse("https://stripe.com/").unwrap(), None);
        assert_eq!(p.company.name.as_deref(), Some("Stripe"));
        assert!(p.company.logo.is_none());
        assert!(p.company.founded_year.is_none());
    }

    #[test]
    fn an_organization_in_microdata_counts_too() {
        let html = r#"<title>Welcome to Acme Rockets</title><div itemscope itemtype="https://schema.org/Organization">
            <span itemprop="name">Acme Rockets</span><span itemprop="foundingDate">2011</span>
            <div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
            <span itemprop="streetAddress">1 Launch Way</span><span itemprop="addressLocality">Austin</span>
            <span itemprop="addressRegion">TX</span><span itemprop="addressCountry">US</span></div></div>"#;
        let p = extract(html, &Url::parse("https://example.test/").unwrap(), None);
        assert_eq!(p.company.name.as_deref(), Some("Acme Rockets"));
        assert_eq!(p.company.founded_year, Some(2011));
        assert_eq!(p.company.headquarters.and_then(|a| a.street).as_deref(), Some("1 Launch Way"));
        assert_eq!(p.sources["company.name"].method, SourceMethod::Microdata);
        let widget = r#"<title>Forsal</title><div itemscope itemtype="https://schema.org/Organization">
            <span itemprop="name">Statista</span></div>"#;
        let p = extract(widget, &Url::parse("https://forsal.example/").unwrap(), None);
        assert_eq!(p.company.name.as_deref(), Some("Forsal"), "an embedded widget's source is not the company");
    }

    #[test]
    fn a_slogan_in_the_title_is_no_name() {
        let html = "<title>The fastest way to ship rockets | Launch today</title>";
        let p = extract(html, &Url::parse("https://acme.test/").unwrap(), None);
        assert_eq!(p.company.name, None, "below the confidence threshold");
        assert!(!p.sources.contains_key("company.name"));
    }

    #[test]
    fn a_footer_gives_the_legal_facts_and_a_testimonial_no_founding_year() {
        let html = r#"<html lang="de"><title>Brückner</title><body>
            <p>Wir bauen Maschinen seit 1998.</p>
            <blockquote>Als Familienbetrieb, gegründet 1989, vertrauen wir Brückner.</blockquote>
            <footer><p>Brückner Maschinenbau GmbH · Invalidenstraße 42 · 10115 Berlin · Tel. 030 1234567-0</p>
            <p>Design: <a href="mailto:hallo@pixelwerk.de">Pixelwerk</a></p></footer></body></html>"#;
        let p = extract(html, &Url::parse("https://brueckner.de/").unwrap(), None);
        let c = &p.company;
        assert_eq!(c.founded_year, Some(1998));
        assert_eq!(c.legal_name.as_deref(), Some("Brückner Maschinenbau GmbH"));
        assert_eq!(p.sources["company.legal_name"].method, SourceMethod::Footer);
        assert_eq!(c.headquarters.as_ref().and_then(|a| a.city.as_deref()), Some("Berlin"));
        assert!(c.emails.is_empty(), "{:?}", c.emails);
        let mut card = p;
        card.settle();
        assert_eq!(card.company.phones, ["+493012345670"]);
    }

    fn page(html: &str, url: &str) -> (PageFacts, Url) {
        let url = Url::parse(url).unwrap();
        (crate::scrape::page::analyze(html, &url), url)
    }

    #[test]
    fn the_site_s_name_is_what_its_titles_share() {
        let (home, home_url) =
            page("<title>Przeprowadzki Nowy Sącz, Stary Sącz - Kali Przeprowadzki</title>", "http://10.0.0.1/");
        let mut card = Card::from_home(&home, &home_url, None);
        for (title, path) in [
            ("Cennik - Kali Przeprowadzki Nowy Sącz", "/cennik"),
            ("Usługi - Kali Przeprowadzki Nowy Sącz", "/uslugi"),
            ("Kontakt - Kali Przeprowadzki Nowy Sącz", "/kontakt"),
        ] {
            let (facts, url) = page(&format!("<title>{title}</title>"), &format!("http://10.0.0.1{path}"));
            card.add_page(&facts, &url, PageType::of(&url));
        }
        card.settle();
        assert_eq!(card.company.name.as_deref(), Some("Kali Przeprowadzki"), "held by every title");

        // One title on every page: the part written like a name; app words come off.
        let titles: Vec<String> =
            ["Petralux - elektromos örökmécsesek", "Petralux - Elektromos örökmécsesek"].map(String::from).to_vec();
        assert_eq!(site_name(&titles, &[], None).map(|(n, _)| n).as_deref(), Some("Petralux"));
        let titles: Vec<String> = vec!["Fotobox Tirol CMS".into(); 3];
        assert_eq!(site_name(&titles, &[], None).map(|(n, _)| n).as_deref(), Some("Fotobox Tirol"));
        let titles: Vec<String> = ["Home", "About us", "Contact"].map(String::from).to_vec();
        assert_eq!(site_name(&titles, &[], None), None, "nothing shared, nothing named");
    }

    #[test]
    fn a_parent_named_only_as_the_copyright_holder_is_not_the_legal_name() {
        let html = |title: &str| {
            format!(
                "<title>{title}</title><body><p>Somos Lionsfield.</p><footer><p>© Copyright Magisterial Education America, LLC</p></footer></body>"
            )
        };
        let (home, home_url) = page(&html("Lionsfield | Inicio"), "http://10.0.0.1/");
        let mut card = Card::from_home(&home, &home_url, None);
        let (facts, url) = page(&html("Lionsfield | Contacto"), "http://10.0.0.1/contacto");
        card.add_page(&facts, &url, PageType::Contact);
        card.settle();
        assert_eq!(card.company.name.as_deref(), Some("Lionsfield"));
        assert_eq!(card.company.legal_name, None);
        assert!(!card.sources.contains_key("company.legal_name"));
        // Beside the site's name, the holder vouches for it.
        let (home, home_url) = page(
            r#"<html lang="sv"><title>Alltid Ordning</title><footer><p>© Alltid Ordning — Stil & Struktur i Åkersberga AB</p></footer></html>"#,
            "http://10.0.0.1/",
        );
        let mut card = Card::from_home(&home, &home_url, Some("sv"));
        let (facts, url) =
            page(r#"<html lang="sv"><title>Om oss – Alltid Ordning</title></html>"#, "http://10.0.0.1/om-oss");
        card.add_page(&facts, &url, PageType::About);
        card.settle();
        assert_eq!(card.company.legal_name.as_deref(), Some("Stil & Struktur i Åkersberga AB"));
    }

    #[test]
    fn an_operator_only_a_footer_names_is_not_the_site_s_name() {
        let html = r#"<html lang="pl"><title>Ceny mieszkań w 2024 roku</title><body><p>Artykuł.</p>
            <footer><p>Wydawca: Medialny Dom sp. z o.o.</p></footer></body></html>"#;
        let p = extract(html, &Url::parse("http://10.0.0.1/artykul").unwrap(), None);
        assert_eq!(p.company.legal_name.as_deref(), Some("Medialny Dom sp. z o.o."));
        assert_eq!(p.company.name, None, "the publisher, not the site");
        let html = r#"<html lang="de"><title>Startseite - Brückner Maschinenbau</title><body><p>Text.</p>
            <footer><p>Brückner Maschinenbau GmbH</p></footer></body></html>"#;
        let p = extract(html, &Url::parse("http://10.0.0.1/").unwrap(), None);
        assert_eq!(p.company.name.as_deref(), Some("Brückner Maschinenbau"), "a title spells it");
    }

    #[test]
    fn the_country_is_the_one_the_clues_and_the_postal_code_agree_on() {
        // German, four-figure code, Austrian number: Austria, not Germany.
        let html = r#"<html lang="de"><title>Alpenblick</title><footer><p>Alpenblick Touristik GmbH · Hauptstraße 5 · 6020 Innsbruck</p>
            <a href="tel:+43 512 123456">Anrufen</a></footer></html>"#;
        let p = extract(html, &Url::parse("http://10.0.0.1/").unwrap(), None);
        let hq = p.company.headquarters.unwrap();
        assert_eq!((hq.city.as_deref(), hq.country_code.as_deref()), (Some("Innsbruck"), Some("AT")));
        // German and a five-figure code: only Germany writes those.
        let html =
            r#"<html lang="de"><footer><p>Brückner GmbH · Invalidenstraße 42 · 10115 Berlin</p></footer></html>"#;
        let p = extract(html, &Url::parse("http://10.0.0.1/").unwrap(), None);
        assert_eq!(p.company.headquarters.and_then(|a| a.country_code).as_deref(), Some("DE"));
        // English and a four-figure code: no clue agrees, no country.
        let html = r#"<html lang="en"><footer><p>Acme Ltd · 12 Harbour Road · 4000 Springfield</p></footer></html>"#;
        let p = extract(html, &Url::parse("http://10.0.0.1/").unwrap(), None);
        assert_eq!(p.company.headquarters.and_then(|a| a.country_code), None);
    }

    #[test]
    fn invalid_json_ld_is_skipped() {
        let html = r#"<script type="application/ld+json">{"@type": "Organization", "name": </script><title>X</title>"#;
        let p = extract(html, &Url::parse("https://x.test/").unwrap(), None);
        assert_eq!(p.company.name.as_deref(), Some("X"));
    }
}
