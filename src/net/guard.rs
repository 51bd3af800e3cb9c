//! The address guard: which destinations krawlr refuses to connect to unless private networks
//! are allowed. Checked on the resolved addresses (so a public name pointing at a private
//! address is refused, and the checked address is the one connected to) and on every redirect.

use crate::config::METADATA_ADDRESSES;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// The longest company or webhook URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Host names refused whatever they resolve to.
const FORBIDDEN_NAMES: &[&str] = &["localhost", "metadata.google.internal", "metadata", "instance-data"];

/// Whether connecting to `ip` could reach this machine, its network or a cloud metadata service.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden_v4(v4);
            }
            let [seg0, seg1, ..] = v6.segments();
            let seg = v6.segments();
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg0 & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg0 & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || seg0 == 0x0064 && v6.segments()[1] == 0xff9b // NAT64 64:ff9b::/96 embeds IPv4
                || seg0 == 0x2002 // 6to4 embeds IPv4
                || (seg0 == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) // AWS metadata
                || (v6.segments()[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible ::a.b.c.d
                || (seg0 == 0x2001 && seg1 == 0) // Teredo 2001::/32 embeds IPv4
                || (seg0 == 0x0064 && seg1 == 0xff9b && seg[2] == 1) // local-use NAT64 64:ff9b:1::/48
                || seg[..6] == [0, 0, 0, 0, 0xffff, 0] // IPv4-translated ::ffff:0:a.b.c.d
                || (seg[5] == 0x5efe && matches!(seg[4], 0 | 0x0200)) // ISATAP …:0:5efe:a.b.c.d
        }
    }
}

/// Addresses that no allowed network opens (only `allow_private` does): this machine
/// (loopback, unspecified) and the metadata services, in any IPv6 form that embeds them.
pub fn is_never_opened(ip: IpAddr) -> bool {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4(),
    };
    ip.is_loopback()
        || ip.is_unspecified()
        || METADATA_ADDRESSES.contains(&ip)
        || v4.is_some_and(|v4| v4.is_loopback() || v4.is_unspecified() || METADATA_ADDRESSES.contains(&IpAddr::V4(v4)))
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, cloud metadata
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // 0.0.0.0/8 "this network"
        || (a == 100 && (64..128).contains(&b)) // 100.64/10 carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0/24 protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // 198.18/15 benchmarking
        || a >= 240 // reserved
}

/// Why a URL is refused before any connection is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("only http and https URLs are allowed")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error("URLs with credentials are not allowed")]
    Credentials,
    #[error("{0} is a private, loopback, link-local or metadata address")]
    Forbidden(String),
    #[error("port {0} is not a web port (80, 443, or 1024 and above)")]
    Port(u16),
}

/// What the guard lets through (plain data, from the settings); the checks are here.
pub type Policy = crate::config::GuardPolicy;

impl Policy {
    /// Everything allowed: for tools and tests that fetch from this machine.
    pub fn open() -> Policy {
        Policy { allow_private: true, ..Policy::default() }
    }

    pub fn permits_ip(&self, ip: IpAddr) -> bool {
        self.allow_private
            || !is_forbidden_ip(ip)
            || self.treat_as_public.contains(&ip)
            || (!is_never_opened(ip) && self.allowed_networks.iter().any(|n| n.contains(&ip)))
    }

    /// Names refused before any lookup: `localhost`, metadata names, and single labels (which
    /// resolve through search domains to whatever the local network calls them).
    pub fn permits_name(&self, name: &str) -> bool {
        self.allow_private || (!is_forbidden_name(name) && name.trim_end_matches('.').contains('.'))
    }

    /// A company site or webhook address as a client typed it: at most [`MAX_URL_LEN`]
    /// characters; a bare domain (`stripe.com`) means `https://stripe.com/`; then checked.
    pub fn target(&self, raw: &str) -> Result<Url, String> {
        if raw.len() > MAX_URL_LEN {
            return Err(format!("longer than {MAX_URL_LEN} characters"));
        }
        let url = match Url::parse(raw) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) if !raw.contains(':') || !raw.contains("//") => {
                Url::parse(&format!("https://{raw}")).map_err(|e| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        self.check_url(&url).map_err(|refusal| refusal.to_string())?;
        Ok(url)
    }

    /// Checks what can be checked without DNS: scheme, credentials, literal addresses, names.
    pub fn check_url(&self, url: &Url) -> Result<(), UrlRefusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UrlRefusal::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlRefusal::Credentials);
        }
        let host = url.host().ok_or(UrlRefusal::NoHost)?;
        let permitted = match &host {
            Host::Ipv4(ip) => self.permits_ip(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => self.permits_ip(IpAddr::V6(*ip)),
            Host::Domain(name) => self.permits_name(name),
        };
        if !permitted {
            return Err(UrlRefusal::Forbidden(host.to_string()));
        }
        // Port 25 or 22 of a public host is another protocol's server, not a website.
        match url.port() {
            Some(port) if !self.allow_private && port < 1024 && port != 80 && port != 443 => {
                Err(UrlRefusal::Port(port))
            }
            _ => Ok(()),
        }
    }
}

