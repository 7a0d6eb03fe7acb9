//! Client identity and the keyed hash. Client keys and prompts are never
//! stored or logged; only HMAC-SHA256 digests under a key that is random per
//! process unless the configuration gives one.

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

/// The client key of a request: the configured header if any, else the
/// bearer token of `authorization`, else `x-api-key`.
pub fn client_key<'a>(headers: &'a HeaderMap, header: Option<&str>) -> Option<&'a [u8]> {
    if let Some(name) = header {
        return headers.get(name).map(|v| v.as_bytes()).filter(|v| !v.is_empty());
    }
    if let Some(v) = headers.get(hyper::header::AUTHORIZATION) {
        let v = v.as_bytes();
        let token = if v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") { &v[7..] } else { v };
        let token = token.trim_ascii();
        if !token.is_empty() {
            return Some(token);
        }
    }
    headers.get("x-api-key").map(|v| v.as_bytes().trim_ascii()).filter(|v| !v.is_empty())
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
    fn keys_from_headers() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk-1".parse().unwrap());
        h.insert("x-api-key", "ak-2".parse().unwrap());
        h.insert("x-user", "u3".parse().unwrap());
        assert_eq!(client_key(&h, None), Some(&b"sk-1"[..]));
        assert_eq!(client_key(&h, Some("x-user")), Some(&b"u3"[..]));
        h.remove("authorization");
        assert_eq!(client_key(&h, None), Some(&b"ak-2"[..]));
    }
}
