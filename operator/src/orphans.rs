//! The orphan sweep: a route Secret whose `TfcMcpServer` is gone keeps its
//! URL working, and the finalizer that normally removes it does not run when
//! the server disappears while the operator is down, its finalizer is
//! stripped, or its namespace is force-deleted. The leader therefore lists
//! the route Secrets at start-up and periodically and deletes every one
//! whose recorded owner (namespace, name and uid) no longer exists.

use std::{collections::HashMap, fmt::Debug, time::Duration};

use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, Resource,
    api::{DeleteParams, ListParams, ObjectMeta, PartialObjectMeta, Preconditions},
};
use serde::de::DeserializeOwned;
use tfc_mcp_contract::route::{OWNER_NAME_ANNOTATION, OWNER_NAMESPACE_ANNOTATION, OWNER_UID_ANNOTATION, ROUTE_LABEL};
use tracing::{info, warn};

use crate::{crd::TfcMcpServer, requeue::jittered, secrets::route_secret_name_for};

/// Objects per list page, so a large cluster is read in bounded pieces.
const PAGE: u32 = 500;

/// Sweeps now and then every `interval` (jittered) until the process ends.
pub async fn keep_sweeping(client: Client, gateway_namespace: String, interval: Duration) {
    loop {
        match sweep(&client, &gateway_namespace).await {
            Ok(0) => {}
            Ok(deleted) => info!(deleted, "orphan sweep removed route Secrets whose server no longer exists"),
            Err(error) => warn!(%error, "orphan sweep failed; trying again at the next sweep"),
        }
        tokio::time::sleep(jittered(interval)).await;
    }
}

/// One sweep; returns how many route Secrets it deleted.
///
/// The route Secrets are listed before the servers: a route Secret is only
/// written by a reconcile of a server that existed at that moment, so if its
/// server still exists it is in the later list, even when that server has
/// not been reconciled by this operator yet.
pub async fn sweep(client: &Client, gateway_namespace: &str) -> kube::Result<usize> {
    let route_api: Api<Secret> = Api::namespaced(client.clone(), gateway_namespace);
    let routes = list_metadata(&route_api, ListParams::default().labels(&format!("{ROUTE_LABEL}=true"))).await?;
    if routes.is_empty() {
        return Ok(0);
    }
    let server_api: Api<TfcMcpServer> = Api::all(client.clone());
    let servers: HashMap<(String, String), String> = list_metadata(&server_api, ListParams::default())
        .await?
        .into_iter()
        .filter_map(|s| Some(((s.metadata.namespace?, s.metadata.name?), s.metadata.uid?)))
        .collect();
    let mut deleted = 0;
    for route in routes {
        let Some(reason) = orphan_reason(&route.metadata, &servers) else { continue };
        let name = route.metadata.name.clone().unwrap_or_default();
        // Only the very object judged above: not one rewritten since.
        let preconditions = Preconditions { uid: route.metadata.uid.clone(), resource_version: route.metadata.resource_version.clone() };
        match route_api.delete(&name, &DeleteParams { preconditions: Some(preconditions), ..DeleteParams::default() }).await {
            Ok(_) => {
                info!(secret = %name, reason, "deleted orphaned route Secret");
                deleted += 1;
            }
            Err(kube::Error::Api(status)) if status.is_not_found() || status.is_conflict() => {}
            Err(error) => warn!(secret = %name, %error, "could not delete orphaned route Secret"),
        }
    }
    Ok(deleted)
}

/// Why a route Secret has no live owner, or `None` when its owner exists.
fn orphan_reason(route: &ObjectMeta, servers: &HashMap<(String, String), String>) -> Option<&'static str> {
    let annotation = |key: &str| route.annotations.as_ref().and_then(|a| a.get(key)).filter(|v| !v.is_empty());
    let (Some(namespace), Some(name), Some(uid)) =
        (annotation(OWNER_NAMESPACE_ANNOTATION), annotation(OWNER_NAME_ANNOTATION), annotation(OWNER_UID_ANNOTATION))
    else {
        return Some("the route Secret names no owner");
    };
    match servers.get(&(namespace.clone(), name.clone())) {
        None => Some("its TfcMcpServer no longer exists"),
        Some(live_uid) if live_uid != uid => Some("its TfcMcpServer was deleted and re-created"),
        Some(_) if route.name.as_deref() != Some(route_secret_name_for(namespace, name, uid).as_str()) => {
            Some("it is not the route Secret its TfcMcpServer would have")
        }
        Some(_) => None,
    }
}

/// Every object's metadata, page by page.
async fn list_metadata<K>(api: &Api<K>, params: ListParams) -> kube::Result<Vec<PartialObjectMeta<K>>>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let mut params = params.limit(PAGE);
    let mut all = Vec::new();
    loop {
        let page = api.list_metadata(&params).await?;
        all.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(all),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn route(name: &str, owner: Option<(&str, &str, &str)>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            annotations: owner.map(|(ns, n, uid)| {
                BTreeMap::from([
                    (OWNER_NAMESPACE_ANNOTATION.into(), ns.into()),
                    (OWNER_NAME_ANNOTATION.into(), n.into()),
                    (OWNER_UID_ANNOTATION.into(), uid.into()),
                ])
            }),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn only_routes_without_a_live_owner_are_orphans() {
        let servers = HashMap::from([(("team-a".to_owned(), "prod".to_owned()), "uid-1".to_owned())]);
        // The owner exists (reconciled or not): kept.
        assert_eq!(orphan_reason(&route("tfcmcp.team-a.prod", Some(("team-a", "prod", "uid-1"))), &servers), None);
        // Deleted while the operator was down, finalizer stripped, namespace force-deleted.
        assert!(orphan_reason(&route("tfcmcp.team-a.gone", Some(("team-a", "gone", "uid-9"))), &servers).is_some());
        // Same name, new object: the old route must not serve the new server.
        assert!(orphan_reason(&route("tfcmcp.team-a.prod", Some(("team-a", "prod", "uid-0"))), &servers).is_some());
        // A copy under another name, and a route naming no owner.
        assert!(orphan_reason(&route("tfcmcp.team-a.copy", Some(("team-a", "prod", "uid-1"))), &servers).is_some());
        assert!(orphan_reason(&route("tfcmcp.x", None), &servers).is_some());
        assert!(orphan_reason(&route("tfcmcp.team-a.prod", Some(("team-a", "prod", ""))), &servers).is_some());
    }
}
