//! The `TfcMcpServer` custom resource (tfcmcp.dev/v1alpha1).
//!
//! Doc comments become `kubectl explain` text; `#[x_kube(validation)]` rules
//! become CEL rules so the API server rejects what the schema can know.

// kube-derive takes one `printcolumn(...)` per column; clippy reads them as duplicates.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Default HCP Terraform address.
pub const DEFAULT_TFC_ADDRESS: &str = "https://app.terraform.io";

/// A scoped, expiring MCP endpoint for HCP Terraform or Terraform Enterprise.
///
/// The operator mints a secret URL for it, writes the URL into the access
/// Secret `<name>-mcp`, and registers a route with the shared gateway.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "tfcmcp.dev",
    version = "v1alpha1",
    kind = "TfcMcpServer",
    plural = "tfcmcpservers",
    shortname = "tfcmcp",
    category = "tfcmcp",
    namespaced,
    status = "TfcMcpServerStatus",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Methods", type_ = "string", json_path = ".spec.methods"),
    printcolumn(name = "Expires", type_ = "string", json_path = ".spec.expiresAt"),
    printcolumn(name = "Tools", type_ = "integer", json_path = ".status.toolCount"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct TfcMcpServerSpec {
    /// Title shown to MCP clients as the server's name. Defaults to the resource name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 128))]
    pub display_name: Option<String>,

    /// The HCP Terraform or Terraform Enterprise instance and the API token to call it with.
    pub tfc: TfcSpec,

    /// Which kinds of operations become tools: the groups `read` (list + get),
    /// `observe` (read-only actions: wait for a run, plan and apply logs,
    /// plan changes), `write` (create + update + delete) and `custom`
    /// (actions that change something, such as apply or force_unlock; it
    /// includes `observe`), or single methods. Defaults to `[read]`.
    /// Tools that mint credentials (organization tokens) also need `tools.include`.
    #[serde(default = "default_methods")]
    #[schemars(length(min = 1, max = 8))]
    #[x_kube(validation = Rule::new("self.all(m, self.exists_one(n, n == m))").message("methods must not repeat an entry"))]
    pub methods: Vec<MethodName>,

    /// Resource groups (tool tags) to expose, for example `workspaces`, `runs`,
    /// `state-versions`, `registry`. Empty means every tag, except that the
    /// public Terraform Registry's tools (`registry`) then come only on the
    /// public HCP Terraform (or when the gateway allows them for Terraform
    /// Enterprise). Unknown tags make the server `Ready=False` with reason
    /// `UnknownTag`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub tags: Vec<String>,

    /// Fine tuning after methods and tags: tool names to include (only these)
    /// or exclude.
    #[serde(default, skip_serializing_if = "ToolsSpec::is_empty")]
    pub tools: ToolsSpec,

    /// `All` lists every allowed tool; `Discovery` serves three meta tools
    /// (`search_tools`, `get_tool_schema`, `call_tool`) for clients that
    /// struggle with long tool lists.
    #[serde(default)]
    pub tool_exposure: ToolExposure,

    /// When the server stops working (RFC 3339, for example
    /// `2026-12-31T23:59:59Z`). The gateway refuses the URL from that instant;
    /// the operator then removes the Secrets and applies `expiryPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub expires_at: Option<String>,

    /// What happens at `expiresAt`: `Delete` removes the resource (default);
    /// `Retain` keeps it with `Expired=True`, for GitOps tools that would
    /// otherwise re-create it.
    #[serde(default)]
    pub expiry_policy: ExpiryPolicy,

    /// Client authentication on top of the secret URL.
    #[serde(default, skip_serializing_if = "AuthSpec::is_default")]
    pub auth: AuthSpec,

    /// How the gateway paces and retries calls to HCP Terraform.
    #[serde(default)]
    pub upstream: UpstreamSpec,

    /// What state-related tools may reveal.
    #[serde(default)]
    pub state: StateSpec,

    /// How big a tool result may be.
    #[serde(default, skip_serializing_if = "ResultsSpec::is_default")]
    pub results: ResultsSpec,

    /// Calls that run only after a person confirmed them in the MCP client
    /// (elicitation). Default: none. Recommended for servers that can change
    /// things: `{methods: [delete, custom]}` (deletes, applies, discards,
    /// force unlocks...).
    #[serde(default, skip_serializing_if = "ApprovalSpec::is_empty")]
    pub approval: ApprovalSpec,
    /// Narrow the server to some projects and workspaces of its one
    /// organization (`tfc.organizations` must name exactly one). A workspace
    /// is in scope when any entry matches it; everything else looks like it
    /// does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ScopeSpec>,
}

/// Which calls need a person's confirmation: every tool of these methods,
/// and these tools by name.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSpec {
    /// `write` (create + update + delete) or single methods `create`,
    /// `update`, `delete`, `custom` (actions that change something: apply,
    /// discard, cancel, lock, force unlock...). Read-only tools never ask.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub methods: Vec<ApprovalMethod>,
    /// Tool names that need a confirmation whatever their method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256), inner(length(max = 128)))]
    pub tools: Vec<String>,
}

