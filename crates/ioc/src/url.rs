//! URLs in the one form they are compared in ([`normalise`]).
//!
//! `scheme://[userinfo@]host[:port][/path][?query][#fragment]` (RFC 3986 §3) becomes
//! `scheme://host[:port]/path[?query]`: scheme and host in ASCII lowercase, the host without a
//! trailing dots, the user information and the fragment dropped (neither is sent in a request
//! line), the port dropped when it is the scheme's default (http and ws 80, https and wss 443,
//! ftp 21), an empty path written `/`, an empty query dropped. The path and the query are
//! kept byte for byte: no percent-decoding, no case folding, no dot-segment removal, so
//! `/a/../b` and `/%41` name other resources than `/b` and `/A`.

/// Why a text is not a URL indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UrlError {
    /// No `://`.
    #[error("{0:?} has no scheme (scheme://)")]
    NoScheme(String),
    /// A scheme that is not a letter followed by letters, digits, `+`, `-` or `.`.
    #[error("{0:?} is not a URL scheme")]
    BadScheme(String),
    /// Whitespace or a control character.
    #[error("URL has whitespace or a control character")]
    Space,
    /// No host.
    #[error("{0:?} has no host")]
    NoHost(String),
    /// A port that is not a number up to 65535.
    #[error("{0:?} is not a port")]
    BadPort(String),
    /// An IPv6 literal without its closing `]`, or with text between `]` and the port.
    #[error("{0:?} is not a bracketed IPv6 host")]
    BadBracket(String),
    /// A host outside brackets with a `:`, `[` or `]` in it.
    #[error("{0:?} is not a host")]
    BadHost(String),
}

/// A URL in normalised form, with where its query starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    text: String,
    /// Byte offset of the `?`, when there is a query.
    query: Option<usize>,
}

impl Url {
    /// The whole normalised URL.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL without its query (`scheme://host[:port]/path`), when it has one.
    pub(crate) fn without_query(&self) -> Option<&str> {
        self.text.get(..self.query?)
    }

    /// The normalised text.
    pub(crate) fn into_string(self) -> String {
        self.text
    }
}

/// The default port of a scheme, for the schemes whose URLs custos can meet.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// `text` (trimmed) in normalised form; see the module documentation.
pub(crate) fn normalise(text: &str) -> Result<Url, UrlError> {
    let text = text.trim();
    if text.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(UrlError::Space);
    }
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| UrlError::NoScheme(text.to_string()))?;
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(UrlError::BadScheme(scheme.to_string()));
    }
    let scheme = scheme.to_ascii_lowercase();
    // The fragment is never sent.
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at_checked(authority_end).unwrap_or((rest, ""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_host_port(host_port)?;
    // All trailing dots, so that a normalised URL normalises to itself.
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(UrlError::NoHost(text.to_string()));
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => {
            let n = if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse::<u16>().ok()
            } else {
                None
            };
            let n = n.ok_or_else(|| UrlError::BadPort(p.to_string()))?;
            (Some(n) != default_port(&scheme)).then_some(n)
        }
    };
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_query, None),
    };
    let mut out = String::with_capacity(text.len() + 1);
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(&host);
    if let Some(port) = port {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(if path.is_empty() { "/" } else { path });
    let query = match query {
        Some(q) if !q.is_empty() => {
            let at = out.len();
            out.push('?');
            out.push_str(q);
            Some(at)
        }
        _ => None,
    };
    Ok(Url { text: out, query })
}

/// `host[:port]` or `[v6]:port` into host and port text.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), UrlError> {
    if authority.starts_with('[') {
        let close = authority
            .find(']')
            .ok_or_else(|| UrlError::BadBracket(authority.to_string()))?;
        let (host, after) = authority
            .split_at_checked(close + 1)
            .ok_or_else(|| UrlError::BadBracket(authority.to_string()))?;
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(UrlError::BadBracket(authority.to_string())),
            },
        };
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.contains([':', '[', ']']) {
        return Err(UrlError::BadHost(host.to_string()));
    }
    Ok((host, port))
}

#[cfg(test)]
mod test {
    use super::*;

    fn n(text: &str) -> String {
        normalise(text).unwrap().into_string()
    }

    #[test]
    fn lowercases_scheme_and_host_only() {
        assert_eq!(n("HTTP://Evil.COM./Path?Q=A"), "http://evil.com/Path?Q=A");
    }

    #[test]
    fn drops_default_ports_and_keeps_others() {
        assert_eq!(n("http://evil.com:80/x"), "http://evil.com/x");
        assert_eq!(n("https://evil.com:443/x"), "https://evil.com/x");
        assert_eq!(n("https://evil.com:80/x"), "https://evil.com:80/x");
        assert_eq!(n("http://evil.com:8080/x"), "http://evil.com:8080/x");
        assert_eq!(n("http://evil.com:0080/x"), "http://evil.com/x");
        assert_eq!(n("http://evil.com:/x"), "http://evil.com/x");
        assert_eq!(
            n("http://[2001:DB8::1]:8080/"),
            "http://[2001:db8::1]:8080/"
        );
        assert_eq!(n("http://[2001:db8::1]:80"), "http://[2001:db8::1]/");
    }

    #[test]
    fn drops_userinfo_fragment_and_empty_query() {
        assert_eq!(n("http://u:p@evil.com/a#frag"), "http://evil.com/a");
        assert_eq!(n("http://evil.com/a?"), "http://evil.com/a");
        assert_eq!(n("http://evil.com?x=1"), "http://evil.com/?x=1");
        assert_eq!(n("http://evil.com"), "http://evil.com/");
    }

    #[test]
    fn splits_off_the_query() {
        let u = normalise("http://evil.com/a?b=c").unwrap();
        assert_eq!(u.without_query(), Some("http://evil.com/a"));
        let u = normalise("http://evil.com/a").unwrap();
        assert_eq!(u.without_query(), None);
    }

    #[test]
    fn rejects_what_is_not_a_url() {
        assert_eq!(
            normalise("evil.com/a"),
            Err(UrlError::NoScheme("evil.com/a".into()))
        );
        assert_eq!(
            normalise("1http://evil.com"),
            Err(UrlError::BadScheme("1http".into()))
        );
        assert_eq!(
            normalise("http:///a"),
            Err(UrlError::NoHost("http:///a".into()))
        );
        assert_eq!(
            normalise("http://evil.com:99999/"),
            Err(UrlError::BadPort("99999".into()))
        );
        assert_eq!(
            normalise("http://evil.com:8o/"),
            Err(UrlError::BadPort("8o".into()))
        );
        assert_eq!(
            normalise("http://[::1/"),
            Err(UrlError::BadBracket("[::1".into()))
        );
        assert_eq!(normalise("http://evil.com/a b"), Err(UrlError::Space));
        assert_eq!(
            normalise("http://a:b:80/"),
            Err(UrlError::BadHost("a:b".into()))
        );
        assert_eq!(
            normalise("http://a]:80/"),
            Err(UrlError::BadHost("a]".into()))
        );
        assert_eq!(
            normalise("http://[::1]x/"),
            Err(UrlError::BadBracket("[::1]x".into()))
        );
    }

    #[test]
    fn normalised_urls_normalise_to_themselves() {
        for text in [
            "HTTP://A..:0080",
            "http://u@[::1]:/p?",
            "ws://h:00/a?b?c#d",
            "x+y://H./%41/../?Q",
        ] {
            let once = n(text);
            assert_eq!(n(&once), once, "{text}");
        }
    }
}
