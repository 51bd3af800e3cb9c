//! Standard Webhooks signing (<https://www.standardwebhooks.com>) and webhook secrets at rest.
//!
//! A secret is `whsec_` + base64 of 32 random bytes; the HMAC-SHA256 key is the decoded bytes.
//! A delivery carries `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`
//! = `v1,<base64 HMAC over "{id}.{timestamp}.{body}">`, one per valid secret, space-separated.
//!
//! Secrets must be readable to sign, so they are stored encrypted (AES-256-GCM, the endpoint's
//! id as associated data) under a key from `KRAWLR_SECRET_KEY`, or, on the embedded backend,
//! a key generated once in the data dir (`secret.key`, mode 0600).

use crate::config::{Backend, Settings};
use anyhow::Context;
use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use std::path::Path;

const SECRET_PREFIX: &str = "whsec_";
const SEALED_PREFIX: &str = "enc1:";
const KEY_FILE: &str = "secret.key";

/// A new signing secret, `whsec_…`.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` value for one message: a `v1,` signature per secret.
pub fn signature(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| {
            let raw = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
            let key_bytes = STANDARD.decode(raw).unwrap_or_else(|_| raw.as_bytes().to_vec());
            let key = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
            let mut ctx = hmac::Context::with_key(&key);
            ctx.update(id.as_bytes());
            ctx.update(b".");
            ctx.update(timestamp.to_string().as_bytes());
            ctx.update(b".");
            ctx.update(body);
            format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Encrypts and decrypts webhook secrets for storage.
pub struct SecretBox {
    key: RandomizedNonceKey,
}

#[derive(Debug, thiserror::Error)]
#[error("a stored webhook secret cannot be decrypted: was KRAWLR_SECRET_KEY changed?")]
pub struct SealError;

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> SecretBox {
        SecretBox { key: RandomizedNonceKey::new(&AES_256_GCM, key).expect("a 32-byte AES-256 key") }
    }

    /// The key from `KRAWLR_SECRET_KEY`, or the data dir's on the embedded backend.
    pub fn load(settings: &Settings) -> anyhow::Result<SecretBox> {
        let encoded = match (&settings.webhooks.secret_key, settings.backend) {
            (Some(key), _) => key.clone(),
            (None, Backend::Embedded) => key_file(&settings.data_dir)?,
            (None, Backend::Gcp) => anyhow::bail!(
                "KRAWLR_SECRET_KEY is required on the gcp backend: base64 of 32 random bytes \
                 (e.g. `openssl rand -base64 32`); it encrypts webhook signing secrets at rest"
            ),
        };
        let bytes: [u8; 32] = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .context("KRAWLR_SECRET_KEY must be base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)")?;
        Ok(SecretBox::new(&bytes))
    }

    /// `secret` encrypted and bound to `owner` (the endpoint's id).
    pub fn seal(&self, secret: &str, owner: &str) -> String {
        let mut data = secret.as_bytes().to_vec();
        let nonce = self.key.seal_in_place_append_tag(Aad::from(owner.as_bytes()), &mut data).expect("AES-GCM seals");
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&data);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str, owner: &str) -> Result<String, SealError> {
        let raw = sealed.strip_prefix(SEALED_PREFIX).ok_or(SealError)?;
        let mut bytes = STANDARD.decode(raw).map_err(|_| SealError)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError);
        }
        let mut data = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| SealError)?;
        let plain = self.key.open_in_place(nonce, Aad::from(owner.as_bytes()), &mut data).map_err(|_| SealError)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError)
    }
}

/// The data dir's key, created on first use (every process sharing the dir then reads it).
fn key_file(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join(KEY_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing);
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let mut file = tempfile::NamedTempFile::new_in(data_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    std::io::Write::write_all(&mut file, STANDARD.encode(bytes).as_bytes())?;
    file.as_file().sync_all()?;
    // Whoever links first wins; everyone reads the winner's key.
    let _ = file.persist_noclobber(&path);
    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn one_signature_per_secret() {
        let (a, b) = (new_secret(), new_secret());
        let both = signature(&[&a, &b], "msg_1", 1, b"{}");
        assert_eq!(
            both.split(' ').collect::<Vec<_>>(),
            [signature(&[&a], "msg_1", 1, b"{}"), signature(&[&b], "msg_1", 1, b"{}")]
        );
        assert!(a.starts_with("whsec_") && STANDARD.decode(&a[6..]).unwrap().len() == 32);
    }

    #[test]
    fn sealed_secrets_open_only_for_their_owner_and_key() {
        let sb = SecretBox::new(&[7; 32]);
        let sealed = sb.seal("whsec_abc", "ep_1");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(sb.open(&sealed, "ep_1").unwrap(), "whsec_abc");
        assert!(sb.open(&sealed, "ep_2").is_err());
        assert!(SecretBox::new(&[8; 32]).open(&sealed, "ep_1").is_err());
        assert_ne!(sb.seal("whsec_abc", "ep_1"), sealed, "a fresh nonce each time");
    }

    #[test]
    fn the_data_dir_key_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = key_file(dir.path()).unwrap();
        assert_eq!(key_file(dir.path()).unwrap(), first);
        assert_eq!(STANDARD.decode(first).unwrap().len(), 32);
    }
}
