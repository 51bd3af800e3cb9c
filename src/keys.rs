//! API keys: generated with 256 bits of randomness, shown once, stored as a SHA-256 hash and
//! a short display prefix (`kr_` and 7 characters, so that `keys list` can tell keys apart).
//! Of an operator's `KRAWLR_API_KEY` only the hash is stored: no part of it. A key is found by
//! its hash, so no comparison ever runs over a stored secret.

use crate::job::now_ms;
use crate::store::{ApiKey, Store, StoreError};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub struct NewKey {
    /// The secret, to show once.
    pub secret: String,
    pub record: ApiKey,
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Characters of a generated key kept for display.
const DISPLAY_PREFIX: usize = 10;

fn record(secret: &str, name: &str, prefix: String) -> (ApiKey, String) {
    let hash = hash(secret);
    let key = ApiKey {
        id: format!("key_{}", &hash[..12]),
        prefix,
        name: name.to_string(),
        created_at: now_ms(),
        revoked_at: None,
    };
    (key, hash)
}

pub async fn create(store: &dyn Store, name: &str) -> Result<NewKey, StoreError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("kr_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let (record, hash) = record(&secret, name, secret.chars().take(DISPLAY_PREFIX).collect());
    store.create_api_key(&record, &hash).await?;
    Ok(NewKey { secret, record })
}

/// Makes sure the key given in `KRAWLR_API_KEY` exists. A key revoked earlier stays revoked.
pub async fn ensure(store: &dyn Store, secret: &str) -> Result<ApiKey, StoreError> {
    let (record, hash) = record(secret, "KRAWLR_API_KEY", String::new());
    if let Some(existing) = store.find_api_key(&hash).await? {
        return Ok(existing);
    }
    match store.create_api_key(&record, &hash).await {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(record),
        Err(e) => Err(e),
    }
}
