//! `src/model/kernels/row_kernels.rs` as the worker (wasm) and the CLI (native) compile it, exported for
//! a page to time (`alloc` one buffer for x, y, dx and the weights; `fwd` and `bwd` take
//! addresses in it) and for `main.rs`.

#[path = "../../../src/model/kernels/row_kernels.rs"]
#[allow(dead_code)]
mod row_kernels;

static mut BUF: Vec<f32> = Vec::new();

/// A buffer of `n` f32s for the page (replacing the last one); its address.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(n: usize) -> *mut f32 {
    // SAFETY: wasm is single-threaded here and the benchmark calls this once before any other.
    let buf = unsafe { &mut *std::ptr::addr_of_mut!(BUF) };
    *buf = vec![0.0; n];
    buf.as_mut_ptr()
}

fn slice<'a>(p: *const f32, len: usize) -> &'a [f32] {
    // SAFETY: the caller passes ranges inside the buffer from `alloc`.
    unsafe { std::slice::from_raw_parts(p, len) }
}

fn slice_mut<'a>(p: *mut f32, len: usize) -> &'a mut [f32] {
    // SAFETY: as in `slice`; the output range does not overlap the inputs.
    unsafe { std::slice::from_raw_parts_mut(p, len) }
}

/// y [m, n] (outputs first) = x [n, k] · Wᵀ for W [m, k].
#[unsafe(no_mangle)]
pub extern "C" fn fwd(x: *const f32, n: usize, w: *const f32, m: usize, k: usize, y: *mut f32) {
    row_kernels::by_output(slice(x, n * k), n, slice(w, m * k), k, slice_mut(y, m * n));
}

/// dx [n, k] = dy [n, m] · W for W [m, k].
#[unsafe(no_mangle)]
pub extern "C" fn bwd(dy: *const f32, n: usize, w: *const f32, m: usize, k: usize, dx: *mut f32) {
    row_kernels::by_input(slice(dy, n * m), n, slice(w, m * k), k, 0..k, slice_mut(dx, n * k));
}
