//! Single use of a confirmation across replicas (`--approval-claims`).
//!
//! Each replica remembers the confirmation states it redeemed, but the
//! replicas share only the approval key, not that memory. With claims on,
//! redeeming a state also creates a Lease named after the state's nonce in
//! the gateway's namespace. The API server creates a name once, so a second
//! redemption on any replica gets `AlreadyExists` and is refused as
//! replayed. A Lease records the state's lifetime (`leaseDurationSeconds`);
//! the operator deletes claims once twice that has passed since their
//! creation (`tfc_mcp_contract::approval_claim`): the gateway may create
//! Leases, never delete one.
//!
//! Nothing secret is in a Lease: its name is a hash of the nonce, which the
//! client holds anyway, and its holder the replica's name.
//!
//! A claim is made only for a state this gateway sealed for this server,
//! tool and arguments (checked first), at most `--approval-claims-per-second`
//! per namespace (a tenant; people confirm at that pace, not faster) and
//! `--approval-claims-per-second-total` per replica (what bounds the Leases
//! in etcd). The namespaces share the total fairly: when many claim at once,
//! each gets at most an equal part of [`FAIR_POOL`] of it (see
//! [`RateLimiter::check_fair_share`]), so servers in many namespaces cannot
//! use up the total and starve a namespace that confirms now and then; the
//! rest of the total is headroom that keeps it from running dry while every
//! namespace takes its part. When the claim cannot be recorded (the API
//! server is unreachable, or a rate is spent), the call is refused and
//! nothing runs: a confirmation that might be replayed is not taken.

use std::time::Duration;

use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta},
    jiff::Timestamp,
};
use kube::{Api, Client, api::PostParams};
use tfc_mcp_contract::approval_claim::{CLAIM_LABEL, claim_name, is_limiting_rate};
use tokio::time::Instant;
use tracing::warn;

use crate::limits::RateLimiter;

/// Time one create may take before the claim counts as not recorded.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(5);

/// The part of the replica's total claim rate shared out among the
/// namespaces claiming at the same time.
pub const FAIR_POOL: f64 = 0.9;

/// The outcome of [`LeaseClaims::claim`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This redemption is the first anywhere.
    Taken,
    /// Another redemption (on any replica) claimed it first.
    AlreadyTaken,
    /// Not recorded (API error, timeout, or this replica's claim rate spent).
    Unrecorded,
}

/// Claims confirmation states by creating Leases.
pub struct LeaseClaims {
    api: Api<Lease>,
    holder: String,
    /// Per namespace (a tenant), then per replica.
    per_tenant: RateLimiter,
    total: RateLimiter,
    total_rate: f64,
}

/// Which rate refused a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RateSpent {
    /// The namespace's own rate, or its part of the total.
    Namespace,
    Replica,
}

impl LeaseClaims {
    /// Claims in `namespace`, at most `per_tenant` per second per tenant
    /// namespace and `total` per second in all (each with a burst of twice that).
    pub fn new(client: Client, namespace: &str, holder: &str, per_tenant: f64, total: f64) -> Self {
        // A limit always limits: an infinite, zero or negative rate (a RateLimiter off) is taken as the least.
        let limiting = |rate: f64| if is_limiting_rate(rate) { rate.max(0.1) } else { 0.1 };
        let (per_tenant, total) = (limiting(per_tenant), limiting(total));
        Self {
            api: Api::namespaced(client, namespace),
            holder: holder.to_owned(),
            per_tenant: RateLimiter::new(per_tenant, per_tenant * 2.0),
            total: RateLimiter::new(total, total * 2.0),
            total_rate: total,
        }
    }

