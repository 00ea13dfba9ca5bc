//! The route contract: the Secret format that the operator writes and the
//! gateway reads. It is the only thing besides the tool catalog that both
//! sides share, so it lives in one place and is versioned.
//!
//! A route Secret lives in the gateway namespace, carries the label
//! `tfcmcp.dev/route=true`, and holds two keys:
//! - `route.json`: a [`Route`] document (the URL token only as its SHA-256);
//! - `tfc-token`: the upstream HCP Terraform API token.

use std::collections::{BTreeMap, BTreeSet};

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
/// Newest version of the `route.json` format this code knows.
/// Version 2 adds `oidc`, `serviceAccounts`, `approval` and `scope`: a route
/// that uses one is written as version 2, so a gateway that predates them
/// refuses it (fails closed) instead of serving it without the caller check,
/// the confirmation or the scope; other routes stay version 1.
pub const ROUTE_FORMAT_VERSION: u32 = 2;
/// The version of routes that use no version-2 field.
pub const ROUTE_FORMAT_VERSION_BASE: u32 = 1;

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
    /// When set, the Bearer token must be a JWT access token of this
    /// issuer for this server (see the gateway's `oidc`); exclusive with `require_api_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSettings>,
    /// When not empty, a projected ServiceAccount token of one of these
    /// ServiceAccounts is required (checked with the TokenReview API; see
    /// `service_account_auth`). Exclusive with `require_api_token`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_accounts: Vec<ServiceAccountName>,
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
    /// Calls that need a human's confirmation before they run (`spec.approval`).
    #[serde(default, skip_serializing_if = "ApprovalSettings::is_empty")]
    pub approval: ApprovalSettings,
    /// Projects and workspaces the server is narrowed to (`spec.scope`);
    /// unset means the whole of the allowed organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// Which calls need a human's confirmation: every tool of these methods
/// (already expanded from groups) and these tools by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSettings {
    #[serde(default)]
    pub methods: BTreeSet<String>,
    #[serde(default)]
    pub tools: BTreeSet<String>,
}

impl ApprovalSettings {
    pub fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.tools.is_empty()
    }

    /// True when a call of this tool (name and method) needs a confirmation.
    /// Methods compare ignoring case and `write` stands for create, update
    /// and delete, so a hand-written route cannot fail open by spelling.
    pub fn requires(&self, tool: &str, method: &str) -> bool {
        let write = matches!(method, "create" | "update" | "delete");
        self.tools.contains(tool)
            || self.methods.iter().any(|m| m.eq_ignore_ascii_case(method) || (write && m.eq_ignore_ascii_case("write")))
    }
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

/// The OAuth 2.1 resource-server settings of one route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcSettings {
    /// The authorization server's issuer identifier (`iss`), an https URL.
    pub issuer: String,
    /// The accepted `aud`; unset means this server's own URL (the resource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Claims that must hold exactly this string (or, for an array claim, contain it).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub required_claims: BTreeMap<String, String>,
    /// `sub` values allowed in; with `allowed_groups`, either list admits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_subjects: Vec<String>,
    /// Groups allowed in (read from `groups_claim`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_groups: Vec<String>,
    /// The claim holding the caller's groups (a string or an array of strings).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
}

/// The claim most issuers put groups in.
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";

fn default_groups_claim() -> String {
    DEFAULT_GROUPS_CLAIM.to_owned()
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

/// A ServiceAccount allowed to call a route, namespace resolved by the operator.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceAccountName {
    pub namespace: String,
    pub name: String,
}

impl ServiceAccountName {
    /// The Kubernetes user name of the ServiceAccount's tokens.
    pub fn username(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }
}

impl Route {
    /// The `version` this route must be written with: the oldest format
    /// that holds everything it uses.
    pub fn format_version(&self) -> u32 {
        // An older gateway would ignore a caller check it does not know, so a
        // route with one is written in the newer format, which it refuses.
        let needs_v2 = self.oidc.is_some() || !self.service_accounts.is_empty() || !self.approval.is_empty() || self.scope.is_some();
        if needs_v2 { ROUTE_FORMAT_VERSION } else { ROUTE_FORMAT_VERSION_BASE }
    }

    /// True when the route has expired at `now`. The gateway checks this on
    /// every request, independently of the operator.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// The namespace of a server named `namespace/name`: the tenant its limits
/// are shared by (a name without `/` is its own namespace).
pub fn namespace_of(server: &str) -> &str {
    server.split_once('/').map_or(server, |(namespace, _)| namespace)
}

/// Lowercase hex SHA-256 of a token (URL token or API token).
pub fn sha256_hex(token: &str) -> String {
    sha256_hex_in(token, &mut [0; 64]).to_owned()
}

/// [`sha256_hex`] written into `buf`, without allocating: the gateway
/// hashes the URL token of every request it receives.
pub fn sha256_hex_in<'b>(token: &str, buf: &'b mut [u8; 64]) -> &'b str {
    // 32 bytes always fit 64 hex digits, which are always UTF-8.
    let _ = hex::encode_to_slice(Sha256::digest(token.as_bytes()), buf);
    std::str::from_utf8(buf).unwrap_or_default()
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
        assert!(route.approval.is_empty());
        assert!(!serde_json::to_string(&route).unwrap().contains("approval"));
    }

    #[test]
    fn approval_settings_match_methods_and_names() {
        let json = r#"{"version":1,"tokenSha256":"ab","server":"ns/a","tfcAddress":"https://app.terraform.io","methods":["list"],
            "approval":{"methods":["delete"],"tools":["hashicorp_terraform_cloud_runs_apply"]}}"#;
        let route: Route = serde_json::from_str(json).unwrap();
        assert!(route.approval.requires("delete_a_hashicorp_terraform_cloud_workspace_by_id", "delete"));
        assert!(route.approval.requires("hashicorp_terraform_cloud_runs_apply", "custom"));
        assert!(!route.approval.requires("hashicorp_terraform_cloud_runs_discard", "custom"));
        // A hand-written route fails closed whatever the spelling.
        let written = ApprovalSettings { methods: ["Write".to_owned()].into(), tools: Default::default() };
        assert!(written.requires("update_a_hashicorp_terraform_cloud_workspace_by_id", "update"));
        assert!(!written.requires("hashicorp_terraform_cloud_runs_apply", "custom"));
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
    fn a_hash_written_in_place_is_the_hash() {
        let mut buf = [0; 64];
        for token in ["", "tfcmcp_abc", "é🚀", &"x".repeat(1000)] {
            assert_eq!(sha256_hex_in(token, &mut buf), sha256_hex(token));
            assert_eq!(sha256_hex(token), hex::encode(Sha256::digest(token.as_bytes())));
        }
        // The known digest of nothing (FIPS 180-4).
        assert_eq!(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn fingerprint_is_prefix_of_hash() {
        assert_eq!(fingerprint("x"), &sha256_hex("x")[..8]);
        assert_eq!(fingerprint_of_hash(&sha256_hex("x")), fingerprint("x"));
    }
}
