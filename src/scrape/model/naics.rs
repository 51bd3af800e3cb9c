//! The NAICS (2022) industries krawlr classifies into.

use serde::{Deserialize, Serialize};

/// The NAICS (2022) industries krawlr classifies into — code, title, and the words on a
/// company's pages that give each away — at the level a website's words can tell apart.
pub const NAICS: &[(&str, &str, &[&str])] = &[
    (
        "522320",
        "Financial Transactions Processing, Reserve, and Clearinghouse Activities",
        &["payments", "payment", "fintech", "checkout", "card", "billing", "invoicing", "payouts"],
    ),
    ("52", "Finance and Insurance", &["banking", "lending", "loans", "mortgage", "investment", "wealth", "accounting"]),
    (
        "524",
        "Insurance Carriers and Related Activities",
        &["insurance", "insurer", "insurers", "claims", "coverage", "underwrite"],
    ),
    (
        "336414",
        "Guided Missile and Space Vehicle Manufacturing",
        &["rocket", "rockets", "satellite", "satellites", "launch", "orbit", "aerospace", "spacecraft"],
    ),
    (
        "513210",
        "Software Publishers",
        &["software", "saas", "app", "platform", "developers", "api", "sdk", "automation"],
    ),
    (
        "541519",
        "Other Computer Related Services",
        &["security", "threat", "threats", "encryption", "cybersecurity", "vulnerability"],
    ),
    (
        "518210",
        "Computing Infrastructure Providers, Data Processing, Web Hosting, and Related Services",
        &["cloud", "hosting", "servers", "kubernetes", "infrastructure", "data", "analytics", "warehouse"],
    ),
    ("44-45", "Retail Trade", &["shop", "store", "retail", "ecommerce", "e-commerce", "cart", "shipping", "products"]),
    (
        "62",
        "Health Care and Social Assistance",
        &["health", "healthcare", "patients", "clinical", "medical", "hospital", "clinics", "doctors"],
    ),
    (
        "541714",
        "Research and Development in Biotechnology (except Nanobiotechnology)",
        &["biotech", "therapeutics", "drug", "genomics", "molecules", "antibodies"],
    ),
    (
        "48-49",
        "Transportation and Warehousing",
        &["logistics", "freight", "warehouse", "warehouses", "delivery", "supply", "shipping", "vessel"],
    ),
    (
        "53",
        "Real Estate and Rental and Leasing",
        &["property", "properties", "real", "estate", "leasing", "tenants", "rental"],
    ),
    ("22", "Utilities", &["energy", "solar", "battery", "batteries", "grid", "renewable", "power", "electricity"]),
    ("61", "Educational Services", &["learning", "students", "courses", "education", "teachers", "school"]),
    (
        "5418",
        "Advertising, Public Relations, and Related Services",
        &["marketing", "advertising", "campaigns", "seo", "brand", "audience"],
    ),
    ("5613", "Employment Services", &["hiring", "recruiting", "talent", "staffing", "candidates", "payroll"]),
    (
        "516",
        "Broadcasting and Content Providers",
        &["media", "podcast", "video", "music", "streaming", "entertainment"],
    ),
    (
        "5615",
        "Travel Arrangement and Reservation Services",
        &["travel", "hotel", "hotels", "booking", "flights", "trips"],
    ),
    ("722", "Food Services and Drinking Places", &["food", "restaurant", "restaurants", "recipes", "coffee", "menu"]),
    (
        "336110",
        "Automobile and Light Duty Motor Vehicle Manufacturing",
        &["car", "cars", "vehicle", "vehicles", "automotive", "ev"],
    ),
    ("517", "Telecommunications", &["telecom", "network", "5g", "mobile", "carrier", "connectivity"]),
    ("31-33", "Manufacturing", &["manufacturing", "factory", "industrial", "production", "fabrication", "plant"]),
    (
        "333",
        "Machinery Manufacturing",
        &["machinery", "machines", "maschinen", "robot", "robots", "robotic", "autonomous", "cnc", "equipment"],
    ),
    ("5411", "Legal Services", &["legal", "law", "lawyers", "contracts", "compliance", "attorneys"]),
];

/// An industry of NAICS 2022.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Naics {
    pub code: String,
    pub title: String,
}

impl Naics {
    /// The industry of the list with this code.
    pub fn of(code: &str) -> Option<Naics> {
        NAICS
            .iter()
            .find(|(c, _, _)| *c == code.trim())
            .map(|(code, title, _)| Naics { code: code.to_string(), title: title.to_string() })
    }
}
