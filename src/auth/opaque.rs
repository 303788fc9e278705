//! Opaque secrets handed to browsers (session ids, sign-in link tokens): 256 random bits from
//! the OS, stored only as their SHA-256 hash, which suffices for values this random.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh secret: `prefix` and 32 random bytes in URL-safe base64.
pub(super) fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored in place of a secret.
pub(super) fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
