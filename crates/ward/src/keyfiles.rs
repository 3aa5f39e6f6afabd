//! Key files: one secret per file, hex-encoded, mode 0600, in a 0700 directory.
//! The active key-encryption key is the highest-numbered `kek-N.key`.

use anyhow::{bail, Context, Result};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use ward_crypto::{BlindIndex, CheckpointSigner, Kek, KeyRing, TokenHasher};
use ward_vault::KeyMaterial;

const BLIND: &str = "blind-index.key";
const TOKEN: &str = "token.key";
const SIGNING: &str = "journal-signing.key";

/// Writes a new secret file that only the owner can read. Refuses to overwrite.
pub fn write_secret(path: &Path, contents: &[u8]) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

fn write_key(path: &Path, key: &[u8; 32]) -> Result<()> {
    write_secret(path, format!("{}\n", hex::encode(key)).as_bytes())
}

fn read_key(path: &Path) -> Result<[u8; 32]> {
    let meta = fs::metadata(path).with_context(|| format!("key file {} is missing", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(file = %path.display(), "key file is readable by group or others; run chmod 600");
    }
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = hex::decode(text.trim()).map_err(|_| anyhow::anyhow!("{} is not a hex-encoded key", path.display()))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{} does not hold a 32-byte key", path.display()))
}

fn kek_path(dir: &Path, id: u32) -> PathBuf {
    dir.join(format!("kek-{id}.key"))
}

/// Ids of the KEK files present, ascending.
pub fn kek_ids(dir: &Path) -> Result<Vec<u32>> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading key directory {}", dir.display()))? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(id) = name
            .strip_prefix("kek-")
            .and_then(|s| s.strip_suffix(".key"))
            .and_then(|s| s.parse().ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Creates the key directory with a first KEK and the other secrets. Returns whether it did.
pub fn create_all(dir: &Path) -> Result<bool> {
    if dir.join(SIGNING).exists() {
        return Ok(false);
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    write_key(&kek_path(dir, 1), &ward_crypto::random_key())?;
    write_key(&dir.join(BLIND), &ward_crypto::random_key())?;
    write_key(&dir.join(TOKEN), &ward_crypto::random_key())?;
    write_key(&dir.join(SIGNING), &ward_crypto::random_key())?;
    Ok(true)
}

/// Adds the next KEK; it becomes the active one. Returns its id.
pub fn add_kek(dir: &Path) -> Result<u32> {
    let next = kek_ids(dir)?.last().copied().unwrap_or(0) + 1;
    write_key(&kek_path(dir, next), &ward_crypto::random_key())?;
    Ok(next)
}

/// Loads every secret.
pub fn load(dir: &Path, blind_index_bits: u8) -> Result<KeyMaterial> {
    let ids = kek_ids(dir)?;
    let Some(active) = ids.last() else {
        bail!(
            "no key-encryption key (kek-N.key) in {}; run `ward init`",
            dir.display()
        );
    };
    let keks = ids
        .iter()
        .map(|id| Ok(Kek::new(id.to_string(), read_key(&kek_path(dir, *id))?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(KeyMaterial {
        keyring: KeyRing::new(keks, &active.to_string())?,
        blind_index: BlindIndex::new(read_key(&dir.join(BLIND))?, blind_index_bits),
        tokens: TokenHasher::new(read_key(&dir.join(TOKEN))?),
        signer: CheckpointSigner::from_seed(read_key(&dir.join(SIGNING))?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_load_rotate() {
        let d = tempfile::tempdir().unwrap();
        let keys = d.path().join("keys");
        assert!(create_all(&keys).unwrap());
        assert!(!create_all(&keys).unwrap());
        let mode = fs::metadata(keys.join("kek-1.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(&keys, 24).unwrap().keyring.active_id(), "1");
        assert_eq!(add_kek(&keys).unwrap(), 2);
        let k = load(&keys, 24).unwrap();
        assert_eq!(k.keyring.active_id(), "2");
        assert_eq!(k.keyring.ids().collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn bad_key_files_are_explained() {
        let d = tempfile::tempdir().unwrap();
        assert!(load(d.path(), 24).unwrap_err().to_string().contains("run `ward init`"));
        write_secret(&d.path().join("kek-1.key"), b"nothex").unwrap();
        assert!(load(d.path(), 24)
            .unwrap_err()
            .to_string()
            .contains("not a hex-encoded key"));
    }
}
