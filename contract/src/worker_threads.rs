//! The gateway's `--worker-threads`, which the operator passes from its
//! configuration's `workerThreads`: both refuse the same values.

/// The most threads a gateway replica serves requests on.
pub const MAX: u16 = 1024;
