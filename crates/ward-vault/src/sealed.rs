//! The layout of a subject's sealed fields: each value sealed on its own with the subject's
//! data key, bound to subject and field name; names in clear (they are not personal data).
//!
//! Layout: `1u8 ‖ count:u16 ‖ (name_len:u8 ‖ name ‖ ct_len:u32 ‖ ct)*`.

use std::collections::BTreeMap;
use ward_core::SubjectId;
use ward_crypto::{CryptoError, DataKey};

pub(crate) fn field_aad(subject: SubjectId, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + field.len());
    aad.extend_from_slice(b"ward.field.v1\0");
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(field.as_bytes());
    aad
}

pub(crate) fn evidence_aad(subject: SubjectId, purpose: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + purpose.len());
    aad.extend_from_slice(b"ward.evidence.v1\0");
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(purpose.as_bytes());
    aad
}

pub(crate) fn subject_event_aad(subject: SubjectId, kind: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(40 + kind.len());
    aad.extend_from_slice(b"ward.subject_event.v1\0");
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(kind.as_bytes());
    aad
}

/// An idempotency record's answer, bound to its key and status.
pub(crate) fn answer_aad(key: &[u8; 32], status: u16) -> Vec<u8> {
    let mut aad = Vec::with_capacity(56);
    aad.extend_from_slice(b"ward.answer.v1\0");
    aad.extend_from_slice(key);
    aad.extend_from_slice(&status.to_be_bytes());
    aad
}

/// A queued message's payload, bound to its subject and message id.
pub(crate) fn message_aad(subject: SubjectId, message: ward_core::MessageId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(48);
    aad.extend_from_slice(b"ward.message.v1\0");
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(message.as_bytes());
    aad
}

/// A verification's document, bound to its subject and verification id.
pub(crate) fn document_aad(subject: SubjectId, verification: ward_core::VerificationId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(52);
    aad.extend_from_slice(b"ward.verification_document.v1\0");
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(verification.as_bytes());
    aad
}

/// A data-subject request's sealed details, bound to its subject and request id.
pub(crate) fn request_aad(subject: SubjectId, request: ward_core::RequestId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(48);
    aad.extend_from_slice(b"ward.request.v1\0");
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(request.as_bytes());
    aad
}

/// A download's document, bound to its subject and download id.
pub(crate) fn download_aad(subject: SubjectId, download: ward_core::DownloadId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(49);
    aad.extend_from_slice(b"ward.download.v1\0");
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(download.as_bytes());
    aad
}

/// Field name → ciphertext.
pub(crate) type SealedFields = BTreeMap<String, Vec<u8>>;

pub(crate) fn seal_value(key: &DataKey, subject: SubjectId, field: &str, value: &str) -> Vec<u8> {
    key.seal(&field_aad(subject, field), value.as_bytes())
}

#[cfg(test)]
pub(crate) fn open_value(key: &DataKey, subject: SubjectId, field: &str, ct: &[u8]) -> Result<String, CryptoError> {
    let bytes = key.open(&field_aad(subject, field), ct)?;
    String::from_utf8(bytes).map_err(|_| CryptoError::Malformed)
}

pub(crate) fn encode(fields: &SealedFields) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + fields.iter().map(|(n, c)| 5 + n.len() + c.len()).sum::<usize>());
    out.push(1);
    out.extend_from_slice(&u16::try_from(fields.len()).unwrap_or(u16::MAX).to_be_bytes());
    for (name, ct) in fields {
        out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&u32::try_from(ct.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(ct);
    }
    out
}

pub(crate) fn decode(bytes: &[u8]) -> Result<SealedFields, CryptoError> {
    let mut r = Reader(bytes);
    if r.take(1)? != [1] {
        return Err(CryptoError::Malformed);
    }
    let count = u16::from_be_bytes(r.take(2)?.try_into().map_err(|_| CryptoError::Malformed)?);
    let mut out = SealedFields::new();
    for _ in 0..count {
        let n = usize::from(r.take(1)?[0]);
        let name = std::str::from_utf8(r.take(n)?)
            .map_err(|_| CryptoError::Malformed)?
            .to_owned();
        let len = u32::from_be_bytes(r.take(4)?.try_into().map_err(|_| CryptoError::Malformed)?);
        let ct = r
            .take(usize::try_from(len).map_err(|_| CryptoError::Malformed)?)?
            .to_vec();
        out.insert(name, ct);
    }
    if !r.0.is_empty() {
        return Err(CryptoError::Malformed);
    }
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CryptoError> {
        if self.0.len() < n {
            return Err(CryptoError::Malformed);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_and_reject_garbage() {
        let key = DataKey::generate();
        let s = SubjectId::random();
        let mut f = SealedFields::new();
        f.insert("email".into(), seal_value(&key, s, "email", "a@b.ru"));
        f.insert("name".into(), seal_value(&key, s, "name", "Анна"));
        let bytes = encode(&f);
        let back = decode(&bytes).unwrap();
        assert_eq!(back, f);
        assert_eq!(open_value(&key, s, "name", &back["name"]).unwrap(), "Анна");
        // A ciphertext moved to another field does not open.
        assert!(open_value(&key, s, "email", &back["name"]).is_err());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
        assert!(decode(&[2, 0, 0]).is_err());
    }
}
