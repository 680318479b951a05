//! The decryption paths on thousands of damaged inputs (the fuzz targets in
//! `fuzz/` explore further; this runs in every test run): flipped bits,
//! truncations, extensions and random bytes never panic and never open.

use std::io::{Read, Write};

use girok_model::{Name, Person, Record, RecordId, Romanization};
use girok_vault::stream::{SealingWriter, open_backup};
use girok_vault::{KdfParams, Unlock, Vault};

const QUICK: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// The input damaged in one of four ways.
    fn damage(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        match self.below(4) {
            0 if !out.is_empty() => {
                let at = self.below(out.len());
                out[at] ^= 1 << self.below(8);
            }
            1 => out.truncate(self.below(out.len())),
            2 => out.extend((0..1 + self.below(64)).map(|_| self.next() as u8)),
            _ => out = (0..self.below(256)).map(|_| self.next() as u8).collect(),
        }
        out
    }
}

#[test]
fn damaged_envelopes_and_keys_never_open() {
    let (vault, _) =
        Vault::create(&Unlock::Passphrase("a robustness passphrase".into()), QUICK).expect("vault");
    let id = RecordId::new("p1");
    let (key, wrapped) = vault.new_data_key(&id).expect("key");
    let mut record = Record::Person(Person::new(
        id.clone(),
        vec![Name::detect("김은주", Romanization::Unknown)],
    ));
    vault.seal(&mut record, &key).expect("seal");
    let json = serde_json::to_vec(&record).expect("json");
    let envelope = record.sealed().cloned().expect("sealed");
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let damaged = noise.damage(&wrapped);
        if damaged != wrapped {
            assert!(vault.unwrap_data_key(&id, &damaged).is_err());
        }
        // Damage the ciphertext inside a well-formed record.
        let mut altered = record.clone();
        let mut sealed = envelope.clone();
        let text = noise.damage(sealed.ciphertext.as_bytes());
        sealed.ciphertext = String::from_utf8_lossy(&text).into_owned();
        altered.set_sealed(Some(sealed.clone()));
        if sealed != envelope {
            assert!(girok_vault::open(&mut altered, &key).is_err());
        }
        // Damage the record's JSON as a whole: whatever parses opens only if
        // its id, kind and envelope are the sealed ones.
        let bytes = noise.damage(&json);
        if let Ok(mut parsed) = serde_json::from_slice::<Record>(&bytes)
            && parsed.sealed().is_some()
        {
            let same = parsed.id() == record.id() && parsed.sealed() == record.sealed();
            assert!(girok_vault::open(&mut parsed, &key).is_err() || same);
        }
    }
}

#[test]
fn damaged_backups_never_yield_plaintext() {
    let unlock = Unlock::KeyFile(vec![7; 32]);
    let mut writer = SealingWriter::new(Vec::new(), &unlock, QUICK, "now".into(), 3, "00".into())
        .expect("writer");
    writer.write_all(&[42u8; 5000]).expect("write");
    let backup = writer.finish().expect("finish");
    let mut noise = Noise(0x1234_5678_9abc_def1);
    for _ in 0..2000 {
        let damaged = noise.damage(&backup);
        if damaged == backup {
            continue;
        }
        let read = open_backup(damaged.as_slice(), &unlock).map(|(_, mut reader)| {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).map(|_| out)
        });
        if let Ok(Ok(out)) = read {
            // Bytes added after the last chunk are never read; anything else must fail.
            assert!(damaged.starts_with(&backup) && out == vec![42u8; 5000]);
        }
    }
}
