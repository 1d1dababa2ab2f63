//! The address a request comes from, for rate limits: the peer's, or, when the
//! peer is a proxy the operator trusts, the last address in `X-Forwarded-For`
//! that is not one of those proxies. A client can write anything into that
//! header, so only what trusted proxies appended counts.

use std::net::IpAddr;
use std::str::FromStr;

/// An address or a network (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, bits) = s
            .trim()
            .split_once('/')
            .map_or((s.trim(), None), |(a, b)| (a, Some(b)));
        let net: IpAddr = addr.parse().map_err(|e| format!("{s}: {e}"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{s}: the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Self { net, bits })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, width) = match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
            _ => return false,
        };
        let shift = width - u32::from(self.bits);
        shift >= width || (a >> shift) == (b >> shift)
    }
}

/// The client's address, given the peer's and the request's headers.
pub fn client(peer: Option<IpAddr>, headers: &http::HeaderMap, trusted: &[Cidr]) -> String {
    let Some(mut ip) = peer else {
        return "unknown".into();
    };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if is_trusted(ip) {
        // Right to left: each hop a trusted proxy appended, until one it did not trust.
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|h| h.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            match hop {
                Some(h) => {
                    ip = h;
                    if !is_trusted(h) {
                        break;
                    }
                }
                // Unreadable: nothing before it can be trusted.
                None => break,
            }
        }
    }
    ip.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn networks() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let one: Cidr = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope".parse::<Cidr>().is_err());
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxy = vec!["10.0.0.0/8".parse().unwrap()];
        let peer = Some("10.0.0.5".parse().unwrap());
        // The client wrote 1.1.1.1 itself; the proxy appended what it saw.
        assert_eq!(
            client(peer, &xff("1.1.1.1, 203.0.113.9"), &proxy),
            "203.0.113.9"
        );
        assert_eq!(
            client(peer, &xff("203.0.113.9, 10.0.0.7"), &proxy),
            "203.0.113.9"
        );
        // An untrusted peer's header is its own word: ignored.
        let stranger = Some("198.51.100.1".parse().unwrap());
        assert_eq!(
            client(stranger, &xff("203.0.113.9"), &proxy),
            "198.51.100.1"
        );
        assert_eq!(client(peer, &http::HeaderMap::new(), &proxy), "10.0.0.5");
        assert_eq!(client(None, &xff("1.1.1.1"), &proxy), "unknown");
    }
}
