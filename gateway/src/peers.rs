//! Budgets shared by the gateway's replicas without shared state: each
//! replica learns how many replicas serve (the ready endpoints of the
//! gateway Service's EndpointSlices) and keeps only its share of every
//! budget - the upstream pacing per HCP Terraform token and the request rate
//! per server. The buckets follow a new count in place (see
//! [`BucketShare::settle`]): tokens are kept, capped to the new capacity,
//! and refilled at the new rate from then on, so a change in the count never
//! refills every bucket at once.
//!
//! Error bound (also in the README): over T seconds the replicas send at
//! most rate x T plus the burst (their capacities add up to the budget's,
//! plus one token per replica when there are more replicas than tokens of
//! burst: the floor). While a scale from N to M > N replicas is not yet seen
//! by every replica (the watch delay, normally well under a second), the old
//! replicas still use the whole budget and each new one at most 1/(N+1) of
//! it (it counts the listed ones plus itself): at most (M-N)/(N+1) of the
//! budget on top. Scaling down only undershoots. When the watch fails, a
//! replica keeps the last count it knew (the watch is retried with backoff);
//! before its first answer a replica counts only itself.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use futures::StreamExt;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::{
    Api, Client,
    runtime::{WatchStreamExt, reflector, watcher},
};
use tokio::time::Instant;

/// The label that ties an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Counts above this are taken as this (a guard against a nonsense slice).
pub const MAX_PEERS: u32 = 10_000;
/// A replica's bucket never holds less than one token, or nothing could pass.
pub const MIN_CAPACITY: f64 = 1.0;

/// How many replicas serve, as this replica knows it (at least 1). Cheap to
/// clone and to read on every request; the default is a replica alone, which
/// keeps the whole budget (the behaviour without `--peer-service`).
#[derive(Clone, Debug)]
pub struct Peers(Arc<AtomicU32>);

impl Default for Peers {
    fn default() -> Self {
        Self::alone()
    }
}

impl Peers {
    pub fn alone() -> Self {
        Self(Arc::new(AtomicU32::new(1)))
    }

    /// Replicas serving now, this one included.
    pub fn count(&self) -> u32 {
        self.0.load(Ordering::Relaxed).max(1)
    }

    /// Sets the count (clamped to 1..=[`MAX_PEERS`]); returns the previous one.
    pub fn set(&self, count: u32) -> u32 {
        self.0.swap(count.clamp(1, MAX_PEERS), Ordering::Relaxed)
    }
}

/// One replica's part of a budget of `rate` per second with a burst of `capacity`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Share {
    pub rate: f64,
    pub capacity: f64,
}

impl Share {
    /// `rate / peers` and `capacity / peers`, the capacity never below [`MIN_CAPACITY`].
    pub fn of(rate: f64, capacity: f64, peers: u32) -> Self {
        let peers = f64::from(peers.max(1));
        Self { rate: rate / peers, capacity: (capacity / peers).max(MIN_CAPACITY) }
    }
}

/// A token bucket that follows its share: refilled at the share it was last
/// settled with, then moved to the current one.
#[derive(Clone, Copy, Debug)]
pub struct BucketShare {
    tokens: f64,
    last: Instant,
    share: Share,
}

impl BucketShare {
    /// A full bucket.
    pub fn new(share: Share, now: Instant) -> Self {
        Self { tokens: share.capacity, last: now, share }
    }

    /// Brings the bucket to `now`: the time since the last settle is
    /// refilled at the share in force then, then the bucket takes `share`
    /// (tokens kept, capped to the new capacity).
    pub fn settle(&mut self, now: Instant, share: Share) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.share.rate).min(self.share.capacity).min(share.capacity);
        self.last = self.last.max(now);
        self.share = share;
    }

    /// Takes one token at `now` under `share`, or says how long until one is there.
    pub fn take(&mut self, now: Instant, share: Share) -> Result<(), Duration> {
        self.settle(now, share);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if self.share.rate > 0.0 {
            Err(Duration::try_from_secs_f64((1.0 - self.tokens) / self.share.rate).unwrap_or(Duration::MAX))
        } else {
            Err(Duration::MAX)
        }
    }

    /// True when the bucket has been idle long enough to be full again (forgetting it changes nothing).
    pub fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.share.rate >= self.share.capacity
    }

    pub fn tokens(&self) -> f64 {
        self.tokens
    }
}