impl ApprovalSpec {
    fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.tools.is_empty()
    }
}

/// A method (or `write`) whose calls need a confirmation.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalMethod {
    Write,
    Create,
    Update,
    Delete,
    Custom,
}

impl ApprovalMethod {
    /// The single methods this entry stands for.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Self::Write => &["create", "update", "delete"],
            Self::Create => &["create"],
            Self::Update => &["update"],
            Self::Delete => &["delete"],
            Self::Custom => &["custom"],
        }
    }
}

/// Projects and workspaces a server may reach (see `spec.scope`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.projects) ? size(self.projects) : 0) + (has(self.workspaces) ? size(self.workspaces) : 0) + (has(self.workspaceTags) ? size(self.workspaceTags) : 0) > 0").message("scope must name at least one project, workspace or workspace tag"))]
pub struct ScopeSpec {
    /// Projects by name or id (`prj-...`): their workspaces are in scope,
    /// and workspaces may be created only in them.
    #[serde(default)]
    #[schemars(length(max = 64), inner(length(min = 1, max = 128)))]
    pub projects: Vec<String>,
    /// Workspaces by name or id (`ws-...`).
    #[serde(default)]
    #[schemars(length(max = 256), inner(length(min = 1, max = 128)))]
    pub workspaces: Vec<String>,
    /// Workspaces carrying any of these tags (the workspace's tag names,
    /// e.g. `team-payments` or `env:prod`).
    #[serde(default)]
    #[schemars(length(max = 64), inner(length(min = 1, max = 128)))]
    pub workspace_tags: Vec<String>,
}

fn default_methods() -> Vec<MethodName> {
    vec![MethodName::Read]
}

/// The HCP Terraform instance and credentials.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TfcSpec {
    /// Base address of HCP Terraform or Terraform Enterprise.
    #[serde(default = "default_address")]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^/?#]+/?$')").message("tfc.address must be a base URL such as https://app.terraform.io"))]
    pub address: String,

    /// The Secret (in this namespace) holding the HCP Terraform API token.
    pub token_secret_ref: SecretKeyRef,

    /// Organization allow-list enforced on every tool. Empty means every
    /// organization the token can see.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub organizations: Vec<String>,
}

fn default_address() -> String {
    DEFAULT_TFC_ADDRESS.to_owned()
}

/// A key of a Secret in the resource's own namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name, in the same namespace as the TfcMcpServer.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key within the Secret. Defaults to `token`.
    #[serde(default = "default_token_key")]
    #[schemars(length(min = 1))]
    pub key: String,
}

fn default_token_key() -> String {
    "token".to_owned()
}

/// A Secret in the resource's own namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SecretNameRef {
    /// Secret name, in the same namespace as the TfcMcpServer.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// A method group or a single method.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MethodName {
    Read,
    Observe,
    Write,
    Custom,
    List,
    Get,
    Create,
    Update,
    Delete,
}

impl MethodName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Observe => "observe",
            Self::Write => "write",
            Self::Custom => "custom",
            Self::List => "list",
            Self::Get => "get",
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// Tool names to include or exclude after methods and tags.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.include) || !has(self.exclude) || !self.include.exists(t, t in self.exclude)").message("tools.include and tools.exclude must not name the same tool"))]
pub struct ToolsSpec {
    /// Only these tools (still subject to methods and tags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256), inner(length(max = 128)))]
    pub include: Vec<String>,
    /// Never these tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256), inner(length(max = 128)))]
    pub exclude: Vec<String>,
}

impl ToolsSpec {
    fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ToolExposure {
    #[default]
    All,
    Discovery,
}

impl ToolExposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "All",
            Self::Discovery => "Discovery",
        }
    }
}

#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExpiryPolicy {
    #[default]
    Delete,
    Retain,
}

