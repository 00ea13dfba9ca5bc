//! `oidc` routes end to end in-process: the real simulator (HCP Terraform and
//! its test OIDC issuer, real ES256 / RS256 keys) behind the real edge and
//! verifier. Every refused token must leave the simulator's request log
//! untouched (no upstream call), and a flood of made-up key ids must not
//! make the gateway hammer the issuer.

mod support;

use std::{sync::Arc, sync::atomic::Ordering, time::Duration};

use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderMap, Request, StatusCode},
};
use serde_json::{Value, json};
use tfc_mcp_gateway::{
    egress::EgressPolicy,
    http::{HttpSettings, Shutdown, mcp_router},
    limits::Limits,
    mcp::Shared,
    metrics::Metrics,
    oidc::{OidcSettings, Verifier},
    routes::RouteTable,
    upstream::Upstream,
};
use tfc_sim::{Sim, SimConfig, oidc::MintRequest};
use tower::ServiceExt;

const BASE: &str = "https://mcp.example.com";
const TOKEN: &str = "tfcmcp_oidc_route";
const PLAIN: &str = "tfcmcp_plain_route";
const LIST_ORGS: &str = "list_all_hashicorp_terraform_cloud_organizations";

struct Env {
    router: Router,
    routes: RouteTable,
    sim: Arc<Sim>,
    sim_base: String,
    issuer: String,
    shared: Arc<Shared>,
}

async fn env_with(min_refresh: Duration) -> Env {
    env_with_egress(min_refresh, EgressPolicy::unrestricted()).await
}

async fn env_with_egress(min_refresh: Duration, egress: EgressPolicy) -> Env {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_base = format!("http://{}", listener.local_addr().unwrap());
    let sim = Sim::new(SimConfig {
        tokens: vec!["upstream-token".into()],
        step_delay_ms: 50,
        rate_limit: 0,
        run_locks: false,
        api_base: sim_base.clone(),
        blob_base: sim_base.clone(),
    });
    let app = tfc_sim::api_router(sim.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let issuer = format!("{sim_base}/oidc");

    let settings = OidcSettings { allow_insecure_loopback_issuers: true, jwks_min_refresh: min_refresh, ..OidcSettings::default() };
    let verifier = Verifier::new(settings, egress, None).unwrap();
    let limits = Limits { rate_per_second: 0.0, ..Limits::default() };
    let shared =
        Arc::new(Shared::with_limits(Upstream::new("oidc-test", Duration::from_secs(10)), Metrics::default(), limits).with_oidc(verifier));
    let routes = RouteTable::default();
    let settings =
        HttpSettings { public_base_url: Some(BASE.into()), allowed_hosts: vec!["mcp.example.com".into()], ..HttpSettings::default() };
    let router = mcp_router(routes.clone(), shared.clone(), &settings, &Shutdown::default());
    let env = Env { router, routes, sim, sim_base, issuer, shared };
    env.add(TOKEN, json!({"allowedSubjects": ["alice", "robot"], "allowedGroups": ["platform"]}));
    env.routes.apply(&support::route_secret("plain", PLAIN, &env.sim_base, json!({})));
    env
}

async fn env() -> Env {
    env_with(Duration::from_secs(30)).await
}

impl Env {
    fn add(&self, url_token: &str, oidc: Value) {
        let mut oidc = support::overlay(json!({"issuer": self.issuer}), &oidc);
        if oidc.get("groupsClaim").is_none() {
            oidc["groupsClaim"] = json!("groups");
        }
        let extra = json!({"version": 2, "oidc": oidc});
        self.routes.apply(&support::route_secret("srv", url_token, &self.sim_base, extra));
    }

    fn mint(&self, request: Value) -> String {
        let request: MintRequest = serde_json::from_value(request).unwrap();
        self.sim.oidc.mint(&self.issuer, request).unwrap()
    }

    /// A token a valid caller would hold: for this server's URL, for `sub`.
    fn valid(&self, sub: &str) -> String {
        self.mint(json!({"claims": {"sub": sub, "aud": format!("{BASE}/mcp/{TOKEN}")}}))
    }

    fn upstream_calls(&self) -> usize {
        self.sim.requests().len()
    }

    fn jwks_fetches(&self) -> u64 {
        self.sim.oidc.jwks_fetches.load(Ordering::SeqCst)
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap())
    }

    /// A tools/call of `list organizations` with `authorization` (if any) on `path`.
    async fn call(&self, path: &str, authorization: Option<&str>) -> (StatusCode, HeaderMap, Bytes) {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": LIST_ORGS, "arguments": {}}});
        let mut request = Request::post(path)
            .header("host", "mcp.example.com")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(Body::from(body.to_string()))
            .unwrap();
        if let Some(value) = authorization {
            request.headers_mut().insert("authorization", value.parse().unwrap());
        }
        self.send(request).await
    }

    async fn call_with(&self, token: &str) -> (StatusCode, HeaderMap, Bytes) {
        self.call(&format!("/mcp/{TOKEN}"), Some(&format!("Bearer {token}"))).await
    }
}

