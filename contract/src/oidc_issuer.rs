//! Which issuer (and JWKS) URLs the gateway may fetch: https, or plain http
//! on a loopback host when the test-only flag allows it. Shared with the
//! operator, which refuses such specs with `Ready=False/InvalidOidc`.

use std::net::IpAddr;

use url::{Host, Url};

/// Parses and checks an issuer identifier or a `jwks_uri`.
pub fn check_url(text: &str, allow_insecure_loopback: bool) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|_| "is not a URL".to_owned())?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => return Err("has no host".into()),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure_loopback && loopback => Ok(url),
        "http" => Err("must be https (plain http only for a loopback test issuer with --allow-insecure-oidc-issuers)".into()),
        _ => Err("must be an https URL".into()),
    }
}

/// `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, section 4).
pub fn discovery_url(issuer: &Url) -> Result<Url, String> {
    let base = issuer.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/.well-known/openid-configuration")).map_err(|_| "is not a URL".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_always_http_only_loopback_with_the_flag() {
        assert!(check_url("https://login.example.com/realms/a", false).is_ok());
        assert!(check_url("http://login.example.com", false).is_err());
        assert!(check_url("http://login.example.com", true).is_err());
        assert!(check_url("http://127.0.0.1:8080/oidc", false).is_err());
        assert!(check_url("http://127.0.0.1:8080/oidc", true).is_ok());
        assert!(check_url("http://[::1]:8080", true).is_ok());
        for bad in ["ftp://x", "https://x/?a=b", "https://x/#f", "https://u:p@x/", "x", ""] {
            assert!(check_url(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn discovery_is_appended_to_the_issuer_path() {
        let issuer = Url::parse("https://a.example/realms/x/").unwrap();
        assert_eq!(discovery_url(&issuer).unwrap().as_str(), "https://a.example/realms/x/.well-known/openid-configuration");
    }
}
