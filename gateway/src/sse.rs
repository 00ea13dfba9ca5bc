//! The legacy HTTP+SSE transport (MCP 2024-11-05), which rmcp does not
//! provide as a server: `GET /mcp/{token}/sse` opens a stream whose first
//! event is `endpoint` (the POST URI, `/mcp/{token}/messages?sessionId=...`
//! on the same origin); the client POSTs JSON-RPC there and gets 202; the
//! replies come back as `message` events on the stream.
//!
//! Each session runs the same [`GatewayHandler`] as Streamable HTTP, served
//! by rmcp over a pair of channels. Every POST goes through the same edge
//! checks (route, expiry, API token, rate limit, body limit) and carries the
//! freshly resolved route in its `http::request::Parts`, exactly like a
//! Streamable HTTP request, so the handler cannot tell the transports apart.
//! A session is closed when its URL token stops resolving (revoked, rotated,
//! expired), after an idle timeout, on shutdown once its in-flight calls
//! have been answered, and when its client stops reading (a message waits
//! for room on the stream longer than the stall timeout). These checks go on
//! while a message waits: a client that does not read cannot keep a revoked
//! session open.
//!
//! Sessions live in one replica's memory: legacy SSE needs client affinity
//! (the Service sets ClientIP affinity when it is enabled).

