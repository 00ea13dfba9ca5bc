//! Checks the CRD schema cannot make: names that must exist in the gateway's
//! tool catalog and a parseable expiry. A failure is a [`Problem`] that
//! becomes `Ready=False` with its reason, never a crash or a hot requeue.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use tfc_mcp_contract::catalog::{self, catalog};

use tfc_mcp_contract::{
    oidc_issuer as issuer,
    route::{DEFAULT_GROUPS_CLAIM, OidcSettings},
};

use crate::crd::{AuthSpec, TfcMcpServerSpec};

/// Why a server cannot be served: the `Ready=False` reason and a message
/// that names the field. Never holds secret values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub reason: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self { reason, message: message.into() }
    }
}

/// The spec, checked and normalised.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidSpec {
    pub methods: BTreeSet<String>,
    pub tags: BTreeSet<String>,
    pub include_tools: BTreeSet<String>,
    pub exclude_tools: BTreeSet<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub approval: tfc_mcp_contract::route::ApprovalSettings,
    /// `spec.scope`, trimmed and without repeats.
    pub scope: Option<tfc_mcp_contract::route::Scope>,
}

pub fn validate(spec: &TfcMcpServerSpec) -> Result<ValidSpec, Problem> {
    validate_with(spec, tfc_mcp_contract::registry::defaults())
}

/// [`validate`] against the gateway's registry settings (installed from the gateway configuration).
pub fn validate_with(spec: &TfcMcpServerSpec, registry: tfc_mcp_contract::registry::RegistryDefaults) -> Result<ValidSpec, Problem> {
    let expires_at = spec
        .expires_at
        .as_deref()
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| Problem::new("InvalidExpiresAt", format!("spec.expiresAt {raw:?} is not an RFC 3339 timestamp")))
        })
        .transpose()?;

    let names: Vec<String> = spec.methods.iter().map(|m| m.as_str().to_owned()).collect();
    let methods = catalog::expand_methods(&names).map_err(|bad| Problem::new("InvalidMethods", format!("spec.methods: {bad}")))?;

    let unknown_tags: Vec<&str> = spec.tags.iter().map(String::as_str).filter(|t| !catalog().has_tag(t)).collect();
    if !unknown_tags.is_empty() {
        return Err(Problem::new(
            "UnknownTag",
            format!("spec.tags: unknown tag(s) {}; known tags: {}", unknown_tags.join(", "), catalog::TAGS.join(", ")),
        ));
    }

    // Named explicitly on a gateway without a registry: refused here, with
    // the reason, rather than served with tools that can only fail.
    if spec.tags.iter().any(|t| t == catalog::REGISTRY_TAG) && !registry.available {
        return Err(Problem::new(
            "RegistryUnavailable",
            "spec.tags names registry, but the gateway has no Terraform Registry (chart value gateway.registry.address is empty)",
        ));
    }

    let unknown_tools: Vec<&str> =
        spec.tools.include.iter().chain(&spec.tools.exclude).map(String::as_str).filter(|name| catalog().get(name).is_none()).collect();
    if !unknown_tools.is_empty() {
        return Err(Problem::new("UnknownTool", format!("spec.tools: unknown tool(s) {}", unknown_tools.join(", "))));
    }

    let unknown_approval: Vec<&str> = spec.approval.tools.iter().map(String::as_str).filter(|name| catalog().get(name).is_none()).collect();
    if !unknown_approval.is_empty() {
        return Err(Problem::new("UnknownTool", format!("spec.approval.tools: unknown tool(s) {}", unknown_approval.join(", "))));
    }
    let approval = tfc_mcp_contract::route::ApprovalSettings {
        methods: spec.approval.methods.iter().flat_map(|m| m.methods()).map(|m| (*m).to_owned()).collect(),
        tools: spec.approval.tools.iter().cloned().collect(),
    };

    let scope = spec.scope.as_ref().map(|s| validate_scope(spec, s)).transpose()?;

    Ok(ValidSpec {
        scope,
        approval,
        methods,
        tags: spec.tags.iter().cloned().collect(),
        include_tools: spec.tools.include.iter().cloned().collect(),
        exclude_tools: spec.tools.exclude.iter().cloned().collect(),
        expires_at,
    })
}

