//! Leader election with a Lease: only the holder reconciles and writes
//! status. Losing the Lease ends the process (its Pod restarts as a
//! follower), so two replicas never act at once.
//!
//! The Lease library keeps reporting "leader" while it cannot reach the API
//! server, so a partitioned leader would go on acting after a follower took
//! the Lease. A local renew deadline closes that gap: the leader confirms its
//! own renewals and gives up once the last one is older than
//! [`Timing::renew_deadline`], which is shorter than the lease duration.

use std::time::{Duration, SystemTime};

use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::{sync::watch, time::Instant};
use tracing::{info, warn};

pub const LEASE_NAME: &str = "tfc-mcp-operator";

/// How the leader paces renewals and when it gives up, all derived from the
/// lease duration so that: renewal < renew deadline < lease duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a follower waits after the last renewal before taking over.
    pub duration: Duration,
    /// The library renews when this much of the lease is left (half of it).
    pub grace_secs: u64,
    /// A leader whose last renewal is this old stops acting.
    pub renew_deadline: Duration,
    /// How often the leader confirms its renewals.
    pub poll: Duration,
}

impl Timing {
    pub fn new(duration_secs: u64) -> anyhow::Result<Self> {
        anyhow::ensure!(duration_secs >= 2, "the lease duration must be at least 2 seconds (got {duration_secs})");
        let duration = Duration::from_secs(duration_secs);
        Ok(Self {
            duration,
            grace_secs: duration_secs.div_ceil(2).min(duration_secs - 1),
            renew_deadline: duration * 4 / 5,
            poll: (duration / 10).clamp(Duration::from_millis(200), Duration::from_secs(2)),
        })
    }

    /// When the lease renewed `age` ago stops being ours to act on.
    fn deadline_after(&self, age: Duration) -> Instant {
        let now = Instant::now();
        now.checked_sub(age).unwrap_or(now) + self.renew_deadline
    }
}

pub struct Leadership {
    manager_task: tokio::task::JoinHandle<kube_lease_manager::Result<LeaseManager>>,
    state: watch::Receiver<bool>,
    leases: Api<Lease>,
    identity: String,
    timing: Timing,
}

impl Leadership {
    /// Starts competing for the Lease.
    pub async fn start(client: Client, namespace: &str, identity: &str, duration_secs: u64) -> anyhow::Result<Self> {
        let timing = Timing::new(duration_secs)?;
        let manager = LeaseManagerBuilder::new(client.clone(), LEASE_NAME)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_duration(duration_secs)
            .with_grace(timing.grace_secs)
            .with_field_manager(format!("tfc-mcp-operator-{identity}"))
            .build()
            .await?;
        let (state, manager_task) = manager.watch().await;
        Ok(Self { manager_task, state, leases: Api::namespaced(client, namespace), identity: identity.to_owned(), timing })
    }

    /// Resolves once this process holds the Lease.
    pub async fn acquired(&mut self) -> anyhow::Result<()> {
        info!(lease = LEASE_NAME, "waiting to become leader");
        while !*self.state.borrow_and_update() {
            self.state.changed().await?;
        }
        info!(lease = LEASE_NAME, renew_deadline_ms = self.timing.renew_deadline.as_millis() as u64, "became leader");
        Ok(())
    }

    /// Resolves, with the reason, when this replica must stop acting: another
    /// replica holds the Lease, or the last confirmed renewal is older than
    /// the renew deadline (the API server is unreachable), which is before
    /// any follower may take the Lease over.
    pub async fn lost(&mut self) -> String {
        let (timing, leases, identity, state) = (self.timing, &self.leases, self.identity.as_str(), &mut self.state);
        // Just acquired: the renewal happened a moment ago, at most one poll.
        let mut deadline = timing.deadline_after(timing.poll);
        loop {
            let confirm = async {
                tokio::time::sleep(timing.poll).await;
                tokio::time::timeout(timing.poll * 2, leases.get(LEASE_NAME)).await
            };
            tokio::select! {
                biased;
                () = tokio::time::sleep_until(deadline) => {
                    return format!("the Lease was not renewed for {} ms (renew deadline)", timing.renew_deadline.as_millis());
                }
                changed = state.changed() => {
                    if changed.is_err() || !*state.borrow_and_update() {
                        return "the Lease is held by another replica".into();
                    }
                }
                answer = confirm => match answer {
                    Ok(Ok(lease)) => match renewal_age(&lease, identity) {
                        Some(age) => deadline = timing.deadline_after(age),
                        None => return "the Lease is held by another replica".into(),
                    },
                    Ok(Err(error)) => warn!(%error, "could not confirm the leader Lease"),
                    Err(_) => warn!("confirming the leader Lease timed out"),
                },
            }
        }
    }

    /// Gives the Lease up so a follower takes over at once (graceful shutdown).
    pub async fn release(self) {
        drop(self.state);
        match self.manager_task.await {
            Ok(Ok(manager)) => match manager.release().await {
                Ok(()) => info!(lease = LEASE_NAME, "released leadership"),
                Err(error) => warn!(%error, "could not release the Lease"),
            },
            Ok(Err(error)) => warn!(%error, "lease manager failed"),
            Err(error) => warn!(%error, "lease manager task failed"),
        }
    }
}

/// How long ago `identity` last renewed the Lease, or `None` when it is not
/// the holder. The renew time was written by this very process, so comparing
/// it with the local clock involves no skew between machines.
fn renewal_age(lease: &Lease, identity: &str) -> Option<Duration> {
    let spec = lease.spec.as_ref()?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    let renewed: SystemTime = spec.renew_time.as_ref()?.0.into();
    Some(SystemTime::now().duration_since(renewed).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use k8s_openapi::{api::coordination::v1::LeaseSpec, apimachinery::pkg::apis::meta::v1::MicroTime, jiff::Timestamp};

    use super::*;

    #[test]
    fn renewal_happens_before_the_deadline_which_comes_before_a_takeover() {
        for secs in [2, 3, 6, 15, 60] {
            let t = Timing::new(secs).unwrap();
            let renews_after = t.duration - Duration::from_secs(t.grace_secs);
            assert!(t.grace_secs >= 1 && t.grace_secs < secs, "{t:?}");
            assert!(renews_after + t.poll < t.renew_deadline, "{t:?}");
            assert!(t.renew_deadline < t.duration, "{t:?}");
        }
        assert!(Timing::new(1).is_err());
        assert!(Timing::new(0).is_err());
    }

    fn lease(holder: &str, renewed_secs_ago: i64) -> Lease {
        let renewed = Timestamp::now() - k8s_openapi::jiff::SignedDuration::from_secs(renewed_secs_ago);
        Lease {
            spec: Some(LeaseSpec { holder_identity: Some(holder.into()), renew_time: Some(MicroTime(renewed)), ..LeaseSpec::default() }),
            ..Lease::default()
        }
    }

    #[test]
    fn only_the_holder_has_a_renewal_age() {
        let age = renewal_age(&lease("me", 3), "me").unwrap();
        assert!(age >= Duration::from_secs(3) && age < Duration::from_secs(4), "{age:?}");
        assert_eq!(renewal_age(&lease("other", 0), "me"), None);
        assert_eq!(renewal_age(&Lease::default(), "me"), None);
    }
}
