//! Destruction certificates (D9): what was destroyed, when, by whom, why — signed with Ed25519
//! and verifiable offline, by `custodian certificate verify` or by `openssl` alone.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::VaultError;

/// The format tag every certificate carries.
pub const FORMAT: &str = "custodian.destruction-certificate.v1";

/// What a certificate attests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destruction {
    pub format: String,
    pub recording_id: String,
    /// SHA-256 of the original, as registered when it was stored.
    pub content_sha256: String,
    pub size: u64,
    pub content_type: String,
    /// RFC 3339, UTC.
    pub destroyed_at: String,
    pub destroyed_by: String,
    pub destroyed_by_id: String,
    pub reason: String,
    /// The rule the destruction was made under, such as `C8` or `D6`.
    pub rule: String,
    /// The recording's content key was destroyed: every copy of its ciphertext is unreadable.
    pub content_key_destroyed: bool,
    /// The public key that signed it, base64 (also in PEM beside the register).
    pub signing_key: String,
}

/// A signed certificate: the exact signed bytes and their signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Certificate {
    /// The attestation as JSON text; the signature covers exactly these bytes.
    pub payload: String,
    /// Ed25519 signature over `payload`, base64.
    pub signature: String,
}

/// The key that signs certificates, kept in a file (mode 0600) beside the key-encryption key.
pub struct CertificateSigner {
    key: SigningKey,
}

impl std::fmt::Debug for CertificateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CertificateSigner({})",
            STANDARD.encode(self.key.verifying_key().to_bytes())
        )
    }
}

impl CertificateSigner {
    /// Reads the signing key from `path`, creating it (and its public key beside it) if absent.
    pub fn load_or_create(path: &Path) -> Result<Self, VaultError> {
        if path.exists() {
            let pem = std::fs::read_to_string(path).map_err(|source| VaultError::KeyFile {
                path: path.to_path_buf(),
                source,
            })?;
            let key = SigningKey::from_pkcs8_pem(&pem).map_err(|_| VaultError::BadKey {
                origin: path.display().to_string(),
            })?;
            return Ok(Self { key });
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| VaultError::Crypto(format!("no randomness: {e}")))?;
        let key = SigningKey::from_bytes(&secret);
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| VaultError::Crypto(e.to_string()))?;
        crate::keys::write_secret_file(path, &pem)?;
        let signer = Self { key };
        std::fs::write(path.with_extension("pub.pem"), signer.public_key_pem()?).map_err(
            |source| VaultError::KeyFile {
                path: path.with_extension("pub.pem"),
                source,
            },
        )?;
        Ok(signer)
    }

    /// The public key as PEM, to give to auditors and to `openssl`.
    pub fn public_key_pem(&self) -> Result<String, VaultError> {
        self.key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| VaultError::Crypto(e.to_string()))
    }

    /// The public key, base64.
    pub fn public_key(&self) -> String {
        STANDARD.encode(self.key.verifying_key().to_bytes())
    }

    /// Signs `destruction`, filling in the signing key.
    pub fn sign(&self, mut destruction: Destruction) -> Result<Certificate, VaultError> {
        destruction.format = FORMAT.to_owned();
        destruction.signing_key = self.public_key();
        let payload = serde_json::to_string_pretty(&destruction)
            .map_err(|e| VaultError::Crypto(e.to_string()))?;
        let signature = self.key.sign(payload.as_bytes());
        Ok(Certificate {
            payload,
            signature: STANDARD.encode(signature.to_bytes()),
        })
    }
}

/// Checks a certificate's signature and returns what it attests. With `trusted` (a PEM public
/// key), the certificate must be signed by that key; without, by the key it names — which proves
/// it was not altered, but not who signed it.
pub fn verify(certificate: &Certificate, trusted: Option<&str>) -> Result<Destruction, VaultError> {
    let destruction: Destruction =
        serde_json::from_str(&certificate.payload).map_err(|e| VaultError::BadCertificate {
            problem: format!("its payload is not a destruction record: {e}"),
        })?;
    if destruction.format != FORMAT {
        return Err(VaultError::BadCertificate {
            problem: format!("unknown format `{}`", destruction.format),
        });
    }
    let named = STANDARD
        .decode(&destruction.signing_key)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
        .ok_or_else(|| VaultError::BadCertificate {
            problem: "it names no valid signing key".to_owned(),
        })?;
    let key = match trusted {
        Some(pem) => {
            let trusted =
                VerifyingKey::from_public_key_pem(pem).map_err(|_| VaultError::BadCertificate {
                    problem: "the trusted public key is not an Ed25519 PEM key".to_owned(),
                })?;
            if trusted != named {
                return Err(VaultError::BadCertificate {
                    problem: "it was signed by a different key than the one trusted".to_owned(),
                });
            }
            trusted
        }
        None => named,
    };
    let signature = STANDARD
        .decode(&certificate.signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        .map(|bytes| Signature::from_bytes(&bytes))
        .ok_or_else(|| VaultError::BadCertificate {
            problem: "its signature is malformed".to_owned(),
        })?;
    key.verify_strict(certificate.payload.as_bytes(), &signature)
        .map_err(|_| VaultError::BadCertificate {
            problem: "the signature does not match: the certificate was altered or not signed by this key".to_owned(),
        })?;
    Ok(destruction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destruction() -> Destruction {
        Destruction {
            format: String::new(),
            recording_id: "01a2-test".to_owned(),
            content_sha256: "ab".repeat(32),
            size: 1234,
            content_type: "video/mp4".to_owned(),
            destroyed_at: "2026-11-23T10:00:00Z".to_owned(),
            destroyed_by: "Records Manager".to_owned(),
            destroyed_by_id: "01a2-staff".to_owned(),
            reason: "consent withdrawn".to_owned(),
            rule: "C8".to_owned(),
            content_key_destroyed: true,
            signing_key: String::new(),
        }
    }

    #[test]
    fn d9_a_signed_certificate_verifies_and_an_altered_one_does_not() {
        let folder = tempfile::tempdir().unwrap();
        let signer = CertificateSigner::load_or_create(&folder.path().join("signing.key")).unwrap();
        let certificate = signer.sign(destruction()).unwrap();
        let pem = signer.public_key_pem().unwrap();
        assert_eq!(verify(&certificate, Some(&pem)).unwrap().rule, "C8");
        let mut altered = certificate.clone();
        altered.payload = altered.payload.replace("C8", "D2");
        assert!(verify(&altered, Some(&pem)).is_err());
        let other = CertificateSigner::load_or_create(&folder.path().join("other.key")).unwrap();
        assert!(verify(&certificate, Some(&other.public_key_pem().unwrap())).is_err());
        let again = CertificateSigner::load_or_create(&folder.path().join("signing.key")).unwrap();
        assert_eq!(again.public_key(), signer.public_key(), "the key is kept");
    }
}
