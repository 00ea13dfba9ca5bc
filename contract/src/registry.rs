//! The public Terraform Registry: where it is and which routes get its tools
//! without asking.
//!
//! The registry's address is gateway-wide configuration
//! (`--registry-address`, default [`DEFAULT_REGISTRY_ADDRESS`]; empty turns
//! the registry off), never a tenant's: a `TfcMcpServer` cannot point these
//! tools anywhere. Registry calls carry no `Authorization` header and pass the
//! same egress guard as every other outbound request.
//!
//! Which routes get the `registry` tools:
//! - a server that names `registry` in `tags` gets them (on a gateway
//!   without a registry, a call says so);
//! - a server with empty `tags` (all tags) gets them only when the gateway
//!   has a registry AND the route's address is the public HCP Terraform
//!   ([`PUBLIC_HCP_TERRAFORM`]), or the gateway allows the registry to
//!   Terraform Enterprise routes too (`--registry-for-enterprise-routes`):
//!   a Terraform Enterprise installation is often air-gapped, with its own
//!   module registry, and its users should not be handed public answers
//!   unasked;
//! - a server whose `tags` do not name `registry` never gets them.
//!
//! The last two rules are the process-wide [`RegistryDefaults`], installed
//! once at start-up ([`install_defaults`]); without it (tests, the
//! operator's tool count) they are the flags' defaults.

use std::sync::OnceLock;

use url::Url;

/// The public Terraform Registry.
pub const DEFAULT_REGISTRY_ADDRESS: &str = "https://registry.terraform.io";

/// The public HCP Terraform addresses (normalised): routes to them get the
/// registry tools by default.
pub const PUBLIC_HCP_TERRAFORM: &[&str] = &["https://app.terraform.io", "https://app.eu.terraform.io"];

/// The gateway-wide rules for servers that do not name `registry` in their tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistryDefaults {
    /// The gateway has a registry address.
    pub available: bool,
    /// Routes to Terraform Enterprise get the tools by default too.
    pub for_enterprise_routes: bool,
}

impl Default for RegistryDefaults {
    fn default() -> Self {
        Self { available: true, for_enterprise_routes: false }
    }
}

static DEFAULTS: OnceLock<RegistryDefaults> = OnceLock::new();

/// Set the process-wide defaults once, at start-up (later calls are ignored).
pub fn install_defaults(defaults: RegistryDefaults) {
    let _ = DEFAULTS.set(defaults);
}

/// The installed defaults, or the flags' defaults.
pub fn defaults() -> RegistryDefaults {
    DEFAULTS.get().copied().unwrap_or_default()
}

/// True when `address` is the public HCP Terraform.
pub fn is_public_hcp_terraform(address: &str) -> bool {
    crate::tfc_address::normalize(address).is_ok_and(|a| PUBLIC_HCP_TERRAFORM.contains(&a.as_str()))
}

/// Whether a server with empty `tags` and this HCP Terraform address gets the registry tools.
pub fn included_by_default(defaults: RegistryDefaults, tfc_address: &str) -> bool {
    defaults.available && (defaults.for_enterprise_routes || is_public_hcp_terraform(tfc_address))
}

/// The registry base URL from `--registry-address`: `None` when empty (off).
/// An `http(s)` URL without query, fragment or user info; a path prefix is kept.
pub fn parse_address(address: &str) -> Result<Option<Url>, String> {
    let trimmed = address.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let mut url = Url::parse(trimmed).map_err(|e| format!("{trimmed:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{trimmed:?} is not an http(s) address"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{trimmed:?} must be a base address without user info, query or fragment"));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(Some(url))
}

// ---- shapes of what a model names ---------------------------------------------------

/// JSON Schema patterns of the shapes below (the tools check them again).
pub const NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$";
pub const VERSION_PATTERN: &str = "^(latest|v?[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]+)?)$";
pub const DOC_ID_PATTERN: &str = "^[0-9]{1,20}$";

/// A registry namespace or name (`hashicorp`, `aws`, `terraform-aws-modules`,
/// `CIS-Policy-Set-for-AWS-Terraform`): 1 to 64 ASCII letters, digits, `-`
/// and `_`, starting with a letter or digit. Nothing else reaches a path:
/// no `/`, `.`, `?`, `%` or a URL.
pub fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=64).contains(&b.len()) && b[0].is_ascii_alphanumeric() && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
}

