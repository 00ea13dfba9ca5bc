//! Checks the CRD schema cannot make: names that must exist in the gateway's
//! tool catalog and a parseable expiry. A failure is a [`Problem`] that
//! becomes `Ready=False` with its reason, never a crash or a hot requeue.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use tfc_mcp_gateway::catalog::{self, catalog};

use crate::crd::TfcMcpServerSpec;

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
    /// `spec.scope`, trimmed and without repeats.
    pub scope: Option<tfc_mcp_gateway::route::Scope>,
}

pub fn validate(spec: &TfcMcpServerSpec) -> Result<ValidSpec, Problem> {
    validate_with(spec, tfc_mcp_gateway::registry::defaults())
}

/// [`validate`] against the gateway's registry settings (installed from the gateway configuration).
pub fn validate_with(spec: &TfcMcpServerSpec, registry: tfc_mcp_gateway::registry::RegistryDefaults) -> Result<ValidSpec, Problem> {
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

    let scope = spec.scope.as_ref().map(|s| validate_scope(spec, s)).transpose()?;

    Ok(ValidSpec {
        scope,
        methods,
        tags: spec.tags.iter().cloned().collect(),
        include_tools: spec.tools.include.iter().cloned().collect(),
        exclude_tools: spec.tools.exclude.iter().cloned().collect(),
        expires_at,
    })
}

/// Longest project or workspace name HCP Terraform accepts (90) with room to spare.
const MAX_SCOPE_NAME: usize = 128;

/// `spec.scope`: names are only unique within one organization, so a scope
/// needs `tfc.organizations` to name exactly one; entries are ids of the
/// documented shape (`prj-...`, `ws-...`) or names of letters, digits, `-`,
/// `_`, `.` (tags also `:` and `/`, as `key:value`).
fn validate_scope(spec: &TfcMcpServerSpec, scope: &crate::crd::ScopeSpec) -> Result<tfc_mcp_gateway::route::Scope, Problem> {
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
    let s = tfc_mcp_gateway::route::Scope {
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
        use tfc_mcp_gateway::registry::RegistryDefaults;
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
