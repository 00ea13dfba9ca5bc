//! The two Secrets the operator writes for a server: the access Secret (for
//! the user, in the server's namespace, owned by the server) and the route
//! Secret (for the gateway, in the gateway namespace; see
//! `tfc_mcp_contract::route` for its contract).

use std::collections::BTreeMap;

use k8s_openapi::{ByteString, api::core::v1::Secret};
use kube::{Resource, ResourceExt, api::ObjectMeta};
use serde_json::json;
use tfc_mcp_contract::route::{
    OWNER_NAME_ANNOTATION, OWNER_NAMESPACE_ANNOTATION, OWNER_UID_ANNOTATION, ROUTE_KEY, ROUTE_LABEL, Route, TFC_TOKEN_KEY, sha256_hex,
};

use crate::crd::TfcMcpServer;

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "tfc-mcp-operator";
/// Annotation on the server that requests a new URL token when its value changes.
pub const ROTATE_ANNOTATION: &str = "tfcmcp.dev/rotate-token";
/// Annotation on the access Secret recording which rotation request its token answers.
pub const ROTATED_FOR_ANNOTATION: &str = "tfcmcp.dev/rotated-for";

/// Keys of the access Secret.
pub const URL_KEY: &str = "url";
pub const SSE_URL_KEY: &str = "sse-url";
pub const TOKEN_KEY: &str = "token";
pub const MCP_JSON_KEY: &str = "mcp.json";
pub const CLAUDE_CODE_KEY: &str = "claude-code.txt";
pub const CLAUDE_DESKTOP_KEY: &str = "claude-desktop.json";

/// Name of the access Secret for a server.
pub fn access_secret_name(server: &TfcMcpServer) -> String {
    format!("{}-mcp", server.name_any())
}

/// Name of the route Secret: readable when it fits, the owner's uid otherwise.
/// Namespaces cannot contain dots, so `namespace.name` is unique.
pub fn route_secret_name(server: &TfcMcpServer) -> String {
    route_secret_name_for(&server.namespace().unwrap_or_default(), &server.name_any(), &server.uid().unwrap_or_default())
}

/// [`route_secret_name`] from the owner's coordinates (as the route Secret's annotations record them).
pub fn route_secret_name_for(namespace: &str, name: &str, uid: &str) -> String {
    let readable = format!("tfcmcp.{namespace}.{name}");
    if readable.len() <= 253 { readable } else { format!("tfcmcp.{uid}") }
}

/// The rotation request the server currently carries ("" when none).
pub fn rotation_request(server: &TfcMcpServer) -> String {
    server.annotations().get(ROTATE_ANNOTATION).cloned().unwrap_or_default()
}

/// The URL token in an existing access Secret, if it still answers the
/// server's current rotation request.
pub fn current_token(access: &Secret, server: &TfcMcpServer) -> Option<String> {
    let rotated_for = access.annotations().get(ROTATED_FOR_ANNOTATION).cloned().unwrap_or_default();
    if rotated_for != rotation_request(server) {
        return None;
    }
    let bytes = access.data.as_ref()?.get(TOKEN_KEY)?;
    let token = String::from_utf8(bytes.0.clone()).ok()?;
    crate::token::is_well_formed(&token).then_some(token)
}

/// True when the access Secret is ours (owned by this very server).
pub fn is_owned_by(secret: &Secret, server: &TfcMcpServer) -> bool {
    let uid = server.uid();
    secret.owner_references().iter().any(|o| o.kind == "TfcMcpServer" && Some(&o.uid) == uid.as_ref())
}

/// True when the route Secret was written for this very server (same
/// namespace, name and uid; a re-created server with the same name is not
/// the owner of its predecessor's route).
pub fn is_route_of(route: &Secret, server: &TfcMcpServer) -> bool {
    let annotations = route.annotations();
    let matches = |key: &str, value: Option<String>| value.is_some_and(|v| !v.is_empty() && annotations.get(key) == Some(&v));
    matches(OWNER_UID_ANNOTATION, server.uid())
        && matches(OWNER_NAMESPACE_ANNOTATION, server.namespace())
        && matches(OWNER_NAME_ANNOTATION, Some(server.name_any()))
}