    /// Claims the state whose nonce is `nonce` for `lifetime`, for a call to `server`.
    pub async fn claim(&self, nonce: &str, lifetime: Duration, server: &str) -> Claim {
        let tenant = tfc_mcp_contract::route::namespace_of(server);
        if let Err(spent) = self.admit(tenant, Instant::now()) {
            match spent {
                RateSpent::Namespace => {
                    warn!(namespace = tenant, "approval claims per second of this namespace spent: a confirmation was refused")
                }
                RateSpent::Replica => warn!("approval claims per second of this replica spent: a confirmation was refused"),
            }
            return Claim::Unrecorded;
        }
        let lease = claim_lease(nonce, &self.holder, lifetime);
        match tokio::time::timeout(CLAIM_TIMEOUT, self.api.create(&PostParams::default(), &lease)).await {
            Ok(Ok(_)) => Claim::Taken,
            Ok(Err(kube::Error::Api(status))) if status.is_already_exists() => Claim::AlreadyTaken,
            Ok(Err(error)) => {
                warn!(%error, "could not record an approval claim: the confirmation was refused");
                Claim::Unrecorded
            }
            Err(_) => {
                warn!("recording an approval claim timed out: the confirmation was refused");
                Claim::Unrecorded
            }
        }
    }

    /// Whether `tenant` may claim at `now`: its own rate, cut to its part of
    /// the shared pool while others claim too, then the replica's total.
    fn admit(&self, tenant: &str, now: Instant) -> Result<(), RateSpent> {
        self.per_tenant.check_fair_share(tenant, FAIR_POOL * self.total_rate, now).map_err(|_| RateSpent::Namespace)?;
        self.total.check("", now).map_err(|_| RateSpent::Replica)
    }
}

