//! The floor of the gateway benchmark: a forwarding proxy that does nothing
//! else. It answers every request on `--listen` by sending one GET to
//! `--upstream` (with the bearer token from `FORWARD_TOKEN`) and returning
//! the upstream body unchanged.
//!
//! It is built from the same parts as the gateway's request path (hyper's
//! HTTP/1 server, a reqwest client configured as the gateway's, mimalloc,
//! TCP_NODELAY, a multi-threaded tokio runtime), so what it adds to a direct
//! request is what this machine charges for one proxy hop over loopback:
//! two more socket round trips and the wake-ups between them. The gateway's
//! overhead above this floor is the cost of its own work.
//!
//!     cargo run --release -p tfc-mcp-gateway --example forward_floor -- \
//!         --listen 127.0.0.1:9000 --upstream http://127.0.0.1:8080/api/v2/runs/run-1

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(clap::Parser)]
struct Args {
    /// Address to serve on.
    #[arg(long)]
    listen: std::net::SocketAddr,
    /// The one URL every request is forwarded to (GET).
    #[arg(long)]
    upstream: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let token = std::env::var("FORWARD_TOKEN").unwrap_or_default();
    let bearer = http::HeaderValue::try_from(format!("Bearer {token}"))?;
    let upstream = reqwest::Url::parse(&args.upstream)?;
    // As the gateway's client (upstream.rs): no redirects, no proxy.
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(30)).redirect(reqwest::redirect::Policy::none()).no_proxy().build()?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("forwarding {} -> {}", args.listen, upstream);
    loop {
        let (socket, _) = listener.accept().await?;
        let _ = socket.set_nodelay(true);
        let (client, upstream, bearer) = (client.clone(), upstream.clone(), bearer.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let (client, upstream, bearer) = (client.clone(), upstream.clone(), bearer.clone());
                async move { Ok::<_, Infallible>(forward(request, &client, upstream, bearer).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), service).await;
        });
    }
}

async fn forward(
    request: Request<Incoming>,
    client: &reqwest::Client,
    upstream: reqwest::Url,
    bearer: http::HeaderValue,
) -> Response<Body> {
    // The request body is read (as the gateway reads a tool call) and dropped.
    if axum::body::to_bytes(Body::new(request.into_body()), 1 << 20).await.is_err() {
        return status(StatusCode::BAD_REQUEST);
    }
    let sent = client
        .get(upstream)
        .header(http::header::AUTHORIZATION, bearer)
        .header(http::header::ACCEPT, "application/vnd.api+json")
        .send()
        .await;
    match sent {
        Ok(answer) => match answer.bytes().await {
            Ok(body) => {
                let mut response = Response::new(Body::from(body));
                response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
                response
            }
            Err(_) => status(StatusCode::BAD_GATEWAY),
        },
        Err(_) => status(StatusCode::BAD_GATEWAY),
    }
}

fn status(code: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = code;
    response
}