pub fn is_forbidden_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    FORBIDDEN_NAMES.contains(&name.as_str()) || name.ends_with(".localhost") || name.ends_with(".internal")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        Policy::default().check_url(&Url::parse(s).unwrap()).is_err()
    }

    #[test]
    fn refuses_the_usual_disguises() {
        for s in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://017700000001/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://metadata.google.internal/",
            "http://localhost:8080/",
            "http://foo.localhost/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[fe80::1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[::]/",
            "http://255.255.255.255/",
            "http://user:pass@example.com/",
            "http://intranet/",
            "http://router./",
            "http://example.com:25/",
            "https://example.com:0/",
            "ftp://example.com/",
            "file:///etc/passwd",
        ] {
            assert!(refused(s), "{s} should be refused");
        }
    }

    #[test]
    fn lets_public_addresses_through() {
        for s in [
            "https://stripe.com/",
            "http://93.184.216.34/",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "http://[2606:4700::1111]/",
            "https://example.com:8443/",
            "http://example.com:80/",
        ] {
            assert!(!refused(s), "{s} should be allowed");
        }
    }

    #[test]
    fn allow_private_lets_loopback_through() {
        let url = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert!(Policy::open().check_url(&url).is_ok());
        let ftp = Url::parse("ftp://127.0.0.1/").unwrap();
        assert_eq!(Policy::open().check_url(&ftp), Err(UrlRefusal::Scheme));
    }

    #[test]
    fn allowed_networks_open_only_themselves() {
        let policy = Policy { allowed_networks: vec!["10.20.0.0/16".parse().unwrap()], ..Policy::default() };
        assert!(policy.check_url(&Url::parse("http://10.20.3.4/").unwrap()).is_ok());
        for s in ["http://10.21.0.1/", "http://169.254.169.254/", "http://127.0.0.1/", "http://localhost/"] {
            assert!(policy.check_url(&Url::parse(s).unwrap()).is_err(), "{s}");
        }
    }

    #[test]
    fn no_allowed_network_opens_loopback_or_metadata() {
        use crate::config::opens_what_stays_closed;
        use ipnet::IpNet;
        let wide: Vec<IpNet> = ["0.0.0.0/0", "::/0", "127.0.0.0/8", "169.254.0.0/16", "fd00::/8", "::ffff:0:0/96"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        for net in &wide {
            assert!(opens_what_stays_closed(net), "{net}");
        }
        assert!(!opens_what_stays_closed(&"10.20.0.0/16".parse().unwrap()));
        assert!(!opens_what_stays_closed(&"169.254.10.0/24".parse().unwrap()));
        let policy = Policy { allowed_networks: wide, ..Policy::default() };
        for s in [
            "http://127.0.0.1/",
            "http://127.9.9.9/",
            "http://[::1]/",
            "http://0.0.0.0/",
            "http://169.254.169.254/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://metadata.google.internal/",
        ] {
            assert!(policy.check_url(&Url::parse(s).unwrap()).is_err(), "{s}");
        }
        assert!(policy.check_url(&Url::parse("http://10.1.2.3/").unwrap()).is_ok(), "the rest is opened");
    }

    #[test]
    fn tunnels_that_embed_an_ipv4_address_are_refused() {
        for s in [
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", // Teredo
            "http://[2001::1]/",
            "http://[2002:7f00:1::]/",             // 6to4 of 127.0.0.1
            "http://[64:ff9b::a9fe:a9fe]/",        // NAT64 of the metadata address
            "http://[64:ff9b:1::a9fe:a9fe]/",      // local-use NAT64
            "http://[::ffff:0:7f00:1]/",           // IPv4-translated
            "http://[fe80::5efe:a9fe:a9fe]/",      // ISATAP
            "http://[2607:f8b0::200:5efe:a00:1]/", // ISATAP on a public prefix
        ] {
            assert!(refused(s), "{s} should be refused");
        }
        assert!(!refused("http://[2001:4860:4860::8888]/"), "other 2001: addresses are public");
    }
}
