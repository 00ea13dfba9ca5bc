//! One access token against one route's `oidc` settings.

use jsonwebtoken::{Algorithm, Validation, decode, decode_header, errors::ErrorKind};
use serde_json::{Map, Value};

use super::{
    AuditSubject, MAX_CLOCK_SKEW, OidcSettings,
    jwks::{JwksCache, KeyLookup},
};
use crate::{egress::EgressObserver, egress::EgressPolicy, route, route::sha256_hex};

/// Longer tokens are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The audit line keeps at most this much of a subject.
const MAX_AUDIT_SUBJECT: usize = 256;

/// The authenticated caller, put in the request extensions for the audit line.
#[derive(Clone, Debug)]
pub struct Caller {
    /// What the audit line shows: the subject, or `sha256:<hex>` of it.
    pub audit_id: String,
}

/// Why a token is refused. The descriptions are fixed strings (they go into
/// `WWW-Authenticate` and the body); nothing from the token is echoed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 401 `invalid_token`.
    Invalid(&'static str),
    /// 403 `insufficient_scope`: a valid token of a caller this server does not admit.
    NotAllowed,
    /// 401: the issuer's keys cannot be fetched right now.
    KeysUnavailable,
}

impl Refusal {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Invalid(_) => "oidc_invalid_token",
            Self::NotAllowed => "oidc_not_allowed",
            Self::KeysUnavailable => "oidc_keys_unavailable",
        }
    }
}

/// Verifies access tokens; one per gateway.
pub struct Verifier {
    settings: OidcSettings,
    keys: JwksCache,
}

impl Verifier {
    pub fn new(settings: OidcSettings, egress: EgressPolicy, observer: Option<EgressObserver>) -> Result<Self, reqwest::Error> {
        let keys = JwksCache::new(settings.clone(), egress, observer)?;
        Ok(Self { settings, keys })
    }

    /// Reports the outcome of every key fetch (metrics).
    pub fn with_fetch_observer(mut self, observer: super::jwks::FetchObserver) -> Self {
        self.keys.observer = Some(observer);
        self
    }

    /// Number of key fetches started so far.
    pub fn key_fetches(&self) -> u64 {
        self.keys.fetch_count()
    }

    /// Checks `token` for a route with `oidc`, whose accepted audiences are
    /// `audiences` (the configured one, or the server's own URL).
    pub async fn verify(&self, token: &str, oidc: &route::OidcSettings, audiences: &[String]) -> Result<Caller, Refusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Refusal::Invalid("the access token is too long"));
        }
        // `alg` is read from the header only to refuse everything but RS256
        // and ES256 up front (`none`, HS256 with a public key as the secret,
        // ...); the key then must be of that family.
        let header = decode_header(token).map_err(|_| Refusal::Invalid("the access token is not a JWT signed with RS256 or ES256"))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(Refusal::Invalid("the access token is not a JWT signed with RS256 or ES256"));
        }
        let key = match self.keys.key_for(&oidc.issuer, header.kid.as_deref(), header.alg).await {
            KeyLookup::Found(key) => key,
            KeyLookup::Unknown => return Err(Refusal::Invalid("the access token's signing key is not one of the issuer's")),
            KeyLookup::Unavailable => return Err(Refusal::KeysUnavailable),
        };
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = self.settings.clock_skew.min(MAX_CLOCK_SKEW).as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[oidc.issuer.as_str()]);
        validation.set_audience(audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| Refusal::Invalid(describe(e.kind())))?.claims;

        let subject = claims.get("sub").and_then(Value::as_str).filter(|s| !s.is_empty());
        let Some(subject) = subject else {
            return Err(Refusal::Invalid("the access token has no subject"));
        };
        for (name, wanted) in &oidc.required_claims {
            if !claim_holds(claims.get(name), wanted) {
                return Err(Refusal::NotAllowed);
            }
        }
        if !admitted(subject, &claims, oidc) {
            return Err(Refusal::NotAllowed);
        }
        Ok(Caller { audit_id: self.audit_id(subject) })
    }

    fn audit_id(&self, subject: &str) -> String {
        match self.settings.audit_subject {
            AuditSubject::Sha256 => format!("sha256:{}", sha256_hex(subject)),
            AuditSubject::Subject => subject.chars().filter(|c| !c.is_control()).take(MAX_AUDIT_SUBJECT).collect(),
        }
    }
}

fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the access token has expired",
        ErrorKind::ImmatureSignature => "the access token is not valid yet",
        ErrorKind::InvalidAudience => "the access token is not for this server (audience)",
        ErrorKind::InvalidIssuer => "the access token is from another issuer",
        ErrorKind::InvalidSignature => "the access token's signature is invalid",
        ErrorKind::MissingRequiredClaim(_) => "the access token lacks exp, iss, aud or sub",
        ErrorKind::InvalidAlgorithm => "the access token's algorithm does not match its key",
        _ => "the access token is invalid",
    }
}

/// A string claim equal to `wanted`, or an array claim containing it.
fn claim_holds(claim: Option<&Value>, wanted: &str) -> bool {
    match claim {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(wanted)),
        Some(Value::Bool(b)) => b.to_string() == wanted,
        Some(Value::Number(n)) => n.to_string() == wanted,
        _ => false,
    }
}

/// Both allow-lists empty: any caller of the issuer. Otherwise the subject
/// or one of its groups must be listed.
fn admitted(subject: &str, claims: &Map<String, Value>, oidc: &route::OidcSettings) -> bool {
    if oidc.allowed_subjects.is_empty() && oidc.allowed_groups.is_empty() {
        return true;
    }
    if oidc.allowed_subjects.iter().any(|s| s == subject) {
        return true;
    }
    oidc.allowed_groups.iter().any(|group| claim_holds(claims.get(&oidc.groups_claim), group))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(subjects: &[&str], groups: &[&str]) -> route::OidcSettings {
        route::OidcSettings {
            issuer: "https://issuer.example".into(),
            audience: None,
            required_claims: Default::default(),
            allowed_subjects: subjects.iter().map(|s| s.to_string()).collect(),
            allowed_groups: groups.iter().map(|s| s.to_string()).collect(),
            groups_claim: "groups".into(),
        }
    }

    #[test]
    fn allow_lists_admit_by_subject_or_group() {
        let claims = json!({"sub": "alice", "groups": ["platform", "ops"]}).as_object().unwrap().clone();
        assert!(admitted("alice", &claims, &settings(&[], &[])));
        assert!(admitted("alice", &claims, &settings(&["alice"], &[])));
        assert!(!admitted("alice", &claims, &settings(&["bob"], &[])));
        assert!(admitted("alice", &claims, &settings(&["bob"], &["ops"])));
        assert!(!admitted("alice", &claims, &settings(&[], &["admins"])));
        let single = json!({"sub": "x", "groups": "ops"}).as_object().unwrap().clone();
        assert!(admitted("x", &single, &settings(&[], &["ops"])));
    }

    #[test]
    fn the_audit_names_the_subject_or_its_hash() {
        let verifier = |audit_subject| {
            let settings = OidcSettings { audit_subject, ..OidcSettings::default() };
            Verifier::new(settings, EgressPolicy::unrestricted(), None).unwrap()
        };
        assert_eq!(verifier(AuditSubject::Subject).audit_id("alice@example.com"), "alice@example.com");
        assert_eq!(verifier(AuditSubject::Subject).audit_id("a\nb"), "ab", "no control characters in a log line");
        assert_eq!(verifier(AuditSubject::Sha256).audit_id("alice"), format!("sha256:{}", sha256_hex("alice")));
    }

    #[test]
    fn required_claims_match_strings_and_arrays() {
        assert!(claim_holds(Some(&json!("a")), "a"));
        assert!(claim_holds(Some(&json!(["b", "a"])), "a"));
        assert!(!claim_holds(Some(&json!({"a": 1})), "a"));
        assert!(!claim_holds(None, "a"));
        assert!(claim_holds(Some(&json!(true)), "true"));
    }
}
