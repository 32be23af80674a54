//! The client's address for throttling and the audit log. Behind a reverse
//! proxy every connection comes from the proxy, so `X-Forwarded-For` is read —
//! but only when the connection comes from a configured trusted proxy, and
//! only as far back as the hops are trusted: anything a client writes into the
//! header itself sits further left and is never reached.
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

fn trusted(addr: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&addr))
}

/// Walks `X-Forwarded-For` from the right (the hop nearest to us) and returns
/// the first address that is not a trusted proxy. An unparsable entry stops
/// the walk at the last address known to be real.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    let mut current = peer.to_canonical();
    if !trusted(current, proxies) {
        return current;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        match parse_hop(hop) {
            Some(addr) => {
                current = addr.to_canonical();
                if !trusted(current, proxies) {
                    return current;
                }
            }
            None => {
                tracing::debug!(
                    hop,
                    "unreadable X-Forwarded-For entry; using the last address read"
                );
                return current;
            }
        }
    }
    current
}

/// An entry is an address, or (as some proxies, e.g. Azure Application
/// Gateway, write it) an address with a port: `203.0.113.9:51234`,
/// `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// The address a throttle counts by: IPv6 by its /64, since one host or
/// home commonly holds a whole /64 and could otherwise take a fresh address
/// for every attempt.
pub fn throttle_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => ipnet::Ipv6Net::new(v6, 64)
            .map(|n| n.trunc().to_string())
            .unwrap_or_else(|_| ip.to_string()),
        _ => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_proxies;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let got = client_ip(ip("127.0.0.1"), &headers(&["203.0.113.9"]), &[]);
        assert_eq!(got, ip("127.0.0.1"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let proxies = parse_proxies("127.0.0.1, 10.0.0.0/8").unwrap();
        let got = client_ip(ip("127.0.0.1"), &headers(&["203.0.113.9"]), &proxies);
        assert_eq!(got, ip("203.0.113.9"));
        // Two trusted hops, the client is the first untrusted from the right.
        let got = client_ip(
            ip("10.1.2.3"),
            &headers(&["203.0.113.9, 10.9.9.9"]),
            &proxies,
        );
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn a_client_cannot_forge_its_address() {
        let proxies = parse_proxies("127.0.0.1").unwrap();
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real one.
        let got = client_ip(
            ip("127.0.0.1"),
            &headers(&["1.2.3.4", "198.51.100.20"]),
            &proxies,
        );
        assert_eq!(got, ip("198.51.100.20"));
        // A connection that is not from the proxy is taken at its word only.
        let got = client_ip(ip("198.51.100.20"), &headers(&["1.2.3.4"]), &proxies);
        assert_eq!(got, ip("198.51.100.20"));
        // Garbage stops the walk at the last real address.
        let got = client_ip(ip("127.0.0.1"), &headers(&["1.2.3.4, nonsense"]), &proxies);
        assert_eq!(got, ip("127.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        let proxies = parse_proxies("127.0.0.0/8").unwrap();
        let got = client_ip(ip("::ffff:127.0.0.1"), &headers(&["2001:db8::1"]), &proxies);
        assert_eq!(got, ip("2001:db8::1"));
    }

    #[test]
    fn hops_with_ports_are_read() {
        let proxies = parse_proxies("127.0.0.1").unwrap();
        for (hop, want) in [
            ("203.0.113.9:51234", "203.0.113.9"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::2]", "2001:db8::2"),
        ] {
            assert_eq!(
                client_ip(ip("127.0.0.1"), &headers(&[hop]), &proxies),
                ip(want),
                "{hop}"
            );
        }
    }

    #[test]
    fn ipv6_clients_are_throttled_by_their_64() {
        assert_eq!(throttle_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(throttle_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(throttle_key("203.0.113.9"), "203.0.113.9");
        assert_eq!(throttle_key("unknown"), "unknown");
    }

    #[test]
    fn proxy_lists_are_checked() {
        // An IPv4-mapped range means the IPv4 range (peers are canonical).
        assert_eq!(
            parse_proxies("::ffff:10.0.0.0/104").unwrap()[0].to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(parse_proxies("").unwrap(), vec![]);
        assert_eq!(
            parse_proxies(" 10.0.0.1/8 ").unwrap()[0].to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(parse_proxies("::1").unwrap()[0].to_string(), "::1/128");
        let err = parse_proxies("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert!(parse_proxies("10.0.0.0/33").is_err());
    }
}
