//! Reconcile errors. Each variant has a short label for metrics and Events.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API error: {0}")]
    Kube(#[from] kube::Error),

    #[error("finalizer error: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),

    #[error("could not encode {what}: {source}")]
    Encode { what: &'static str, source: serde_json::Error },

    #[error("resource has no namespace")]
    NoNamespace,
}

impl Error {
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Kube(_) => "kube",
            Self::Finalizer(_) => "finalizer",
            Self::Encode { .. } => "encode",
            Self::NoNamespace => "no_namespace",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
