//! Users' model keys at rest: sealed with AES-256-GCM under the server's key,
//! bound to the key row and its user (a sealed key copied to another row or
//! user does not open). Each sealed key names the server key that sealed it, so
//! the server key can be rotated: the new one seals, the previous ones still
//! open until `server ai-keys reseal` has moved every key to the new one.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;

const NONCE: usize = 12;

/// One server key and its short public id.
#[derive(Clone)]
struct ServerKey {
    id: String,
    cipher: Aes256Gcm,
}

impl ServerKey {
    fn new(bytes: &[u8; 32]) -> Self {
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        Self {
            id,
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)),
        }
    }
}

/// The server's keys: the current one seals, every one opens.
#[derive(Clone)]
pub struct Sealer {
    current: ServerKey,
    previous: Vec<ServerKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({})", self.current.id)
    }
}

/// A key as stored: the server key's id and nonce ‖ ciphertext.
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

impl Sealer {
    /// From base64 secrets of 32 bytes: the current one, then earlier ones.
    pub fn from_secrets(current: &str, previous: &[String]) -> Result<Self, String> {
        Ok(Self {
            current: ServerKey::new(&decode(current)?),
            previous: previous
                .iter()
                .map(|s| decode(s).map(|k| ServerKey::new(&k)))
                .collect::<Result<_, _>>()?,
        })
    }

    /// A sealer with a fresh random key (tests, and servers that keep no keys).
    pub fn random() -> Self {
        let key = Aes256Gcm::generate_key(OsRng);
        Self {
            current: ServerKey::new(&key.into()),
            previous: Vec::new(),
        }
    }

    /// The secret in `file`, made there once (owner-only) when it is missing.
    pub fn from_file(file: &Path, previous: &[String]) -> Result<Self, String> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let fail = |e: std::io::Error| format!("{}: {e}", file.display());
        match std::fs::read_to_string(file) {
            Ok(secret) => Self::from_secrets(secret.trim(), previous),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = file.parent() {
                    std::fs::create_dir_all(dir).map_err(fail)?;
                }
                let key = Aes256Gcm::generate_key(OsRng);
                let secret = base64::engine::general_purpose::STANDARD.encode(key);
                // create_new: two servers starting at once never overwrite each other's.
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(file)
                    .map_err(fail)?;
                out.write_all(secret.as_bytes()).map_err(fail)?;
                out.sync_all().map_err(fail)?;
                Self::from_secrets(&secret, previous)
            }
            Err(e) => Err(fail(e)),
        }
    }

    /// The id of the key that seals now.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    pub fn seal(&self, plain: &str, bound_to: &str) -> Sealed {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: bound_to.as_bytes(),
                },
            )
            .expect("AES-GCM seals any message this size");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Sealed {
            key_id: self.current.id.clone(),
            bytes,
        }
    }

    /// The key sealed in `sealed`, or why it does not open.
    pub fn open(&self, key_id: &str, sealed: &[u8], bound_to: &str) -> Result<String, String> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or_else(|| format!("sealed with server key {key_id}, which this server lacks"))?;
        if sealed.len() < NONCE {
            return Err("a sealed key too short".into());
        }
        let (nonce, data) = sealed.split_at(NONCE);
        let plain = key
            .cipher
            .decrypt(
                nonce.into(),
                Payload {
                    msg: data,
                    aad: bound_to.as_bytes(),
                },
            )
            .map_err(|_| "a sealed key that does not open (altered, or moved)".to_string())?;
        String::from_utf8(plain).map_err(|_| "a sealed key that is not text".into())
    }
}

fn decode(secret: &str) -> Result<[u8; 32], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(secret.trim())
        .map_err(|e| format!("the assistant's secret is not base64: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| "the assistant's secret must be 32 bytes (base64)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_where_bound() {
        let s = Sealer::random();
        let sealed = s.seal("sk-secret-1234", "row-1:7");
        assert!(!sealed.bytes.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            s.open(&sealed.key_id, &sealed.bytes, "row-1:7").unwrap(),
            "sk-secret-1234"
        );
        assert!(s.open(&sealed.key_id, &sealed.bytes, "row-2:7").is_err());
        assert!(Sealer::random()
            .open(&sealed.key_id, &sealed.bytes, "row-1:7")
            .is_err());
    }

    #[test]
    fn rotation_opens_with_the_previous_key() {
        let old = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        let new = base64::engine::general_purpose::STANDARD.encode([2u8; 32]);
        let before = Sealer::from_secrets(&old, &[]).unwrap();
        let sealed = before.seal("k", "b");
        let after = Sealer::from_secrets(&new, &[old]).unwrap();
        assert_ne!(after.current_id(), sealed.key_id);
        assert_eq!(after.open(&sealed.key_id, &sealed.bytes, "b").unwrap(), "k");
        assert!(Sealer::from_secrets("c2hvcnQ=", &[]).is_err());
    }

    #[test]
    fn the_key_file_is_made_once_and_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sealer-{}", uuid::Uuid::new_v4()));
        let file = dir.join("ai-secret");
        let a = Sealer::from_file(&file, &[]).unwrap();
        let b = Sealer::from_file(&file, &[]).unwrap();
        assert_eq!(a.current_id(), b.current_id());
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
