//! The CPU backend's own products for a few rows of activations: the forward's weight products
//! and their backward for x, reading each weight row once, in order (llama.cpp's approach)
//! instead of gemm's packed panels.
//!
//! This is the only code that reaches into burn's internals: it takes the CPU backend's tensor
//! out of an autodiff tensor (`Tensor::try_into_primitive::<Autodiff<Flex>>`), reads its f32
//! slice, and records its product as an autodiff op (`burn::backend::autodiff::ops::Backward`).
//! Where any of that stops holding — another backend, another layout, a burn upgrade that
//! changes them — the model falls back to burn's matmul silently, correct but slower; the tests
//! here, and `kernels_are_in_use_for_every_weight` in `model::transformer`, fail loudly instead.
//!
//! - [`row_kernels`]: the kernels themselves (AVX2 + FMA natively, simd128 in wasm), plain
//!   slices in and out; `benches/row-kernels` builds this file alone to measure it
//!   (`scripts/bench-kernels.sh`).
//! - [`row_product`]: the autodiff op over them, and [`row_product::WeightRows`], a weight as
//!   the CPU backend holds it.
//! - [`second_thread`]: natively, a polling helper thread for the forward's halves.

pub mod row_kernels;
pub mod row_product;
pub mod second_thread;
