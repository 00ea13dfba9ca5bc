//! Wires the reconcile to the API server: watch TfcMcpServers, and every
//! Secret that one of them references or owns, so a Secret appearing or
//! changing reaches the server within a watch event. Secrets are watched as
//! metadata only: the operator never holds the cluster's Secret data in
//! memory, only the few Secrets a reconcile reads.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, ResourceExt,
    core::PartialObjectMeta,
    runtime::{
        Controller, PredicateConfig, WatchStreamExt,
        controller::Config as ControllerConfig,
        reflector::{self, ObjectRef},
        watcher,
    },
};
use tfc_mcp_contract::route::{OWNER_NAME_ANNOTATION, OWNER_NAMESPACE_ANNOTATION, ROUTE_LABEL};
use tracing::{debug, info};

use crate::{
    context::{Context, Settings},
    crd::TfcMcpServer,
    metrics::Metrics,
    own_writes::OwnWrites,
    reconcile::{error_policy, reconcile},
};

pub async fn run(client: Client, settings: Settings, metrics: Metrics) {
    let servers: Api<TfcMcpServer> = Api::all(client.clone());
    // `PartialObjectMeta` makes list and watch metadata-only requests.
    let secrets: Api<PartialObjectMeta<Secret>> = Api::all(client.clone());
    let concurrency = settings.max_concurrent_reconciles;
    // Status-only changes (the operator's own status writes) start no reconcile; see `reconcile_inputs`.
    let (reader, writer) = reflector::store();
    let changes = watcher(servers, watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .touched_objects()
        .predicate_filter(reconcile_inputs, PredicateConfig::default());
    let controller = Controller::for_stream(changes, reader).with_config(ControllerConfig::default().concurrency(concurrency));
    let store = controller.store();
    let gateway_namespace = settings.gateway_namespace.clone();
    let own_writes = Arc::new(OwnWrites::default());
    let ctx = Arc::new(Context::new(client, settings, metrics, own_writes.clone()));
    info!(max_concurrent_reconciles = concurrency, "operator started");
    controller
        .watches(secrets, watcher::Config::default(), move |secret| {
            // The event of the operator's own write: the reconcile that wrote it is done with it.
            if own_writes.is_own(&secret.namespace().unwrap_or_default(), &secret.name_any(), secret.resource_version().as_deref()) {
                return Vec::new();
            }
            servers_for_secret(&store, &gateway_namespace, &secret)
        })
        .shutdown_on_signal()
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Ok((object, _)) = result {
                debug!(server = %object, "reconciled");
            }
        })
        .await;
    info!("operator stopped");
}

/// What a reconcile acts on, hashed: the spec (its generation, which also
/// moves when deletion starts) and the annotations (a token rotation
/// request). A change to anything else - the status and the finalizer the
/// operator itself writes - starts no reconcile; the periodic resync still
/// comes (and puts back a finalizer someone removed).
fn reconcile_inputs(server: &TfcMcpServer) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    server.metadata.generation.hash(&mut hasher);
    server.annotations().hash(&mut hasher);
    server.metadata.deletion_timestamp.is_some().hash(&mut hasher);
    Some(hasher.finish())
}

/// The servers a Secret matters to: the owner of an access Secret, the
/// owner named on a route Secret, and every server in the Secret's namespace
/// that references it by name.
fn servers_for_secret(
    store: &kube::runtime::reflector::Store<TfcMcpServer>,
    gateway_namespace: &str,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<TfcMcpServer>> {
    let namespace = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    let mut refs: Vec<ObjectRef<TfcMcpServer>> =
        secret.owner_references().iter().filter(|o| o.kind == "TfcMcpServer").map(|o| ObjectRef::new(&o.name).within(&namespace)).collect();
    // Owner annotations may name any namespace, so they count only on the
    // operator's own route Secrets: a tenant's Secret carrying another
    // tenant's coordinates must not make the operator reconcile that server.
    let annotations = secret.annotations();
    let is_route = namespace == gateway_namespace && secret.labels().get(ROUTE_LABEL).is_some_and(|v| v == "true");
    if is_route && let (Some(ns), Some(owner)) = (annotations.get(OWNER_NAMESPACE_ANNOTATION), annotations.get(OWNER_NAME_ANNOTATION)) {
        refs.push(ObjectRef::new(owner).within(ns));
    }
    refs.extend(
        store
            .state()
            .iter()
            .filter(|s| s.namespace().as_deref() == Some(namespace.as_str()))
            .filter(|s| {
                s.spec.tfc.token_secret_ref.name == name || s.spec.auth.api_token_secret_ref.as_ref().is_some_and(|r| r.name == name)
            })
            .map(|s| ObjectRef::from_obj(s.as_ref())),
    );
    refs
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn secret(namespace: &str, route_label: bool) -> PartialObjectMeta<Secret> {
        let mut secret: PartialObjectMeta<Secret> = PartialObjectMeta::default();
        secret.metadata.name = Some("s".into());
        secret.metadata.namespace = Some(namespace.into());
        secret.metadata.annotations = Some(BTreeMap::from([
            (OWNER_NAMESPACE_ANNOTATION.to_owned(), "victim".to_owned()),
            (OWNER_NAME_ANNOTATION.to_owned(), "prod".to_owned()),
        ]));
        if route_label {
            secret.metadata.labels = Some(BTreeMap::from([(ROUTE_LABEL.to_owned(), "true".to_owned())]));
        }
        secret
    }

    #[test]
    fn status_and_finalizer_changes_start_no_reconcile_but_spec_annotations_and_deletion_do() {
        let mut server =
            TfcMcpServer::new("prod", serde_json::from_value(serde_json::json!({"tfc": {"tokenSecretRef": {"name": "t"}}})).unwrap());
        server.metadata.generation = Some(1);
        let base = reconcile_inputs(&server);
        let mut status_only = server.clone();
        status_only.status = Some(Default::default());
        status_only.metadata.resource_version = Some("99".into());
        assert_eq!(reconcile_inputs(&status_only), base);
        let mut spec = server.clone();
        spec.metadata.generation = Some(2);
        let mut rotated = server.clone();
        rotated.metadata.annotations = Some(BTreeMap::from([("tfcmcp.dev/rotate-token".to_owned(), "1".to_owned())]));
        let mut finalized = server.clone();
        finalized.metadata.finalizers = Some(vec!["tfcmcp.dev/cleanup".into()]);
        assert_eq!(reconcile_inputs(&finalized), base, "the finalizer is added by the reconcile that goes on");
        let mut deleting = server.clone();
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now()));
        for changed in [spec, rotated, deleting] {
            assert_ne!(reconcile_inputs(&changed), base);
        }
    }

    #[test]
    fn owner_annotations_count_only_on_route_secrets_in_the_gateway_namespace() {
        let (store, _writer) = kube::runtime::reflector::store::<TfcMcpServer>();
        let victim = ObjectRef::<TfcMcpServer>::new("prod").within("victim");
        assert_eq!(servers_for_secret(&store, "tfc-mcp-system", &secret("tfc-mcp-system", true)), vec![victim]);
        // A tenant's Secret naming another tenant's server, labelled or not, triggers nothing.
        assert!(servers_for_secret(&store, "tfc-mcp-system", &secret("tenant", true)).is_empty());
        assert!(servers_for_secret(&store, "tfc-mcp-system", &secret("tenant", false)).is_empty());
        assert!(servers_for_secret(&store, "tfc-mcp-system", &secret("tfc-mcp-system", false)).is_empty());
    }
}
