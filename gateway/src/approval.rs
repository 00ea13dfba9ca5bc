//! Human approval for destructive calls (`spec.approval`).
//!
//! A call that needs approval runs only after a person confirmed it:
//!
//! - on the 2026-07-28 revision (stateless), the first call is answered with
//!   an input-required result: an elicitation asking the user to confirm,
//!   plus a request state. The retried call must carry the user's answer and
//!   that state. The state is sealed (HMAC-SHA256, rmcp's
//!   [`RequestStateCodec`]) with a key every replica shares, bound to the
//!   route (its URL token hash), the tool and the canonical arguments, and
//!   expires after [`DEFAULT_TTL`]. Any replica can verify it.
//! - on older revisions the gateway asks through `elicitation/create` when
//!   the client declared elicitation (this needs a channel back to the
//!   client: the legacy SSE transport; stateless Streamable HTTP has none),
//!   and refuses otherwise.
//!
//! The same Secret keys two more things, through keys derived under their
//! own labels ([`derive_key`]): task ids (`crate::tasks`; neither a task id
//! nor a confirmation state opens as the other) and the audit log's argument
//! fingerprints (HMAC, so a guessable argument cannot be found from the log).
//!
//! Replay: a state is single-use per replica (its nonce is remembered until
//! it expires). With `--approval-claims` (the chart's default) it is also
//! claimed with a Lease (`crate::approval_claims`), so it is single-use
//! across replicas. Without, replicas do not share that memory: within the
//! expiry a replayed state (same route, tool, exact arguments, with the
//! user's confirmation) could run once more on another replica.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rmcp::model::{ElicitRequestParams, InputRequest, RequestStateCodec, RequestStateError, SealOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use hmac::{KeyInit, Mac};

use crate::{
    approval_claims::{Claim, LeaseClaims},
    catalog::{ToolSpec, id_argument},
    route::Route,
    upstream::TfcClient,
};

/// How long a confirmation request stays valid.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// Key of the elicitation in `inputRequests` / `inputResponses`.
pub const INPUT_KEY: &str = "confirm";
/// File names in the key directory (the mounted Secret), and a new key.
pub use tfc_mcp_contract::approval_key::{CURRENT_KEY_FILE, PREVIOUS_KEY_FILE, new_key};
/// Most remembered nonces per replica; beyond it the oldest are dropped early
/// (a state is then only as single-use as its expiry allows).
const MAX_REMEMBERED: usize = 100_000;
/// Domain separation of the binding.
const BINDING_DOMAIN: &[u8] = b"tfc-mcp/approval/v1";

/// What the sealed state carries (readable by the client: no secrets).
#[derive(Serialize, Deserialize)]
struct Sealed {
    /// Random, so each confirmation request is distinct and single-use.
    n: String,
}

/// Why a retried call's state was refused. The client sees one message for
/// all of them; the audit log records which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateRefusal {
    /// Forged, tampered, for another route, tool or arguments, or malformed.
    Invalid,
    Expired,
    /// Already used (on this replica, or on any with `--approval-claims`).
    Replayed,
    /// The single use could not be recorded for all replicas (see
    /// `approval_claims`): refused rather than left open to a replay.
    Unrecorded,
}

impl StateRefusal {
    pub fn label(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Expired => "expired",
            Self::Replayed => "replayed",
            Self::Unrecorded => "unrecorded",
        }
    }
}

/// The replica's approval keys and its memory of used states.
pub struct Approvals {
    codec: RequestStateCodec,
    /// Seals task ids (see `crate::tasks`) with keys derived from the same
    /// Secret under another label: a task id never opens as a confirmation
    /// state, nor a confirmation state as a task id.
    task_codec: RequestStateCodec,
    /// Keys the argument fingerprints of the audit log (derived, see [`derive_key`]).
    fingerprint_key: [u8; 32],
    ttl: Duration,
    /// Key id of the signing key, for logs (a hash prefix, never the key).
    pub key_id: String,
    /// True when the key was generated at start (no shared key configured):
    /// states verify only on this replica.
    pub ephemeral: bool,
    used: Mutex<HashMap<String, Instant>>,
    /// With `--approval-claims`: where a redeemed state is claimed for every replica.
    claims: Option<Arc<LeaseClaims>>,
}

fn key_id(key: &[u8]) -> String {
    hex::encode(Sha256::digest(key))[..8].to_owned()
}

