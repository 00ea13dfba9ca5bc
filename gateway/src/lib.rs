//! tfc-mcp gateway: the data plane. Serves one scoped, expiring MCP endpoint
//! per route Secret, translating MCP tool calls into HCP Terraform JSON:API.

pub mod approval;
pub mod catalog;
pub mod completions;
pub mod conformance;
pub mod conformance_client_requests;
pub mod conformance_content;
pub mod conformance_input;
pub mod conformance_tasks;
pub mod content;
pub mod discovery;
pub mod egress;
pub mod execute;
pub mod filter;
pub mod http;
pub mod jsonapi;
pub mod limits;
pub mod mcp;
pub mod metrics;
pub mod oidc;
pub mod peers;
pub mod prompts;
pub mod registry;
pub mod resources;
pub mod route;
pub mod routes;
pub mod serve;
pub mod service_account_auth;
pub mod sse;
pub mod tasks;
pub mod tfc_address;
pub mod tool_read;
pub mod upstream;
