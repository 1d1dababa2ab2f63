//! Where the server may send users' questions. A key's base URL is the user's to
//! choose, so the server must not become their way into its own network: an
//! address that is loopback, private, link-local (cloud metadata) or otherwise
//! not public is refused unless the operator allows it (by default loopback
//! alone, so a model on the same machine works at once). The addresses are
//! checked when a key is saved and again at each request, and the request goes
//! to the very addresses checked (no second lookup that could answer otherwise).

use crate::server::client_addr::Cidr;
use crate::AppError;
use reqwest::Url;
use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone)]
pub struct Egress {
    /// Networks reachable although not public.
    allowed: Vec<Cidr>,
}

/// A base URL checked, with the addresses to reach it at.
#[derive(Debug, Clone)]
pub struct Checked {
    pub url: Url,
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

impl Default for Egress {
    fn default() -> Self {
        Self::new(Self::LOOPBACK.iter().map(|c| c.parse().unwrap()).collect())
    }
}

impl Egress {
    pub const LOOPBACK: [&str; 2] = ["127.0.0.0/8", "::1/128"];

    pub fn new(allowed: Vec<Cidr>) -> Self {
        Self { allowed }
    }

    /// The URL as it will be used: http or https, no credentials in it, a host
    /// that resolves only to addresses the server may reach.
    pub async fn check(&self, base_url: &str) -> Result<Checked, AppError> {
        let bad = |why: &str| AppError::invalid(format!("base URL {base_url}: {why}"));
        let url = Url::parse(base_url.trim()).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("only http and https are allowed"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("put the key in the key field, not in the URL"));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?.to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| bad(&format!("its host does not resolve ({e})")))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(bad("its host does not resolve"));
        }
        if let Some(a) = addrs.iter().find(|a| !self.reachable(a.ip())) {
            return Err(bad(&format!(
                "{} is not a public address, and the server's operator does not allow it \
                 (--ai-allow-networks)",
                a.ip()
            )));
        }
        Ok(Checked { url, host, addrs })
    }

    fn reachable(&self, ip: IpAddr) -> bool {
        public(ip) || self.allowed.iter().any(|c| c.contains(ip))
    }
}

/// An address on the public internet.
fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                // Shared address space (carrier NAT) and benchmarking.
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || a == 0
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local (fc00::/7) and link-local (fe80::/10).
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_public_or_allowed_addresses() {
        let e = Egress::default();
        assert!(e.check("http://127.0.0.1:11434/v1").await.is_ok());
        assert!(e.check("http://[::1]:8080/v1").await.is_ok());
        for url in [
            "http://169.254.169.254/latest",
            "http://10.0.0.5/v1",
            "http://192.168.1.2/v1",
            "http://[fd00::1]/v1",
            "http://[::ffff:10.1.2.3]/v1",
            "http://0.0.0.0/v1",
            "file:///etc/passwd",
            "http://user:pw@8.8.8.8/v1",
        ] {
            let e = e.check(url).await.unwrap_err();
            assert_eq!(e.error, crate::error::ErrorCode::Invalid, "{url}");
        }
        assert!(e.check("https://8.8.8.8/v1").await.is_ok());
        let lan = Egress::new(vec!["10.0.0.0/8".parse().unwrap()]);
        assert!(lan.check("http://10.0.0.5/v1").await.is_ok());
        assert!(lan.check("http://127.0.0.1/v1").await.is_err());
    }
}
