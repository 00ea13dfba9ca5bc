//! The reconcile of one `TfcMcpServer`, top to bottom:
//! validate -> expire? -> read credentials -> keep or mint the URL token ->
//! write the route and access Secrets -> write status -> requeue for expiry.
//! A finalizer removes the route Secret, which an ownerReference cannot reach
//! across namespaces.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Resource, ResourceExt,
    api::{DeleteParams, Patch, PatchParams, Preconditions},
    runtime::{
        controller::Action,
        events::{Event, EventType},
        finalizer::{Event as FinalizerEvent, finalizer},
    },
};
use serde_json::json;
use tfc_mcp_contract::{
    filter::ToolFilter,
    route::{self, Route, StateSettings, UpstreamSettings},
};
use tracing::{info, warn};

use crate::{
    context::Context,
    crd::{ExpiryPolicy, SecretKeyRef, TfcMcpServer, TfcMcpServerStatus},
    error::{Error, Result},
    requeue,
    secrets::{self, access_secret, access_secret_name, current_token, is_owned_by, route_secret, route_secret_name},
    service_accounts,
    status::{self, EXPIRED, READY},
    token,
    validate::{Problem, ValidSpec, validate, validate_oidc},
};

pub const FINALIZER: &str = "tfcmcp.dev/cleanup";
pub const FIELD_MANAGER: &str = "tfc-mcp-operator";
/// A healthy server is reconciled at least this often, to repair drift.
const RESYNC: Duration = Duration::from_secs(10 * 60);
/// A server blocked on something outside its spec (a missing Secret) is
/// retried this often even without a watch event, in case one was missed.
const RETRY_BLOCKED: Duration = Duration::from_secs(2 * 60);

