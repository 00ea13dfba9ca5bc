//! Identifier generation. HCP Terraform ids are a type prefix plus 16
//! alphanumeric characters (`ws-HRkJLSYWF97jucqQ`); clients validate only the
//! general shape, so the simulator mimics it.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh random id such as `run-CZcmD7eagjhyX0vN`.
pub fn random_id(prefix: &str) -> String {
    format!("{prefix}-{}", random_alnum(16))
}

/// A random alphanumeric string of `len` characters.
pub fn random_alnum(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// A stable id derived from `seed`, so that seeded objects keep their ids
/// across `/_sim/reset` and test code can hard-code them.
pub fn derived_id(prefix: &str, seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let tail: String = digest.iter().take(16).map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect();
    format!("{prefix}-{tail}")
}

/// A random lineage in Terraform's UUID-like format.
pub fn lineage() -> String {
    let hex: String = (0..32).map(|_| char::from(b"0123456789abcdef"[rand::rng().random_range(0..16)])).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// A stable lineage for seeded states.
pub fn derived_lineage(seed: &str) -> String {
    let hex = hex::encode(Sha256::digest(seed.as_bytes()));
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_hcp_shape() {
        let id = random_id("ws");
        assert!(id.starts_with("ws-"));
        assert_eq!(id.len(), 3 + 16);
        assert!(id[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(derived_id("sv", "x"), derived_id("sv", "x"));
        assert_ne!(derived_id("sv", "x"), derived_id("sv", "y"));
        assert_eq!(lineage().len(), 36);
    }
}