/// `spec.auth.oidc`, checked and normalised for the route. The schema
/// already refuses `requireApiToken` with `oidc`; this is the check for
/// objects that predate the rule, and for what the schema cannot know.
pub fn validate_oidc(auth: &AuthSpec, allow_insecure_loopback: bool) -> Result<Option<OidcSettings>, Problem> {
    let Some(oidc) = &auth.oidc else { return Ok(None) };
    let invalid = |message: String| Problem::new("InvalidOidc", message);
    if auth.require_api_token {
        return Err(Problem::new(
            "AuthConflict",
            "spec.auth.requireApiToken and spec.auth.oidc are exclusive: with oidc the Bearer token is the caller's access token",
        ));
    }
    issuer::check_url(&oidc.issuer, allow_insecure_loopback).map_err(|e| invalid(format!("spec.auth.oidc.issuer {e}")))?;
    if let Some(audience) = &oidc.audience
        && audience.trim().is_empty()
    {
        return Err(invalid("spec.auth.oidc.audience must not be empty (leave it unset for this server's URL)".into()));
    }
    if let Some(name) = oidc.required_claims.keys().find(|k| matches!(k.as_str(), "iss" | "aud" | "exp" | "nbf")) {
        return Err(invalid(format!("spec.auth.oidc.requiredClaims: {name:?} is checked by the gateway itself; name another claim")));
    }
    if oidc.required_claims.iter().any(|(name, value)| name.trim().is_empty() || name.len() > 128 || value.len() > 256) {
        return Err(invalid("spec.auth.oidc.requiredClaims: claim names must be 1 to 128 characters, values at most 256".into()));
    }
    let groups_claim = oidc.groups_claim.clone().unwrap_or_else(|| DEFAULT_GROUPS_CLAIM.to_owned());
    if groups_claim.trim().is_empty() {
        return Err(invalid("spec.auth.oidc.groupsClaim must not be empty".into()));
    }
    Ok(Some(OidcSettings {
        issuer: oidc.issuer.clone(),
        audience: oidc.audience.clone(),
        required_claims: oidc.required_claims.clone(),
        allowed_subjects: oidc.allowed_subjects.clone(),
        allowed_groups: oidc.allowed_groups.clone(),
        groups_claim,
    }))
}

/// Longest project or workspace name HCP Terraform accepts (90) with room to spare.
const MAX_SCOPE_NAME: usize = 128;

