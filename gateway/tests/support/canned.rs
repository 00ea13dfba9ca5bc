//! A tiny programmable HTTP server standing in for HCP Terraform: canned
//! answers by method and path (queued; the last one repeats), every request
//! it saw recorded.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub auth: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug)]
struct Canned {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// (method, path, answers)
type CannedRoute = (String, String, VecDeque<Canned>);

#[derive(Clone, Default)]
pub struct Mock {
    /// (method, path) -> queued answers; the last one repeats.
    routes: Arc<Mutex<Vec<CannedRoute>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    pub fn on(&self, method: &str, path: &str, status: u16, body: Value) -> &Self {
        self.on_with(method, path, status, &[], if body.is_null() { String::new() } else { body.to_string() })
    }
    pub fn on_with(&self, method: &str, path: &str, status: u16, headers: &[(&str, &str)], body: String) -> &Self {
        let canned = Canned { status, headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), body };
        let mut routes = self.routes.lock().unwrap();
        if let Some(r) = routes.iter_mut().find(|(m, p, _)| m == method && p == path) {
            r.2.push_back(canned);
        } else {
            routes.push((method.into(), path.into(), VecDeque::from([canned])));
        }
        self
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    pub fn seen_path(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.method == method && s.path == path).collect()
    }
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.seen_path(method, path).len()
    }
    /// The requests that were not GETs.
    pub fn writes(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.method != "GET").collect()
    }
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

async fn handle(State(mock): State<Mock>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::to_owned);
    mock.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        auth: h("authorization"),
        content_type: h("content-type"),
        body: body.to_vec(),
    });
    let canned = {
        let mut routes = mock.routes.lock().unwrap();
        routes
            .iter_mut()
            .find(|(m, p, _)| *m == method.as_str() && *p == uri.path())
            .map(|(_, _, q)| if q.len() > 1 { q.pop_front().unwrap() } else { q.front().unwrap().clone() })
    };
    match canned {
        Some(c) => {
            let mut resp = (StatusCode::from_u16(c.status).unwrap(), c.body).into_response();
            resp.headers_mut().insert("content-type", "application/vnd.api+json".parse().unwrap());
            for (k, v) in c.headers {
                resp.headers_mut().insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
            }
            resp
        }
        None => {
            let mut resp =
                (StatusCode::NOT_FOUND, json!({"errors": [{"status": "404", "title": "not found"}]}).to_string()).into_response();
            resp.headers_mut().insert("content-type", "application/vnd.api+json".parse().unwrap());
            resp
        }
    }
}

pub async fn serve(mock: Mock) -> String {
    let app = Router::new().fallback(handle).with_state(mock);
    super::serve_mock(app).await
}
