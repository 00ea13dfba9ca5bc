//! The catalog's tools as the MCP SDK's `Tool`: the one place where the
//! contract crate's plain tool data meets rmcp's model types.

use rmcp::model::{Tool, ToolAnnotations};

use crate::catalog::ToolSpec;

/// A catalog entry as an MCP tool description (`tools/list`).
pub trait ToMcpTool {
    fn to_mcp_tool(&self) -> Tool;
}

impl ToMcpTool for ToolSpec {
    fn to_mcp_tool(&self) -> Tool {
        let hints = self.annotations();
        let mut annotations = ToolAnnotations::with_title(hints.title);
        annotations.read_only_hint = hints.read_only_hint;
        annotations.destructive_hint = hints.destructive_hint;
        annotations.idempotent_hint = hints.idempotent_hint;
        annotations.open_world_hint = hints.open_world_hint;
        Tool::new(self.name, self.description, self.input_schema()).with_title(self.title).with_annotations(annotations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;

    /// The SDK's annotations say on the wire exactly what the plain ones do.
    #[test]
    fn annotations_cross_the_boundary_unchanged() {
        for t in catalog().iter() {
            let wire = serde_json::to_value(t.to_mcp_tool().annotations.unwrap()).unwrap();
            assert_eq!(wire, serde_json::to_value(t.annotations()).unwrap(), "{}", t.name);
        }
    }
}