pub async fn reconcile(server: Arc<TfcMcpServer>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.time_reconcile();
    let namespace = server.namespace().ok_or(Error::NoNamespace)?;
    let servers: Api<TfcMcpServer> = Api::namespaced(ctx.client.clone(), &namespace);
    let server_key = key(&server);
    // The finalizer is added here and the reconcile goes on, rather than
    // ending and waiting for the watch event of the finalizer (which starts
    // no reconcile: see `controller::reconcile_inputs`).
    let server = if server.meta().deletion_timestamp.is_none() && !server.finalizers().iter().any(|f| f == FINALIZER) {
        let body = json!({
            "apiVersion": "tfcmcp.dev/v1alpha1", "kind": "TfcMcpServer",
            "metadata": { "name": server.name_any(), "finalizers": [FINALIZER] },
        });
        Arc::new(servers.patch(&server.name_any(), &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(body)).await?)
    } else {
        server
    };
    let action = finalizer(&servers, FINALIZER, server, |event| async {
        match event {
            FinalizerEvent::Apply(server) => apply(&server, &ctx).await,
            FinalizerEvent::Cleanup(server) => cleanup(&server, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))?;
    ctx.backoff.succeeded(&server_key);
    Ok(action)
}

/// Retries a failed server after an exponential, jittered, per-server delay.
pub fn error_policy(server: Arc<TfcMcpServer>, error: &Error, ctx: Arc<Context>) -> Action {
    let retry = ctx.backoff.failed(&key(&server));
    warn!(server = %key(&server), error = %error, retry_ms = retry.as_millis() as u64, "reconcile failed");
    ctx.metrics.reconcile_failed(error.metric_label());
    Action::requeue(retry)
}

async fn apply(server: &TfcMcpServer, ctx: &Context) -> Result<Action> {
    let namespace = server.namespace().ok_or(Error::NoNamespace)?;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);

    // 1. What the schema could not check.
    let valid = match validate(&server.spec) {
        Ok(valid) => valid,
        Err(problem) => return block(server, ctx, problem, None).await,
    };
    let oidc = match validate_oidc(&server.spec.auth, ctx.settings.allow_insecure_oidc_issuers) {
        Ok(oidc) => oidc,
        Err(problem) => return block(server, ctx, problem, None).await,
    };
    let service_accounts = match service_accounts::resolve(&server.spec.auth, &namespace) {
        Ok(accounts) => accounts,
        Err(problem) => return block(server, ctx, problem, None).await,
    };
    if let Err(refused) = ctx.settings.tfc_addresses.check(&server.spec.tfc.address) {
        let problem = Problem::new("AddressNotAllowed", format!("spec.tfc.address: {refused}"));
        return block(server, ctx, problem, None).await;
    }

    // 2. Expiry is decided before anything is read or minted.
    if valid.expires_at.is_some_and(|at| at <= Utc::now()) {
        return expire(server, ctx).await;
    }

    // 3. Credentials the spec references, from this namespace only.
    let tfc_token = match read_tfc_token(&secrets, &server.spec.tfc.token_secret_ref).await? {
        Ok(token) => token,
        Err(problem) => return block(server, ctx, problem, Some(RETRY_BLOCKED)).await,
    };
    let api_token_hashes = match read_api_token_hashes(&secrets, server).await? {
        Ok(hashes) => hashes,
        Err(problem) => return block(server, ctx, problem, Some(RETRY_BLOCKED)).await,
    };

    // 4. The URL token: stable across reconciles, new when rotation is requested.
    let access_name = access_secret_name(server);
    let existing = secrets.get_opt(&access_name).await?;
    if existing.as_ref().is_some_and(|s| !is_owned_by(s, server)) {
        let problem =
            Problem::new("AccessSecretConflict", format!("Secret {access_name} already exists and is not owned by this TfcMcpServer"));
        return block(server, ctx, problem, Some(RETRY_BLOCKED)).await;
    }
    // The access Secret is tenant-writable: its token is kept only when the
    // route Secret this server owns (in the gateway namespace) serves it.
    let offered = existing.as_ref().and_then(|s| current_token(s, server));
    // Without a token on offer a new one is minted and the route changes anyway: no need to read it.
    let owned_route = match offered {
        Some(_) => {
            let gateway_secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &ctx.settings.gateway_namespace);
            gateway_secrets.get_opt(&route_secret_name(server)).await?.filter(|r| secrets::is_route_of(r, server))
        }
        None => None,
    };
    let kept = offered.clone().filter(|t| owned_route.as_ref().is_some_and(|r| secrets::route_serves(r, t)));
    if offered.is_some() && kept.is_none() {
        warn!(server = %key(server), "the token in the access Secret is not the one this server's route serves; minting a new one");
    }
    let (url_token, minted) = match kept {
        Some(token) => (token, false),
        None => (token::mint(), true),
    };
    let fingerprint = route::fingerprint(&url_token);

    // 5. Route first, then the access Secret: a URL the user can see already works.
    let mut route = build_route(server, &valid, &url_token, api_token_hashes, service_accounts);
    route.oidc = oidc;
    route.version = route.format_version();
    let route_secret = route_secret(server, &ctx.settings.gateway_namespace, &route, &tfc_token)
        .map_err(|source| Error::Encode { what: "route", source })?;
    // Unchanged Secrets are not written again: a resync or a follow-up reconcile costs reads only.
    if !owned_route.as_ref().is_some_and(|r| secrets::holds(r, &route_secret)) {
        apply_secret(ctx, &ctx.settings.gateway_namespace, &route_secret).await?;
    }
    let urls = secrets::urls(&ctx.settings.public_base_url, &url_token);
    let access = access_secret(server, &url_token, &urls);
    if !existing.as_ref().is_some_and(|e| secrets::holds(e, &access)) {
        apply_secret(ctx, &namespace, &access).await?;
    }
    if minted {
        info!(server = %key(server), fingerprint = %fingerprint, "minted URL token");
        publish(
            ctx,
            server,
            EventType::Normal,
            "TokenMinted",
            format!("Minted URL token {fingerprint}; the URL is in Secret {access_name}"),
        )
        .await;
    }

    // 6. Status.
    let tool_count = ToolFilter::from_route(&route).count();
    let previous = previous_conditions(server);
    let status = TfcMcpServerStatus {
        conditions: vec![
            status::condition(
                &previous,
                READY,
                true,
                "Ready",
                &format!("Serving {tool_count} tools at the URL in Secret {access_name}"),
                server.meta().generation,
            ),
            status::condition(&previous, EXPIRED, false, "NotExpired", "", server.meta().generation),
        ],
        access_secret_name: Some(access_name),
        token_fingerprint: Some(fingerprint),
        tool_count: Some(u32::try_from(tool_count).unwrap_or(u32::MAX)),
        expires_at: valid.expires_at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        observed_generation: server.meta().generation,
    };
    write_status(server, ctx, status).await?;

    // 7. Come back at the expiry instant.
    let resync = requeue::jittered(RESYNC);
    Ok(Action::requeue(until(valid.expires_at).map_or(resync, |d| d.min(resync))))
}