impl Approvals {
    /// From the current key and, during a rotation, the previous one (each at
    /// least 32 bytes). States sealed with either are accepted; new ones are
    /// sealed with the current key.
    pub fn from_keys(current: &[u8], previous: Option<&[u8]>) -> Result<Self, String> {
        let current = trim(current);
        let current_id = key_id(current);
        let mut ring = vec![(current_id.clone(), current.to_vec())];
        if let Some(previous) = previous.map(trim).filter(|p| !p.is_empty() && *p != current) {
            ring.push((key_id(previous), previous.to_vec()));
        }
        let codec = RequestStateCodec::new_with_keyring(current_id.clone(), ring.iter().map(|(id, k)| (id.as_str(), k.as_slice())))
            .map_err(|e| format!("approval key: {e}"))?;
        let task_ring: Vec<(String, [u8; 32])> = ring.iter().map(|(id, k)| (id.clone(), derive_key(k, TASK_KEY_LABEL))).collect();
        let task_codec =
            RequestStateCodec::new_with_keyring(current_id.clone(), task_ring.iter().map(|(id, k)| (id.as_str(), k.as_slice())))
                .map_err(|e| format!("task key: {e}"))?;
        let fingerprint_key = derive_key(current, FINGERPRINT_KEY_LABEL);
        Ok(Self {
            codec,
            task_codec,
            fingerprint_key,
            ttl: DEFAULT_TTL,
            key_id: current_id,
            ephemeral: false,
            used: Mutex::new(HashMap::new()),
            claims: None,
        })
    }

    /// From a directory holding `current` and optionally `previous` (a mounted Secret).
    pub fn from_dir(dir: &Path) -> Result<Self, String> {
        let current = std::fs::read(dir.join(CURRENT_KEY_FILE))
            .map_err(|e| format!("cannot read the approval key {}: {e}", dir.join(CURRENT_KEY_FILE).display()))?;
        let previous = std::fs::read(dir.join(PREVIOUS_KEY_FILE)).ok();
        Self::from_keys(&current, previous.as_deref())
    }

    /// A random key of this process only: states verify on this replica only.
    pub fn ephemeral() -> Self {
        let mut approvals = Self::from_keys(new_key().as_bytes(), None).expect("64 random hex characters are a valid key");
        approvals.ephemeral = true;
        approvals
    }

    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Redeemed states are also claimed in the cluster, so each is used once
    /// across all replicas (see `approval_claims`).
    pub fn with_claims(mut self, claims: Arc<LeaseClaims>) -> Self {
        self.claims = Some(claims);
        self
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The codec of task ids: the shared key, derived for tasks only.
    pub fn task_codec(&self) -> &RequestStateCodec {
        &self.task_codec
    }

    /// The arguments' fingerprint for the audit log: keyed (HMAC with a key
    /// derived from the shared one), so a low-entropy argument (a run id, a
    /// workspace name) cannot be found from the log by trying candidates.
    /// Equal on every replica with the same key; changes with a key rotation.
    pub fn arguments_fingerprint(&self, arguments: &Map<String, Value>) -> String {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.fingerprint_key).expect("HMAC takes any key length");
        mac.update(canonical_arguments(arguments).as_bytes());
        hex::encode(mac.finalize().into_bytes())[..16].to_owned()
    }

    /// A new sealed state for this call, and its fingerprint for the audit log.
    pub fn seal(&self, route: &Route, tool: &str, arguments: &Map<String, Value>) -> (String, String) {
        let nonce = crate::sse::session_id();
        let binding = binding(route, tool, arguments);
        let state = self
            .codec
            .seal_json_with(&Sealed { n: nonce.clone() }, &SealOptions::new().associated_data(&binding).ttl(self.ttl))
            .unwrap_or_default();
        (state, state_fingerprint(&nonce))
    }

    /// Opens a retried call's state: valid only for this route, tool and
    /// exact arguments, before its expiry, and once (on this replica; on
    /// every replica with claims). Returns its fingerprint.
    pub async fn redeem(&self, state: &str, route: &Route, tool: &str, arguments: &Map<String, Value>) -> Result<String, StateRefusal> {
        let nonce = self.redeem_here(state, route, tool, arguments)?;
        if let Some(claims) = &self.claims {
            match claims.claim(&nonce, self.ttl, &route.server).await {
                Claim::Taken => {}
                Claim::AlreadyTaken => return Err(StateRefusal::Replayed),
                Claim::Unrecorded => return Err(StateRefusal::Unrecorded),
            }
        }
        Ok(state_fingerprint(&nonce))
    }

