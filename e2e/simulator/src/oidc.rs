//! A small OpenID Connect issuer for the gateway's resource-server tests:
//! real keys (ES256 and RS256, generated at start), a discovery document, a
//! JWKS, and tokens minted on request through a test control. Signing is
//! real, so the gateway's JWT validation runs its production code paths.
//!
//! The issuer lives on the API origin under `/oidc` (so the gateway's egress
//! allow-list for the simulator covers it); its requests are not in the
//! API request log, and it counts discovery and JWKS fetches for the tests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value, json};

/// Path of the issuer on the API origin.
pub const ISSUER_PATH: &str = "/oidc";

/// One signing key with its key id.
pub struct SigningKey {
    pub kid: String,
    material: Material,
}

enum Material {
    Ec(EcdsaKeyPair),
    Rsa(aws_lc_rs::rsa::KeyPair),
}

impl SigningKey {
    fn generate(kid: String, alg: &str) -> Self {
        let material = if alg == "RS256" {
            Material::Rsa(aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"))
        } else {
            Material::Ec(EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key generation"))
        };
        Self { kid, material }
    }

    pub fn alg(&self) -> &'static str {
        match self.material {
            Material::Ec(_) => "ES256",
            Material::Rsa(_) => "RS256",
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        match &self.material {
            Material::Ec(key) => {
                // Uncompressed point: 0x04 || x || y.
                let point = key.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
                       "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])})
            }
            Material::Rsa(key) => {
                let parts = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
                json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                       "n": B64.encode(&parts.n), "e": B64.encode(&parts.e)})
            }
        }
    }

    /// The public key as anyone can read it (its JWK text), used as the
    /// HMAC secret of the algorithm-confusion test: an HS256 token keyed
    /// with public material, which a verifier that trusts the header's
    /// `alg` would accept.
    pub fn public_bytes(&self) -> Vec<u8> {
        self.jwk().to_string().into_bytes()
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.material {
            Material::Ec(key) => key.sign(&rng, message).expect("ECDSA signing").as_ref().to_vec(),
            Material::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut signature).expect("RSA signing");
                signature
            }
        }
    }
}

/// The issuer's keys: those published in the JWKS, the one signing by
/// default, and an unpublished one (for "unknown key" tokens).
pub struct Issuer {
    keys: Mutex<Keys>,
    next_kid: AtomicU64,
    pub discovery_fetches: AtomicU64,
    pub jwks_fetches: AtomicU64,
}

struct Keys {
    published: Vec<SigningKey>,
    /// Index into `published` of the default signing key.
    current: usize,
    unpublished: SigningKey,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer").finish_non_exhaustive()
    }
}

impl Default for Issuer {
    fn default() -> Self {
        let issuer = Self {
            keys: Mutex::new(Keys {
                published: Vec::new(),
                current: 0,
                unpublished: SigningKey::generate("unpublished-1".into(), "ES256"),
            }),
            next_kid: AtomicU64::new(1),
            discovery_fetches: AtomicU64::new(0),
            jwks_fetches: AtomicU64::new(0),
        };
        {
            let mut keys = issuer.keys();
            let es = SigningKey::generate(issuer.kid("es"), "ES256");
            let rs = SigningKey::generate(issuer.kid("rs"), "RS256");
            keys.published = vec![es, rs];
        }
        issuer
    }
}

/// What a test asks to be minted.
#[derive(Debug, Default, serde::Deserialize)]
pub struct MintRequest {
    /// Claims; `iss`, `iat` and `exp` (+300 s) are filled in when absent; a
    /// claim given as null is left out.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// `ES256` (default), `RS256`, `none`, or `HS256` (signed with the
    /// current key's public JWK as the secret: algorithm confusion).
    #[serde(default)]
    pub alg: Option<String>,
    /// `current` (default), `unpublished` (a key not in the JWKS).
    #[serde(default)]
    pub key: Option<String>,
    /// Overrides the header's `kid` (a made-up one, or none with "").
    #[serde(default)]
    pub kid: Option<String>,
}

impl Issuer {
    fn keys(&self) -> std::sync::MutexGuard<'_, Keys> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn kid(&self, prefix: &str) -> String {
        format!("{prefix}-{}", self.next_kid.fetch_add(1, Ordering::SeqCst))
    }

    pub fn discovery(&self, issuer: &str) -> Value {
        self.discovery_fetches.fetch_add(1, Ordering::SeqCst);
        json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/jwks"),
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "code_challenge_methods_supported": ["S256"],
        })
    }

    pub fn jwks(&self) -> Value {
        self.jwks_fetches.fetch_add(1, Ordering::SeqCst);
        json!({"keys": self.keys().published.iter().map(SigningKey::jwk).collect::<Vec<_>>()})
    }

    /// A new ES256 key becomes the default signing key; with `retire`, the
    /// previous keys leave the JWKS. Returns the new key id.
    pub fn rotate(&self, retire: bool) -> String {
        let key = SigningKey::generate(self.kid("es"), "ES256");
        let kid = key.kid.clone();
        let mut keys = self.keys();
        if retire {
            keys.published.clear();
        }
        keys.published.push(key);
        keys.current = keys.published.len() - 1;
        kid
    }

    pub fn stats(&self) -> Value {
        let keys = self.keys();
        json!({
            "discovery_fetches": self.discovery_fetches.load(Ordering::SeqCst),
            "jwks_fetches": self.jwks_fetches.load(Ordering::SeqCst),
            "current_kid": keys.published.get(keys.current).map(|k| k.kid.clone()),
            "published_kids": keys.published.iter().map(|k| k.kid.clone()).collect::<Vec<_>>(),
        })
    }

    /// A compact JWS for the request.
    pub fn mint(&self, issuer: &str, request: MintRequest) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let mut claims = request.claims;
        claims.entry("iss").or_insert_with(|| json!(issuer));
        claims.entry("iat").or_insert_with(|| json!(now));
        claims.entry("exp").or_insert_with(|| json!(now + 300));
        claims.retain(|_, v| !v.is_null());
        let keys = self.keys();
        let alg = request.alg.as_deref().unwrap_or("ES256");
        let key = match request.key.as_deref().unwrap_or("current") {
            "current" if alg == "RS256" => keys.published.iter().find(|k| k.alg() == "RS256").ok_or("no published RS256 key")?,
            "current" => keys
                .published
                .get(keys.current)
                .filter(|k| k.alg() == "ES256")
                .or_else(|| keys.published.iter().find(|k| k.alg() == "ES256"))
                .ok_or("no published ES256 key")?,
            "unpublished" => &keys.unpublished,
            other => return Err(format!("unknown key {other:?}")),
        };
        let kid = request.kid.unwrap_or_else(|| key.kid.clone());
        let mut header = json!({"alg": alg, "typ": "at+jwt"});
        if !kid.is_empty() {
            header["kid"] = json!(kid);
        }
        let signing_input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(Value::Object(claims).to_string()));
        let signature = match alg {
            "ES256" | "RS256" => key.sign(signing_input.as_bytes()),
            "none" => Vec::new(),
            "HS256" => {
                let secret = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key.public_bytes());
                aws_lc_rs::hmac::sign(&secret, signing_input.as_bytes()).as_ref().to_vec()
            }
            other => return Err(format!("unsupported alg {other:?}")),
        };
        Ok(format!("{signing_input}.{}", B64.encode(signature)))
    }
}
