//! The server's address as the app configures it (`http://host:port` or `https://host`), and
//! the URLs derived from it.

use super::ClientError;

/// A server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `https` (TLS) or plain `http`.
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path prefix without a trailing slash (empty at the root), e.g. behind a reverse proxy.
    pub prefix: String,
    /// DER certificates of authorities trusted besides Mozilla's roots (an enterprise CA).
    pub extra_roots: Vec<Vec<u8>>,
}

impl ServerUrl {
    /// Parses `http://host[:port][/prefix]` or `https://…` (also `ws://` and `wss://`).
    ///
    /// # Errors
    /// [`ClientError::Config`] for anything else.
    pub fn parse(text: &str) -> Result<Self, ClientError> {
        let bad = || ClientError::Config(format!("not a server address: {text:?}"));
        let (tls, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("wss://") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (false, rest)
        } else if let Some(rest) = text.strip_prefix("ws://") {
            (false, rest)
        } else {
            return Err(bad());
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                (host, port.parse::<u16>().map_err(|_| bad())?)
            }
            _ => (authority, if tls { 443 } else { 80 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
            return Err(bad());
        }
        let prefix = path.trim_end_matches('/');
        Ok(ServerUrl {
            tls,
            host: host.to_owned(),
            port,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("/{prefix}")
            },
            extra_roots: Vec::new(),
        })
    }

    /// The `Host` header value.
    pub fn authority(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The path of an HTTP endpoint, e.g. `/api/documents`.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// The WebSocket URL of the sync endpoint.
    pub fn sync_url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.authority(), self.path("/sync"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_and_bad_ones_are_refused() {
        let local = ServerUrl::parse("http://127.0.0.1:8787").unwrap();
        assert_eq!((local.tls, local.port), (false, 8787));
        assert_eq!(local.sync_url(), "ws://127.0.0.1:8787/sync");
        let proxied = ServerUrl::parse("https://nachbar.example.org/estate/").unwrap();
        assert_eq!((proxied.tls, proxied.port), (true, 443));
        assert_eq!(proxied.path("/api/me"), "/estate/api/me");
        assert_eq!(proxied.sync_url(), "wss://nachbar.example.org/estate/sync");
        let v6 = ServerUrl::parse("http://[::1]:9000").unwrap();
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.authority(), "[::1]:9000");
        for bad in [
            "",
            "ftp://x",
            "http://",
            "http://host:99999",
            "127.0.0.1:8787",
        ] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
