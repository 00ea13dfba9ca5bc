//! Leader election with a Lease: only the holder reconciles and writes
//! status. Losing the Lease ends the process (its Pod restarts as a
//! follower), so two replicas never act at once.

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tracing::{info, warn};

pub const LEASE_NAME: &str = "tfc-mcp-operator";

pub struct Leadership {
    manager_task: tokio::task::JoinHandle<kube_lease_manager::Result<LeaseManager>>,
    state: watch::Receiver<bool>,
}

impl Leadership {
    /// Starts competing for the Lease.
    pub async fn start(client: Client, namespace: &str, identity: &str, duration_secs: u64) -> anyhow::Result<Self> {
        let grace = (duration_secs / 3).max(1);
        let manager = LeaseManagerBuilder::new(client, LEASE_NAME)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_duration(duration_secs)
            .with_grace(grace)
            .with_field_manager(format!("tfc-mcp-operator-{identity}"))
            .build()
            .await?;
        let (state, manager_task) = manager.watch().await;
        Ok(Self { manager_task, state })
    }

    /// Resolves once this process holds the Lease.
    pub async fn acquired(&mut self) -> anyhow::Result<()> {
        info!(lease = LEASE_NAME, "waiting to become leader");
        while !*self.state.borrow_and_update() {
            self.state.changed().await?;
        }
        info!(lease = LEASE_NAME, "became leader");
        Ok(())
    }

    /// Resolves when the Lease is lost after having been held.
    pub async fn lost(&mut self) {
        loop {
            if !*self.state.borrow_and_update() {
                return;
            }
            if self.state.changed().await.is_err() {
                return;
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