/// True when `token` is the URL token the route Secret serves. The access
/// Secret lives in the tenant's namespace and anyone there can write it; the
/// route Secret, in the gateway namespace, is the operator's own record of
/// which token it minted. Only a token that hashes to it is kept.
pub fn route_serves(route: &Secret, token: &str) -> bool {
    let Some(document) = route.data.as_ref().and_then(|d| d.get(ROUTE_KEY)) else { return false };
    let Ok(route) = serde_json::from_slice::<serde_json::Value>(&document.0) else { return false };
    route.get("tokenSha256").and_then(serde_json::Value::as_str) == Some(sha256_hex(token).as_str())
}

/// True when `existing` already holds everything `desired` sets: the same
/// type and data, and each of its labels, annotations and owners. Applying
/// `desired` again would change nothing.
pub fn holds(existing: &Secret, desired: &Secret) -> bool {
    let contains = |have: Option<&BTreeMap<String, String>>, want: Option<&BTreeMap<String, String>>| {
        want.is_none_or(|want| want.iter().all(|(k, v)| have.and_then(|h| h.get(k)) == Some(v)))
    };
    existing.type_ == desired.type_
        && existing.data == desired.data
        && contains(existing.metadata.labels.as_ref(), desired.metadata.labels.as_ref())
        && contains(existing.metadata.annotations.as_ref(), desired.metadata.annotations.as_ref())
        && desired.owner_references().iter().all(|want| existing.owner_references().contains(want))
}

pub struct Urls {
    pub url: String,
    pub sse_url: String,
}

pub fn urls(public_base_url: &str, token: &str) -> Urls {
    let base = public_base_url.trim_end_matches('/');
    Urls { url: format!("{base}/mcp/{token}"), sse_url: format!("{base}/mcp/{token}/sse") }
}

/// The access Secret: everything a user needs to connect a client.
pub fn access_secret(server: &TfcMcpServer, token: &str, urls: &Urls) -> Secret {
    let placeholder = if server.spec.auth.require_api_token {
        Some("Bearer <your API token>")
    } else if !server.spec.auth.service_accounts.is_empty() {
        Some("Bearer <a projected ServiceAccount token for the gateway's audience>")
    } else {
        None
    };
    let configs = client_configs(&server.name_any(), &urls.url, placeholder);
    let data = BTreeMap::from([
        (URL_KEY.to_owned(), bytes(&urls.url)),
        (SSE_URL_KEY.to_owned(), bytes(&urls.sse_url)),
        (TOKEN_KEY.to_owned(), bytes(token)),
        (MCP_JSON_KEY.to_owned(), bytes(&configs.cursor)),
        (CLAUDE_CODE_KEY.to_owned(), bytes(&configs.claude_code)),
        (CLAUDE_DESKTOP_KEY.to_owned(), bytes(&configs.claude_desktop)),
    ]);
    Secret {
        metadata: ObjectMeta {
            name: Some(access_secret_name(server)),
            namespace: server.namespace(),
            labels: Some(managed_labels()),
            annotations: Some(BTreeMap::from([(ROTATED_FOR_ANNOTATION.to_owned(), rotation_request(server))])),
            owner_references: server.controller_owner_ref(&()).map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(data),
        ..Secret::default()
    }
}

/// Ready-to-paste client configurations (shapes from each client's docs).
struct ClientConfigs {
    /// Cursor's `~/.cursor/mcp.json`, also the generic `mcpServers` shape.
    cursor: String,
    /// A `claude mcp add` command for Claude Code.
    claude_code: String,
    /// Claude Desktop through the `mcp-remote` stdio bridge.
    claude_desktop: String,
}

/// `placeholder`: the `Authorization` value to fill in, when the server wants a Bearer token.
fn client_configs(name: &str, url: &str, placeholder: Option<&str>) -> ClientConfigs {
    let mut cursor_entry = json!({ "url": url });
    let mut bridge_args = vec![json!("mcp-remote"), json!(url)];
    let mut bridge = json!({ "command": "npx" });
    let mut claude_code = format!("claude mcp add --transport http {name} {url}");
    if let Some(placeholder) = placeholder {
        cursor_entry["headers"] = json!({ "Authorization": placeholder });
        bridge_args.extend([json!("--header"), json!("Authorization:${AUTH_HEADER}")]);
        bridge["env"] = json!({ "AUTH_HEADER": placeholder });
        claude_code.push_str(&format!(" --header \"Authorization: {placeholder}\""));
    }
    bridge["args"] = json!(bridge_args);
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    ClientConfigs {
        cursor: pretty(json!({ "mcpServers": { name: cursor_entry } })),
        claude_code: format!("{claude_code}\n"),
        claude_desktop: pretty(json!({ "mcpServers": { name: bridge } })),
    }
}

/// The route Secret: the route document and the upstream token.
pub fn route_secret(server: &TfcMcpServer, gateway_namespace: &str, route: &Route, tfc_token: &str) -> Result<Secret, serde_json::Error> {
    let mut labels = managed_labels();
    labels.insert(ROUTE_LABEL.to_owned(), "true".to_owned());
    let annotations = BTreeMap::from([
        (OWNER_NAMESPACE_ANNOTATION.to_owned(), server.namespace().unwrap_or_default()),
        (OWNER_NAME_ANNOTATION.to_owned(), server.name_any()),
        (OWNER_UID_ANNOTATION.to_owned(), server.uid().unwrap_or_default()),
    ]);
    let data =
        BTreeMap::from([(ROUTE_KEY.to_owned(), ByteString(serde_json::to_vec(route)?)), (TFC_TOKEN_KEY.to_owned(), bytes(tfc_token))]);
    Ok(Secret {
        metadata: ObjectMeta {
            name: Some(route_secret_name(server)),
            namespace: Some(gateway_namespace.to_owned()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(data),
        ..Secret::default()
    })
}

fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned())])
}