fn challenge(headers: &HeaderMap) -> String {
    headers.get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

const METADATA_URL: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp/tfcmcp_oidc_route";

#[tokio::test]
async fn a_valid_token_reaches_the_tools_and_upstream() {
    let env = env().await;
    let before = env.upstream_calls();
    for token in [
        env.valid("alice"),
        env.mint(json!({"alg": "RS256", "claims": {"sub": "robot", "aud": format!("{BASE}/mcp/{TOKEN}")}})),
        env.mint(json!({"claims": {"sub": "carol", "groups": ["ops", "platform"], "aud": [format!("{BASE}/mcp/{TOKEN}"), "other"]}})),
    ] {
        let (status, _, body) = env.call_with(&token).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("\"isError\":true"), "{text}");
    }
    assert!(env.upstream_calls() > before, "the tool reached HCP Terraform");
    assert_eq!(env.jwks_fetches(), 1, "keys are fetched once and cached");
}

#[tokio::test]
async fn bad_tokens_get_401_with_the_metadata_url_and_never_reach_upstream() {
    let env = env().await;
    let resource = format!("{BASE}/mcp/{TOKEN}");
    let now = chrono::Utc::now().timestamp();
    // Load the keys once, so every case below is judged with the keys in hand.
    assert_eq!(env.call_with(&env.valid("alice")).await.0, StatusCode::OK);
    let before = env.upstream_calls();

    let public_jwk = env.sim.oidc.stats()["current_kid"].clone();
    assert!(public_jwk.is_string());
    let cases: Vec<(&str, String)> = vec![
        ("wrong audience", env.mint(json!({"claims": {"sub": "alice", "aud": "https://mcp.example.com/mcp/tfcmcp_other"}}))),
        ("audience of a foreign API", env.mint(json!({"claims": {"sub": "alice", "aud": "api://something-else"}}))),
        ("no audience", env.mint(json!({"claims": {"sub": "alice"}}))),
        ("expired", env.mint(json!({"claims": {"sub": "alice", "aud": resource, "exp": now - 600}}))),
        ("not yet valid", env.mint(json!({"claims": {"sub": "alice", "aud": resource, "nbf": now + 600}}))),
        ("unknown key", env.mint(json!({"key": "unpublished", "claims": {"sub": "alice", "aud": resource}}))),
        ("made-up kid", env.mint(json!({"kid": "nope-1", "claims": {"sub": "alice", "aud": resource}}))),
        ("wrong issuer", env.mint(json!({"claims": {"sub": "alice", "aud": resource, "iss": "https://evil.example"}}))),
        ("alg none", env.mint(json!({"alg": "none", "claims": {"sub": "alice", "aud": resource}}))),
        ("HS256 keyed with the public key", env.mint(json!({"alg": "HS256", "claims": {"sub": "alice", "aud": resource}}))),
        ("no subject", env.mint(json!({"claims": {"aud": resource}}))),
        ("not a JWT", "tfcmcp_api_token_like_string".to_owned()),
        ("tampered payload", {
            let good = env.valid("alice");
            let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
            let evil = env.valid("mallory");
            parts[1] = evil.split('.').nth(1).unwrap().to_owned();
            parts.join(".")
        }),
    ];
    for (name, token) in &cases {
        let (status, headers, body) = env.call_with(token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {}", String::from_utf8_lossy(&body));
        let challenge = challenge(&headers);
        assert!(challenge.starts_with("Bearer "), "{name}: {challenge}");
        assert!(challenge.contains(&format!("resource_metadata=\"{METADATA_URL}\"")), "{name}: {challenge}");
        assert!(challenge.contains("error=\"invalid_token\""), "{name}: {challenge}");
        assert!(!String::from_utf8_lossy(&body).contains(token.as_str()), "{name}: the token is never echoed");
    }

    // No token at all: the challenge without an error, so the client starts its OAuth flow.
    let (status, headers, _) = env.call(&format!("/mcp/{TOKEN}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&headers), format!("Bearer resource_metadata=\"{METADATA_URL}\""));
    // Basic or other schemes are no Bearer token.
    assert_eq!(env.call(&format!("/mcp/{TOKEN}"), Some("Basic YWxpY2U6cHc=")).await.0, StatusCode::UNAUTHORIZED);

    // A valid token in the query string is refused (and never looked at).
    let valid = env.valid("alice");
    let (status, headers, _) = env.call(&format!("/mcp/{TOKEN}?access_token={valid}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge(&headers).contains("error=\"invalid_request\""), "{}", challenge(&headers));
    let (status, _, _) = env.call(&format!("/mcp/{TOKEN}?Access_Token={valid}"), Some(&format!("Bearer {valid}"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a query token is refused even next to a header");

    // A valid token of a caller the server does not admit: 403 insufficient_scope.
    let (status, headers, _) = env.call_with(&env.valid("mallory")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge(&headers).contains("error=\"insufficient_scope\""));

    assert_eq!(env.upstream_calls(), before, "no refused token reached HCP Terraform");
}

#[tokio::test]
async fn protected_resource_metadata_names_the_issuer_only_for_oidc_routes() {
    let env = env().await;
    let get = |path: String| Request::get(path).header("host", "mcp.example.com").body(Body::empty()).unwrap();
    let (status, headers, body) = env.send(get(format!("/.well-known/oauth-protected-resource/mcp/{TOKEN}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["resource"], format!("{BASE}/mcp/{TOKEN}"));
    assert_eq!(doc["authorization_servers"], json!([env.issuer]));
    assert_eq!(doc["bearer_methods_supported"], json!(["header"]));

    // The legacy SSE URL has its own resource.
    let (status, _, body) = env.send(get(format!("/.well-known/oauth-protected-resource/mcp/{TOKEN}/sse"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["resource"], format!("{BASE}/mcp/{TOKEN}/sse"));

    // Routes without oidc, unknown tokens and the bare well-known path look alike: 404.
    let unknown = env.send(get("/.well-known/oauth-protected-resource/mcp/tfcmcp_nope".into())).await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    for path in [format!("/.well-known/oauth-protected-resource/mcp/{PLAIN}"), "/.well-known/oauth-protected-resource".into()] {
        let (status, headers, body) = env.send(get(path.clone())).await;
        assert_eq!((status, body.clone()), (unknown.0, unknown.2.clone()), "{path}");
        assert_eq!(headers.get("content-length"), unknown.1.get("content-length"));
    }
}

#[tokio::test]
async fn an_explicit_audience_replaces_the_server_url() {
    let env = env().await;
    env.add("tfcmcp_api_aud", json!({"audience": "api://tfc-mcp"}));
    let call = |token: String| {
        let env = &env;
        async move { env.call("/mcp/tfcmcp_api_aud", Some(&format!("Bearer {token}"))).await.0 }
    };
    assert_eq!(call(env.mint(json!({"claims": {"sub": "x", "aud": "api://tfc-mcp"}}))).await, StatusCode::OK);
    assert_eq!(
        call(env.mint(json!({"claims": {"sub": "x", "aud": format!("{BASE}/mcp/tfcmcp_api_aud")}}))).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn required_claims_must_hold() {
    let env = env().await;
    env.add("tfcmcp_claims", json!({"requiredClaims": {"azp": "claude", "scp": "tfc"}}));
    let resource = format!("{BASE}/mcp/tfcmcp_claims");
    let call = |claims: Value| {
        let token = env.mint(json!({"claims": claims}));
        let env = &env;
        async move { env.call("/mcp/tfcmcp_claims", Some(&format!("Bearer {token}"))).await.0 }
    };
    assert_eq!(call(json!({"sub": "x", "aud": resource, "azp": "claude", "scp": ["read", "tfc"]})).await, StatusCode::OK);
    assert_eq!(call(json!({"sub": "x", "aud": resource, "azp": "chatgpt", "scp": "tfc"})).await, StatusCode::FORBIDDEN);
    assert_eq!(call(json!({"sub": "x", "aud": resource, "azp": "claude"})).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rotated_keys_are_picked_up_and_retired_ones_refused() {
    let env = env_with(Duration::from_millis(500)).await;
    let old = env.valid("alice");
    assert_eq!(env.call_with(&old).await.0, StatusCode::OK);
    env.sim.oidc.rotate(true);
    tokio::time::sleep(Duration::from_millis(600)).await;
    // A token signed with the new key names an unknown kid: the keys are fetched again.
    let new = env.valid("alice");
    assert_eq!(env.call_with(&new).await.0, StatusCode::OK);
    assert_eq!(env.jwks_fetches(), 2);
    // The retired key is gone from the fresh JWKS.
    assert_eq!(env.call_with(&old).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_the_keys_a_bounded_number_of_times() {
    let env = env().await;
    assert_eq!(env.call_with(&env.valid("alice")).await.0, StatusCode::OK);
    let before = env.jwks_fetches();
    let resource = format!("{BASE}/mcp/{TOKEN}");
    let tokens: Vec<String> = (0..200)
        .map(|i| env.mint(json!({"kid": format!("random-{i}-{}", rand_suffix(i)), "claims": {"sub": "alice", "aud": resource}})))
        .collect();
    let answers = futures::future::join_all(tokens.iter().map(|t| env.call_with(t))).await;
    assert!(answers.iter().all(|(status, _, _)| *status == StatusCode::UNAUTHORIZED));
    assert!(env.jwks_fetches() - before <= 1, "{} JWKS fetches for 200 unknown kids", env.jwks_fetches() - before);
    assert!(env.shared.oidc.key_fetches() <= 2);
    // Valid callers are unaffected.
    assert_eq!(env.call_with(&env.valid("alice")).await.0, StatusCode::OK);
}

fn rand_suffix(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[tokio::test]
async fn issuer_keys_are_fetched_only_through_the_egress_guard() {
    // The production policy refuses loopback (and private, link-local, ...)
    // addresses: an issuer there is never contacted, and its tokens are refused.
    let env = env_with_egress(Duration::from_secs(30), EgressPolicy::default()).await;
    let before = env.upstream_calls();
    let (status, headers, _) = env.call_with(&env.valid("alice")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge(&headers).contains("error=\"invalid_token\""));
    assert_eq!(env.sim.oidc.discovery_fetches.load(Ordering::SeqCst), 0, "the issuer was never contacted");
    // A failed fetch is rate-limited like a successful one.
    for _ in 0..20 {
        assert_eq!(env.call_with(&env.valid("alice")).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(env.shared.oidc.key_fetches(), 1);
    assert_eq!(env.upstream_calls(), before);
}

#[tokio::test]
async fn legacy_sse_gets_its_own_challenge_and_accepts_its_resource() {
    let env = env().await;
    let sse = |authorization: Option<String>| {
        let mut request = Request::get(format!("/mcp/{TOKEN}/sse")).header("host", "mcp.example.com").header("accept", "text/event-stream");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.body(Body::empty()).unwrap()
    };
    let (status, headers, _) = env.send(sse(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&headers), format!("Bearer resource_metadata=\"{METADATA_URL}/sse\""));
    let token = env.mint(json!({"claims": {"sub": "alice", "aud": format!("{BASE}/mcp/{TOKEN}/sse")}}));
    let response = env.router.clone().oneshot(sse(Some(format!("Bearer {token}")))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the SSE stream opens");
}
