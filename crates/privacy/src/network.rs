//! IP networks (`198.51.100.0/24`, `2001:db8::/32`) as written in a policy's `keep_networks`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IPv4 or IPv6 network: an address whose bits after `prefix_len` are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Network {
    addr: IpAddr,
    prefix_len: u8,
}

impl Network {
    /// The network of `addr`'s first `prefix_len` bits (the other bits are cleared).
    ///
    /// Returns `None` when `prefix_len` exceeds the family's width (32 or 128).
    pub fn new(addr: IpAddr, prefix_len: u8) -> Option<Self> {
        let bits = u32::from(prefix_len);
        (bits <= width(addr)).then(|| Self {
            addr: truncate(addr, bits),
            prefix_len,
        })
    }

    /// The network's first address (all host bits zero).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The number of leading bits that define the network.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `addr` is inside the network; an address of the other family never is.
    #[inline]
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                truncate(addr, u32::from(self.prefix_len)) == self.addr
            }
            _ => false,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for Network {
    type Err = String;

    /// Parses `ADDR/LEN`, or a bare address as a single-address network; host bits must be zero.
    fn from_str(text: &str) -> Result<Self, String> {
        let (addr_text, len_text) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| format!("{addr_text:?} is not an IPv4 or IPv6 address"))?;
        let prefix_len = match len_text {
            None => width(addr),
            Some(len) => len
                .parse::<u32>()
                .ok()
                .filter(|len| *len <= width(addr))
                .ok_or_else(|| format!("prefix length {len:?} is not 0 to {}", width(addr)))?,
        };
        let network = Network::new(addr, u8::try_from(prefix_len).unwrap_or(u8::MAX))
            .ok_or_else(|| format!("prefix length {prefix_len} is too long"))?;
        if network.addr != addr {
            return Err(format!(
                "{text} has host bits set (the network is {network})"
            ));
        }
        Ok(network)
    }
}

/// The width of `addr`'s family in bits: 32 or 128.
pub(crate) fn width(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `addr` with every bit after the first `bits` cleared (`bits` at or above the width keeps all).
pub(crate) fn truncate(addr: IpAddr, bits: u32) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let mask = u32::MAX
                .checked_shl(32u32.saturating_sub(bits))
                .unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX
                .checked_shl(128u32.saturating_sub(bits))
                .unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parses_networks_and_single_addresses() {
        let net: Network = "198.51.100.0/24".parse().unwrap();
        assert_eq!(net.to_string(), "198.51.100.0/24");
        assert!(net.contains("198.51.100.77".parse().unwrap()));
        assert!(!net.contains("198.51.101.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        let one: Network = "2001:db8::1".parse().unwrap();
        assert_eq!(one.prefix_len(), 128);
        let all: Network = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn rejects_host_bits_and_bad_lengths() {
        assert_eq!(
            "198.51.100.1/24".parse::<Network>().unwrap_err(),
            "198.51.100.1/24 has host bits set (the network is 198.51.100.0/24)"
        );
        assert_eq!(
            "10.0.0.0/33".parse::<Network>().unwrap_err(),
            "prefix length \"33\" is not 0 to 32"
        );
        assert_eq!(
            "example/8".parse::<Network>().unwrap_err(),
            "\"example\" is not an IPv4 or IPv6 address"
        );
    }
}
