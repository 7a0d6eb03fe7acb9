//! Client identity and the keyed hash. Client keys and prompts are never
//! stored or logged; only HMAC-SHA256 digests under a key that is random per
//! process unless the configuration gives one.

use super::config::{ClientsConfig, Credential};
use super::extract::Api;
use hyper::HeaderMap;
use sha2::{Digest, Sha256};

/// A client, as the first 16 bytes of the keyed hash of its key.
pub type ClientId = [u8; 16];

/// HMAC-SHA256 with a fixed key.
#[derive(Clone)]
pub struct KeyedHash {
    inner: Sha256,
    outer: Sha256,
}

impl KeyedHash {
    /// A hasher for `key` (any length).
    pub fn new(key: &[u8]) -> KeyedHash {
        let mut block = [0u8; 64];
        if key.len() > 64 {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = Sha256::new();
        inner.update(block.map(|b| b ^ 0x36));
        let mut outer = Sha256::new();
        outer.update(block.map(|b| b ^ 0x5c));
        KeyedHash { inner, outer }
    }

    /// A hasher with a random key: 32 bytes from the OS.
    pub fn random() -> KeyedHash {
        KeyedHash::new(&random_key())
    }

    /// HMAC-SHA256 of `data`.
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        inner.update(data);
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }

    /// The client id for a key.
    pub fn client(&self, key: &[u8]) -> ClientId {
        let mut id = [0u8; 16];
        id.copy_from_slice(&self.mac(key)[..16]);
        id
    }

    /// A short hex digest for logs (64 bits).
    pub fn short_hex(&self, data: &[u8]) -> String {
        hex(&self.mac(data)[..8])
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        if f.read_exact(&mut key).is_ok() {
            return key;
        }
    }
    // No /dev/urandom (not Unix): std's hasher keys come from the OS too.
    use std::hash::{BuildHasher, Hasher};
    for chunk in key.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    key
}

/// Who sent a request, as the raw header values (hashed by the caller).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Identity<'a> {
    /// The client key: the credential the upstream authenticates, or the
    /// configured `[clients].header`.
    pub client: Option<&'a [u8]>,
    /// The edge's `[clients].source_header`, a second escalation key.
    pub source: Option<&'a [u8]>,
}

/// Why a request's credentials cannot name one client (400).
#[derive(Debug, PartialEq, Eq)]
pub enum CredentialError {
    /// The header came more than once.
    Duplicated(String),
    /// `authorization` and `x-api-key` carry different keys.
    Conflicting,
}

impl std::fmt::Display for CredentialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialError::Duplicated(h) => write!(f, "the {h} header is sent more than once"),
            CredentialError::Conflicting => {
                f.write_str("authorization and x-api-key carry different credentials; send one")
            }
        }
    }
}

/// The one value of `name`: `Ok(None)` when absent or empty, an error when
/// the header is repeated (an upstream may read either copy).
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a [u8]>, CredentialError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(CredentialError::Duplicated(name.to_string()));
    }
    Ok(first.map(|v| v.as_bytes().trim_ascii()).filter(|v| !v.is_empty()))
}

/// The token of an `authorization` value, without a `Bearer ` scheme.
fn bearer(v: &[u8]) -> Option<&[u8]> {
    let token = if v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") { &v[7..] } else { v };
    Some(token.trim_ascii()).filter(|t| !t.is_empty())
}

/// Who sent a request on a classified route of `api`. Credential headers
/// sent twice, or two different credentials under [`Credential::Route`],
/// are an error: the proxy would count one and the upstream could
/// authenticate the other.
pub fn identify<'a>(
    headers: &'a HeaderMap,
    api: Api,
    clients: &ClientsConfig,
) -> Result<Identity<'a>, CredentialError> {
    let source = clients.source_header.as_deref().map(|h| single(headers, h)).transpose()?.flatten();
    let authorization = single(headers, "authorization")?.and_then(bearer);
    let api_key = single(headers, "x-api-key")?;
    let client = if let Some(h) = &clients.header {
        single(headers, h)?
    } else {
        match clients.credential {
            Credential::Authorization => authorization,
            Credential::XApiKey => api_key,
            Credential::Route => match (authorization, api_key) {
                (Some(a), Some(k)) if a != k => return Err(CredentialError::Conflicting),
                (a, k) => match api {
                    Api::Anthropic => k.or(a),
                    Api::OpenAi => a.or(k),
                },
            },
        }
    };
    Ok(Identity { client, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        let h = KeyedHash::new(b"Jefe");
        assert_eq!(
            hex(&h.mac(b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_client_is_the_credential_the_route_authenticates() {
        let mut h = HeaderMap::new();
        let c = ClientsConfig::default();
        h.insert("authorization", "Bearer sk-1".parse().unwrap());
        assert_eq!(identify(&h, Api::OpenAi, &c).unwrap().client, Some(&b"sk-1"[..]));
        assert_eq!(identify(&h, Api::Anthropic, &c).unwrap().client, Some(&b"sk-1"[..]));
        h.insert("x-api-key", "sk-1".parse().unwrap());
        assert_eq!(identify(&h, Api::Anthropic, &c).unwrap().client, Some(&b"sk-1"[..]), "the same key twice agrees");
        h.insert("x-api-key", "ak-2".parse().unwrap());
        assert_eq!(identify(&h, Api::Anthropic, &c), Err(CredentialError::Conflicting));
        assert_eq!(identify(&h, Api::OpenAi, &c), Err(CredentialError::Conflicting));
        let only_key = ClientsConfig { credential: Credential::XApiKey, ..ClientsConfig::default() };
        assert_eq!(identify(&h, Api::OpenAi, &only_key).unwrap().client, Some(&b"ak-2"[..]));
        h.remove("authorization");
        assert_eq!(identify(&h, Api::Anthropic, &c).unwrap().client, Some(&b"ak-2"[..]));
        let by_header = ClientsConfig { header: Some("x-user".into()), ..ClientsConfig::default() };
        h.insert("x-user", "u3".parse().unwrap());
        assert_eq!(identify(&h, Api::OpenAi, &by_header).unwrap().client, Some(&b"u3"[..]));
    }

    #[test]
    fn repeated_credentials_and_sources_are_errors() {
        let c = ClientsConfig { source_header: Some("x-edge-source".into()), ..ClientsConfig::default() };
        let mut h = HeaderMap::new();
        h.append("authorization", "Bearer random".parse().unwrap());
        h.append("authorization", "Bearer sk-real".parse().unwrap());
        assert_eq!(identify(&h, Api::OpenAi, &c), Err(CredentialError::Duplicated("authorization".into())));
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "k".parse().unwrap());
        h.append("x-edge-source", "10.0.0.0/24".parse().unwrap());
        assert_eq!(identify(&h, Api::Anthropic, &c).unwrap().source, Some(&b"10.0.0.0/24"[..]));
        h.append("x-edge-source", "10.9.0.0/24".parse().unwrap());
        assert_eq!(identify(&h, Api::Anthropic, &c), Err(CredentialError::Duplicated("x-edge-source".into())));
    }
}
