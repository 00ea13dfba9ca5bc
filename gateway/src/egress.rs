//! The outbound connection guard: the gateway must not be a proxy into the
//! cluster's network.
//!
//! Every outbound request (API calls, blob downloads, each redirect hop)
//! goes through two checks:
//! - before sending, [`EgressPolicy::check_url`]: an IP-literal host (the
//!   resolver never sees those) that is loopback, unspecified, link-local,
//!   private, shared (CGNAT), multicast, reserved or in a configured cluster
//!   CIDR is refused unless that exact `ip:port` is allow-listed; a host name
//!   that is allow-listed must also match the port;
//! - at connect time, [`GuardedResolver`]: every address a name resolves to
//!   is classified the same way and the forbidden ones are dropped (so DNS
//!   rebinding cannot slip a private address in after the first check),
//!   unless the name itself is on the allow-list (`host:port` entries).
//!
//! Blob downloads (`log-read-url`, JSON plan redirects, hosted state URLs)
//! additionally go only to hosts on the download allow-list (HCP
//! Terraform's archivist by default) or to the route's own address's host.

use std::{
    collections::BTreeSet,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{Arc, OnceLock},
};

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::tfc_address::TfcAddressPolicy;

/// The download allow-list when none is configured: HCP Terraform's blob store.
pub const DEFAULT_DOWNLOAD_HOSTS: &[&str] = &["archivist.terraform.io"];

/// Why an IP address is not reachable without an allow-list entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forbidden {
    Loopback,
    Unspecified,
    LinkLocal,
    Private,
    /// 100.64.0.0/10 (carrier-grade NAT).
    Shared,
    Multicast,
    Reserved,
    /// One of `--denied-egress-cidrs` (pod and service networks).
    Cluster,
}

impl Forbidden {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::Unspecified => "unspecified",
            Self::LinkLocal => "link-local",
            Self::Private => "private",
            Self::Shared => "shared (CGNAT)",
            Self::Multicast => "multicast",
            Self::Reserved => "reserved",
            Self::Cluster => "cluster-internal",
        }
    }
}

/// The IPv4 address an IPv6 address stands for, if any: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated) and the
/// NAT64 well-known prefix (`64:ff9b::a.b.c.d`).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0, 0, 0, 0, 0, 0] && !matches!(ip, Ipv6Addr::UNSPECIFIED | Ipv6Addr::LOCALHOST) {
        return Some(tail);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    None
}

fn classify_v4(ip: Ipv4Addr) -> Option<Forbidden> {
    let o = ip.octets();
    if o[0] == 0 {
        Some(Forbidden::Unspecified) // 0.0.0.0/8, "this network"
    } else if ip.is_loopback() {
        Some(Forbidden::Loopback)
    } else if ip.is_link_local() {
        Some(Forbidden::LinkLocal)
    } else if ip.is_private() {
        Some(Forbidden::Private)
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some(Forbidden::Shared)
    } else if ip.is_multicast() {
        Some(Forbidden::Multicast)
    } else if o[0] >= 240 || (o[0] == 192 && o[1] == 0 && o[2] == 0) || (o[0] == 198 && (o[1] & 0xfe) == 18) {
        Some(Forbidden::Reserved) // 240/4 incl. broadcast, 192.0.0.0/24, 198.18.0.0/15
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Forbidden> {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some(Forbidden::Unspecified)
    } else if ip.is_loopback() {
        Some(Forbidden::Loopback)
    } else if (first & 0xffc0) == 0xfe80 {
        Some(Forbidden::LinkLocal)
    } else if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfec0 {
        Some(Forbidden::Private) // unique local fc00::/7, deprecated site-local fec0::/10
    } else if ip.is_multicast() {
        Some(Forbidden::Multicast)
    } else {
        None
    }
}

/// Why `ip` may not be reached without an allow-list entry, or `None` for
/// a public address. IPv6 forms of IPv4 addresses are judged as the IPv4
/// address; `cluster` holds the configured cluster CIDRs.
pub fn classify(ip: IpAddr, cluster: &[IpNet]) -> Option<Forbidden> {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => embedded_ipv4(v6),
    };
    let builtin = match (ip, v4) {
        (_, Some(v4)) => classify_v4(v4),
        (IpAddr::V6(v6), None) => classify_v6(v6),
        (IpAddr::V4(_), None) => None,
    };
    if builtin.is_some() {
        return builtin;
    }
    let in_cluster = cluster.iter().any(|net| net.contains(&ip) || v4.is_some_and(|v4| net.contains(&IpAddr::V4(v4))));
    in_cluster.then_some(Forbidden::Cluster)
}

