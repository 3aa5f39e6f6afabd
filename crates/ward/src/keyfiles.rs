//! Key files: one secret per file, hex-encoded, mode 0600, in a 0700 directory.
//! The active key-encryption key is the highest-numbered `kek-N.key`.
//!
//! Loading refuses a key directory or key file that group or others may read: a secret
//! anyone on the machine can copy protects nothing. Each key also has a fingerprint (a
//! SHA-256 of the key under a label naming it; the public key for the journal signing key),
//! which the store records so that Ward refuses keys that are not the store's (`binding`).

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

/// Makes every file and directory this process creates from now on unreadable to group and
/// others (umask 077), whoever creates it: SQLite its database, WAL and backups too.
pub fn owner_only_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

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
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "key file {} has mode {mode:04o}: group or others may read it; run `chmod 600 {}` (and \
             consider the key exposed if others could read it)",
            path.display(),
            path.display()
        );
    }
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = hex::decode(text.trim()).map_err(|_| anyhow::anyhow!("{} is not a hex-encoded key", path.display()))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{} does not hold a 32-byte key", path.display()))
}

/// The raw key of `kek-<id>.key` (tests try it against copies of wrapped keys).
#[cfg(test)]
pub fn read_kek(dir: &Path, id: u32) -> Result<[u8; 32]> {
    read_key(&kek_path(dir, id))
}

fn kek_path(dir: &Path, id: u32) -> PathBuf {
    dir.join(format!("kek-{id}.key"))
}

