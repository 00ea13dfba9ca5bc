//! OAuth 2.1 resource server (MCP authorization): a route with `oidc` takes
//! `Authorization: Bearer <JWT access token>` from its issuer instead of a
//! static API token.
//!
//! - [`issuer`]: which issuer URLs may be contacted at all (https; http only
//!   for loopback behind a test-only flag);
//! - [`jwks`]: the issuers' signing keys, fetched from their discovery
//!   documents through the egress guard, cached, refreshed on an unknown
//!   `kid` at most once per `jwks_min_refresh` per issuer;
//! - [`verify`]: the token checks (RS256 / ES256 only; `iss`, `aud`, `exp`,
//!   `nbf` with bounded skew; required claims; subject / group allow-lists);
//! - [`metadata`]: the protected resource metadata (RFC 9728) and the
//!   `WWW-Authenticate` challenges that point MCP clients at it.

pub use tfc_mcp_contract::oidc_issuer as issuer;
pub mod jwks;
pub mod metadata;
pub mod verify;

use std::time::Duration;

pub use verify::{Caller, Refusal, Verifier};

/// Longest clock skew accepted on `exp` and `nbf`, whatever the flag says.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// How the audit line names an OIDC caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuditSubject {
    /// The `sub` claim as the issuer wrote it.
    #[default]
    Subject,
    /// `sha256:` and the hex SHA-256 of `sub` (for subjects that are personal data).
    Sha256,
}

impl std::str::FromStr for AuditSubject {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "subject" | "sub" => Ok(Self::Subject),
            "sha256" | "hash" => Ok(Self::Sha256),
            other => Err(format!("{other:?} is not subject or sha256")),
        }
    }
}

/// Gateway-wide OIDC settings (flags).
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// Leeway on `exp` and `nbf` (capped at [`MAX_CLOCK_SKEW`]).
    pub clock_skew: Duration,
    /// An issuer's keys are fetched at most once per this interval, however
    /// many unknown `kid`s arrive (a flood of made-up `kid`s costs the issuer nothing).
    pub jwks_min_refresh: Duration,
    /// Keys older than this are refreshed on next use (rotation without an unknown `kid`).
    pub jwks_max_age: Duration,
    /// Time for one discovery or JWKS fetch, body included.
    pub fetch_timeout: Duration,
    /// Largest discovery document or JWKS accepted, in bytes.
    pub max_document_bytes: usize,
    /// TEST ONLY: accept `http://` issuers on loopback addresses.
    pub allow_insecure_loopback_issuers: bool,
    pub audit_subject: AuditSubject,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            clock_skew: Duration::from_secs(60),
            jwks_min_refresh: Duration::from_secs(30),
            jwks_max_age: Duration::from_secs(3600),
            fetch_timeout: Duration::from_secs(5),
            max_document_bytes: 256 * 1024,
            allow_insecure_loopback_issuers: false,
            audit_subject: AuditSubject::Subject,
        }
    }
}
