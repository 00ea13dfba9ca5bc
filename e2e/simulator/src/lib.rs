//! HCP Terraform (Terraform Cloud) API simulator for end-to-end tests.
//!
//! Two origins: the API (`/api/v2`, JSON:API, bearer tokens, rate limits,
//! a run state machine) and a blob origin standing in for archivist, which
//! serves state files at opaque URLs and refuses credentials. A third origin
//! stands in for the public Terraform Registry (no credentials either).
//! Test controls live under `/_sim/` on the API origin.

// The JSON:API document builders are large `json!` literals.
#![recursion_limit = "256"]

pub mod arrivals;
pub mod blob;
pub mod compound;
pub mod error;
pub mod ids;
pub mod jsonapi;
pub mod kinds;
pub mod middleware;
pub mod oidc;
pub mod plan_output;
pub mod ratelimit;
pub mod records;
pub mod registry_seed;
pub mod routes;
pub mod runs;
pub mod seed;
pub mod sim;
pub mod store;

use std::sync::Arc;

pub use sim::{Sim, SimConfig};

/// The API origin.
pub fn api_router(sim: Arc<Sim>) -> axum::Router {
    routes::router(sim)
}

/// The blob origin.
pub fn blob_router(sim: Arc<Sim>) -> axum::Router {
    blob::router(sim)
}

/// The public Terraform Registry origin.
pub fn registry_router(sim: Arc<Sim>) -> axum::Router {
    routes::registry::router(sim)
}