/// Client authentication on top of the secret URL.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!self.requireApiToken || has(self.apiTokenSecretRef)").message("auth.apiTokenSecretRef is required when auth.requireApiToken is true"))]
#[x_kube(validation = Rule::new("!self.requireApiToken || !has(self.oidc)").message("auth.requireApiToken and auth.oidc are exclusive: with oidc the Bearer token is the caller's OAuth access token"))]
#[x_kube(validation = Rule::new("!self.requireApiToken || !has(self.serviceAccounts) || size(self.serviceAccounts) == 0").message("auth.requireApiToken and auth.serviceAccounts are exclusive: a server takes one kind of Bearer token"))]
#[x_kube(validation = Rule::new("!has(self.oidc) || !has(self.serviceAccounts) || size(self.serviceAccounts) == 0").message("auth.oidc and auth.serviceAccounts are exclusive: a server takes one kind of Bearer token"))]
pub struct AuthSpec {
    /// When true, clients must also send `Authorization: Bearer <token>`
    /// with a token from `apiTokenSecretRef`; the URL alone is not enough.
    #[serde(default)]
    pub require_api_token: bool,
    /// Secret whose every value is an accepted Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token_secret_ref: Option<SecretNameRef>,
    /// OAuth 2.1 / OpenID Connect: clients must also send
    /// `Authorization: Bearer <access token>`, a JWT from this issuer whose
    /// audience is this server. MCP clients (Claude, ChatGPT) discover the
    /// issuer from the server's protected resource metadata and sign the user
    /// in. Exclusive with `requireApiToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSpec>,
    /// In-cluster agents allowed by their ServiceAccount: when not empty,
    /// clients must also send `Authorization: Bearer <projected ServiceAccount
    /// token>` (audience: the gateway's, `tfc-mcp-gateway` by default), which
    /// the gateway checks with the TokenReview API. `namespace` defaults to
    /// this server's namespace. Exclusive with `requireApiToken`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("self.all(a, self.exists_one(b, b.name == a.name && (has(b.__namespace__) ? b.__namespace__ : '') == (has(a.__namespace__) ? a.__namespace__ : '')))").message("serviceAccounts must not repeat an entry"))]
    pub service_accounts: Vec<ServiceAccountRef>,
}

/// Which OAuth access tokens (JWTs) the server accepts, and from whom.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OidcSpec {
    /// The issuer identifier (`iss`) of the authorization server, an https
    /// URL such as `https://login.example.com/realms/platform`. Its keys are
    /// read from `<issuer>/.well-known/openid-configuration`.
    #[schemars(length(min = 9, max = 512))]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^?#]+$')").message("auth.oidc.issuer must be an https URL without query or fragment"))]
    pub issuer: String,
    /// The audience (`aud`) a token must carry. Unset means this server's own
    /// URL, the resource the MCP client asks the issuer for (RFC 8707); set it
    /// when the issuer can only issue a fixed audience (an API identifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub audience: Option<String>,
    /// Claims a token must carry with exactly this string value (or, for an
    /// array claim, containing it), for example `{azp: my-client}` or
    /// `{scp: tfc-mcp}`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 16))]
    pub required_claims: std::collections::BTreeMap<String, String>,
    /// Subjects (`sub`) allowed in. With `allowedGroups`, a caller on either
    /// list is allowed; with both empty, any valid token of the issuer is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256), inner(length(min = 1, max = 256)))]
    pub allowed_subjects: Vec<String>,
    /// Groups allowed in, read from `groupsClaim`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256), inner(length(min = 1, max = 256)))]
    pub allowed_groups: Vec<String>,
    /// The claim holding the caller's groups (a string or an array of
    /// strings). Defaults to `groups`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub groups_claim: Option<String>,
}

/// A ServiceAccount whose tokens this server accepts.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountRef {
    /// Namespace of the ServiceAccount; defaults to the server's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub namespace: Option<String>,
    /// Name of the ServiceAccount.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"))]
    pub name: String,
}

impl AuthSpec {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Pacing and retries towards HCP Terraform.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamSpec {
    /// Requests per second per upstream token, shared by every server that
    /// uses the same token. HCP Terraform documents 30.
    #[serde(default = "default_rps")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_requests_per_second: u32,
    /// Retry a 429 after the reset time the API gives (bounded). Off by
    /// default: the 429 is passed to the client with normalised headers.
    #[serde(default)]
    pub retry_on_429: bool,
}

impl Default for UpstreamSpec {
    fn default() -> Self {
        Self { max_requests_per_second: default_rps(), retry_on_429: false }
    }
}

fn default_rps() -> u32 {
    30
}

/// What state tools may reveal.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StateSpec {
    /// Return sensitive output values instead of a marker.
    #[serde(default)]
    pub reveal_sensitive_outputs: bool,
    /// Allow the raw state download tool and its temporary URLs.
    #[serde(default)]
    pub allow_raw_state_download: bool,
}

/// The size of tool results.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResultsSpec {
    /// Largest tool result in bytes of compact JSON; bigger results are
    /// trimmed (fewer list items with a cursor for the rest, long arrays cut)
    /// and flagged `truncated`. Unset means the gateway's default (64 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2048, max = 4194304))]
    pub max_bytes: Option<u64>,
    /// What the text block of a result carries next to `structuredContent`:
    /// `Json` (the result as compact JSON, for clients that hand only text to
    /// the model, such as Claude and Cursor) or `Summary` (one line, for
    /// clients whose model reads `structuredContent`, such as ChatGPT, so it
    /// does not read the data twice).
    #[serde(default)]
    pub text: ResultText,
}

#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResultText {
    #[default]
    Json,
    Summary,
}

impl ResultsSpec {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Observed state of a TfcMcpServer.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TfcMcpServerStatus {
    /// `Ready` (the URL works) and `Expired`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The Secret holding `url`, `sse-url`, `token` and `mcp.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_secret_name: Option<String>,
    /// First 8 hex characters of the URL token's SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_fingerprint: Option<String>,
    /// Number of tools the server exposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_count: Option<u32>,
    /// When the server expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