    /// The state's nonce, when it opens and was not used on this replica
    /// (from then on it counts as used here).
    fn redeem_here(&self, state: &str, route: &Route, tool: &str, arguments: &Map<String, Value>) -> Result<String, StateRefusal> {
        if state.len() > 4096 {
            return Err(StateRefusal::Invalid);
        }
        let binding = binding(route, tool, arguments);
        let sealed: Sealed = self.codec.open_json_with(state, &binding).map_err(|e| match e {
            RequestStateError::Expired => StateRefusal::Expired,
            _ => StateRefusal::Invalid,
        })?;
        let now = Instant::now();
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.retain(|_, until| *until > now);
        if used.contains_key(&sealed.n) {
            return Err(StateRefusal::Replayed);
        }
        if used.len() >= MAX_REMEMBERED
            && let Some(oldest) = used.iter().min_by_key(|(_, until)| **until).map(|(n, _)| n.clone())
        {
            used.remove(&oldest);
        }
        used.insert(sealed.n.clone(), now + self.ttl);
        Ok(sealed.n)
    }
}

type HmacSha256 = hmac::Hmac<sha2_hmac::Sha256>;

/// Label of the key that seals task ids.
const TASK_KEY_LABEL: &[u8] = b"tfc-mcp/tasks/task-id/v1";
/// Label of the key of the audit log's argument fingerprints.
const FINGERPRINT_KEY_LABEL: &[u8] = b"tfc-mcp/approval/audit-fingerprint/v1";

