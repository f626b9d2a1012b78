//! Regenerates `fuzz/seeds/<target>/` from the fixed generator stream; run
//! by hand after changing the generators:
//! `cargo run --example fuzz_write_seeds`.

use std::path::{Path, PathBuf};

use modspec::fuzz::{SplitMix64, case_bytes};

fn folder(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target)
}

fn main() {
    for (n, target) in ["oracle", "server", "wire", "differential"].into_iter().enumerate() {
        let dir = folder("seeds", target);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for i in 0..24u64 {
            let bytes = match target {
                // The oracle's input is compact; short seeds keep it fast.
                "oracle" => case_bytes(n as u64, i)[..(16 + 4 * i as usize)].to_vec(),
                "wire" => {
                    let mut b = vec![0u8; 512];
                    SplitMix64::new(1000 + i).fill(&mut b);
                    b
                }
                // Small inputs too: libFuzzer grows from them.
                _ if i % 3 == 0 => case_bytes(n as u64, i)[..256].to_vec(),
                _ => case_bytes(n as u64, i),
            };
            std::fs::write(dir.join(format!("seed-{i:02}")), bytes).expect("write");
        }
    }
}