/// A semantic version `x.y.z` with an optional pre-release and build
/// (`5.80.0`, `1.0.0-beta.1`), optionally with a leading `v`; at most 64 characters.
pub fn is_version(s: &str) -> bool {
    let v = s.strip_prefix('v').unwrap_or(s);
    if v.is_empty() || s.len() > 64 {
        return false;
    }
    let (core, rest) = match v.find(['-', '+']) {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        && rest.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+'))
        && (v.len() == core.len() || !rest.is_empty())
}

/// A registry provider document id: 1 to 20 digits.
pub fn is_doc_id(s: &str) -> bool {
    (1..=20).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit())
}

/// A documentation slug (`instance`, `s3_bucket`): 1 to 128 ASCII letters, digits, `_` and `-`.
pub fn is_slug(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
}

/// Semantic-version order (pre-releases before their release), for sorting
/// version lists newest first; unparsable versions sort last.
pub fn version_key(v: &str) -> (u64, u64, u64, bool, String) {
    let v = v.strip_prefix('v').unwrap_or(v);
    let (core, pre) = match v.find(['-', '+']) {
        Some(i) => (&v[..i], &v[i..]),
        None => (v, ""),
    };
    let mut n = core.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (a, b, c) = (n.next().unwrap_or(0), n.next().unwrap_or(0), n.next().unwrap_or(0));
    (a, b, c, pre.is_empty() || pre.starts_with('+'), pre.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_anything_that_could_move_the_request() {
        for good in ["hashicorp", "aws", "terraform-aws-modules", "CIS-Policy-Set-for-AWS-Terraform", "google_beta", "DataDog"] {
            assert!(is_name(good), "{good}");
        }
        for bad in [
            "",
            "../../v2/providers",
            "..",
            ".",
            "hashicorp/aws",
            "aws?x=1",
            "aws#x",
            "https://evil.example/x",
            "%2e%2e",
            "-aws",
            "a b",
            "ünïcode",
            &"a".repeat(65),
        ] {
            assert!(!is_name(bad), "{bad}");
        }
    }

    #[test]
    fn versions_and_ids() {
        for good in ["5.80.0", "v1.2.3", "1.0.0-beta.1", "1.0.0+build.5", "10.20.30-rc1+meta"] {
            assert!(is_version(good), "{good}");
        }
        for bad in
            ["", "latest", "1.2", "1.2.3.4", "1.2.x", "1.2.3-", "1.2.3/../../x", "1.2.3?x", "v", &format!("1.2.3-{}", "a".repeat(70))]
        {
            assert!(!is_version(bad), "{bad}");
        }
        assert!(is_doc_id("8814952"));
        for bad in ["", "12a", "../1", "1/2", &"1".repeat(21)] {
            assert!(!is_doc_id(bad), "{bad}");
        }
        assert!(is_slug("s3_bucket") && !is_slug("s3/bucket") && !is_slug(""));
    }

    #[test]
    fn versions_sort_newest_first() {
        let mut v = vec!["1.9.0", "1.10.0", "1.10.0-rc1", "2.0.0", "0.1.0"];
        v.sort_by_key(|s| std::cmp::Reverse(version_key(s)));
        assert_eq!(v, ["2.0.0", "1.10.0", "1.10.0-rc1", "1.9.0", "0.1.0"]);
    }

    #[test]
    fn default_inclusion_follows_the_route_address() {
        let on = RegistryDefaults::default();
        assert!(included_by_default(on, "https://app.terraform.io"));
        assert!(included_by_default(on, "https://APP.terraform.io/"));
        assert!(included_by_default(on, "https://app.eu.terraform.io"));
        assert!(!included_by_default(on, "https://tfe.example.com"));
        assert!(!included_by_default(on, "http://app.terraform.io"), "plain http is not the public service");
        let tfe = RegistryDefaults { available: true, for_enterprise_routes: true };
        assert!(included_by_default(tfe, "https://tfe.example.com"));
        let off = RegistryDefaults { available: false, for_enterprise_routes: true };
        assert!(!included_by_default(off, "https://app.terraform.io"));
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_address("").unwrap(), None);
        assert_eq!(parse_address("https://registry.terraform.io").unwrap().unwrap().as_str(), "https://registry.terraform.io/");
        assert_eq!(parse_address("https://mirror.example/reg").unwrap().unwrap().as_str(), "https://mirror.example/reg/");
        for bad in ["ftp://x", "nope", "https://u:p@x", "https://x/?a=1", "https://x/#f"] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }
}
