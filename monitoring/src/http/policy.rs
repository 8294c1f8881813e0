//! Which `Host` and `Origin` a request may carry.
//!
//! A page on another site can make a browser send requests to the monitoring port, and
//! with DNS rebinding read the answers under its own name. Allowing only the names this
//! server is known by closes both: loopback names, the configured listen address, the
//! address the client actually connected to, and the names the operator lists in
//! `monitoring.allowed_hosts` (`"*"` there turns the check off).

use std::net::{IpAddr, SocketAddr};

#[derive(Debug, Clone)]
pub struct HostPolicy {
    names: Vec<String>,
    any: bool,
}

/// The host part of a `Host` value or an authority (`name`, `name:port`, `[v6]:port`),
/// lower-cased, without a trailing dot.
fn host_part(authority: &str) -> Option<String> {
    let authority = authority.trim();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))) {
            return None;
        }
        inside
    } else {
        match authority.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            Some(_) => return None,
            None => authority,
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn ip_name(ip: IpAddr) -> String {
    ip.to_string().to_ascii_lowercase()
}

impl HostPolicy {
    /// Loopback names, `listen`'s address (unless it is 0.0.0.0 or ::) and `extra`.
    pub fn new(listen: SocketAddr, extra: &[String]) -> HostPolicy {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].iter().map(|s| (*s).to_owned()).collect();
        if !listen.ip().is_unspecified() {
            names.push(ip_name(listen.ip()));
        }
        let any = extra.iter().any(|e| e.trim() == "*");
        names.extend(extra.iter().filter_map(|e| host_part(e)));
        names.sort();
        names.dedup();
        HostPolicy { names, any }
    }

    fn allows_name(&self, host: &str, local: SocketAddr) -> bool {
        self.any || self.names.iter().any(|n| n == host) || host == ip_name(local.ip()) || host.ends_with(".localhost")
    }

    /// Whether a `Host` header value is one of this server's names; `local` is the
    /// address the client connected to.
    pub fn allows_host(&self, host: &str, local: SocketAddr) -> bool {
        host_part(host).is_some_and(|h| self.allows_name(&h, local))
    }

    /// Whether an `Origin` header names a page served from one of this server's names.
    /// `null` (sandboxed frames, local files) is refused.
    pub fn allows_origin(&self, origin: &str, local: SocketAddr) -> bool {
        let Some((scheme, authority)) = origin.trim().split_once("://") else { return self.any };
        if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
            return self.any;
        }
        self.allows_host(authority.trim_end_matches('/'), local)
    }

    /// The names allowed besides the connection's own address, for error messages.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> SocketAddr {
        "127.0.0.1:9464".parse().unwrap()
    }

    #[test]
    fn loopback_names_and_the_listen_address_are_allowed_by_default() {
        let policy = HostPolicy::new("10.1.2.3:9464".parse().unwrap(), &[]);
        for host in ["localhost", "localhost:9464", "127.0.0.1:9464", "[::1]:9464", "10.1.2.3:9464", "LOCALHOST.", "grafana.localhost"] {
            assert!(policy.allows_host(host, local()), "{host}");
        }
        for host in ["attacker.example", "attacker.example:9464", "127.0.0.1.attacker.example", "", "localhost:x", "[::1"] {
            assert!(!policy.allows_host(host, local()), "{host}");
        }
    }

    #[test]
    fn the_address_the_client_connected_to_is_allowed() {
        let policy = HostPolicy::new("0.0.0.0:9464".parse().unwrap(), &[]);
        assert!(policy.allows_host("192.168.7.20:9464", "192.168.7.20:9464".parse().unwrap()));
        assert!(!policy.allows_host("192.168.7.21:9464", "192.168.7.20:9464".parse().unwrap()));
    }

    #[test]
    fn configured_names_are_allowed_and_a_star_allows_any() {
        let policy = HostPolicy::new(local(), &["Switchyard.Lab.example".into(), "[fd00::5]:9464".into()]);
        assert!(policy.allows_host("switchyard.lab.example:9464", local()));
        assert!(policy.allows_host("[fd00::5]", local()));
        assert!(!policy.allows_host("other.lab.example", local()));
        assert!(HostPolicy::new(local(), &["*".into()]).allows_host("anything.example", local()));
    }

    #[test]
    fn origins_must_name_an_allowed_host() {
        let policy = HostPolicy::new(local(), &[]);
        assert!(policy.allows_origin("http://127.0.0.1:9464", local()));
        assert!(policy.allows_origin("http://localhost:9464/", local()));
        assert!(!policy.allows_origin("http://attacker.example", local()));
        assert!(!policy.allows_origin("null", local()));
        assert!(!policy.allows_origin("file://", local()));
    }
}