/// `spec.scope`: names are only unique within one organization, so a scope
/// needs `tfc.organizations` to name exactly one; entries are ids of the
/// documented shape (`prj-...`, `ws-...`) or names of letters, digits, `-`,
/// `_`, `.` (tags also `:` and `/`, as `key:value`).
fn validate_scope(spec: &TfcMcpServerSpec, scope: &crate::crd::ScopeSpec) -> Result<tfc_mcp_contract::route::Scope, Problem> {
    let orgs: BTreeSet<String> = spec.tfc.organizations.iter().map(|o| o.trim().to_ascii_lowercase()).filter(|o| !o.is_empty()).collect();
    if orgs.len() != 1 {
        return Err(Problem::new(
            "ScopeNeedsOneOrganization",
            "spec.scope needs spec.tfc.organizations to name exactly the one organization its projects and workspaces live in",
        ));
    }
    let clean = |field: &str, entries: &[String], id_prefix: Option<&str>, extra: &[u8]| -> Result<Vec<String>, Problem> {
        let mut out: Vec<String> = Vec::new();
        for raw in entries {
            let e = raw.trim();
            let name_ok = !e.is_empty()
                && e.len() <= MAX_SCOPE_NAME
                && e.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') || extra.contains(&b));
            let looks_like_id = id_prefix.is_some_and(|p| e.starts_with(&format!("{p}-")));
            let ok = if looks_like_id { id_prefix.is_some_and(|p| catalog::id_matches(p, e)) } else { name_ok };
            if !ok {
                let shown: String = e.chars().take(64).collect();
                return Err(Problem::new("InvalidScope", format!("spec.scope.{field}: {shown:?} is not a valid name or id")));
            }
            if !out.iter().any(|o| o.eq_ignore_ascii_case(e)) {
                out.push(e.to_owned());
            }
        }
        Ok(out)
    };
    let s = tfc_mcp_contract::route::Scope {
        projects: clean("projects", &scope.projects, Some("prj"), b" ")?,
        workspaces: clean("workspaces", &scope.workspaces, Some("ws"), b"")?,
        workspace_tags: clean("workspaceTags", &scope.workspace_tags, None, b":/")?,
    };
    if s.projects.is_empty() && s.workspaces.is_empty() && s.workspace_tags.is_empty() {
        return Err(Problem::new("InvalidScope", "spec.scope must name at least one project, workspace or workspace tag"));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{MethodName, SecretKeyRef, TfcSpec};

    fn spec() -> TfcMcpServerSpec {
        serde_json::from_value(serde_json::json!({
            "tfc": {"tokenSecretRef": {"name": "tfc"}},
        }))
        .unwrap()
    }

    #[test]
    fn defaults_to_read_methods() {
        let valid = validate(&spec()).unwrap();
        assert_eq!(valid.methods, BTreeSet::from(["list".to_owned(), "get".to_owned()]));
        assert_eq!(
            spec().tfc,
            TfcSpec {
                address: "https://app.terraform.io".into(),
                token_secret_ref: SecretKeyRef { name: "tfc".into(), key: "token".into() },
                organizations: vec![],
            }
        );
    }

    #[test]
    fn approval_expands_write_and_checks_tool_names() {
        let mut s: TfcMcpServerSpec = serde_json::from_value(serde_json::json!({
            "tfc": {"tokenSecretRef": {"name": "tfc"}},
            "approval": {"methods": ["write", "custom"], "tools": ["hashicorp_terraform_cloud_runs_apply"]},
        }))
        .unwrap();
        let valid = validate(&s).unwrap();
        let methods: Vec<&str> = valid.approval.methods.iter().map(String::as_str).collect();
        assert_eq!(methods, ["create", "custom", "delete", "update"]);
        assert!(valid.approval.tools.contains("hashicorp_terraform_cloud_runs_apply"));
        assert!(validate(&spec()).unwrap().approval.is_empty());
        s.approval.tools.push("no_such_tool".into());
        let problem = validate(&s).unwrap_err();
        assert_eq!(problem.reason, "UnknownTool");
        assert!(problem.message.contains("spec.approval.tools") && problem.message.contains("no_such_tool"));
        // Read methods are not approval methods: the schema refuses them.
        assert!(
            serde_json::from_value::<TfcMcpServerSpec>(serde_json::json!({
                "tfc": {"tokenSecretRef": {"name": "tfc"}}, "approval": {"methods": ["read"]},
            }))
            .is_err()
        );
    }

    #[test]
    fn expands_groups() {
        let mut s = spec();
        s.methods = vec![MethodName::Write, MethodName::Custom];
        let valid = validate(&s).unwrap();
        assert!(valid.methods.contains("create") && valid.methods.contains("custom") && !valid.methods.contains("list"));
        // `custom` includes `observe`; `read` does not.
        assert!(valid.methods.contains("observe"));
        s.methods = vec![MethodName::Read, MethodName::Observe];
        assert_eq!(validate(&s).unwrap().methods, BTreeSet::from(["list", "get", "observe"].map(str::to_owned)));
        s.methods = vec![MethodName::Read];
        assert!(!validate(&s).unwrap().methods.contains("observe"));
    }

    #[test]
    fn rejects_unknown_tag_and_tool_and_bad_expiry() {
        let mut s = spec();
        s.tags = vec!["workspaces".into(), "nope".into()];
        assert_eq!(validate(&s).unwrap_err().reason, "UnknownTag");

        let mut s = spec();
        s.tools.exclude = vec!["no_such_tool".into()];
        let problem = validate(&s).unwrap_err();
        assert_eq!(problem.reason, "UnknownTool");
        assert!(problem.message.contains("no_such_tool"));

        let mut s = spec();
        s.expires_at = Some("tomorrow".into());
        assert_eq!(validate(&s).unwrap_err().reason, "InvalidExpiresAt");
    }

    #[test]
    fn naming_the_registry_needs_a_gateway_with_one() {
        use tfc_mcp_contract::registry::RegistryDefaults;
        let mut s = spec();
        s.tags = vec!["registry".into(), "workspaces".into()];
        assert!(validate_with(&s, RegistryDefaults::default()).is_ok());
        let off = RegistryDefaults { available: false, for_enterprise_routes: false };
        let problem = validate_with(&s, off).unwrap_err();
        assert_eq!(problem.reason, "RegistryUnavailable");
        assert!(problem.message.contains("gateway.registry.address"), "{}", problem.message);
        s.tags = vec!["workspaces".into()];
        assert!(validate_with(&s, off).is_ok(), "servers that do not name it are unaffected");
    }

    #[test]
    fn oidc_needs_an_https_issuer_and_excludes_the_api_token() {
        let auth = |value: serde_json::Value| serde_json::from_value::<AuthSpec>(value).unwrap();
        assert_eq!(validate_oidc(&auth(serde_json::json!({})), false).unwrap(), None);
        let ok = validate_oidc(&auth(serde_json::json!({"oidc": {"issuer": "https://login.example.com"}})), false).unwrap().unwrap();
        assert_eq!(ok.groups_claim, "groups");
        assert_eq!(ok.audience, None);
        let http = auth(serde_json::json!({"oidc": {"issuer": "http://login.example.com"}}));
        assert_eq!(validate_oidc(&http, true).unwrap_err().reason, "InvalidOidc");
        let loopback = auth(serde_json::json!({"oidc": {"issuer": "http://127.0.0.1:9000/oidc"}}));
        assert_eq!(validate_oidc(&loopback, false).unwrap_err().reason, "InvalidOidc");
        assert!(validate_oidc(&loopback, true).is_ok());
        let both =
            auth(serde_json::json!({"requireApiToken": true, "apiTokenSecretRef": {"name": "t"}, "oidc": {"issuer": "https://x.example"}}));
        assert_eq!(validate_oidc(&both, false).unwrap_err().reason, "AuthConflict");
        let claims = auth(serde_json::json!({"oidc": {"issuer": "https://x.example", "requiredClaims": {"aud": "x"}}}));
        assert_eq!(validate_oidc(&claims, false).unwrap_err().reason, "InvalidOidc");
    }

    #[test]
    fn parses_expiry() {
        let mut s = spec();
        s.expires_at = Some("2026-12-31T23:59:59Z".into());
        assert_eq!(validate(&s).unwrap().expires_at.unwrap().to_rfc3339(), "2026-12-31T23:59:59+00:00");
    }

    #[test]
    fn scope_needs_exactly_one_organization_and_valid_entries() {
        let mut s = spec();
        s.scope = Some(serde_json::from_value(serde_json::json!({"workspaces": ["app-prod", "ws-abc123"]})).unwrap());
        assert_eq!(validate(&s).unwrap_err().reason, "ScopeNeedsOneOrganization");
        s.tfc.organizations = vec!["acme".into(), "other".into()];
        assert_eq!(validate(&s).unwrap_err().reason, "ScopeNeedsOneOrganization");
        s.tfc.organizations = vec!["acme".into()];
        let valid = validate(&s).unwrap().scope.unwrap();
        assert_eq!(valid.workspaces, vec!["app-prod", "ws-abc123"]);
        // Ids of the wrong shape, path characters, empty scopes: refused with the reason.
        for bad in [
            serde_json::json!({"workspaces": ["ws-../x"]}),
            serde_json::json!({"projects": ["prj-"]}),
            serde_json::json!({"workspaces": ["a/b"]}),
            serde_json::json!({"workspaceTags": ["x?y"]}),
            serde_json::json!({"workspaces": ["  "]}),
            serde_json::json!({}),
        ] {
            s.scope = Some(serde_json::from_value(bad.clone()).unwrap());
            assert_eq!(validate(&s).unwrap_err().reason, "InvalidScope", "{bad}");
        }
        s.scope = Some(
            serde_json::from_value(serde_json::json!({"projects": ["Team Payments", "prj-1"], "workspaceTags": ["env:prod", "env:PROD"]}))
                .unwrap(),
        );
        let valid = validate(&s).unwrap().scope.unwrap();
        assert_eq!(valid.projects, vec!["Team Payments", "prj-1"]);
        assert_eq!(valid.workspace_tags, vec!["env:prod"]);
    }
}
