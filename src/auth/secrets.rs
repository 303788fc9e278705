//! Secrets at rest: connection secrets and OAuth tokens are sealed with AES-256-GCM under a key
//! kept in a file (`STACKWARD_SECRET_KEY_FILE`, created with mode 0600 at first start). A sealed
//! value is `v1:` + base64(nonce ‖ ciphertext); a fresh random nonce per seal.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::path::Path;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Named secrets (tokens, client secrets) as held in memory: never printed by `Debug`.
pub type Secrets = BTreeMap<String, SecretString>;

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key file cannot be read or created.
    #[error("secret key file {path}: {message}")]
    KeyFile {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A sealed value was not made with this key, or is damaged.
    #[error("a stored secret cannot be opened: it was sealed with another key or is damaged")]
    Open,
    /// Encryption failed (not expected with a valid key).
    #[error("a secret could not be sealed")]
    Seal,
}

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// A box for a 256-bit key.
    pub fn from_key(key: &[u8; 32]) -> Self {
        Self { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)) }
    }

    /// Reads the key file, or creates it (random key, mode 0600) when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let shown = path.display().to_string();
        let fail = |message: String| SecretError::KeyFile { path: shown.clone(), message };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = STANDARD.decode(text.trim()).map_err(|_| fail("is not base64".into()))?;
                let key: [u8; 32] =
                    bytes.try_into().map_err(|_| fail("must hold 32 bytes (a 256-bit key) in base64".into()))?;
                Ok(Self::from_key(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Aes256Gcm::generate_key(OsRng);
                write_new_key(path, &STANDARD.encode(key)).map_err(|e| fail(e.to_string()))?;
                tracing::info!(path = %shown, "created a new secret key file; back it up: stored secrets need it");
                Ok(Self { cipher: Aes256Gcm::new(&key) })
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// Seals bytes.
    pub fn seal(&self, plain: &[u8]) -> Result<String, SecretError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.cipher.encrypt(&nonce, plain).map_err(|_| SecretError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens what [`SecretBox::seal`] made.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SecretError> {
        let raw = sealed.strip_prefix(PREFIX).ok_or(SecretError::Open)?;
        let bytes = STANDARD.decode(raw).map_err(|_| SecretError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Open);
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        self.cipher.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| SecretError::Open)
    }

    /// Seals a set of named secrets as one value.
    pub fn seal_secrets(&self, secrets: &Secrets) -> Result<String, SecretError> {
        let plain: BTreeMap<&str, &str> = secrets.iter().map(|(k, v)| (k.as_str(), v.expose_secret())).collect();
        let json = serde_json::to_vec(&plain).map_err(|_| SecretError::Seal)?;
        self.seal(&json)
    }

    /// Opens a set of named secrets.
    pub fn open_secrets(&self, sealed: &str) -> Result<Secrets, SecretError> {
        let plain = self.open(sealed)?;
        let map: BTreeMap<String, String> = serde_json::from_slice(&plain).map_err(|_| SecretError::Open)?;
        Ok(map.into_iter().map(|(k, v)| (k, SecretString::from(v))).collect())
    }
}

#[cfg(unix)]
fn write_new_key(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // create_new: two processes starting together must not both write a key.
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_new_key(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{text}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let a = SecretBox::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let mut s = Secrets::new();
        s.insert("token".into(), SecretString::from("xoxp-very-secret"));
        let sealed = a.seal_secrets(&s).unwrap();
        assert!(!sealed.contains("xoxp"), "{sealed}");
        assert_ne!(sealed, a.seal_secrets(&s).unwrap(), "a fresh nonce per seal");
        let again = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(again.open_secrets(&sealed).unwrap()["token"].expose_secret(), "xoxp-very-secret");
        let other = SecretBox::from_key(&[7; 32]);
        assert!(matches!(other.open_secrets(&sealed), Err(SecretError::Open)));
        std::fs::write(&path, "short").unwrap();
        assert!(SecretBox::load_or_create(&path).is_err());
    }
}
