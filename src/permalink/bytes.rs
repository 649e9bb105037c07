//! The primitive encodings of the link format: LEB128 varints, little-endian f32, f16 and
//! length-prefixed UTF-8. The reader checks every read against the end of its input, so a
//! hostile or cut payload gives an error, never a panic.

use half::f16;

use super::error::PermalinkError;

fn damaged(why: &str) -> PermalinkError {
    PermalinkError::Damaged(why.into())
}

#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    pub fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.bytes.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.bytes.push(v as u8);
    }

    pub fn usize(&mut self, v: usize) {
        self.varint(v as u64);
    }

    pub fn f32(&mut self, v: f32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn f16(&mut self, v: f16) {
        self.bytes.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    pub fn str(&mut self, s: &str) {
        self.usize(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }
}

/// Bytes a varint of `v` takes (to choose between sparse and dense parameters).
pub fn varint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).div_ceil(7).max(1)
}

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], PermalinkError> {
        if n > self.remaining() {
            return Err(damaged("it ends too early"));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, PermalinkError> {
        Ok(self.take(1)?[0])
    }

    /// A canonical LEB128 u64: at most 10 bytes, no overflow, no redundant trailing zero group.
    pub fn varint(&mut self) -> Result<u64, PermalinkError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err(damaged("a number overflows"));
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(damaged("a number is padded"));
                }
                return Ok(v);
            }
        }
        Err(damaged("a number overflows"))
    }

    /// A varint that must be ≤ `max` (checked before it becomes a size or index).
    pub fn usize_max(&mut self, max: usize, what: &str) -> Result<usize, PermalinkError> {
        let v = self.varint()?;
        if v > max as u64 {
            return Err(PermalinkError::Damaged(format!("{what} is {v}, at most {max}")));
        }
        Ok(v as usize)
    }

    pub fn f32(&mut self) -> Result<f32, PermalinkError> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn f16(&mut self) -> Result<f16, PermalinkError> {
        let b = self.take(2)?;
        Ok(f16::from_bits(u16::from_le_bytes([b[0], b[1]])))
    }

    /// A UTF-8 string of at most `max` bytes.
    pub fn str(&mut self, max: usize, what: &str) -> Result<String, PermalinkError> {
        let n = self.usize_max(max, what)?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| PermalinkError::Damaged(format!("{what} is not UTF-8")))
    }

    pub fn finish(&self) -> Result<(), PermalinkError> {
        if self.remaining() != 0 {
            return Err(PermalinkError::Damaged(format!("{} unexpected bytes at the end", self.remaining())));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overlong_forms() {
        for v in [0, 1, 127, 128, 300, 16383, 16384, u32::MAX as u64, u64::MAX] {
            let mut w = Writer::default();
            w.varint(v);
            assert_eq!(w.bytes.len(), varint_len(v), "{v}");
            let mut r = Reader::new(&w.bytes);
            assert_eq!(r.varint().unwrap(), v);
            r.finish().unwrap();
        }
        assert!(Reader::new(&[0x80, 0x00]).varint().is_err(), "padded zero");
        assert!(Reader::new(&[0xff; 10]).varint().is_err(), "overflow");
        assert!(Reader::new(&[0xff; 11]).varint().is_err(), "too long");
        assert!(Reader::new(&[0x80]).varint().is_err(), "cut");
    }
}
