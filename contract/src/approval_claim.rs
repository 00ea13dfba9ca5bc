//! The Leases that claim a confirmation of a destructive call once across
//! the gateway's replicas: the gateway creates one per redeemed
//! confirmation (it may only create Leases), the operator deletes the
//! expired ones (the gateway, facing the internet, cannot delete any Lease,
//! the operator's leader-election Lease included).

use sha2::{Digest, Sha256};

/// The label every claim carries (the sweep lists by it).
pub const CLAIM_LABEL: &str = "tfc-mcp.dev/approval-claim";
/// Claim names start with this (the sweep deletes no other name).
pub const NAME_PREFIX: &str = "tfc-mcp-approval-";

/// The claim of the confirmation whose nonce is `nonce`: a hash of it (128
/// bits: two live confirmations never share one).
pub fn claim_name(nonce: &str) -> String {
    let digest = hex::encode(Sha256::digest(nonce.as_bytes()));
    format!("{NAME_PREFIX}{}", &digest[..32])
}

/// Claims per second per tenant namespace, per replica, unless configured
/// (people confirm at that pace, not faster).
pub const DEFAULT_PER_SECOND: f64 = 2.0;
/// Claims per second per replica in all, unless configured (what bounds the
/// Leases in etcd).
pub const DEFAULT_PER_SECOND_TOTAL: f64 = 50.0;

/// True for a claim rate that limits: finite and above zero (a rate limiter
/// takes anything else as off).
pub fn is_limiting_rate(rate: f64) -> bool {
    rate.is_finite() && rate > 0.0
}

/// True when a claim created at `created` (Unix seconds, the API server's
/// clock) for `lifetime_secs` may be deleted at `now`: once twice its
/// lifetime has passed. The second lifetime is the margin for the clocks of
/// the API server, the replicas that sealed and redeemed the confirmation,
/// and the sweeper (minutes of skew for a five-minute confirmation).
pub fn deletable(created: i64, lifetime_secs: i32, now: i64) -> bool {
    created.saturating_add(2 * i64::from(lifetime_secs.max(0))) < now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_a_hash_of_the_nonce() {
        let name = claim_name("nonce-a");
        assert!(name.starts_with(NAME_PREFIX) && name.len() == NAME_PREFIX.len() + 32, "{name}");
        assert!(!name.contains("nonce"));
        assert_eq!(claim_name("nonce-a"), name);
        assert_ne!(claim_name("nonce-b"), name);
    }

    #[test]
    fn a_claim_outlives_its_confirmation_by_one_lifetime() {
        let now = 1_800_000_000;
        assert!(deletable(now - 700, 300, now), "past twice the lifetime");
        assert!(!deletable(now - 700, 400, now), "expired, within the margin");
        assert!(!deletable(now, 300, now), "live");
        assert!(deletable(now - 1, -5, now), "a negative lifetime counts as none");
        assert!(!deletable(i64::MAX, i32::MAX, now), "no overflow");
    }
}
