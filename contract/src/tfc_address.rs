//! Which HCP Terraform / Terraform Enterprise addresses a route may use.
//!
//! A tenant names the upstream in `spec.tfc.address`; left open, that makes
//! the gateway a proxy to any host. Both the operator (`Ready=False`,
//! reason `AddressNotAllowed`) and the gateway (the route is not served)
//! check the address against one allow-list, configured with the same flags
//! (`--allowed-tfc-addresses`, `--allow-insecure-tfc-addresses`).
//!
//! Addresses are compared normalised: scheme and host lowercase, the
//! scheme's default port dropped, no trailing slash; an address with a path,
//! query, fragment or user info is refused outright.

use std::collections::BTreeSet;

use url::Url;

/// The allow-list when none is configured.
pub const DEFAULT_ALLOWED_TFC_ADDRESS: &str = "https://app.terraform.io";

/// Why an address is refused; the message names the address (never a token).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AddressRefused(pub String);

/// `scheme://host[:port]`, normalised, for an `http(s)` base address
/// without path (a single `/` is accepted), query, fragment or user info.
pub fn normalize(address: &str) -> Result<String, AddressRefused> {
    let trimmed = address.trim();
    let url = Url::parse(trimmed).map_err(|e| AddressRefused(format!("{trimmed:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AddressRefused(format!("{trimmed:?} is not an http(s) address")));
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(AddressRefused(format!("{trimmed:?} has no host")));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AddressRefused(format!("{trimmed:?} must not carry user info")));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(AddressRefused(format!("{trimmed:?} must be a base address without path, query or fragment")));
    }
    // `Url` already lowercases the scheme and a domain host and drops the default port.
    let host = host.trim_end_matches('.');
    Ok(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// The operator's and the gateway's allow-list of upstream addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TfcAddressPolicy {
    /// Normalised addresses; `None` allows any address (tests only).
    allowed: Option<BTreeSet<String>>,
    allow_insecure: bool,
}

impl Default for TfcAddressPolicy {
    /// HCP Terraform only, https only.
    fn default() -> Self {
        Self { allowed: Some(BTreeSet::from([DEFAULT_ALLOWED_TFC_ADDRESS.to_owned()])), allow_insecure: false }
    }
}

impl TfcAddressPolicy {
    /// From the flags. Empty `entries` means the default (HCP Terraform). An
    /// invalid entry, or an `http` entry without `allow_insecure`, is an error
    /// (refuse to start rather than guess).
    pub fn new(entries: &[String], allow_insecure: bool) -> Result<Self, AddressRefused> {
        let mut allowed = BTreeSet::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let normalized = normalize(entry)?;
            if normalized.starts_with("http://") && !allow_insecure {
                return Err(AddressRefused(format!(
                    "allowed address {entry:?} uses plain http; also set --allow-insecure-tfc-addresses to allow it"
                )));
            }
            allowed.insert(normalized);
        }
        if allowed.is_empty() {
            allowed.insert(DEFAULT_ALLOWED_TFC_ADDRESS.to_owned());
        }
        Ok(Self { allowed: Some(allowed), allow_insecure })
    }

    /// Any address, unchecked: for tests and embedding only.
    pub fn unrestricted() -> Self {
        Self { allowed: None, allow_insecure: true }
    }

    /// The normalised address when it may be used, else why not.
    pub fn check(&self, address: &str) -> Result<String, AddressRefused> {
        if self.allowed.is_none() {
            return Ok(address.trim().to_owned());
        }
        let normalized = normalize(address)?;
        if normalized.starts_with("http://") && !self.allow_insecure {
            return Err(AddressRefused(format!("{normalized} uses plain http; only https addresses are allowed")));
        }
        match &self.allowed {
            Some(allowed) if !allowed.contains(&normalized) => Err(AddressRefused(format!(
                "{normalized} is not on the allow-list of HCP Terraform / Terraform Enterprise addresses ({})",
                allowed.iter().cloned().collect::<Vec<_>>().join(", ")
            ))),
            _ => Ok(normalized),
        }
    }

    pub fn allows(&self, address: &str) -> bool {
        self.check(address).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        for (input, want) in [
            ("https://app.terraform.io", "https://app.terraform.io"),
            ("HTTPS://App.Terraform.IO/", "https://app.terraform.io"),
            ("https://app.terraform.io:443", "https://app.terraform.io"),
            ("https://tfe.example.com:8443/", "https://tfe.example.com:8443"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("http://[::1]:9090", "http://[::1]:9090"),
            ("  https://app.terraform.io.  ", "https://app.terraform.io"),
        ] {
            assert_eq!(normalize(input).unwrap(), want, "{input}");
        }
        for bad in [
            "app.terraform.io",
            "ftp://app.terraform.io",
            "https://app.terraform.io/api",
            "https://app.terraform.io/?x=1",
            "https://app.terraform.io/#f",
            "https://user:pw@app.terraform.io",
            "https://",
            "",
        ] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_allows_hcp_terraform_over_https_only() {
        let p = TfcAddressPolicy::default();
        assert!(p.allows("https://app.terraform.io"));
        assert!(p.allows("https://APP.terraform.io:443/"));
        assert!(!p.allows("http://app.terraform.io"));
        assert!(!p.allows("https://app.terraform.io:8443"));
        assert!(!p.allows("https://evil.example"));
        assert!(!p.allows("http://10.0.0.1"));
        assert!(!p.allows("http://169.254.169.254"));
        let msg = p.check("https://evil.example").unwrap_err().0;
        assert!(msg.contains("https://evil.example") && msg.contains("allow-list"), "{msg}");
        assert_eq!(TfcAddressPolicy::new(&[], false).unwrap(), p);
    }

    #[test]
    fn insecure_needs_the_flag() {
        let entries = vec!["http://127.0.0.1:8443".to_owned()];
        assert!(TfcAddressPolicy::new(&entries, false).is_err());
        let p = TfcAddressPolicy::new(&entries, true).unwrap();
        assert!(p.allows("http://127.0.0.1:8443/"));
        assert!(!p.allows("http://127.0.0.1:9090"));
        assert!(!p.allows("https://app.terraform.io"), "an explicit list replaces the default");
        let p = TfcAddressPolicy::new(&["https://tfe.example.com".to_owned()], false).unwrap();
        assert!(p.allows("https://tfe.example.com"));
        assert!(p.check("http://tfe.example.com").unwrap_err().0.contains("plain http"));
        assert!(TfcAddressPolicy::new(&["https://x/path".to_owned()], false).is_err());
    }

    #[test]
    fn unrestricted_allows_anything() {
        let p = TfcAddressPolicy::unrestricted();
        assert!(p.allows("http://127.0.0.1:1"));
        assert!(p.allows("https://tfe.example.com/prefix/"));
    }
}
