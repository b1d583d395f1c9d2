//! `--forward URL`: each accepted request is also relayed to an upstream (Amplitude or a
//! proxy), and its answer goes back to the SDK when the upstream is reachable, so an app
//! under inspection still reports to its real project.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};

/// How long an upstream may take to answer before the local answer is used instead.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// Relays requests to one upstream.
#[derive(Debug)]
pub struct Forwarder {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The URL has no path of its own: the request's path is appended.
    append_path: bool,
}

/// The upstream's answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body as received.
    pub body: Bytes,
    /// Its content type, passed on.
    pub content_type: Option<HeaderValue>,
}

impl Forwarder {
    /// A forwarder to `url` (`https://api2.amplitude.com` keeps each request's path;
    /// a URL with a path posts there).
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("--forward '{url}' is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("--forward '{url}' must be an http or https URL");
        }
        crate::source::ensure_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(UPSTREAM_TIMEOUT)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up the HTTP client for --forward: {e}"))?;
        Ok(Self {
            append_path: url.path() == "/",
            client,
            url,
        })
    }

    /// Where a request to `path` goes.
    #[must_use]
    pub fn target(&self, path: &str) -> reqwest::Url {
        let mut url = self.url.clone();
        if self.append_path {
            url.set_path(path);
        }
        url
    }

    /// Posts `body` (already un-gzipped) with the request's content type upstream.
    pub async fn relay(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Reply, String> {
        let mut req = self.client.post(self.target(path)).body(body);
        if let Some(ct) = headers.get(header::CONTENT_TYPE) {
            req = req.header(header::CONTENT_TYPE, ct.clone());
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            body,
            content_type,
        })
    }
}