use std::{
    collections::HashMap,
    convert::Infallible,
    io::Read as _,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use chrono::Utc;
use futures::{Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use tfc_mcp_contract::route::namespace_of;
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::{
    http::{jsonrpc_parse_error, not_found, too_busy},
    mcp::{GatewayHandler, Shared},
    routes::{LoadedRoute, RouteTable},
};

/// Settings of the legacy SSE transport.
#[derive(Clone, Debug)]
pub struct SseSettings {
    /// Open sessions per replica; further `GET .../sse` get 503.
    pub max_sessions: usize,
    /// Open sessions per server (TfcMcpServer) per replica, so one server
    /// cannot take every slot.
    pub max_sessions_per_server: usize,
    /// Open sessions per namespace (all its servers together).
    pub max_sessions_per_namespace: usize,
    /// A session without any message in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// Interval of `: keep-alive` comments on the stream.
    pub keep_alive: Duration,
    /// How often a session re-checks its route (revocation, expiry).
    pub route_check_interval: Duration,
    /// Messages a session may have queued before further POSTs get 503.
    pub queue: usize,
    /// A message that finds no room on the stream for this long (the client
    /// stopped reading) closes the session.
    pub stall_timeout: Duration,
}

impl Default for SseSettings {
    fn default() -> Self {
        Self {
            max_sessions: 1000,
            max_sessions_per_server: 50,
            max_sessions_per_namespace: 100,
            idle_timeout: Duration::from_secs(1800),
            keep_alive: Duration::from_secs(15),
            route_check_interval: Duration::from_millis(500),
            queue: 32,
            stall_timeout: Duration::from_secs(30),
        }
    }
}

struct Session {
    token_sha256: String,
    server: String,
    to_server: mpsc::Sender<ClientJsonRpcMessage>,
    /// Requests forwarded and not yet answered.
    inflight: AtomicUsize,
    last_activity: Mutex<Instant>,
    closed: CancellationToken,
}

impl Session {
    fn touch(&self) {
        *self.last_activity.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn idle_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(*self.last_activity.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// All legacy SSE sessions of this replica.
pub struct SseHub {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    settings: SseSettings,
    shared: Arc<Shared>,
    routes: RouteTable,
    /// Cancelled when shutdown starts: no new sessions or messages; streams
    /// close once their calls are answered.
    draining: CancellationToken,
    /// Cancelled when the drain time is up: everything closes.
    hard: CancellationToken,
}

impl SseHub {
    pub fn new(
        settings: SseSettings,
        shared: Arc<Shared>,
        routes: RouteTable,
        draining: CancellationToken,
        hard: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self { sessions: Mutex::new(HashMap::new()), settings, shared, routes, draining, hard })
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remove(&self, id: &str) {
        if self.lock().remove(id).is_some() {
            self.shared.metrics.sse_sessions.dec();
        }
    }

    /// True while `token_sha256` still names a live route.
    fn route_alive(&self, token_sha256: &str) -> bool {
        self.routes.lookup_hash(token_sha256).is_some_and(|r| !r.route.is_expired(Utc::now()))
    }

    /// Why `session` must close now, if it must: revoked or expired route, idle, or drained.
    fn must_close(&self, session: &Session) -> Option<&'static str> {
        if !self.route_alive(&session.token_sha256) {
            return Some("route revoked or expired");
        }
        if session.idle_for(Instant::now()) >= self.settings.idle_timeout {
            return Some("idle");
        }
        if self.draining.is_cancelled() && session.inflight.load(Ordering::Acquire) == 0 {
            return Some("shutdown");
        }
        None
    }
}

/// `GET /mcp/{token}/sse`, after the edge checks.
pub async fn open(State(hub): State<Arc<SseHub>>, request: Request) -> Response {
    if request.method() != Method::GET {
        return method_not_allowed("GET");
    }
    let Some(route) = request.extensions().get::<Arc<LoadedRoute>>().cloned() else {
        return not_found();
    };
    if hub.draining.is_cancelled() {
        return too_busy(1);
    }
    // The POST URI: same origin, same token segment as this request's path.
    let Some(base) = request.uri().path().strip_suffix("/sse").map(str::to_owned) else {
        return not_found();
    };

    let id = session_id();
    let (to_server, from_client) = mpsc::channel::<ClientJsonRpcMessage>(hub.settings.queue.max(1));
    let (to_client, from_server) = futures::channel::mpsc::channel::<ServerJsonRpcMessage>(hub.settings.queue.max(1));
    let session = Arc::new(Session {
        token_sha256: route.route.token_sha256.clone(),
        server: route.route.server.clone(),
        to_server,
        inflight: AtomicUsize::new(0),
        last_activity: Mutex::new(Instant::now()),
        closed: hub.hard.child_token(),
    });
    {
        let mut sessions = hub.lock();
        // A tenant with many servers must not take every session slot of the replica.
        let namespace = namespace_of(&route.route.server);
        let full = sessions.len() >= hub.settings.max_sessions
            || sessions.values().filter(|s| s.server == route.route.server).count() >= hub.settings.max_sessions_per_server
            || sessions.values().filter(|s| namespace_of(&s.server) == namespace).count() >= hub.settings.max_sessions_per_namespace;
        if full {
            drop(sessions);
            hub.shared.metrics.rejected(&route.route.server, "sse_sessions_exhausted");
            return too_busy(5);
        }
        sessions.insert(id.clone(), session.clone());
    }
    hub.shared.metrics.sse_sessions.inc();
    debug!(server = %route.route.server, fingerprint = %route.fingerprint(), "legacy SSE session opened");

    // The MCP service of this session.
    let service_session = session.clone();
    let handler = GatewayHandler::new(hub.shared.clone());
    tokio::spawn(async move {
        let incoming = Box::pin(futures::stream::unfold(from_client, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) }));
        let ct = service_session.closed.child_token();
        if let Ok(running) = rmcp::service::serve_server_with_ct(handler, (to_client, incoming), ct).await {
            let _ = running.waiting().await;
        }
        service_session.closed.cancel();
    });

    // The stream pump: server messages out, route/idle/drain checks.
    let (events, events_rx) = mpsc::channel::<Event>(hub.settings.queue.max(1));
    let endpoint = format!("{base}/messages?sessionId={id}");
    let _ = events.try_send(Event::default().event("endpoint").data(endpoint));
    tokio::spawn(pump(hub.clone(), id, session, from_server, events));

    let stream = futures::stream::unfold(events_rx, |mut rx| async move { rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx)) });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(hub.settings.keep_alive.max(Duration::from_millis(100))).text("keep-alive"))
        .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

