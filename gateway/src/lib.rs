//! tfc-mcp gateway: the data plane. Serves one scoped, expiring MCP endpoint
//! per route Secret, translating MCP tool calls into HCP Terraform JSON:API.

// What the operator shares lives in the contract crate; these keep the
// `crate::route`, `crate::catalog`, ... paths of the gateway valid.
pub use tfc_mcp_contract::{catalog, filter, registry, route, tfc_address};

pub mod answer_json;
pub mod approval;
pub mod approval_claims;
#[doc(hidden)]
pub mod bench_api;
pub mod completions;
pub mod conformance;
pub mod conformance_client_requests;
pub mod conformance_content;
pub mod conformance_input;
pub mod conformance_tasks;
pub mod content;
pub mod direct_call;
pub mod discovery;
pub mod egress;
pub mod execute;
pub mod http;
pub mod json_scan;
pub mod json_write;
pub mod jsonapi;
pub mod jsonapi_parse;
pub mod limits;
pub mod log_line;
pub mod mcp;
pub mod mcp_tool;
pub mod metrics;
pub mod oidc;
pub mod peers;
pub mod prompts;
pub mod resources;
pub mod routes;
pub mod serve;
pub mod service_account_auth;
pub mod sse;
pub mod tasks;
#[cfg(test)]
mod test_samples;
pub mod tool_read;
pub mod upstream;
