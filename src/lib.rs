//! actscale core: everything that is not web code. Native tests, the native CLI and the
//! browser worker all use this library; the burn `Device` chooses the backend at run time.
//! Without the `engine` feature only the burn-free part is built (what the page needs).

pub mod backend;
pub mod interpret;
pub mod model;
pub mod page_state;
pub mod permalink;
pub mod protocol;
pub mod self_check;
pub mod spread;
pub mod steer;

#[cfg(feature = "engine")]
pub mod compute_error;
#[cfg(feature = "engine")]
pub mod readback;
#[cfg(feature = "engine")]
pub mod tasks;
#[cfg(feature = "web")]
pub mod worker_codec;