/// Refuses a missing key directory, or one that group or others may read or enter.
fn check_dir(dir: &Path) -> Result<()> {
    let meta = match fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "key directory {} does not exist (a mistyped --keys-dir or WARD_KEYS_DIR, or a deleted \
             keys/?); Ward creates keys only together with a new store (`ward init`)",
            dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("reading key directory {}", dir.display())),
    };
    if !meta.is_dir() {
        bail!("key directory {} is not a directory", dir.display());
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "key directory {} has mode {mode:04o}: group or others may list or read it; run `chmod 700 {}`",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Whether `dir` holds any key file (a `*.key`): a key set exists there, whole or not.
pub fn any_present(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                if entry?.file_name().to_string_lossy().ends_with(".key") {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("reading key directory {}", dir.display())),
    }
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

/// Creates the key directory with a first KEK and the other secrets. Returns whether it did:
/// it does nothing where any key file exists (a partial set is refused when it is loaded).
/// Only for a new store: `app::init` asks `binding` first.
pub fn create_all(dir: &Path) -> Result<bool> {
    if any_present(dir)? {
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

/// A new random KEK with its binding name and fingerprint, to record before its file is
/// written (`epochs::begin`).
pub struct NewKek {
    pub id: u32,
    pub key: [u8; 32],
    pub name: String,
    pub fingerprint: String,
}

impl NewKek {
    pub fn generate(id: u32) -> Self {
        let key = ward_crypto::random_key();
        let name = kek_binding_name(&id.to_string());
        let fingerprint = fingerprint(&name, &key);
        Self {
            id,
            key,
            name,
            fingerprint,
        }
    }
}

/// Writes `kek-<id>.key` whole or not at all: into a temporary file (mode 0600) that is
/// synced, then renamed into place, then the directory synced. Refuses an existing file.
pub fn install_kek(dir: &Path, kek: &NewKek) -> Result<()> {
    let path = kek_path(dir, kek.id);
    if path.exists() {
        bail!("{} exists already", path.display());
    }
    let tmp = dir.join(format!(".kek-{}.key.tmp", kek.id));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(format!("{}\n", hex::encode(kek.key)).as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(f);
    fs::rename(&tmp, &path).with_context(|| format!("moving {} into place", path.display()))?;
    sync_dir(dir)
}

/// Destroys `kek-<id>.key`: overwrites its bytes with zeros and syncs them, unlinks it, and
/// syncs the directory. (A copy-on-write or journaling filesystem, or the SSD's firmware, may
/// still hold the old blocks: keep key files on storage that is not snapshotted or backed up.)
pub fn destroy_kek(dir: &Path, id: u32) -> Result<()> {
    let path = kek_path(dir, id);
    let mut f = match fs::OpenOptions::new().write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("opening {} to destroy it", path.display())),
    };
    let len = usize::try_from(f.metadata()?.len()).unwrap_or(0);
    f.write_all(&vec![0u8; len])
        .and_then(|()| f.sync_all())
        .with_context(|| format!("overwriting {}", path.display()))?;
    drop(f);
    fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing the directory {}", dir.display()))
}

/// The name a key has in the store's binding.
pub fn kek_binding_name(id: &str) -> String {
    format!("kek:{id}")
}
pub const TOKEN_BINDING: &str = "token";
pub const BLIND_BINDING: &str = "blind-index";
pub const SIGNING_BINDING: &str = "journal-signing";

/// A fingerprint of a secret key: SHA-256 over a domain-separated label and the key. The key
/// is 256 random bits, so the hash reveals nothing of it.
fn fingerprint(name: &str, key: &[u8; 32]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"ward.key-fingerprint.v1\0");
    h.update(name.as_bytes());
    h.update(b"\0");
    h.update(key);
    hex::encode(h.finalize())
}

/// Every secret, and each key's (binding name, fingerprint), KEKs in id order first.
pub struct Loaded {
    pub material: KeyMaterial,
    pub fingerprints: Vec<(String, String)>,
}

/// Loads every secret.
pub fn load(dir: &Path, blind_index_bits: u8) -> Result<KeyMaterial> {
    Ok(load_with_fingerprints(dir, blind_index_bits)?.material)
}

/// Loads every secret with its fingerprint.
pub fn load_with_fingerprints(dir: &Path, blind_index_bits: u8) -> Result<Loaded> {
    check_dir(dir)?;
    let ids = kek_ids(dir)?;
    let Some(active) = ids.last() else {
        bail!(
            "no key-encryption key (kek-N.key) in {}; run `ward init`",
            dir.display()
        );
    };
    let mut fingerprints = Vec::new();
    let mut keks = Vec::new();
    for id in &ids {
        let key = read_key(&kek_path(dir, *id))?;
        let name = kek_binding_name(&id.to_string());
        fingerprints.push((name.clone(), fingerprint(&name, &key)));
        keks.push(Kek::new(id.to_string(), key));
    }
    let blind = read_key(&dir.join(BLIND))?;
    let token = read_key(&dir.join(TOKEN))?;
    let signer = CheckpointSigner::from_seed(read_key(&dir.join(SIGNING))?);
    fingerprints.push((TOKEN_BINDING.into(), fingerprint(TOKEN_BINDING, &token)));
    fingerprints.push((BLIND_BINDING.into(), fingerprint(BLIND_BINDING, &blind)));
    fingerprints.push((SIGNING_BINDING.into(), hex::encode(signer.public_key())));
    Ok(Loaded {
        material: KeyMaterial {
            keyring: KeyRing::new(keks, &active.to_string())?,
            blind_index: BlindIndex::new(blind, blind_index_bits),
            tokens: TokenHasher::new(token),
            signer,
        },
        fingerprints,
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
        let kek = NewKek::generate(2);
        install_kek(&keys, &kek).unwrap();
        assert!(install_kek(&keys, &kek)
            .unwrap_err()
            .to_string()
            .contains("exists already"));
        let mode = fs::metadata(keys.join("kek-2.key")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let k = load_with_fingerprints(&keys, 24).unwrap();
        assert_eq!(k.material.keyring.active_id(), "2");
        assert_eq!(k.material.keyring.ids().collect::<Vec<_>>(), ["1", "2"]);
        assert!(k.fingerprints.contains(&(kek.name.clone(), kek.fingerprint.clone())));
        assert_eq!(kek_ids(&keys).unwrap(), [1, 2], "no temporary file is left");

        destroy_kek(&keys, 1).unwrap();
        destroy_kek(&keys, 1).unwrap();
        assert_eq!(kek_ids(&keys).unwrap(), [2]);
        assert_eq!(load(&keys, 24).unwrap().keyring.ids().collect::<Vec<_>>(), ["2"]);
    }

    #[test]
    fn bad_key_files_are_explained() {
        let d = tempfile::tempdir().unwrap();
        fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).unwrap();
        assert!(load(d.path(), 24).unwrap_err().to_string().contains("run `ward init`"));
        write_secret(&d.path().join("kek-1.key"), b"nothex").unwrap();
        assert!(load(d.path(), 24)
            .unwrap_err()
            .to_string()
            .contains("not a hex-encoded key"));
    }
}