/// The server cannot be served: remove its route, say why, and wait.
async fn block(server: &TfcMcpServer, ctx: &Context, problem: Problem, retry: Option<Duration>) -> Result<Action> {
    warn!(server = %key(server), reason = problem.reason, message = %problem.message, "server not ready");
    delete_secret(ctx, &ctx.settings.gateway_namespace, &route_secret_name(server)).await?;
    let previous = previous_conditions(server);
    let status = TfcMcpServerStatus {
        conditions: vec![
            status::condition(&previous, READY, false, problem.reason, &problem.message, server.meta().generation),
            status::condition(&previous, EXPIRED, false, "NotExpired", "", server.meta().generation),
        ],
        observed_generation: server.meta().generation,
        ..server.status.clone().unwrap_or_default()
    };
    write_status(server, ctx, status).await?;
    Ok(retry.map_or_else(Action::await_change, |r| Action::requeue(requeue::jittered(r))))
}

/// `expiresAt` has passed: revoke, then delete or retain the resource.
async fn expire(server: &TfcMcpServer, ctx: &Context) -> Result<Action> {
    let namespace = server.namespace().ok_or(Error::NoNamespace)?;
    delete_secret(ctx, &ctx.settings.gateway_namespace, &route_secret_name(server)).await?;
    delete_owned_access_secret(ctx, server).await?;
    info!(server = %key(server), policy = ?server.spec.expiry_policy, "server expired");
    match server.spec.expiry_policy {
        ExpiryPolicy::Delete => {
            publish(ctx, server, EventType::Normal, "Expired", "Expired: URL revoked and Secrets removed; deleting the resource".into())
                .await;
            let servers: Api<TfcMcpServer> = Api::namespaced(ctx.client.clone(), &namespace);
            servers.delete(&server.name_any(), &DeleteParams::background()).await.map(|_| ()).or_else(ignore_not_found)?;
        }
        ExpiryPolicy::Retain => {
            let previous = previous_conditions(server);
            if status::summary(&previous, EXPIRED) != Some(("True", "Expired")) {
                publish(ctx, server, EventType::Normal, "Expired", "Expired: URL revoked and Secrets removed; resource retained".into())
                    .await;
            }
            let status = TfcMcpServerStatus {
                conditions: vec![
                    status::condition(
                        &previous,
                        READY,
                        false,
                        "Expired",
                        "The server expired; its URL no longer works",
                        server.meta().generation,
                    ),
                    status::condition(&previous, EXPIRED, true, "Expired", "expiresAt has passed", server.meta().generation),
                ],
                expires_at: server.spec.expires_at.clone(),
                observed_generation: server.meta().generation,
                ..TfcMcpServerStatus::default()
            };
            write_status(server, ctx, status).await?;
        }
    }
    Ok(Action::await_change())
}

/// Finalizer: remove what an ownerReference cannot (the route Secret in the
/// gateway namespace), and the access Secret without waiting for the GC.
async fn cleanup(server: &TfcMcpServer, ctx: &Context) -> Result<Action> {
    delete_secret(ctx, &ctx.settings.gateway_namespace, &route_secret_name(server)).await?;
    delete_owned_access_secret(ctx, server).await?;
    ctx.metrics.forget(&key(server));
    info!(server = %key(server), "server deleted; route removed");
    Ok(Action::await_change())
}