/// Replicas serving, from a Service's EndpointSlices: the ready endpoints,
/// per address family (a dual-stack Service lists every Pod once per
/// family), the larger family's count. `me` (this replica's Pod name or IP)
/// not listed as ready adds one: a replica that serves before its endpoint
/// appears counts itself. Without `me`, at least 1.
pub fn count_ready<'a>(slices: impl IntoIterator<Item = &'a EndpointSlice>, me: Option<&str>) -> u32 {
    let mut families: BTreeMap<&str, (BTreeSet<String>, bool)> = BTreeMap::new();
    for slice in slices {
        let (ready, listed) = families.entry(slice.address_type.as_str()).or_default();
        for endpoint in &slice.endpoints {
            // An unknown readiness means ready (the API's own rule).
            if endpoint.conditions.as_ref().and_then(|c| c.ready) == Some(false) {
                continue;
            }
            let pod = endpoint.target_ref.as_ref().and_then(|r| r.name.as_deref());
            let Some(key) = pod.or_else(|| endpoint.addresses.first().map(String::as_str)) else { continue };
            ready.insert(key.to_owned());
            if let Some(me) = me {
                *listed |= pod == Some(me) || endpoint.addresses.iter().any(|a| a == me);
            }
        }
    }
    let counted = families.values().map(|(ready, listed)| ready.len() + usize::from(me.is_some() && !listed)).max().unwrap_or(1);
    u32::try_from(counted).unwrap_or(u32::MAX).clamp(1, MAX_PEERS)
}

/// Where this replica learns its peers.
#[derive(Clone, Debug)]
pub struct PeerSource {
    pub namespace: String,
    /// The gateway Service.
    pub service: String,
    /// This replica's Pod name (or IP), as its endpoint lists it.
    pub me: Option<String>,
}

