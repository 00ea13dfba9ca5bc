//! The admin listener: `/healthz`, `/readyz` and `/metrics`, on hyper's
//! HTTP/1 server directly (a web framework would be most of the operator's
//! build for three fixed answers).

use std::{convert::Infallible, time::Duration};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode, body::Incoming, header, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::metrics::Metrics;

/// Time a client has to send its request headers (a slow client holds no task longer).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed accept (out of file descriptors): retry, do not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serve the admin endpoints on `listener` until the process ends.
pub async fn serve(listener: TcpListener, metrics: Metrics) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "admin listener: accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let answer = answer(request.method(), request.uri().path(), &metrics);
                async move { Ok::<_, Infallible>(answer) }
            });
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
            if let Err(error) = builder.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%error, "admin connection ended with an error");
            }
        });
    }
}

/// The answer to one request: text for the three endpoints (GET or HEAD),
/// 405 for other methods on them, 404 elsewhere.
fn answer(method: &Method, path: &str, metrics: &Metrics) -> Response<Full<Bytes>> {
    let body = match path {
        "/healthz" | "/readyz" => None,
        "/metrics" => Some(metrics.render()),
        _ => return text(StatusCode::NOT_FOUND, String::new()),
    };
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, String::new());
        response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET,HEAD"));
        return response;
    }
    text(StatusCode::OK, body.unwrap_or_else(|| "ok".to_owned()))
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn body(response: Response<Full<Bytes>>) -> String {
        String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn answers_the_three_endpoints_and_nothing_else() {
        let metrics = Metrics::default();
        for path in ["/healthz", "/readyz"] {
            let r = answer(&Method::GET, path, &metrics);
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(body(r).await, "ok");
        }
        let r = answer(&Method::GET, "/metrics", &metrics);
        assert_eq!(r.status(), StatusCode::OK);
        assert!(body(r).await.contains("tfcmcp_operator_reconciles"));
        assert_eq!(answer(&Method::HEAD, "/healthz", &metrics).status(), StatusCode::OK);
        let r = answer(&Method::POST, "/metrics", &metrics);
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET,HEAD");
        for path in ["/", "/metrics/", "/healthz/../metrics", "/admin"] {
            assert_eq!(answer(&Method::GET, path, &metrics).status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[tokio::test]
    async fn serves_over_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, Metrics::default()));
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.ends_with("\r\n\r\nok"), "{reply}");
    }
}
