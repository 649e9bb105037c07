//! A seeded shuffle and train/test split (SplitMix64: deterministic on every platform).

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Shuffles with `seed` and splits off `test_share` of the items (at least one each when possible).
pub fn train_test<T>(mut items: Vec<T>, seed: u64, test_share: f32) -> (Vec<T>, Vec<T>) {
    Rng::new(seed).shuffle(&mut items);
    let n = items.len();
    let mut n_test = ((n as f32) * test_share).round() as usize;
    if n >= 2 {
        n_test = n_test.clamp(1, n - 1);
    } else {
        n_test = 0;
    }
    let test = items.split_off(n - n_test);
    (items, test)
}