/// An outbound request the policy refuses. The message names the host, never
/// the URL (blob URLs are capabilities) or a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EgressRefused {
    #[error("the address {addr} is {} and not on the gateway's egress allow-list", .what.describe())]
    Address { addr: String, what: Forbidden },
    #[error("the address {addr} is not on the gateway's egress allow-list (wrong port for an allow-listed host)")]
    Unlisted { addr: String },
    #[error("the download URL's host {host} is not allowed (only HCP Terraform's blob store and this server's own address are)")]
    DownloadHost { host: String },
}

impl EgressRefused {
    /// Metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Address { .. } | Self::Unlisted { .. } => "address",
            Self::DownloadHost { .. } => "download_host",
        }
    }
}

/// An `--allowed-egress-addresses` entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum AllowedAddress {
    /// Exactly this IP and port.
    Socket(SocketAddr),
    /// This host name on this port; its resolved addresses are not filtered.
    Name(String, u16),
}

fn parse_allowed_address(entry: &str) -> Result<AllowedAddress, String> {
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Ok(AllowedAddress::Socket(canonical_socket(socket)));
    }
    let (host, port) = entry.rsplit_once(':').ok_or_else(|| format!("egress address {entry:?} must be ip:port or host:port"))?;
    let port: u16 = port.parse().map_err(|_| format!("egress address {entry:?} has an invalid port"))?;
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.parse::<IpAddr>().is_ok() || Url::parse(&format!("http://{host}:{port}/")).is_err() {
        return Err(format!("egress address {entry:?} must be ip:port ([v6]:port) or host:port"));
    }
    Ok(AllowedAddress::Name(host, port))
}

/// IPv4-mapped IPv6 sockets compare as their IPv4 form.
fn canonical_socket(socket: SocketAddr) -> SocketAddr {
    match socket {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => socket,
        },
        v4 => v4,
    }
}

