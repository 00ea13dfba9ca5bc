//! What the operator and the gateway share, and nothing more: the operator
//! links this crate alone (no HTTP server or client, no MCP SDK).
//!
//! - [`route`]: the route Secret's document, versioned;
//! - [`catalog`]: the HCP Terraform tool catalog as data (and its docs);
//! - [`filter`]: which catalog tools a route exposes;
//! - [`registry`]: the public Terraform Registry's address and default inclusion;
//! - [`tfc_address`]: which HCP Terraform addresses servers may use;
//! - [`oidc_issuer`]: which OIDC issuer URLs may be contacted;
//! - [`approval_key`]: the shared approval key Secret's layout;
//! - [`approval_claim`]: the Leases that claim a confirmation once.

pub mod approval_claim;
pub mod approval_key;
pub mod catalog;
pub mod filter;
pub mod oidc_issuer;
pub mod registry;
pub mod route;
pub mod tfc_address;
pub mod worker_threads;
