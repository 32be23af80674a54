//! `trusted_proxies`: the reverse proxies whose `X-Forwarded-For` is believed
//! (see `web_security::client_ip`).
use ipnet::IpNet;
use std::net::IpAddr;

/// Parses `10.0.0.0/8, 192.0.2.7` (a bare address is a /32 or /128).
pub fn parse_proxies(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map(|n| canonical(n.trunc()))
                .map_err(|_| format!("{s:?} is not an address or CIDR range like 10.0.0.0/8"))
        })
        .collect()
}

/// Peers are compared in canonical form, so an IPv4-mapped range
/// (`::ffff:10.0.0.0/104`) is stored as the IPv4 range it means.
fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}