fn build_route(
    server: &TfcMcpServer,
    valid: &ValidSpec,
    url_token: &str,
    api_token_sha256: Vec<String>,
    service_accounts: Vec<route::ServiceAccountName>,
) -> Route {
    let spec = &server.spec;
    Route {
        // A scoped route needs a gateway that knows scopes; older ones refuse it.
        version: route::ROUTE_FORMAT_VERSION_BASE,
        token_sha256: route::sha256_hex(url_token),
        server: key(server),
        display_name: Some(spec.display_name.clone().unwrap_or_else(|| server.name_any())),
        tfc_address: spec.tfc.address.trim_end_matches('/').to_owned(),
        organizations: spec.tfc.organizations.clone(),
        methods: valid.methods.clone(),
        tags: valid.tags.clone(),
        include_tools: valid.include_tools.clone(),
        exclude_tools: valid.exclude_tools.clone(),
        tool_exposure: spec.tool_exposure.as_str().to_owned(),
        expires_at: valid.expires_at,
        require_api_token: spec.auth.require_api_token,
        api_token_sha256,
        service_accounts,
        oidc: None,
        upstream: UpstreamSettings {
            max_requests_per_second: spec.upstream.max_requests_per_second,
            retry_on_429: spec.upstream.retry_on_429,
        },
        state: StateSettings {
            reveal_sensitive_outputs: spec.state.reveal_sensitive_outputs,
            allow_raw_state_download: spec.state.allow_raw_state_download,
        },
        result_budget_bytes: spec.results.max_bytes,
        result_text: match spec.results.text {
            crate::crd::ResultText::Json => None,
            crate::crd::ResultText::Summary => Some(route::RESULT_TEXT_SUMMARY.to_owned()),
        },
        approval: valid.approval.clone(),
        scope: valid.scope.clone(),
    }
}

async fn read_tfc_token(secrets: &Api<Secret>, reference: &SecretKeyRef) -> Result<Result<String, Problem>> {
    let Some(secret) = secrets.get_opt(&reference.name).await? else {
        return Ok(Err(Problem::new(
            "SecretNotFound",
            format!("Secret {:?} named by spec.tfc.tokenSecretRef does not exist", reference.name),
        )));
    };
    Ok(secrets::read_key(&secret, &reference.key).ok_or_else(|| {
        Problem::new(
            "SecretKeyMissing",
            format!("Secret {:?} has no non-empty key {:?} (spec.tfc.tokenSecretRef.key)", reference.name, reference.key),
        )
    }))
}

/// SHA-256 of every accepted client API token, when the spec requires one.
async fn read_api_token_hashes(secrets: &Api<Secret>, server: &TfcMcpServer) -> Result<Result<Vec<String>, Problem>> {
    let auth = &server.spec.auth;
    let Some(reference) = auth.api_token_secret_ref.as_ref().filter(|_| auth.require_api_token) else {
        return Ok(Ok(Vec::new()));
    };
    let Some(secret) = secrets.get_opt(&reference.name).await? else {
        return Ok(Err(Problem::new(
            "SecretNotFound",
            format!("Secret {:?} named by spec.auth.apiTokenSecretRef does not exist", reference.name),
        )));
    };
    let mut hashes: Vec<String> = secrets::all_values(&secret).iter().map(|t| route::sha256_hex(t)).collect();
    if hashes.is_empty() {
        return Ok(Err(Problem::new(
            "SecretKeyMissing",
            format!("Secret {:?} named by spec.auth.apiTokenSecretRef holds no token", reference.name),
        )));
    }
    hashes.sort();
    Ok(Ok(hashes))
}

