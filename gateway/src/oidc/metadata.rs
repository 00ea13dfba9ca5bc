//! Protected resource metadata (RFC 9728) and the `WWW-Authenticate`
//! challenges of routes with `oidc`, as the MCP authorization specification
//! (2025-06-18 and later) asks: a 401 names the metadata URL, the metadata
//! names the issuer as the authorization server, and MCP clients find the
//! rest (discovery, dynamic client registration, PKCE) by themselves.
//!
//! The metadata of `<base>/mcp/<token>` is at
//! `<base>/.well-known/oauth-protected-resource/mcp/<token>` (the well-known
//! segment inserted before the path, RFC 9728 section 3.1).

use serde_json::{Value, json};

use crate::route::OidcSettings;

/// The path prefix of protected resource metadata.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/oauth-protected-resource";

/// The metadata URL of the resource at `resource_path` (`/mcp/<token>`).
pub fn metadata_url(base: &str, resource_path: &str) -> String {
    format!("{}{WELL_KNOWN_PREFIX}{resource_path}", base.trim_end_matches('/'))
}

/// The metadata document of one resource.
pub fn document(resource: &str, oidc: &OidcSettings, display_name: Option<&str>) -> Value {
    let mut doc = json!({
        "resource": resource,
        "authorization_servers": [oidc.issuer],
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": ["RS256", "ES256"],
    });
    if let Some(name) = display_name {
        doc["resource_name"] = json!(name);
    }
    doc
}

/// `Bearer resource_metadata="..."[, error="...", error_description="..."]`.
/// Only fixed descriptions and URLs built from the base URL and a route path
/// (base64url token) go in, so no quoting is needed beyond refusing `"`.
pub fn challenge(metadata_url: &str, error: Option<(&str, &str)>) -> String {
    let url: String = metadata_url.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect();
    match error {
        None => format!(r#"Bearer resource_metadata="{url}""#),
        Some((code, description)) => format!(r#"Bearer resource_metadata="{url}", error="{code}", error_description="{description}""#),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_url_inserts_the_well_known_segment() {
        assert_eq!(
            metadata_url("https://mcp.example.com/", "/mcp/tfcmcp_x"),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp/tfcmcp_x"
        );
        assert_eq!(
            challenge("https://a/b", Some(("invalid_token", "expired"))),
            r#"Bearer resource_metadata="https://a/b", error="invalid_token", error_description="expired""#
        );
    }
}