/// A key for one purpose, derived from the shared key: HMAC-SHA256(key,
/// label). One Secret serves several purposes, and what is made with one
/// derived key never verifies with another.
pub fn derive_key(key: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

fn trim(key: &[u8]) -> &[u8] {
    // Secrets written with `echo` end in a newline; it is not part of the key.
    let end = key.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &key[..end]
}

fn state_fingerprint(nonce: &str) -> String {
    hex::encode(Sha256::digest(nonce.as_bytes()))[..8].to_owned()
}

/// Arguments as canonical JSON: object keys sorted at every level, no
/// whitespace. Two argument objects that mean the same give the same text.
pub fn canonical_arguments(arguments: &Map<String, Value>) -> String {
    let mut out = String::new();
    crate::jsonapi::write_canonical(&Value::Object(arguments.clone()), &mut out);
    out
}

/// What a state is bound to: the route's token hash, the tool and the
/// arguments' digest.
fn binding(route: &Route, tool: &str, arguments: &Map<String, Value>) -> Vec<u8> {
    let digest = Sha256::digest(canonical_arguments(arguments).as_bytes());
    let mut out = Vec::with_capacity(BINDING_DOMAIN.len() + route.token_sha256.len() + tool.len() + 40);
    for part in [BINDING_DOMAIN, route.token_sha256.as_bytes(), tool.as_bytes(), hex::encode(digest).as_bytes()] {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// True when this route asks for a confirmation before running this tool.
pub fn required(route: &Route, tool: &ToolSpec) -> bool {
    route.approval.requires(tool.name, tool.method.as_str())
}

/// The elicitation's form: one required boolean.
pub fn elicitation_params(message: &str) -> ElicitRequestParams {
    serde_json::from_value(json!({
        "mode": "form",
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {
                "confirm": {"type": "boolean", "title": "Confirm", "description": "Yes, run it", "default": false}
            },
            "required": ["confirm"]
        }
    }))
    .expect("a valid elicitation form")
}

/// The input request of an input-required result.
pub fn input_request(message: &str) -> InputRequest {
    serde_json::from_value(json!({
        "method": "elicitation/create",
        "params": serde_json::to_value(elicitation_params(message)).unwrap_or_default(),
    }))
    .expect("a valid elicitation request")
}

/// The user's answer to the confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Confirmed,
    /// Declined, cancelled, or accepted without ticking the box.
    Declined,
    /// No answer, or not an elicitation result.
    Missing,
}

/// Reads an elicitation result (`{action, content}`).
pub fn answer(result: Option<&Value>) -> Answer {
    let Some(result) = result.and_then(Value::as_object) else { return Answer::Missing };
    match result.get("action").and_then(Value::as_str) {
        Some("accept") => {
            if result.get("content").and_then(|c| c.get(INPUT_KEY)) == Some(&Value::Bool(true)) {
                Answer::Confirmed
            } else {
                Answer::Declined
            }
        }
        Some("decline" | "cancel") => Answer::Declined,
        _ => Answer::Missing,
    }
}

/// Longest id or name shown in a confirmation message.
const MAX_SHOWN: usize = 80;

fn shown(s: &str) -> String {
    crate::catalog::truncate(s, MAX_SHOWN)
}

/// The confirmation message, in words: what will happen to what, where.
/// Names are resolved with one cheap GET for a run or a workspace; a
/// resource outside the organization allow-list is shown by id only.
pub async fn describe(client: &TfcClient<'_>, route: &Route, tool: &ToolSpec, arguments: &Map<String, Value>) -> String {
    let mut subject = Vec::new();
    let mut where_ = None;
    for (name, value) in arguments {
        let Some(value) = value.as_str() else { continue };
        if !(name.ends_with("_id") || name == "organization_name") || id_argument(name).is_none() {
            continue;
        }
        let label = name.trim_end_matches("_id").trim_end_matches("_name").replace('_', " ");
        // The model chose this value: show it only when it is a plain id
        // (no spaces or punctuation that could dress up the confirmation).
        if !crate::catalog::segment_ok(value) {
            subject.push(format!("{label} (not a valid id)"));
            continue;
        }
        subject.push(format!("{label} {}", shown(value)));
        if where_.is_none() {
            where_ = locate(client, route, name, value).await;
        }
    }
    let mut message = format!("Confirm: {}", tool.title.to_lowercase());
    if !subject.is_empty() {
        message.push_str(&format!(" — {}", subject.join(", ")));
    }
    if let Some((workspace, organization)) = where_ {
        match workspace {
            Some(ws) => message.push_str(&format!(" in workspace {} of {}", shown(&ws), shown(&organization))),
            None => message.push_str(&format!(" in organization {}", shown(&organization))),
        }
    }
    message.push_str(&format!(
        ". Server {} asks before this call because it changes or destroys something in HCP Terraform.",
        shown(route.display_name.as_deref().unwrap_or(&route.server))
    ));
    message
}

/// The workspace name and organization of a run or workspace id, when the
/// organization is allowed. A scoped server names nothing: the lookup runs
/// before the call's own scope check, and a name outside the scope must not
/// show through the confirmation text (ids only).
async fn locate(client: &TfcClient<'_>, route: &Route, argument: &str, id: &str) -> Option<(Option<String>, String)> {
    use crate::catalog::Verb;
    if !crate::catalog::segment_ok(id) || route.scope.is_some() {
        return None;
    }
    let (workspace, organization) = match argument {
        "workspace_id" if id.starts_with("ws-") => {
            let answer = client.api(Verb::Get, &format!("/workspaces/{id}"), &[], None).await.ok()?;
            let data = answer.body?.get("data")?.clone();
            let name = data.pointer("/attributes/name")?.as_str()?.to_owned();
            let org = data.pointer("/relationships/organization/data/id")?.as_str()?.to_owned();
            (Some(name), org)
        }
        "run_id" if id.starts_with("run-") => {
            let query = [("include".to_owned(), "workspace".to_owned())];
            let answer = client.api(Verb::Get, &format!("/runs/{id}"), &query, None).await.ok()?;
            let body = answer.body?;
            let workspace =
                body.get("included")?.as_array()?.iter().find(|i| i.get("type").and_then(Value::as_str) == Some("workspaces"))?;
            let name = workspace.pointer("/attributes/name")?.as_str()?.to_owned();
            let org = workspace.pointer("/relationships/organization/data/id")?.as_str()?.to_owned();
            (Some(name), org)
        }
        "organization_name" => (None, id.to_owned()),
        _ => return None,
    };
    let allowed = route.organizations.is_empty() || route.organizations.iter().any(|o| o.eq_ignore_ascii_case(&organization));
    allowed.then_some((workspace, organization))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without claims nothing is awaited: redeemed at once.
    fn redeem(
        approvals: &Approvals,
        state: &str,
        route: &Route,
        tool: &str,
        arguments: &Map<String, Value>,
    ) -> Result<String, StateRefusal> {
        futures::executor::block_on(approvals.redeem(state, route, tool, arguments))
    }

    fn route(token: &str) -> Route {
        serde_json::from_value(json!({
            "version": 1, "tokenSha256": crate::route::sha256_hex(token), "server": "ns/a",
            "tfcAddress": "http://x", "methods": ["custom"],
        }))
        .unwrap()
    }

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OTHER_KEY: &[u8] = b"fedcba9876543210fedcba9876543210";
    const APPLY: &str = "hashicorp_terraform_cloud_runs_apply";

    #[test]
    fn a_state_opens_once_for_its_route_tool_and_arguments() {
        let approvals = Approvals::from_keys(KEY, None).unwrap();
        let r = route("tfcmcp_a");
        let a = args(json!({"run_id": "run-1", "comment": "ok"}));
        let (state, fp) = approvals.seal(&r, APPLY, &a);
        assert_eq!(redeem(&approvals, &state, &r, APPLY, &a), Ok(fp));
        // Single use on this replica.
        assert_eq!(redeem(&approvals, &state, &r, APPLY, &a), Err(StateRefusal::Replayed));
    }

    #[test]
    fn other_route_tool_arguments_or_key_are_refused() {
        let approvals = Approvals::from_keys(KEY, None).unwrap();
        let r = route("tfcmcp_a");
        let a = args(json!({"run_id": "run-1"}));
        let (state, _) = approvals.seal(&r, APPLY, &a);
        assert_eq!(redeem(&approvals, &state, &route("tfcmcp_b"), APPLY, &a), Err(StateRefusal::Invalid));
        assert_eq!(redeem(&approvals, &state, &r, "hashicorp_terraform_cloud_runs_discard", &a), Err(StateRefusal::Invalid));
        assert_eq!(redeem(&approvals, &state, &r, APPLY, &args(json!({"run_id": "run-2"}))), Err(StateRefusal::Invalid));
        assert_eq!(redeem(&approvals, &state, &r, APPLY, &args(json!({"run_id": "run-1", "comment": "x"}))), Err(StateRefusal::Invalid));
        let other = Approvals::from_keys(OTHER_KEY, None).unwrap();
        assert_eq!(redeem(&other, &state, &r, APPLY, &a), Err(StateRefusal::Invalid));
        // Still good for the right call after the refusals.
        assert!(redeem(&approvals, &state, &r, APPLY, &a).is_ok());
    }

    #[test]
    fn tampered_and_garbage_states_are_refused() {
        let approvals = Approvals::from_keys(KEY, None).unwrap();
        let r = route("tfcmcp_a");
        let a = args(json!({"run_id": "run-1"}));
        let (state, _) = approvals.seal(&r, APPLY, &a);
        for i in [0, state.len() / 2, state.len() - 1] {
            let mut bytes = state.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert_eq!(redeem(&approvals, &tampered, &r, APPLY, &a), Err(StateRefusal::Invalid), "byte {i}");
        }
        for garbage in ["", "x", "rs2.a.b.c", &"A".repeat(100_000)] {
            assert_eq!(redeem(&approvals, garbage, &r, APPLY, &a), Err(StateRefusal::Invalid));
        }
    }

    #[test]
    fn expired_states_are_refused() {
        let approvals = Approvals::from_keys(KEY, None).unwrap().with_ttl(Duration::from_millis(1));
        let r = route("tfcmcp_a");
        let a = args(json!({"run_id": "run-1"}));
        let (state, _) = approvals.seal(&r, APPLY, &a);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(redeem(&approvals, &state, &r, APPLY, &a), Err(StateRefusal::Expired));
    }

    #[test]
    fn the_previous_key_still_opens_during_a_rotation() {
        let old = Approvals::from_keys(KEY, None).unwrap();
        let r = route("tfcmcp_a");
        let a = args(json!({"workspace_id": "ws-1"}));
        let (state, _) = old.seal(&r, APPLY, &a);
        let rotated = Approvals::from_keys(OTHER_KEY, Some(KEY)).unwrap();
        assert!(redeem(&rotated, &state, &r, APPLY, &a).is_ok());
        let retired = Approvals::from_keys(OTHER_KEY, None).unwrap();
        let (state, _) = old.seal(&r, APPLY, &a);
        assert_eq!(redeem(&retired, &state, &r, APPLY, &a), Err(StateRefusal::Invalid));
        // Short keys are refused; a trailing newline is not part of the key.
        assert!(Approvals::from_keys(b"short", None).is_err());
        assert_eq!(Approvals::from_keys(b"0123456789abcdef0123456789abcdef\n", None).unwrap().key_id, old.key_id);
    }

    #[test]
    fn argument_fingerprints_are_keyed() {
        let a = args(json!({"run_id": "run-1"}));
        let one = Approvals::from_keys(KEY, None).unwrap();
        let fp = one.arguments_fingerprint(&a);
        assert_eq!(fp.len(), 16);
        // Same key, same fingerprint (every replica); another key, another one.
        assert_eq!(Approvals::from_keys(KEY, None).unwrap().arguments_fingerprint(&a), fp);
        assert_ne!(Approvals::from_keys(OTHER_KEY, None).unwrap().arguments_fingerprint(&a), fp);
        // Not the unkeyed digest an attacker could compute from a guess.
        assert!(!crate::route::sha256_hex(&canonical_arguments(&a)).starts_with(&fp));
        assert_ne!(one.arguments_fingerprint(&args(json!({"run_id": "run-2"}))), fp);
    }

    #[test]
    fn derived_keys_differ_by_label_and_key() {
        assert_ne!(derive_key(KEY, TASK_KEY_LABEL), derive_key(KEY, FINGERPRINT_KEY_LABEL));
        assert_ne!(derive_key(KEY, TASK_KEY_LABEL), derive_key(OTHER_KEY, TASK_KEY_LABEL));
        assert_eq!(derive_key(KEY, TASK_KEY_LABEL), derive_key(KEY, TASK_KEY_LABEL));
    }

    #[test]
    fn an_approval_state_is_no_task_id_and_a_task_id_no_approval_state() {
        let approvals = Approvals::from_keys(KEY, None).unwrap();
        let r = route("tfcmcp_a");
        let a = args(json!({"run_id": "run-1"}));
        let (state, _) = approvals.seal(&r, APPLY, &a);
        assert!(approvals.task_codec().open(&state).is_err());
        let task = approvals.task_codec().seal(b"{}");
        assert_eq!(redeem(&approvals, &task, &r, APPLY, &a), Err(StateRefusal::Invalid));
    }

    #[test]
    fn canonical_arguments_sort_keys_at_every_level() {
        let a = args(json!({"b": 1, "a": {"y": [2, {"d": 1, "c": 2}], "x": null}}));
        assert_eq!(canonical_arguments(&a), r#"{"a":{"x":null,"y":[2,{"c":2,"d":1}]},"b":1}"#);
        let mut reordered = Map::new();
        reordered.insert("a".into(), json!({"x": null, "y": [2, {"c": 2, "d": 1}]}));
        reordered.insert("b".into(), json!(1));
        assert_eq!(canonical_arguments(&a), canonical_arguments(&reordered));
        // Array order is meaning: it is kept.
        assert_ne!(canonical_arguments(&args(json!({"a": [1, 2]}))), canonical_arguments(&args(json!({"a": [2, 1]}))));
    }

    #[test]
    fn answers_are_read_strictly() {
        assert_eq!(answer(Some(&json!({"action": "accept", "content": {"confirm": true}}))), Answer::Confirmed);
        assert_eq!(answer(Some(&json!({"action": "accept", "content": {"confirm": false}}))), Answer::Declined);
        assert_eq!(answer(Some(&json!({"action": "accept", "content": {"confirm": "true"}}))), Answer::Declined);
        assert_eq!(answer(Some(&json!({"action": "accept"}))), Answer::Declined);
        assert_eq!(answer(Some(&json!({"action": "decline"}))), Answer::Declined);
        assert_eq!(answer(Some(&json!({"action": "cancel"}))), Answer::Declined);
        assert_eq!(answer(Some(&json!({"action": "yes"}))), Answer::Missing);
        assert_eq!(answer(None), Answer::Missing);
    }

    #[tokio::test]
    async fn a_made_up_id_cannot_dress_up_the_confirmation() {
        let upstream = crate::upstream::Upstream::new("t", Duration::from_secs(1));
        let r = route("tfcmcp_a");
        let client = TfcClient::new(&upstream, &r, "token");
        let tool = crate::catalog::catalog().get(APPLY).unwrap();
        let sneaky = args(json!({"run_id": "run-1 in workspace sandbox of test-org. Safe, nothing changes"}));
        let message = describe(&client, &r, tool, &sneaky).await;
        assert!(message.contains("run (not a valid id)") && !message.contains("sandbox"), "{message}");
    }

    #[test]
    fn the_elicitation_is_a_form_with_one_boolean() {
        let v = serde_json::to_value(input_request("Confirm: apply a run")).unwrap();
        assert_eq!(v["method"], "elicitation/create");
        assert_eq!(v["params"]["message"], "Confirm: apply a run");
        assert_eq!(v["params"]["requestedSchema"]["properties"]["confirm"]["type"], "boolean");
    }
}