async fn apply_secret(ctx: &Context, namespace: &str, secret: &Secret) -> Result<()> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let mut body = serde_json::to_value(secret).map_err(|source| Error::Encode { what: "secret", source })?;
    body["apiVersion"] = json!("v1");
    body["kind"] = json!("Secret");
    let name = secret.name_any();
    ctx.own_writes.writing(namespace, &name);
    let written = api.patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(body)).await;
    ctx.own_writes.wrote(namespace, &name, written.as_ref().ok().and_then(|w| w.metadata.resource_version.as_deref()));
    written?;
    Ok(())
}

/// Deletes the access Secret only if this server owns it: a Secret of that
/// name that someone else created is left alone (the uid precondition also
/// covers a swap between the read and the delete).
async fn delete_owned_access_secret(ctx: &Context, server: &TfcMcpServer) -> Result<()> {
    let namespace = server.namespace().ok_or(Error::NoNamespace)?;
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let access_name = access_secret_name(server);
    ctx.own_writes.forget(&namespace, &access_name);
    let Some(secret) = api.get_opt(&access_name).await?.filter(|s| is_owned_by(s, server)) else {
        return Ok(());
    };
    let params =
        DeleteParams { preconditions: Some(Preconditions { uid: secret.uid(), resource_version: None }), ..DeleteParams::default() };
    match api.delete(&access_name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() || status.is_conflict() => Ok(()),
        Err(other) => Err(other.into()),
    }
}

async fn delete_secret(ctx: &Context, namespace: &str, name: &str) -> Result<()> {
    ctx.own_writes.forget(namespace, name);
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    api.delete(name, &DeleteParams::default()).await.map(|_| ()).or_else(ignore_not_found)
}

fn ignore_not_found(error: kube::Error) -> Result<()> {
    match error {
        kube::Error::Api(status) if status.is_not_found() => Ok(()),
        other => Err(other.into()),
    }
}

/// Writes status with server-side apply, and an Event when `Ready` changes.
async fn write_status(server: &TfcMcpServer, ctx: &Context, status: TfcMcpServerStatus) -> Result<()> {
    let before = status::summary(&previous_conditions(server), READY).map(|(s, r)| (s.to_owned(), r.to_owned()));
    let after = status::summary(&status.conditions, READY).map(|(s, r)| (s.to_owned(), r.to_owned()));
    let ready_message = status.conditions.iter().find(|c| c.type_ == READY).map(|c| c.message.clone()).unwrap_or_default();

    let ready = status::summary(&status.conditions, READY).is_some_and(|(s, _)| s == "True");
    // The same status again (transition times are kept) is not written: no write, no watch event.
    if server.status.as_ref() == Some(&status) {
        ctx.metrics.observe_ready(&key(server), ready);
        return Ok(());
    }
    let servers: Api<TfcMcpServer> = Api::namespaced(ctx.client.clone(), &server.namespace().ok_or(Error::NoNamespace)?);
    let body = json!({ "apiVersion": "tfcmcp.dev/v1alpha1", "kind": "TfcMcpServer", "status": status });
    servers.patch_status(&server.name_any(), &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(body)).await?;

    if before != after
        && let Some((state, reason)) = after
    {
        let type_ = if state == "True" { EventType::Normal } else { EventType::Warning };
        publish(ctx, server, type_, &reason, ready_message).await;
    }
    ctx.metrics.observe_ready(&key(server), ready);
    Ok(())
}

/// Records an Event; a failure to record is logged, never fatal.
async fn publish(ctx: &Context, server: &TfcMcpServer, type_: EventType, reason: &str, note: String) {
    let event = Event { type_, reason: reason.to_owned(), note: Some(note), action: "Reconcile".into(), secondary: None };
    if let Err(error) = ctx.recorder.publish(&event, &server.object_ref(&())).await {
        warn!(server = %key(server), %error, "could not record event");
    }
}

fn previous_conditions(server: &TfcMcpServer) -> Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    server.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default()
}

fn until(at: Option<DateTime<Utc>>) -> Option<Duration> {
    at.map(|at| (at - Utc::now()).to_std().unwrap_or_default())
}

fn key(server: &TfcMcpServer) -> String {
    format!("{}/{}", server.namespace().unwrap_or_default(), server.name_any())
}
