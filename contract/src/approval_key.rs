//! The approval key Secret (`spec.approval`): the key every gateway replica
//! seals confirmation requests with. The operator creates it once with a
//! [`new_key`]; the gateway reads it from the mounted files.

use rand::Rng;

/// File names in the key directory (the mounted Secret's keys).
pub const CURRENT_KEY_FILE: &str = "current";
pub const PREVIOUS_KEY_FILE: &str = "previous";

/// A new random key: 64 hex characters (256 bits from the thread's CSPRNG,
/// seeded by the operating system).
pub fn new_key() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_hex() {
        let (a, b) = (new_key(), new_key());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
