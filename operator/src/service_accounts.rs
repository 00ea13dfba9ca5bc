//! `spec.auth.serviceAccounts`: the ServiceAccounts whose projected tokens a
//! server accepts, checked and resolved for the route.
//!
//! Rule on namespaces: an entry without `namespace` means the server's own
//! namespace; an entry may name another namespace. Listing a ServiceAccount
//! grants *that* identity access to this server (over this namespace's own
//! HCP Terraform token); it gives the server's owner nothing, because a
//! token of that ServiceAccount can only be minted by whoever may create
//! tokens or Pods in its namespace, and the gateway takes the identity only
//! from the API server's TokenReview answer, bound to the gateway's
//! audience. Names are checked as Kubernetes names, so no entry can spell a
//! different identity (`a:b`, `*`).

use std::collections::BTreeSet;

use tfc_mcp_contract::route::ServiceAccountName;

use crate::{crd::AuthSpec, validate::Problem};

/// Most ServiceAccounts one server may list (the schema says the same).
pub const MAX_SERVICE_ACCOUNTS: usize = 64;

/// The resolved, sorted, de-duplicated list; a [`Problem`] when an entry is
/// not a valid name or the Bearer schemes conflict.
pub fn resolve(auth: &AuthSpec, server_namespace: &str) -> Result<Vec<ServiceAccountName>, Problem> {
    if auth.service_accounts.is_empty() {
        return Ok(Vec::new());
    }
    if auth.require_api_token {
        return Err(Problem::new(
            "AuthConflict",
            "spec.auth.requireApiToken and spec.auth.serviceAccounts are exclusive: a server takes one kind of Bearer token",
        ));
    }
    if auth.oidc.is_some() {
        return Err(Problem::new(
            "AuthConflict",
            "spec.auth.oidc and spec.auth.serviceAccounts are exclusive: a server takes one kind of Bearer token",
        ));
    }
    if auth.service_accounts.len() > MAX_SERVICE_ACCOUNTS {
        return Err(Problem::new("InvalidServiceAccount", format!("spec.auth.serviceAccounts: at most {MAX_SERVICE_ACCOUNTS} entries")));
    }
    let mut resolved = BTreeSet::new();
    for (index, entry) in auth.service_accounts.iter().enumerate() {
        let namespace = entry.namespace.as_deref().unwrap_or(server_namespace);
        if !is_dns_label(namespace) {
            return Err(Problem::new(
                "InvalidServiceAccount",
                format!("spec.auth.serviceAccounts[{index}].namespace {namespace:?} is not a valid namespace name"),
            ));
        }
        if !is_dns_subdomain(&entry.name) {
            return Err(Problem::new(
                "InvalidServiceAccount",
                format!("spec.auth.serviceAccounts[{index}].name {:?} is not a valid ServiceAccount name", entry.name),
            ));
        }
        resolved.insert(ServiceAccountName { namespace: namespace.to_owned(), name: entry.name.clone() });
    }
    Ok(resolved.into_iter().collect())
}

/// RFC 1123 label: what a namespace name is.
fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// RFC 1123 subdomain: what a ServiceAccount name is.
fn is_dns_subdomain(text: &str) -> bool {
    !text.is_empty() && text.len() <= 253 && text.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ServiceAccountRef;

    fn auth(entries: &[(Option<&str>, &str)]) -> AuthSpec {
        AuthSpec {
            service_accounts: entries
                .iter()
                .map(|(ns, name)| ServiceAccountRef { namespace: ns.map(str::to_owned), name: (*name).to_owned() })
                .collect(),
            ..AuthSpec::default()
        }
    }

    #[test]
    fn namespace_defaults_to_the_servers_and_entries_are_deduplicated() {
        let resolved = resolve(&auth(&[(None, "agent"), (Some("team-a"), "agent"), (Some("ci"), "runner")]), "team-a").unwrap();
        assert_eq!(
            resolved,
            vec![
                ServiceAccountName { namespace: "ci".into(), name: "runner".into() },
                ServiceAccountName { namespace: "team-a".into(), name: "agent".into() },
            ]
        );
        assert_eq!(resolved[1].username(), "system:serviceaccount:team-a:agent");
    }

    #[test]
    fn names_that_could_spell_another_identity_are_refused() {
        for (ns, name) in [(None, "a:b"), (None, "*"), (Some("a:b"), "x"), (None, ""), (Some("Upper"), "x"), (None, "-x")] {
            let problem = resolve(&auth(&[(ns, name)]), "team-a").unwrap_err();
            assert_eq!(problem.reason, "InvalidServiceAccount", "{ns:?} {name:?}");
        }
        assert!(resolve(&auth(&[(None, "agent.v2")]), "team-a").is_ok());
    }

    #[test]
    fn api_token_and_service_accounts_are_exclusive() {
        let mut spec = auth(&[(None, "agent")]);
        spec.require_api_token = true;
        assert_eq!(resolve(&spec, "team-a").unwrap_err().reason, "AuthConflict");
        assert_eq!(resolve(&AuthSpec::default(), "team-a").unwrap(), vec![]);
        let mut spec = auth(&[(None, "agent")]);
        spec.oidc = Some(crate::crd::OidcSpec { issuer: "https://login.example.com".into(), ..Default::default() });
        assert_eq!(resolve(&spec, "team-a").unwrap_err().reason, "AuthConflict");
    }
}
