//! Where outbound requests may go. A URL's host is normalised first (IPv4-mapped IPv6 read as
//! IPv4, trailing dots and case dropped from names), then checked: link-local and cloud metadata
//! addresses are never reached. Names are checked again after resolving, at connect time (the
//! client's DNS resolver), so a vendor host cannot be pointed at a metadata address by DNS, and
//! a name resolving to loopback is refused unless the name itself says `localhost`: loopback is
//! reached only where an admin wrote it into a connection's `base_url`.

use super::ConnectorError;
use futures_util::future::BoxFuture;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use url::Url;

/// Host names of cloud metadata services (GCP, AWS, Azure, OpenStack), lower-case, no trailing dot.
const METADATA_NAMES: &[&str] =
    &["metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal", "metadata.azure.internal"];

/// The IPv4 address an IPv6 one stands for (`::ffff:a.b.c.d`, or the deprecated `::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    // IPv4-compatible: 96 zero bits, then an address that is not `::` or `::1`.
    (s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1))
        .then(|| Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8))
}

/// An address no outbound request may reach: link-local (cloud metadata at 169.254.169.254,
/// fe80::/10), the unspecified and broadcast addresses, and the metadata services that live
/// elsewhere (AWS fd00:ec2::254, Alibaba 100.100.100.200). IPv4 inside IPv6 is read as IPv4.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 0
                || v4 == Ipv4Addr::new(100, 100, 100, 200)
        }
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_forbidden(IpAddr::V4(v4)),
            None => {
                (v6.segments()[0] & 0xffc0) == 0xfe80
                    || v6.is_unspecified()
                    || v6 == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254)
            }
        },
    }
}

/// True for loopback, IPv4 inside IPv6 included.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || embedded_v4(v6).is_some_and(|v4| v4.is_loopback()),
    }
}

/// A host name as DNS sees it: lower-case, without the trailing dot(s) of a fully qualified name.
pub fn normal_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// True when the name itself says loopback (`localhost`, `*.localhost`, RFC 6761).
fn names_loopback(name: &str) -> bool {
    let n = normal_name(name);
    n == "localhost" || n.ends_with(".localhost")
}

fn refuse(url: &Url) -> ConnectorError {
    ConnectorError::Definition(format!(
        "refusing to call {}: not an http(s) address stackward may reach",
        url.origin().ascii_serialization()
    ))
}

/// Refuses a URL that is not http(s), or whose host (normalised) is link-local or a metadata
/// service. A literal loopback address passes: only an admin's `base_url` puts one there.
pub fn guard(url: &Url) -> Result<(), ConnectorError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse(url));
    }
    let bad = match url.host() {
        Some(url::Host::Ipv4(ip)) => is_forbidden(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_forbidden(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let n = normal_name(d);
            // A name that is an address in disguise (`169.254.169.254.`) is checked as the address.
            METADATA_NAMES.contains(&n.as_str()) || n.parse::<IpAddr>().is_ok_and(is_forbidden)
        }
        None => true,
    };
    if bad {
        return Err(refuse(url));
    }
    Ok(())
}

/// Resolves a name to socket addresses (port 0); the system resolver unless a test gives another.
pub type Lookup = Arc<dyn Fn(String) -> BoxFuture<'static, std::io::Result<Vec<SocketAddr>>> + Send + Sync>;

/// The outbound client's DNS resolver: resolves, then drops what no request may reach.
#[derive(Clone)]
pub struct GuardedResolver {
    lookup: Lookup,
}

impl Default for GuardedResolver {
    fn default() -> Self {
        GuardedResolver {
            lookup: Arc::new(|name| Box::pin(async move { Ok(tokio::net::lookup_host((name, 0)).await?.collect()) })),
        }
    }
}

impl GuardedResolver {
    /// A resolver over another lookup (tests point names at chosen addresses).
    pub fn with_lookup(lookup: Lookup) -> Self {
        GuardedResolver { lookup }
    }
}

/// The addresses of `name` a request may connect to; an error when none is left.
pub fn allowed(name: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
    let loopback_ok = names_loopback(name);
    let kept: Vec<SocketAddr> =
        addrs.iter().copied().filter(|a| !is_forbidden(a.ip()) && (loopback_ok || !is_loopback(a.ip()))).collect();
    if kept.is_empty() {
        return Err(format!(
            "{name} resolves only to addresses stackward may not reach (link-local, metadata or loopback)"
        ));
    }
    Ok(kept)
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_string();
        let lookup = self.lookup.clone();
        Box::pin(async move {
            if METADATA_NAMES.contains(&normal_name(&name).as_str()) {
                return Err(format!("{name} is a metadata service").into());
            }
            let addrs = lookup(name.clone()).await?;
            let kept = allowed(&name, addrs)?;
            tracing::debug!(host = %name, addresses = kept.len(), "resolved");
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(u: &str) -> bool {
        guard(&Url::parse(u).unwrap()).is_err()
    }

    #[test]
    fn hosts_are_normalised_before_the_check() {
        for u in [
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[::169.254.169.254]/",
            "http://metadata.google.internal./",
            "http://METADATA.Google.Internal/",
            "http://169.254.169.254./",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/",
            "http://0.0.0.0:8080/",
            "file:///etc/passwd",
        ] {
            assert!(refused(u), "{u} must be refused");
        }
        for u in ["http://127.0.0.1:8080/x", "https://api.github.com/orgs", "http://10.1.2.3/", "http://[::1]:9/"] {
            assert!(!refused(u), "{u} is an admin's explicit choice or a vendor");
        }
    }

    #[test]
    fn resolved_addresses_are_checked() {
        let a = |s: &str| -> SocketAddr { s.parse().unwrap() };
        assert!(allowed("vendor.example", vec![a("169.254.169.254:0")]).is_err());
        assert!(allowed("vendor.example", vec![a("[::ffff:169.254.169.254]:0")]).is_err());
        assert!(allowed("vendor.example", vec![a("127.0.0.1:0")]).is_err(), "DNS may not move a vendor onto loopback");
        assert!(allowed("localhost", vec![a("127.0.0.1:0")]).is_ok());
        assert!(allowed("LOCALHOST.", vec![a("[::1]:0")]).is_ok());
        assert_eq!(
            allowed("vendor.example", vec![a("169.254.169.254:0"), a("10.0.0.7:0")]).unwrap(),
            vec![a("10.0.0.7:0")],
            "only the reachable addresses are kept"
        );
    }
}
