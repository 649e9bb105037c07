//! actscale core: everything that is not web code. Native tests, the native CLI and the
//! browser worker all use this library; the burn `Device` chooses the backend at run time.

pub mod backend;
pub mod readback;
pub mod self_check;
pub mod steer;
pub mod tasks;
pub mod protocol;
pub mod model;
