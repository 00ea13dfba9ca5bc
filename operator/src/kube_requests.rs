//! Counts the operator's requests to the Kubernetes API by verb: a tower
//! layer on the kube client, so every request (controller watches, reconcile
//! reads and writes, Events, the Lease) is counted, whoever makes it.

use std::task::{Context, Poll};

use prometheus_client::metrics::{counter::Counter, family::Family};
use tower::{Layer, Service};

use crate::metrics::VerbLabels;

/// The layer; clone it freely, every clone counts into the same family.
#[derive(Clone, Debug)]
pub struct CountRequestsLayer {
    counts: Family<VerbLabels, Counter>,
}

impl CountRequestsLayer {
    pub fn new(counts: Family<VerbLabels, Counter>) -> Self {
        Self { counts }
    }
}

impl<S> Layer<S> for CountRequestsLayer {
    type Service = CountRequests<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountRequests { inner, counts: self.counts.clone() }
    }
}

#[derive(Clone, Debug)]
pub struct CountRequests<S> {
    inner: S,
    counts: Family<VerbLabels, Counter>,
}

impl<S, B> Service<http::Request<B>> for CountRequests<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.counts.get_or_create(&VerbLabels { verb: verb(&request) }).inc();
        self.inner.call(request)
    }
}

/// The Kubernetes verb of a request, as far as the HTTP request tells it
/// (`get` covers both get and list: only the path tells them apart).
fn verb<B>(request: &http::Request<B>) -> &'static str {
    match *request.method() {
        http::Method::GET if request.uri().query().is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1")) => "watch",
        http::Method::GET => "get",
        http::Method::POST => "create",
        http::Method::PATCH => "patch",
        http::Method::PUT => "update",
        http::Method::DELETE => "delete",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_verb() {
        let counts = Family::<VerbLabels, Counter>::default();
        let mut service = CountRequestsLayer::new(counts.clone())
            .layer(tower::service_fn(|_: http::Request<()>| async { Ok::<_, std::convert::Infallible>(()) }));
        for (method, uri) in [
            ("GET", "/api/v1/namespaces/a/secrets/s"),
            ("GET", "/apis/tfcmcp.dev/v1alpha1/tfcmcpservers?watch=true&resourceVersion=1"),
            ("PATCH", "/api/v1/namespaces/a/secrets/s?fieldManager=x"),
            ("PATCH", "/api/v1/namespaces/a/secrets/t?fieldManager=x"),
            ("POST", "/apis/events.k8s.io/v1/namespaces/a/events"),
        ] {
            let request = http::Request::builder().method(method).uri(uri).body(()).unwrap();
            drop(service.call(request));
        }
        let count = |verb| counts.get_or_create(&VerbLabels { verb }).get();
        assert_eq!((count("get"), count("watch"), count("patch"), count("create"), count("delete")), (1, 1, 2, 1, 0));
    }
}
