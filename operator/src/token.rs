//! URL tokens: 32 bytes from the OS CSPRNG, base64url, prefixed so secret
//! scanners can match them.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{TryRngCore, rngs::OsRng};
use tfc_mcp_contract::route::URL_TOKEN_PREFIX;

/// Mints a fresh URL token: `tfcmcp_` + base64url(32 random bytes).
pub fn mint() -> String {
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes).expect("the OS random number generator is unavailable");
    format!("{URL_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// True when `token` has the shape `mint` produces (used to reject a hand-edited access Secret).
pub fn is_well_formed(token: &str) -> bool {
    token.strip_prefix(URL_TOKEN_PREFIX).and_then(|rest| URL_SAFE_NO_PAD.decode(rest).ok()).is_some_and(|bytes| bytes.len() == 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_well_formed_and_distinct() {
        let a = mint();
        let b = mint();
        assert!(a.starts_with("tfcmcp_"));
        assert_eq!(a.len(), "tfcmcp_".len() + 43);
        assert!(is_well_formed(&a));
        assert_ne!(a, b);
    }

    #[test]
    fn rejects_malformed_tokens() {
        assert!(!is_well_formed("tfcmcp_short"));
        assert!(!is_well_formed("nope"));
        assert!(!is_well_formed(""));
    }
}
