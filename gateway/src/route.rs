//! The route contract: the Secret format that the operator writes and the
//! gateway reads. It is the only thing besides the tool catalog that both
//! sides share, so it lives in one place and is versioned.
//!
//! A route Secret lives in the gateway namespace, carries the label
//! `tfcmcp.dev/route=true`, and holds two keys:
//! - `route.json`: a [`Route`] document (the URL token only as its SHA-256);
//! - `tfc-token`: the upstream HCP Terraform API token.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Label selecting route Secrets in the gateway namespace.
pub const ROUTE_LABEL: &str = "tfcmcp.dev/route";
/// Key in the route Secret holding the [`Route`] document.
pub const ROUTE_KEY: &str = "route.json";
/// Key in the route Secret holding the upstream HCP Terraform token.
pub const TFC_TOKEN_KEY: &str = "tfc-token";
/// Annotations naming the owning `TfcMcpServer` (ownerReferences cannot cross namespaces).
pub const OWNER_NAMESPACE_ANNOTATION: &str = "tfcmcp.dev/owner-namespace";
pub const OWNER_NAME_ANNOTATION: &str = "tfcmcp.dev/owner-name";
pub const OWNER_UID_ANNOTATION: &str = "tfcmcp.dev/owner-uid";
/// Prefix of every URL token, so secret scanners can match it.
pub const URL_TOKEN_PREFIX: &str = "tfcmcp_";
/// Newest version of the `route.json` format this gateway knows.
pub const ROUTE_FORMAT_VERSION: u32 = 2;
/// The format version of a route with a [`Scope`]: a gateway that does not
/// know scopes (format 1) refuses to serve it instead of ignoring the scope.
pub const SCOPED_ROUTE_FORMAT_VERSION: u32 = 2;
/// The format version of a route without a scope (served by every gateway).
pub const UNSCOPED_ROUTE_FORMAT_VERSION: u32 = 1;

/// Everything the gateway needs to serve one `TfcMcpServer`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub version: u32,
    /// Lowercase hex SHA-256 of the URL token.
    pub token_sha256: String,
    /// Owner `namespace/name`, for logs and metrics.
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// HCP Terraform or Terraform Enterprise base address, e.g. `https://app.terraform.io`.
    pub tfc_address: String,
    /// Organization allow-list; empty means any organization the token can see.
    #[serde(default)]
    pub organizations: Vec<String>,
    /// Allowed methods, already expanded from groups: `list`, `get`, `create`, `update`, `delete`, `observe`, `custom`.
    pub methods: BTreeSet<String>,
    /// Allowed tags; empty means every tag.
    #[serde(default)]
    pub tags: BTreeSet<String>,
    #[serde(default)]
    pub include_tools: BTreeSet<String>,
    #[serde(default)]
    pub exclude_tools: BTreeSet<String>,
    /// `All` or `Discovery`.
    #[serde(default = "default_exposure")]
    pub tool_exposure: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When true, a Bearer token whose SHA-256 is in `api_token_sha256` is required.
    #[serde(default)]
    pub require_api_token: bool,
    #[serde(default)]
    pub api_token_sha256: Vec<String>,
    #[serde(default)]
    pub upstream: UpstreamSettings,
    #[serde(default)]
    pub state: StateSettings,
    /// This server's result budget in bytes of compact JSON; unset means the
    /// gateway's `--max-result-bytes` (see `execute::budget`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_budget_bytes: Option<u64>,
    /// What a result's text block carries: unset for the compact JSON,
    /// [`RESULT_TEXT_SUMMARY`] for one summary line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_text: Option<String>,
    /// Projects and workspaces the server is narrowed to (`spec.scope`);
    /// unset means the whole of the allowed organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// `spec.scope`: a workspace is in scope when any entry matches it (its id
/// or name in `workspaces`, its project's id or name in `projects`, one of
/// its tags in `workspace_tags`). Names compare ignoring ASCII case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default)]
    pub workspaces: Vec<String>,
    #[serde(default)]
    pub workspace_tags: Vec<String>,
}

/// `resultText` value: the text block is one summary line, the data only in `structuredContent`.
pub const RESULT_TEXT_SUMMARY: &str = "summary";

fn default_exposure() -> String {
    "All".to_owned()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamSettings {
    pub max_requests_per_second: u32,
    pub retry_on_429: bool,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        Self { max_requests_per_second: 30, retry_on_429: false }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSettings {
    pub reveal_sensitive_outputs: bool,
    pub allow_raw_state_download: bool,
}

impl Route {
    /// True when the route has expired at `now`. The gateway checks this on
    /// every request, independently of the operator.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// Lowercase hex SHA-256 of a token (URL token or API token).
pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// First 8 hex characters of the token's SHA-256: safe to log and show.
pub fn fingerprint(token: &str) -> String {
    sha256_hex(token)[..8].to_owned()
}

/// Fingerprint from an already hashed token.
pub fn fingerprint_of_hash(token_sha256: &str) -> &str {
    token_sha256.get(..8).unwrap_or(token_sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_round_trips_and_defaults() {
        let json = r#"{"version":1,"tokenSha256":"ab","server":"ns/a","tfcAddress":"https://app.terraform.io","methods":["list"]}"#;
        let route: Route = serde_json::from_str(json).unwrap();
        assert_eq!(route.tool_exposure, "All");
        assert_eq!(route.upstream.max_requests_per_second, 30);
        assert!(!route.is_expired(Utc::now()));
        let again: Route = serde_json::from_str(&serde_json::to_string(&route).unwrap()).unwrap();
        assert_eq!(route, again);
    }

    #[test]
    fn scope_round_trips_and_is_absent_when_unset() {
        let json = r#"{"version":2,"tokenSha256":"ab","server":"ns/a","tfcAddress":"https://app.terraform.io","methods":["list"],
            "organizations":["acme"],"scope":{"projects":["payments"],"workspaceTags":["team:pay"]}}"#;
        let route: Route = serde_json::from_str(json).unwrap();
        let scope = route.scope.clone().unwrap();
        assert_eq!((scope.projects.len(), scope.workspaces.len(), scope.workspace_tags.len()), (1, 0, 1));
        let again: Route = serde_json::from_str(&serde_json::to_string(&route).unwrap()).unwrap();
        assert_eq!(route, again);
        let unscoped = Route { scope: None, ..route };
        assert!(!serde_json::to_string(&unscoped).unwrap().contains("scope"));
    }

    #[test]
    fn fingerprint_is_prefix_of_hash() {
        assert_eq!(fingerprint("x"), &sha256_hex("x")[..8]);
        assert_eq!(fingerprint_of_hash(&sha256_hex("x")), fingerprint("x"));
    }
}