fn bytes(s: &str) -> ByteString {
    ByteString(s.as_bytes().to_vec())
}

/// Reads one key of a Secret as UTF-8 text, trimmed of surrounding whitespace
/// (a trailing newline from `kubectl create secret --from-file` is common).
pub fn read_key(secret: &Secret, key: &str) -> Option<String> {
    let value = secret.data.as_ref()?.get(key)?;
    let text = std::str::from_utf8(&value.0).ok()?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Every non-empty value of a Secret, trimmed (for API-token Secrets).
pub fn all_values(secret: &Secret) -> Vec<String> {
    secret
        .data
        .iter()
        .flatten()
        .filter_map(|(_, v)| std::str::from_utf8(&v.0).ok().map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str) -> TfcMcpServer {
        let mut s = TfcMcpServer::new(name, serde_json::from_value(json!({"tfc": {"tokenSecretRef": {"name": "tfc"}}})).unwrap());
        s.metadata.namespace = Some("team-a".into());
        s.metadata.uid = Some("uid-1".into());
        s
    }

    #[test]
    fn access_secret_holds_url_token_and_client_config() {
        let s = server("prod");
        let token = crate::token::mint();
        let u = urls("https://mcp.example.com/", &token);
        let secret = access_secret(&s, &token, &u);
        assert_eq!(secret.metadata.name.as_deref(), Some("prod-mcp"));
        assert_eq!(read_key(&secret, URL_KEY).unwrap(), format!("https://mcp.example.com/mcp/{token}"));
        assert_eq!(read_key(&secret, SSE_URL_KEY).unwrap(), format!("https://mcp.example.com/mcp/{token}/sse"));
        let config: serde_json::Value = serde_json::from_str(&read_key(&secret, MCP_JSON_KEY).unwrap()).unwrap();
        assert_eq!(config["mcpServers"]["prod"]["url"], u.url.as_str());
        assert!(is_owned_by(&secret, &s));
        assert_eq!(read_key(&secret, CLAUDE_CODE_KEY).unwrap(), format!("claude mcp add --transport http prod {}", u.url));
        let desktop: serde_json::Value = serde_json::from_str(&read_key(&secret, CLAUDE_DESKTOP_KEY).unwrap()).unwrap();
        assert_eq!(desktop["mcpServers"]["prod"]["args"], json!(["mcp-remote", u.url]));
        assert_eq!(current_token(&secret, &s).as_deref(), Some(token.as_str()));
    }

    #[test]
    fn an_unchanged_secret_is_recognised_and_any_change_is_not() {
        let s = server("prod");
        let token = crate::token::mint();
        let desired = access_secret(&s, &token, &urls("https://mcp.example.com", &token));
        let mut existing = desired.clone();
        // What the API server adds (and labels of others) does not matter.
        existing.metadata.resource_version = Some("7".into());
        existing.metadata.labels.get_or_insert_default().insert("team".into(), "a".into());
        assert!(holds(&existing, &desired));
        let mut changed = existing.clone();
        changed.data.get_or_insert_default().insert(TOKEN_KEY.into(), bytes("other"));
        assert!(!holds(&changed, &desired), "other data");
        let mut extra = existing.clone();
        extra.data.get_or_insert_default().insert("extra".into(), bytes("x"));
        assert!(!holds(&extra, &desired), "other keys: applied again, as before");
        let mut relabelled = existing.clone();
        relabelled.metadata.labels.get_or_insert_default().insert(MANAGED_BY_LABEL.into(), "someone".into());
        assert!(!holds(&relabelled, &desired), "one of our labels changed");
        let mut orphaned = existing.clone();
        orphaned.metadata.owner_references = None;
        assert!(!holds(&orphaned, &desired), "owner removed");
        let mut rotated = existing;
        rotated.metadata.annotations.get_or_insert_default().insert(ROTATED_FOR_ANNOTATION.into(), "x".into());
        assert!(!holds(&rotated, &desired), "annotation changed");
    }

    #[test]
    fn client_configs_carry_the_api_token_header_when_required() {
        let configs = client_configs("prod", "https://h/mcp/t", Some("Bearer <your API token>"));
        let cursor: serde_json::Value = serde_json::from_str(&configs.cursor).unwrap();
        assert_eq!(cursor["mcpServers"]["prod"]["headers"]["Authorization"], "Bearer <your API token>");
        assert!(configs.claude_code.contains("--header"));
        let desktop: serde_json::Value = serde_json::from_str(&configs.claude_desktop).unwrap();
        assert_eq!(desktop["mcpServers"]["prod"]["env"]["AUTH_HEADER"], "Bearer <your API token>");
    }

    #[test]
    fn rotation_request_invalidates_current_token() {
        let mut s = server("prod");
        let token = crate::token::mint();
        let secret = access_secret(&s, &token, &urls("http://x", &token));
        s.metadata.annotations = Some(BTreeMap::from([(ROTATE_ANNOTATION.to_owned(), "2026-01-01".to_owned())]));
        assert_eq!(current_token(&secret, &s), None);
    }

    fn route_for(owner: &TfcMcpServer, token: &str) -> Secret {
        let mut route: Route = serde_json::from_value(json!({
            "version": 1, "tokenSha256": "", "server": "team-a/prod", "tfcAddress": "https://app.terraform.io", "methods": ["get"],
        }))
        .unwrap();
        route.token_sha256 = sha256_hex(token);
        route_secret(owner, "tfc-mcp-system", &route, "upstream").unwrap()
    }

    #[test]
    fn a_token_is_kept_only_when_the_servers_own_route_serves_it() {
        let victim_token = crate::token::mint();
        let own_token = crate::token::mint();
        let s = server("prod");
        let own_route = route_for(&s, &own_token);
        assert!(is_route_of(&own_route, &s));
        assert!(route_serves(&own_route, &own_token));
        // A token copied into the tenant-writable access Secret does not match.
        assert!(!route_serves(&own_route, &victim_token));
        // Another server's route (or this name's predecessor, another uid) is not ours.
        let mut recreated = server("prod");
        recreated.metadata.uid = Some("uid-2".into());
        assert!(!is_route_of(&own_route, &recreated));
        assert!(!is_route_of(&route_for(&server("other"), &own_token), &s));
        let mut garbled = own_route.clone();
        garbled.data.as_mut().unwrap().insert(ROUTE_KEY.into(), bytes("not json"));
        assert!(!route_serves(&garbled, &own_token));
    }

    #[test]
    fn route_secret_name_falls_back_to_uid_when_too_long() {
        assert_eq!(route_secret_name(&server("prod")), "tfcmcp.team-a.prod");
        assert_eq!(route_secret_name(&server(&"x".repeat(250))), "tfcmcp.uid-1");
    }
}
