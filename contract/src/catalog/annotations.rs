//! A tool's behaviour hints (MCP `ToolAnnotations`), as plain data: the
//! gateway turns them into the MCP SDK's type where it lists tools, the docs
//! generator prints them.

use serde::Serialize;

/// What a tool does to the world, as a client may show it. Same fields and
/// wire names as MCP's `ToolAnnotations`; unset hints are omitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    pub title: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}