fn normalize_host(host: &str) -> String {
    host.trim().trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

/// Where the gateway may connect. [`EgressPolicy::unrestricted`] (tests,
/// embedding) checks nothing; the binary builds a restricted one from flags.
#[derive(Clone, Debug)]
pub struct EgressPolicy {
    restricted: bool,
    denied_cidrs: Vec<IpNet>,
    allowed: BTreeSet<AllowedAddress>,
    download_hosts: BTreeSet<String>,
    tfc_addresses: TfcAddressPolicy,
}

impl Default for EgressPolicy {
    /// Restricted, with the default allow-lists (HCP Terraform and its archivist).
    fn default() -> Self {
        Self {
            restricted: true,
            denied_cidrs: Vec::new(),
            allowed: BTreeSet::new(),
            download_hosts: DEFAULT_DOWNLOAD_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
            tfc_addresses: TfcAddressPolicy::default(),
        }
    }
}

impl EgressPolicy {
    /// Everything allowed (tests and embedding only).
    pub fn unrestricted() -> Self {
        Self {
            restricted: false,
            denied_cidrs: Vec::new(),
            allowed: BTreeSet::new(),
            download_hosts: BTreeSet::new(),
            tfc_addresses: TfcAddressPolicy::unrestricted(),
        }
    }

    /// A restricted policy from the flags; a malformed entry is an error.
    /// Empty `download_hosts` means [`DEFAULT_DOWNLOAD_HOSTS`].
    pub fn new(
        tfc_addresses: TfcAddressPolicy,
        denied_cidrs: &[String],
        allowed_addresses: &[String],
        download_hosts: &[String],
    ) -> Result<Self, String> {
        let nonempty = |list: &[String]| list.iter().map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect::<Vec<_>>();
        let denied_cidrs = nonempty(denied_cidrs)
            .iter()
            .map(|c| {
                c.parse::<IpNet>()
                    .ok()
                    .or_else(|| c.parse::<IpAddr>().ok().map(IpNet::from))
                    .map(|n| n.trunc())
                    .ok_or_else(|| format!("denied egress CIDR {c:?} is not a CIDR (10.96.0.0/12, fd00::/8)"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let allowed = nonempty(allowed_addresses).iter().map(|e| parse_allowed_address(e)).collect::<Result<BTreeSet<_>, _>>()?;
        let mut hosts: BTreeSet<String> = nonempty(download_hosts).iter().map(|h| normalize_host(h)).collect();
        if hosts.is_empty() {
            hosts = DEFAULT_DOWNLOAD_HOSTS.iter().map(|h| (*h).to_owned()).collect();
        }
        if let Some(bad) = hosts.iter().find(|h| h.contains(['/', ':', '@', ' ']) && h.parse::<IpAddr>().is_err()) {
            return Err(format!("download host {bad:?} must be a bare host name (no scheme, port or path)"));
        }
        Ok(Self { restricted: true, denied_cidrs, allowed, download_hosts: hosts, tfc_addresses })
    }

    pub fn is_restricted(&self) -> bool {
        self.restricted
    }

    /// The allow-list of upstream addresses routes may name.
    pub fn tfc_addresses(&self) -> &TfcAddressPolicy {
        &self.tfc_addresses
    }

    /// Why `ip` is off limits, unless `ip:port` is allow-listed.
    fn refuse_socket(&self, ip: IpAddr, port: u16) -> Option<Forbidden> {
        let what = classify(ip, &self.denied_cidrs)?;
        let socket = canonical_socket(SocketAddr::new(ip, port));
        (!self.allowed.contains(&AllowedAddress::Socket(socket))).then_some(what)
    }

    fn name_allowed(&self, name: &str) -> bool {
        self.allowed.iter().any(|a| matches!(a, AllowedAddress::Name(n, _) if n == name))
    }

    /// The check before each request (and each redirect hop). IP literals
    /// are judged here (with their exact port); names are judged by the
    /// resolver, except an allow-listed name, which must match the port.
    pub fn check_url(&self, url: &Url) -> Result<(), EgressRefused> {
        if !self.restricted {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(Host::Domain(name)) => {
                let name = normalize_host(name);
                // A literal the URL parser left as a name (it should not), judged as an IP.
                if let Ok(ip) = name.parse::<IpAddr>() {
                    ip
                } else {
                    if self.name_allowed(&name) && !self.allowed.contains(&AllowedAddress::Name(name.clone(), port)) {
                        return Err(EgressRefused::Unlisted { addr: format!("{name}:{port}") });
                    }
                    return Ok(());
                }
            }
            None => return Err(EgressRefused::Address { addr: "(no host)".into(), what: Forbidden::Unspecified }),
        };
        match self.refuse_socket(ip, port) {
            Some(what) => Err(EgressRefused::Address { addr: SocketAddr::new(ip, port).to_string(), what }),
            None => Ok(()),
        }
    }

    /// A blob download (or one of its redirect hops) to `url`, for a route
    /// whose API lives at `api`: the host must be the API's or on the
    /// download allow-list, and the address must pass [`Self::check_url`].
    pub fn check_download(&self, url: &Url, api: Option<&Url>) -> Result<(), EgressRefused> {
        if !self.restricted {
            return Ok(());
        }
        let host = url.host_str().map(normalize_host).unwrap_or_default();
        let own = api.and_then(Url::host_str).map(normalize_host);
        if own.as_deref() != Some(host.as_str()) && !self.download_hosts.contains(&host) {
            return Err(EgressRefused::DownloadHost { host });
        }
        self.check_url(url)
    }

    /// The addresses a resolved `name` may be reached at.
    fn filter_resolved(&self, name: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, EgressRefused> {
        if !self.restricted || self.name_allowed(&normalize_host(name)) {
            return Ok(addrs);
        }
        let mut refused = None;
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match classify(a.ip(), &self.denied_cidrs) {
                None => true,
                Some(what) => {
                    refused.get_or_insert(what);
                    false
                }
            })
            .collect();
        match refused {
            Some(what) if kept.is_empty() => Err(EgressRefused::Address { addr: name.to_owned(), what }),
            _ => Ok(kept),
        }
    }
}

/// Told of every refused connection (reason label), for metrics.
pub type EgressObserver = Arc<dyn Fn(&'static str) + Send + Sync>;

/// A DNS resolver that drops addresses the policy forbids.
pub struct GuardedResolver {
    policy: Arc<EgressPolicy>,
    observer: Arc<OnceLock<EgressObserver>>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<EgressPolicy>, observer: Arc<OnceLock<EgressObserver>>) -> Self {
        Self { policy, observer }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(resolve_guarded(self.policy.clone(), self.observer.clone(), name.as_str().to_owned()))
    }
}

async fn resolve_guarded(
    policy: Arc<EgressPolicy>,
    observer: Arc<OnceLock<EgressObserver>>,
    name: String,
) -> Result<Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
    match policy.filter_resolved(&name, addrs) {
        Ok(kept) => Ok(Box::new(kept.into_iter())),
        Err(refused) => {
            if let Some(observe) = observer.get() {
                observe(refused.reason());
            }
            tracing::warn!(host = %name, %refused, "outbound connection refused");
            Err(format!("{refused}; refusing to connect").into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classification_table() {
        let cluster: Vec<IpNet> = vec!["10.96.0.0/12".parse().unwrap(), "203.0.113.0/24".parse().unwrap()];
        let table: &[(&str, Option<Forbidden>)] = &[
            ("127.0.0.1", Some(Forbidden::Loopback)),
            ("127.255.0.9", Some(Forbidden::Loopback)),
            ("::1", Some(Forbidden::Loopback)),
            ("::ffff:127.0.0.1", Some(Forbidden::Loopback)),
            ("::127.0.0.1", Some(Forbidden::Loopback)),
            ("64:ff9b::7f00:1", Some(Forbidden::Loopback)),
            ("0.0.0.0", Some(Forbidden::Unspecified)),
            ("0.1.2.3", Some(Forbidden::Unspecified)),
            ("::", Some(Forbidden::Unspecified)),
            ("169.254.169.254", Some(Forbidden::LinkLocal)),
            ("::ffff:169.254.169.254", Some(Forbidden::LinkLocal)),
            ("fe80::1", Some(Forbidden::LinkLocal)),
            ("febf::1", Some(Forbidden::LinkLocal)),
            ("10.0.0.1", Some(Forbidden::Private)),
            ("172.16.0.1", Some(Forbidden::Private)),
            ("172.31.255.255", Some(Forbidden::Private)),
            ("192.168.1.1", Some(Forbidden::Private)),
            ("::ffff:10.0.0.1", Some(Forbidden::Private)),
            ("::ffff:a00:1", Some(Forbidden::Private)),
            ("fc00::1", Some(Forbidden::Private)),
            ("fd12:3456::1", Some(Forbidden::Private)),
            ("fec0::1", Some(Forbidden::Private)),
            ("100.64.0.1", Some(Forbidden::Shared)),
            ("100.127.255.254", Some(Forbidden::Shared)),
            ("224.0.0.1", Some(Forbidden::Multicast)),
            ("ff02::1", Some(Forbidden::Multicast)),
            ("255.255.255.255", Some(Forbidden::Reserved)),
            ("240.0.0.1", Some(Forbidden::Reserved)),
            ("198.18.0.1", Some(Forbidden::Reserved)),
            ("203.0.113.7", Some(Forbidden::Cluster)),
            ("::ffff:203.0.113.7", Some(Forbidden::Cluster)),
            // Public.
            ("1.1.1.1", None),
            ("100.63.255.255", None),
            ("100.128.0.1", None),
            ("172.15.255.255", None),
            ("172.32.0.1", None),
            ("169.253.0.1", None),
            ("2606:4700:4700::1111", None),
            ("::ffff:1.1.1.1", None),
            ("fe7f::1", None),
        ];
        for (addr, want) in table {
            assert_eq!(classify(ip(addr), &cluster), *want, "{addr}");
        }
        // 10.96/12 is private anyway; the builtin reason wins.
        assert_eq!(classify(ip("10.96.0.1"), &cluster), Some(Forbidden::Private));
    }

    fn policy(allowed: &[&str], hosts: &[&str]) -> EgressPolicy {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        EgressPolicy::new(TfcAddressPolicy::default(), &s(&["203.0.113.0/24"]), &s(allowed), &s(hosts)).unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn ip_literals_need_the_exact_socket() {
        let p = policy(&["127.0.0.1:8443", "[::1]:8443"], &[]);
        assert!(p.check_url(&url("http://127.0.0.1:8443/api/v2/x")).is_ok());
        assert!(p.check_url(&url("http://[::1]:8443/")).is_ok());
        assert!(p.check_url(&url("http://[::ffff:127.0.0.1]:8443/")).is_ok());
        let err = p.check_url(&url("http://127.0.0.1:9090/metrics")).unwrap_err();
        assert_eq!(err, EgressRefused::Address { addr: "127.0.0.1:9090".into(), what: Forbidden::Loopback });
        assert!(err.to_string().contains("loopback"));
        assert!(p.check_url(&url("http://169.254.169.254/latest/meta-data/")).is_err());
        assert!(p.check_url(&url("http://[::ffff:169.254.169.254]/")).is_err());
        assert!(p.check_url(&url("http://2130706433:9090/")).is_err(), "decimal IPv4 literal");
        assert!(p.check_url(&url("http://0x7f.1:8443/")).is_ok(), "hex form of the allowed 127.0.0.1:8443");
        assert!(p.check_url(&url("http://203.0.113.9/")).is_err());
        assert!(p.check_url(&url("https://1.1.1.1/")).is_ok());
        assert!(p.check_url(&url("https://app.terraform.io/")).is_ok(), "names are judged by the resolver");
    }

    #[test]
    fn allow_listed_names_must_match_the_port() {
        let p = policy(&["tfe.internal:443"], &[]);
        assert!(p.check_url(&url("https://tfe.internal/")).is_ok());
        assert!(p.check_url(&url("https://TFE.internal.:443/")).is_ok());
        assert!(p.check_url(&url("http://tfe.internal:9090/")).is_err());
        let private = vec![SocketAddr::new(ip("10.1.2.3"), 443)];
        assert!(p.filter_resolved("tfe.internal", private.clone()).is_ok());
        assert!(p.filter_resolved("other.example", private).is_err());
    }

    #[test]
    fn resolver_filter_drops_forbidden_addresses() {
        let p = policy(&["127.0.0.1:8443"], &[]);
        let mixed = vec![SocketAddr::new(ip("127.0.0.1"), 0), SocketAddr::new(ip("1.1.1.1"), 0)];
        assert_eq!(p.filter_resolved("rebind.example", mixed).unwrap(), vec![SocketAddr::new(ip("1.1.1.1"), 0)]);
        // An allow-listed IP is reachable by literal only: a name resolving to it is refused.
        let err = p.filter_resolved("rebind.example", vec![SocketAddr::new(ip("127.0.0.1"), 0)]).unwrap_err();
        assert!(err.to_string().contains("rebind.example"));
        let err = p.filter_resolved("meta.example", vec![SocketAddr::new(ip("::ffff:169.254.169.254"), 0)]).unwrap_err();
        assert!(matches!(err, EgressRefused::Address { what: Forbidden::LinkLocal, .. }));
        assert!(EgressPolicy::unrestricted().filter_resolved("x", vec![SocketAddr::new(ip("127.0.0.1"), 0)]).is_ok());
    }

    #[test]
    fn downloads_only_to_allowed_hosts() {
        let p = policy(&["127.0.0.1:8443"], &[]);
        let api = url("http://127.0.0.1:8443/");
        assert!(p.check_download(&url("https://archivist.terraform.io/v1/object/abc"), Some(&api)).is_ok());
        assert!(p.check_download(&url("http://127.0.0.1:8443/_archivist/x"), Some(&api)).is_ok());
        assert_eq!(
            p.check_download(&url("https://evil.example/x"), Some(&api)).unwrap_err(),
            EgressRefused::DownloadHost { host: "evil.example".into() }
        );
        // Same host as the API, other port: the host passes, the address guard refuses.
        assert!(matches!(
            p.check_download(&url("http://127.0.0.1:9090/metrics"), Some(&api)).unwrap_err(),
            EgressRefused::Address { what: Forbidden::Loopback, .. }
        ));
        assert!(matches!(
            p.check_download(&url("http://169.254.169.254/latest/meta-data/"), Some(&api)).unwrap_err(),
            EgressRefused::DownloadHost { .. }
        ));
        let p = policy(&[], &["blobs.example.com"]);
        assert!(p.check_download(&url("https://archivist.terraform.io/x"), None).is_err(), "a configured list replaces the default");
        assert!(p.check_download(&url("https://Blobs.Example.com/x"), None).is_ok());
    }

    #[test]
    fn flags_are_validated() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let tfc = TfcAddressPolicy::default;
        assert!(EgressPolicy::new(tfc(), &s(&["10.0.0.0/33"]), &[], &[]).is_err());
        assert!(EgressPolicy::new(tfc(), &s(&["10.0.0.1"]), &[], &[]).is_ok(), "a single address is a /32");
        assert!(EgressPolicy::new(tfc(), &[], &s(&["127.0.0.1"]), &[]).is_err());
        assert!(EgressPolicy::new(tfc(), &[], &s(&["127.0.0.1:x"]), &[]).is_err());
        assert!(EgressPolicy::new(tfc(), &[], &[], &s(&["https://archivist.terraform.io"])).is_err());
        assert!(EgressPolicy::new(tfc(), &s(&[" "]), &s(&[""]), &s(&[""])).is_ok());
    }
}