/// Keeps `peers` equal to the ready endpoints of `source`'s Service; calls
/// `observe` with each new count. On a failing watch the last count stays
/// (the watch is retried with backoff).
pub async fn watch_peers(client: Client, source: PeerSource, peers: Peers, observe: impl Fn(u32) + Send + 'static) {
    let api: Api<EndpointSlice> = Api::namespaced(client, &source.namespace);
    let config = watcher::Config::default().labels(&format!("{SERVICE_NAME_LABEL}={}", source.service));
    let (reader, writer) = reflector::store();
    let mut events = reflector(writer, watcher(api, config).default_backoff()).boxed();
    observe(peers.count());
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => {}
            Ok(_) => {
                let count = count_ready(reader.state().iter().map(|s| s.as_ref()), source.me.as_deref());
                let before = peers.set(count);
                if before != count {
                    tracing::info!(service = %source.service, peers = count, before, "gateway replicas changed; budgets rebalanced");
                    observe(count);
                }
            }
            Err(error) => {
                tracing::warn!(%error, service = %source.service, peers = peers.count(), "peer watch failed; keeping the last count")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::{
        core::v1::ObjectReference,
        discovery::v1::{Endpoint, EndpointConditions},
    };

    use super::*;

    fn endpoint(pod: &str, ip: &str, ready: Option<bool>) -> Endpoint {
        Endpoint {
            addresses: vec![ip.into()],
            conditions: Some(EndpointConditions { ready, ..Default::default() }),
            target_ref: Some(ObjectReference { kind: Some("Pod".into()), name: Some(pod.into()), ..Default::default() }),
            ..Default::default()
        }
    }

    fn slice(family: &str, endpoints: Vec<Endpoint>) -> EndpointSlice {
        EndpointSlice { address_type: family.into(), endpoints, ..Default::default() }
    }

    #[test]
    fn shares_divide_the_budget_with_a_floor() {
        assert_eq!(Share::of(30.0, 30.0, 1), Share { rate: 30.0, capacity: 30.0 });
        assert_eq!(Share::of(30.0, 30.0, 3), Share { rate: 10.0, capacity: 10.0 });
        assert_eq!(Share::of(30.0, 30.0, 0), Share { rate: 30.0, capacity: 30.0 }, "0 peers is 1");
        let thin = Share::of(3.0, 3.0, 100);
        assert!((thin.rate - 0.03).abs() < 1e-12 && thin.rate > 0.0);
        assert_eq!(thin.capacity, MIN_CAPACITY, "a replica never gets an empty bucket");
        // The shares add up to the budget.
        let n = 7;
        assert!((f64::from(n) * Share::of(20.0, 40.0, n).rate - 20.0).abs() < 1e-9);
    }

    #[test]
    fn peers_are_clamped() {
        let peers = Peers::alone();
        assert_eq!(peers.count(), 1);
        assert_eq!(peers.set(0), 1);
        assert_eq!(peers.count(), 1);
        peers.set(u32::MAX);
        assert_eq!(peers.count(), MAX_PEERS);
    }

    #[test]
    fn ready_endpoints_are_counted_once_per_pod() {
        let v4 = slice("IPv4", vec![endpoint("gw-a", "10.0.0.1", Some(true)), endpoint("gw-b", "10.0.0.2", None)]);
        let v4_more = slice("IPv4", vec![endpoint("gw-c", "10.0.0.3", Some(true)), endpoint("gw-d", "10.0.0.4", Some(false))]);
        let v6 = slice("IPv6", vec![endpoint("gw-a", "fd00::1", Some(true)), endpoint("gw-b", "fd00::2", Some(true))]);
        // Ready and unknown count, not-ready does not; a Pod in both families counts once.
        assert_eq!(count_ready([&v4, &v4_more, &v6], Some("gw-a")), 3);
        assert_eq!(count_ready([&v4, &v4_more, &v6], Some("10.0.0.2")), 3, "matched by address too");
        // Not listed yet (or not ready): counts itself.
        assert_eq!(count_ready([&v4, &v4_more], Some("gw-new")), 4);
        assert_eq!(count_ready([&v4, &v4_more], Some("gw-d")), 4);
        assert_eq!(count_ready([&v4], None), 2);
        assert_eq!(count_ready([], Some("gw-a")), 1);
        assert_eq!(count_ready([], None), 1);
        assert_eq!(count_ready([&slice("IPv4", vec![])], Some("gw-a")), 1);
    }

    #[test]
    fn a_bucket_follows_its_share_in_place() {
        let t0 = Instant::now();
        let alone = Share::of(30.0, 30.0, 1);
        let third = Share::of(30.0, 30.0, 3);
        let mut bucket = BucketShare::new(alone, t0);
        for _ in 0..25 {
            bucket.take(t0, alone).unwrap();
        }
        assert!((bucket.tokens() - 5.0).abs() < 1e-9);
        // Two more replicas: the 5 tokens left fit the new capacity (10) and are kept.
        bucket.settle(t0, third);
        assert!((bucket.tokens() - 5.0).abs() < 1e-9);
        // From a full bucket, the new capacity caps it: no replica keeps a burst bigger than its share.
        let mut full = BucketShare::new(alone, t0);
        full.settle(t0, third);
        assert!((full.tokens() - 10.0).abs() < 1e-9);
        // Empty, refilled at the new rate: one token per 100 ms.
        for _ in 0..5 {
            bucket.take(t0, third).unwrap();
        }
        let wait = bucket.take(t0, third).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        // Time before a change is refilled at the rate in force then.
        let t1 = t0 + Duration::from_millis(200);
        bucket.settle(t1, third);
        assert!((bucket.tokens() - 2.0).abs() < 1e-6, "{}", bucket.tokens());
        // Back alone: nothing is granted at once, the refill is three times faster.
        bucket.settle(t1, alone);
        assert!((bucket.tokens() - 2.0).abs() < 1e-6);
        bucket.settle(t1 + Duration::from_millis(100), alone);
        assert!((bucket.tokens() - 5.0).abs() < 1e-6, "{}", bucket.tokens());
        // A bucket idle for capacity/rate is full.
        assert!(!bucket.is_full_at(t1 + Duration::from_millis(100)));
        assert!(bucket.is_full_at(t1 + Duration::from_secs(2)));
    }

    #[test]
    fn many_buckets_sum_to_the_budget_over_time() {
        // Three replicas each drain their bucket as fast as allowed for 10 s:
        // together they send the budget's burst plus rate x time, no more.
        let t0 = Instant::now();
        let share = Share::of(12.0, 12.0, 3);
        let mut sent = 0;
        for _ in 0..3 {
            let mut bucket = BucketShare::new(share, t0);
            let mut now = t0;
            while now < t0 + Duration::from_secs(10) {
                match bucket.take(now, share) {
                    Ok(()) => sent += 1,
                    Err(wait) => now += wait,
                }
            }
        }
        assert!((12 * 10..=12 * 10 + 12 + 3).contains(&sent), "{sent}");
    }
}