/// The Lease that claims `nonce` ([`claim_name`]: a hash of it).
pub fn claim_lease(nonce: &str, holder: &str, lifetime: Duration) -> Lease {
    let seconds = i32::try_from(lifetime.as_secs().max(1)).unwrap_or(i32::MAX);
    Lease {
        metadata: ObjectMeta {
            name: Some(claim_name(nonce)),
            labels: Some([(CLAIM_LABEL.to_owned(), "true".to_owned())].into()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            lease_duration_seconds: Some(seconds),
            acquire_time: Some(MicroTime(Timestamp::now())),
            ..LeaseSpec::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::{
        collections::HashSet,
        sync::{Arc, Mutex},
    };

    use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
    use serde_json::{Value, json};

    use super::*;

    /// An API server that creates each Lease name once (409 after), or refuses every create (403).
    async fn api_server(refuse: bool) -> (Client, Arc<Mutex<HashSet<String>>>) {
        type Names = Arc<Mutex<HashSet<String>>>;
        async fn create(State((names, refuse)): State<(Names, bool)>, Json(lease): Json<Value>) -> (StatusCode, Json<Value>) {
            let status = |code: u16, reason: &str| json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code, "message": reason});
            if refuse {
                return (StatusCode::FORBIDDEN, Json(status(403, "Forbidden")));
            }
            let name = lease["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            if names.lock().unwrap().insert(name) {
                (StatusCode::CREATED, Json(lease))
            } else {
                (StatusCode::CONFLICT, Json(status(409, "AlreadyExists")))
            }
        }
        let names: Names = Arc::default();
        let app = Router::new()
            .route("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases", post(create))
            .with_state((names.clone(), refuse));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
        (client, names)
    }

    #[tokio::test]
    async fn a_nonce_is_claimed_once_and_a_refused_create_is_unrecorded() {
        let (client, names) = api_server(false).await;
        let claims = LeaseClaims::new(client, "gw", "gw-0", 100.0, 100.0);
        let lifetime = Duration::from_secs(300);
        assert_eq!(claims.claim("n-1", lifetime, "team-a/ci").await, Claim::Taken);
        assert_eq!(claims.claim("n-1", lifetime, "team-a/ci").await, Claim::AlreadyTaken, "a second redemption anywhere");
        assert_eq!(claims.claim("n-2", lifetime, "team-a/ci").await, Claim::Taken);
        assert_eq!(names.lock().unwrap().len(), 2);

        let (client, _) = api_server(true).await;
        let refused = LeaseClaims::new(client, "gw", "gw-0", 100.0, 100.0);
        assert_eq!(refused.claim("n-3", lifetime, "team-a/ci").await, Claim::Unrecorded, "fail closed");
    }

    #[tokio::test]
    async fn one_tenant_cannot_spend_the_claims_of_another() {
        let (client, names) = api_server(false).await;
        // 1/s per namespace (burst 2), 3/s in all (burst 6).
        let claims = LeaseClaims::new(client, "gw", "gw-0", 1.0, 3.0);
        let lifetime = Duration::from_secs(300);
        let mut outcomes = Vec::new();
        for i in 0..5 {
            outcomes.push(claims.claim(&format!("hostile-{i}"), lifetime, &format!("hostile/server-{i}")).await);
        }
        assert_eq!(outcomes.iter().filter(|c| **c == Claim::Taken).count(), 2, "the namespace's burst: {outcomes:?}");
        assert_eq!(claims.claim("victim-1", lifetime, "victim/ci").await, Claim::Taken, "another tenant still confirms");
        assert_eq!(claims.claim("victim-2", lifetime, "victim/ci").await, Claim::Taken);
        for i in 0..4 {
            claims.claim(&format!("third-{i}"), lifetime, &format!("third-{i}/ci")).await;
        }
        assert_eq!(claims.claim("fourth", lifetime, "fourth/ci").await, Claim::Unrecorded, "the replica's total bounds etcd");
        assert_eq!(names.lock().unwrap().len(), 6, "nothing beyond the rates reached the API server");
    }

    #[tokio::test]
    async fn servers_in_many_namespaces_cannot_starve_one_that_confirms_now_and_then() {
        let (client, _) = api_server(false).await;
        // The chart's rates: 2/s per namespace, 50/s in all; 30 namespaces
        // (2 × 30 = 60/s: more than the total) claim without pause for a
        // minute, 100 times a second each, while one claims every 5 s.
        let claims = LeaseClaims::new(client, "gw", "gw-0", 2.0, 50.0);
        let start = Instant::now();
        let hostile: Vec<String> = (0..30).map(|i| format!("hostile-{i}")).collect();
        let mut taken = vec![0u32; hostile.len()];
        let mut victim = Vec::new();
        for step in 0..6_000u64 {
            let now = start + Duration::from_millis(step * 10);
            for (namespace, taken) in hostile.iter().zip(&mut taken) {
                *taken += u32::from(claims.admit(namespace, now).is_ok());
            }
            if step % 500 == 250 {
                victim.push(claims.admit("victim", now));
            }
        }
        assert!(victim.iter().all(Result::is_ok), "the light namespace is always served: {victim:?}");
        let total: u32 = taken.iter().sum::<u32>() + victim.len() as u32;
        assert!(f64::from(total) <= 50.0 * 60.0 + 100.0, "the replica's total holds: {total}");
        // Each of the many gets about its part (45/s shared by 30), none more than its own rate.
        let (least, most) = (taken.iter().min().unwrap(), taken.iter().max().unwrap());
        assert!(*most <= 2 * 60 + 4, "{taken:?}");
        assert!(f64::from(*least) >= 0.8 * 1.5 * 60.0, "{taken:?}");
    }

    #[test]
    fn a_claim_is_named_by_a_hash_of_the_nonce_and_labelled() {
        let a = claim_lease("nonce-a", "gw-0", Duration::from_secs(300));
        let name = a.metadata.name.as_deref().unwrap();
        assert_eq!(name, claim_name("nonce-a"));
        assert_eq!(claim_lease("nonce-a", "gw-1", Duration::from_secs(1)).metadata.name.as_deref(), Some(name), "one name per nonce");
        assert_ne!(claim_lease("nonce-b", "gw-0", Duration::from_secs(300)).metadata.name.as_deref(), Some(name));
        assert_eq!(a.metadata.labels.unwrap().get(CLAIM_LABEL).map(String::as_str), Some("true"));
        let spec = a.spec.unwrap();
        assert_eq!(spec.lease_duration_seconds, Some(300));
        assert_eq!(spec.holder_identity.as_deref(), Some("gw-0"));
    }
}
