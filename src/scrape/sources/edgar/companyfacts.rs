//! `companyfacts` read as it streams in: the concepts krawlr reports, every other one skipped
//! while parsing, so a filer's tens of megabytes become a few small vectors.

use serde::Deserialize;
use std::collections::HashMap;

/// The concepts each figure is read from, in order of preference.
pub const REVENUE: &[(&str, &str)] = &[
    ("us-gaap", "Revenues"),
    ("us-gaap", "RevenueFromContractWithCustomerExcludingAssessedTax"),
    ("us-gaap", "RevenueFromContractWithCustomerIncludingAssessedTax"),
    ("us-gaap", "SalesRevenueNet"),
    ("ifrs-full", "Revenue"),
];

pub const NET_INCOME: &[(&str, &str)] =
    &[("us-gaap", "NetIncomeLoss"), ("us-gaap", "ProfitLoss"), ("ifrs-full", "ProfitLoss")];

pub const TOTAL_ASSETS: &[(&str, &str)] = &[("us-gaap", "Assets"), ("ifrs-full", "Assets")];

pub const OPERATING_CASH_FLOW: &[(&str, &str)] = &[
    ("us-gaap", "NetCashProvidedByUsedInOperatingActivities"),
    ("ifrs-full", "CashFlowsFromUsedInOperatingActivities"),
];

pub const SHARES_OUTSTANDING: &[(&str, &str)] =
    &[("dei", "EntityCommonStockSharesOutstanding"), ("us-gaap", "CommonStockSharesOutstanding")];

/// Whether krawlr reads `taxonomy:concept`: every other concept of a filing is skipped while
/// parsing, so a filer's tens of megabytes become a few small vectors.
pub fn wanted(taxonomy: &str, concept: &str) -> bool {
    [REVENUE, NET_INCOME, TOTAL_ASSETS, OPERATING_CASH_FLOW, SHARES_OUTSTANDING]
        .iter()
        .any(|list| list.iter().any(|(t, c)| *t == taxonomy && *c == concept))
}

/// `companyfacts`, as far as krawlr reads it.
#[derive(Deserialize)]
pub struct CompanyFacts {
    #[serde(rename = "entityName")]
    pub entity_name: Option<String>,
    #[serde(default)]
    pub facts: Taxonomies,
}

/// (taxonomy, concept) → the concept's values by unit, for the wanted concepts only.
#[derive(Default)]
pub struct Taxonomies(pub HashMap<(String, String), HashMap<String, Vec<Entry>>>);

#[derive(Deserialize)]
struct Concept {
    #[serde(default)]
    units: HashMap<String, Vec<Entry>>,
}

/// One reported value.
#[derive(Deserialize)]
pub struct Entry {
    pub start: Option<String>,
    pub end: Option<String>,
    pub val: Option<serde_json::Number>,
    pub fy: Option<i64>,
    pub fp: Option<String>,
    pub form: Option<String>,
    pub filed: Option<String>,
}

impl<'de> Deserialize<'de> for Taxonomies {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, Visitor};
        struct Concepts<'a>(&'a str, &'a mut HashMap<(String, String), HashMap<String, Vec<Entry>>>);
        impl<'de> serde::de::DeserializeSeed<'de> for Concepts<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> Visitor<'de> for Concepts<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of concepts")
            }
            // A taxonomy that is not a map of concepts holds none.
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(())
            }
            fn visit_unit<E>(self) -> Result<(), E> {
                Ok(())
            }
            fn visit_str<E>(self, _: &str) -> Result<(), E> {
                Ok(())
            }
            fn visit_bool<E>(self, _: bool) -> Result<(), E> {
                Ok(())
            }
            fn visit_i64<E>(self, _: i64) -> Result<(), E> {
                Ok(())
            }
            fn visit_u64<E>(self, _: u64) -> Result<(), E> {
                Ok(())
            }
            fn visit_f64<E>(self, _: f64) -> Result<(), E> {
                Ok(())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while let Some(concept) = map.next_key::<String>()? {
                    if wanted(self.0, &concept) {
                        let units = map.next_value::<Concept>()?.units;
                        self.1.insert((self.0.to_string(), concept), units);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(())
            }
        }
        struct Root;
        impl<'de> Visitor<'de> for Root {
            type Value = Taxonomies;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of taxonomies")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Taxonomies, A::Error> {
                let mut out = HashMap::new();
                while let Some(taxonomy) = map.next_key::<String>()? {
                    map.next_value_seed(Concepts(&taxonomy, &mut out))?;
                }
                Ok(Taxonomies(out))
            }
        }
        deserializer.deserialize_map(Root)
    }
}
