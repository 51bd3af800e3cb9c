//! The network's edge, shared by the scraper and the webhook sender: the address guard
//! ([`guard`]), the resolver that checks every answer against it, and the HTTP client built on
//! both, direct or through the configured proxy. Knows addresses and names, nothing of pages,
//! jobs or stores.

pub mod guard;

use futures_util::future::BoxFuture;
use guard::{Policy, UrlRefusal};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use url::Url;

/// Why a request did not reach its destination, before any HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{url} is refused: {reason}")]
    Refused { url: String, reason: UrlRefusal },
    #[error("{host} does not resolve")]
    Unresolvable { host: String },
    #[error("{host} resolves only to private, loopback, link-local or metadata addresses")]
    ForbiddenAddress { host: String },
    #[error("timed out fetching {url}")]
    Timeout { url: String },
    #[error("fetching {url} failed")]
    Network {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with what is not HTTP, or with a head larger than any client reads:
    /// asking again gets the same.
    #[error("{url} answered with a malformed or oversized response head")]
    BadResponse {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

/// Why the resolver refused a name; found again in the error chain of a failed request.
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    #[error("{0} does not resolve")]
    NotFound(String),
    #[error("{0} resolves only to forbidden addresses")]
    Forbidden(String),
}

impl From<ResolveError> for NetError {
    fn from(e: ResolveError) -> NetError {
        match e {
            ResolveError::NotFound(host) => NetError::Unresolvable { host },
            ResolveError::Forbidden(host) => NetError::ForbiddenAddress { host },
        }
    }
}

/// Looks a host name up. The system's resolver unless an embedder (or a test standing in for
/// DNS) brings its own.
pub type Lookup = Arc<dyn Fn(String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> + Send + Sync>;

/// The operating system's resolver.
pub fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|a| a.ip()).collect()) })
    })
}

/// An HTTP client whose every connection goes through the address guard: it reaches the
/// network directly, or through `KRAWLR_PROXY_URL` when one is configured, and never through the
/// process environment's `HTTP(S)_PROXY` (which would let a proxy resolve, and reach, what the
/// guard refuses). With a proxy, [`GuardedClient::vet`] resolves and checks each target first.
pub struct GuardedClient {
    pub client: reqwest::Client,
    resolver: Arc<GuardedResolver>,
    proxied: bool,
}

impl GuardedClient {
    /// Finishes `builder` (timeouts, user agent…) with the guard, `lookup` and the proxy.
    pub fn build(
        builder: reqwest::ClientBuilder,
        policy: Policy,
        lookup: Lookup,
        proxy: Option<&Url>,
    ) -> Result<GuardedClient, reqwest::Error> {
        // The proxy is the operator's: its own name is looked up without the guard.
        let trusted = proxy.and_then(|p| p.host_str()).map(str::to_string);
        let resolver = Arc::new(GuardedResolver { policy, lookup, trusted });
        let builder = through(builder.dns_resolver(resolver.clone()), proxy)?;
        Ok(GuardedClient { client: builder.build()?, resolver, proxied: proxy.is_some() })
    }

    /// Checks `url` before a request: what needs no DNS, and, when a proxy will resolve the
    /// name instead of krawlr, the name's addresses too.
    pub async fn vet(&self, url: &Url) -> Result<(), NetError> {
        self.resolver.policy.check_url(url).map_err(|reason| NetError::Refused { url: url.to_string(), reason })?;
        match url.host() {
            Some(url::Host::Domain(host)) if self.proxied => Ok(self.resolver.vetted(host).await.map(drop)?),
            _ => Ok(()),
        }
    }
}

/// `builder` reaching the network directly, or through `proxy`: never through a proxy the
/// process environment names.
pub fn through(builder: reqwest::ClientBuilder, proxy: Option<&Url>) -> reqwest::Result<reqwest::ClientBuilder> {
    Ok(match proxy {
        Some(proxy) => builder.no_proxy().proxy(reqwest::Proxy::all(proxy.as_str())?),
        None => builder.no_proxy(),
    })
}

/// What a failed request ran into: a refused or unknown name, a timeout, or the network.
pub fn classify(url: &Url, err: reqwest::Error) -> NetError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(resolve) = e.downcast_ref::<ResolveError>() {
            return match resolve {
                ResolveError::NotFound(host) => NetError::Unresolvable { host: host.clone() },
                ResolveError::Forbidden(host) => NetError::ForbiddenAddress { host: host.clone() },
            };
        }
        source = e.source();
    }
    if err.is_timeout() {
        return NetError::Timeout { url: url.to_string() };
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_parse) {
            return NetError::BadResponse { url: url.to_string(), source: err };
        }
        source = e.source();
    }
    NetError::Network { url: url.to_string(), source: err }
}

/// Resolves names, then drops every forbidden address. reqwest connects only to the addresses
/// this returns, so the address checked is the address connected to: a name whose answer
/// changes between two lookups (DNS rebinding) is checked again at each connection.
#[derive(Clone)]
struct GuardedResolver {
    policy: Policy,
    lookup: Lookup,
    /// The configured proxy's host, resolved as it is.
    trusted: Option<String>,
}

impl GuardedResolver {
    /// The permitted addresses of `host`.
    async fn vetted(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        if !self.policy.permits_name(host) {
            return Err(ResolveError::Forbidden(host.to_string()));
        }
        let found = (self.lookup)(host.to_string()).await.map_err(|_| ResolveError::NotFound(host.to_string()))?;
        if found.is_empty() {
            return Err(ResolveError::NotFound(host.to_string()));
        }
        let permitted: Vec<IpAddr> = found.into_iter().filter(|ip| self.policy.permits_ip(*ip)).collect();
        if permitted.is_empty() {
            return Err(ResolveError::Forbidden(host.to_string()));
        }
        Ok(permitted)
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = if resolver.trusted.as_deref() == Some(host.as_str()) {
                (resolver.lookup)(host.clone()).await.map_err(|_| ResolveError::NotFound(host.clone()))?
            } else {
                resolver.vetted(&host).await?
            };
            let addrs: Vec<SocketAddr> = addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
