//! Which tools a route exposes.
//!
//! A tool is exposed when its method is allowed AND (no tags are given OR
//! its tag is listed) AND (the include list is empty OR names it) AND the
//! exclude list does not name it. Tools that hand out raw state are only
//! exposed when the route allows raw state downloads; tools that mint a
//! credential outliving the route (organization tokens) only when the
//! include list names them, whatever the methods say. The public Terraform
//! Registry's tools (tag `registry`) count as "all tags" only where
//! [`registry::included_by_default`] says so (the route's address and the
//! gateway's flags); naming the tag always selects them.

use std::collections::BTreeSet;

use crate::catalog::{self, Handler, Method, REGISTRY_TAG, ToolSpec};
use crate::registry;
use crate::route::Route;

/// Which temporary URLs a server may hand out (the gateway's
/// `jsonapi::CAPABILITY_ATTRIBUTES` says which attribute needs which grant).
/// The default grants nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Resource types (`plans`, `applies`) whose `log-read-url` is kept:
    /// those whose log tool the server allows.
    pub log_read_types: Vec<&'static str>,
    /// Hosted state download URLs are kept (`state.allowRawStateDownload`).
    pub raw_state: bool,
}

impl Grants {
    /// Nothing granted: every capability attribute is removed.
    pub const NONE: Grants = Grants { log_read_types: Vec::new(), raw_state: false };
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolFilter {
    methods: BTreeSet<Method>,
    tags: BTreeSet<String>,
    include: BTreeSet<String>,
    exclude: BTreeSet<String>,
    allow_raw_state: bool,
    /// Empty `tags` include the registry tools (see [`registry::included_by_default`]).
    registry_by_default: bool,
    /// The route has a project and workspace scope: tools it always refuses
    /// are not listed ([`catalog::refused_when_scoped`]).
    scoped: bool,
}

impl ToolFilter {
    pub fn from_route(route: &Route) -> Self {
        // `route.methods` is already expanded by the operator; groups are
        // accepted too so a hand-written route behaves the same. Unknown
        // entries allow nothing.
        let methods = route
            .methods
            .iter()
            .flat_map(|m| catalog::expand_methods(std::slice::from_ref(m)).unwrap_or_default().into_iter())
            .filter_map(|m| Method::parse(&m))
            .collect();
        Self {
            methods,
            tags: route.tags.iter().map(|t| t.trim().to_ascii_lowercase()).collect(),
            include: route.include_tools.clone(),
            exclude: route.exclude_tools.clone(),
            allow_raw_state: route.state.allow_raw_state_download,
            registry_by_default: registry::included_by_default(registry::defaults(), &route.tfc_address),
            scoped: route.scope.is_some(),
        }
    }

    /// Whether empty `tags` include the registry tools for this route.
    pub fn registry_by_default(&self) -> bool {
        self.registry_by_default
    }

    pub fn allows(&self, tool: &ToolSpec) -> bool {
        self.methods.contains(&tool.method)
            && self.tag_allows(tool.tag)
            && (self.include.is_empty() || self.include.contains(tool.name))
            && !self.exclude.contains(tool.name)
            && (!tool.requires_raw_state || self.allow_raw_state)
            && (!tool.mints_credential || self.include.contains(tool.name))
            && !(self.scoped && catalog::refused_when_scoped(tool))
    }

    fn tag_allows(&self, tag: &str) -> bool {
        if self.tags.is_empty() { tag != REGISTRY_TAG || self.registry_by_default } else { self.tags.contains(tag) }
    }

    /// Allowed tool by name: `None` for unknown and hidden tools alike.
    pub fn get(&self, name: &str) -> Option<&'static ToolSpec> {
        catalog::catalog().get(name).filter(|t| self.allows(t))
    }

    /// Allowed tools, in catalog order.
    pub fn tools(&self) -> impl Iterator<Item = &'static ToolSpec> + '_ {
        catalog::catalog().iter().filter(move |t| self.allows(t))
    }

    /// Number of catalog tools this filter allows.
    pub fn count(&self) -> usize {
        self.tools().count()
    }

    /// The temporary URLs results may carry: a resource's `log-read-url`
    /// only when the log tool of its type is allowed, hosted state download
    /// URLs only when raw state downloads are. Upload URLs never.
    pub fn grants(&self) -> Grants {
        let log_read_types = self.tools().filter_map(|t| if let Handler::Logs(type_) = t.handler { Some(type_) } else { None }).collect();
        Grants { log_read_types, raw_state: self.allow_raw_state }
    }
}
