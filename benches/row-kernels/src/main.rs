//! The kernels natively (AVX2 + FMA where the CPU has them, one thread) on the shapes and rows
//! that tests/e2e/bench-kernels.mjs times in the browser; the same output format and options
//! (`--all-layers`: each layer its own weights, 425 MB, read from memory as in a real step).

use std::time::Instant;

use row_kernels_bench::{bwd, fwd};

const SHAPES: [(usize, usize); 7] = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)];
const LAYERS: usize = 30;

fn main() {
    let all_layers = std::env::args().any(|a| a == "--all-layers");
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rows = if args.is_empty() { vec![6, 12, 20] } else { args };
    let w_len: usize = SHAPES.iter().map(|(m, k)| m * k).sum();
    let value = |i: usize| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5;
    let w: Vec<f32> = (0..w_len * if all_layers { LAYERS } else { 1 }).map(value).collect();
    for n in rows {
        let x: Vec<f32> = (0..1536 * n).map(value).collect();
        let mut y = vec![0.0f32; 1536 * n];
        let mut dx = vec![0.0f32; 1536 * n];
        let flop = 2.0 * (n * LAYERS * w_len) as f64;
        let mut time = |backward: bool| {
            let mut run = || {
                for layer in 0..LAYERS {
                    let mut off = if all_layers { layer * w_len } else { 0 };
                    for (m, k) in SHAPES {
                        let wp = w[off..].as_ptr();
                        if backward {
                            bwd(y.as_ptr(), n, wp, m, k, dx.as_mut_ptr());
                        } else {
                            fwd(x.as_ptr(), n, wp, m, k, y.as_mut_ptr());
                        }
                        off += m * k;
                    }
                }
            };
            run();
            let mut ts: Vec<f64> = (0..15)
                .map(|_| {
                    let t = Instant::now();
                    run();
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            ts.sort_by(f64::total_cmp);
            format!("min {:.1} ms, median {:.1} ms ({:.1} GFLOP/s at the min)", ts[0], ts[7], flop / ts[0] / 1e6)
        };
        let forward = time(false);
        let backward = time(true);
        println!("{n} rows: forward {forward}; backward {backward}");
    }
}
