//! The sweep of approval claims: the gateway claims each confirmation of a
//! destructive call with a Lease in its namespace (single use across its
//! replicas) but may not delete Leases, so the operator deletes the claims
//! whose time is over (`tfc_mcp_contract::approval_claim::deletable`). Only
//! Leases with the claim label and name prefix are touched: never the
//! leader-election Lease or anyone else's.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::{
    Api, Client,
    api::{DeleteParams, ListParams, Preconditions},
};
use tfc_mcp_contract::approval_claim::{CLAIM_LABEL, NAME_PREFIX, deletable};
use tracing::{debug, warn};

use crate::requeue::jittered;

/// Claims per list page.
const PAGE: u32 = 500;

/// Sweeps every `interval` (jittered) until the process ends.
pub async fn keep_sweeping(client: Client, gateway_namespace: String, interval: Duration) {
    let api: Api<Lease> = Api::namespaced(client, &gateway_namespace);
    loop {
        match sweep(&api, k8s_openapi::jiff::Timestamp::now().as_second()).await {
            Ok(0) => {}
            Ok(deleted) => debug!(deleted, "expired approval claims deleted"),
            Err(error) => warn!(%error, "approval claim sweep failed; trying again at the next sweep"),
        }
        tokio::time::sleep(jittered(interval)).await;
    }
}

/// One sweep at `now` (Unix seconds); returns how many claims it deleted.
pub async fn sweep(api: &Api<Lease>, now: i64) -> kube::Result<usize> {
    let mut params = ListParams::default().labels(CLAIM_LABEL).limit(PAGE);
    let mut deleted = 0;
    loop {
        let page = api.list(&params).await?;
        for lease in &page.items {
            if !is_done(lease, now) {
                continue;
            }
            let (Some(name), Some(uid)) = (lease.metadata.name.as_deref(), lease.metadata.uid.clone()) else { continue };
            // This very object, not one made since under its name.
            let only_this =
                DeleteParams { preconditions: Some(Preconditions { uid: Some(uid), resource_version: None }), ..Default::default() };
            match api.delete(name, &only_this).await {
                Ok(_) => deleted += 1,
                Err(kube::Error::Api(status)) if status.is_not_found() || status.is_conflict() => {}
                Err(error) => return Err(error),
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(deleted),
        }
    }
}

/// A claim (by name) whose time is over; anything without a creation time
/// or a duration is not judged.
fn is_done(lease: &Lease, now: i64) -> bool {
    let named = lease.metadata.name.as_deref().is_some_and(|n| n.starts_with(NAME_PREFIX));
    let created = lease.metadata.creation_timestamp.as_ref().map(|t| t.0.as_second());
    let lifetime = lease.spec.as_ref().and_then(|s| s.lease_duration_seconds);
    match (named, created, lifetime) {
        (true, Some(created), Some(lifetime)) => deletable(created, lifetime, now),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{
        api::coordination::v1::LeaseSpec,
        apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time},
        jiff::Timestamp,
    };

    use super::*;

    fn lease(name: &str, created: Option<i64>, lifetime: Option<i32>) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some(name.into()),
                creation_timestamp: created.map(|s| Time(Timestamp::from_second(s).unwrap())),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec { lease_duration_seconds: lifetime, ..LeaseSpec::default() }),
        }
    }

    #[test]
    fn only_claims_past_twice_their_lifetime_are_done() {
        let now = 1_800_000_000;
        let claim = format!("{NAME_PREFIX}{}", "a".repeat(32));
        assert!(is_done(&lease(&claim, Some(now - 601), Some(300)), now));
        assert!(!is_done(&lease(&claim, Some(now - 400), Some(300)), now), "expired, within the margin");
        assert!(!is_done(&lease("tfc-mcp-operator", Some(now - 10_000), Some(15)), now), "not a claim's name");
        assert!(!is_done(&lease(&claim, None, Some(1)), now), "no creation time");
        assert!(!is_done(&lease(&claim, Some(now - 10_000), None), now), "no duration");
    }
}