async fn pump(
    hub: Arc<SseHub>,
    id: String,
    session: Arc<Session>,
    mut from_server: impl Stream<Item = ServerJsonRpcMessage> + Unpin,
    events: mpsc::Sender<Event>,
) {
    let mut tick = tokio::time::interval(hub.settings.route_check_interval.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let reason = loop {
        tokio::select! {
            _ = session.closed.cancelled() => break "closed",
            _ = events.closed() => break "client gone",
            message = from_server.next() => {
                let Some(message) = message else { break "service ended" };
                if matches!(message, ServerJsonRpcMessage::Response(_) | ServerJsonRpcMessage::Error(_)) {
                    let _ = session.inflight.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_sub(1)));
                }
                session.touch();
                let Ok(data) = serde_json::to_string(&message) else { continue };
                // Wait for room on the stream, still checking the session: a
                // client that stops reading must not keep it open.
                let waiting_since = Instant::now();
                let room = loop {
                    tokio::select! {
                        room = events.reserve() => break room.map_err(|_| "client gone"),
                        _ = session.closed.cancelled() => break Err("closed"),
                        _ = tick.tick() => {
                            if let Some(reason) = hub.must_close(&session) {
                                break Err(reason);
                            }
                            if waiting_since.elapsed() >= hub.settings.stall_timeout {
                                break Err("client not reading");
                            }
                        }
                    }
                };
                match room {
                    Ok(room) => room.send(Event::default().event("message").data(data)),
                    Err(reason) => break reason,
                }
            }
            _ = tick.tick() => {
                if let Some(reason) = hub.must_close(&session) {
                    break reason;
                }
            }
        }
    };
    debug!(reason, server = %session.server, "legacy SSE session closed");
    session.closed.cancel();
    hub.remove(&id);
}

/// `POST /mcp/{token}/messages?sessionId=...`, after the edge checks (the
/// body is already read and within the limit).
pub async fn post(State(hub): State<Arc<SseHub>>, request: Request) -> Response {
    if request.method() != Method::POST {
        return method_not_allowed("POST");
    }
    let Some(route) = request.extensions().get::<Arc<LoadedRoute>>().cloned() else {
        return not_found();
    };
    let session_id = request.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "sessionId" || k == "session_id").map(|(_, v)| v.into_owned())
    });
    // A session of another token is as unknown as a session that never was.
    let session = session_id
        .and_then(|id| hub.lock().get(&id).cloned())
        .filter(|s| s.token_sha256 == route.route.token_sha256 && !s.closed.is_cancelled());
    let Some(session) = session else {
        return not_found();
    };
    if hub.draining.is_cancelled() {
        return too_busy(1);
    }

    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::BAD_REQUEST, "could not read the request body").into_response();
    };
    let mut message: ClientJsonRpcMessage = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(_) => return jsonrpc_parse_error(&bytes),
    };
    let is_request = matches!(message, ClientJsonRpcMessage::Request(_));
    // The handler reads the route (and the in-flight permit lives) here, as with Streamable HTTP.
    message.insert_extension(parts);
    if is_request {
        session.inflight.fetch_add(1, Ordering::AcqRel);
    }
    match session.to_server.try_send(message) {
        Ok(()) => {
            session.touch();
            (StatusCode::ACCEPTED, "Accepted").into_response()
        }
        Err(error) => {
            if is_request {
                let _ = session.inflight.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_sub(1)));
            }
            match error {
                mpsc::error::TrySendError::Full(_) => {
                    hub.shared.metrics.rejected(&route.route.server, "sse_queue_full");
                    too_busy(1)
                }
                mpsc::error::TrySendError::Closed(_) => not_found(),
            }
        }
    }
}

fn method_not_allowed(allow: &'static str) -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, allow)], "Method Not Allowed").into_response()
}

/// 128 random bits, hex.
pub(crate) fn session_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).is_ok();
    if !filled {
        // No /dev/urandom (not Linux): SipHash keyed from the OS's randomness.
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_random_hex() {
        let a = session_id();
        let b = session_id();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
