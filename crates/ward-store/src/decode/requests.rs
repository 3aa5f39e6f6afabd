//! Decoders of the data-subject request workflow's records: requests, their identity
//! verifications, and the single-use downloads that answer them.

use super::{corrupt, from_micros, hash32, parse, split_names, Cols, Columns, Result, Row};

pub static VERIFICATION: Columns = Columns {
    table: "verifications",
    select: "id, request_id, subject_id, method, state, revision, attempts, resends, code_hash, \
             code_expires_at, document_type, document_size, document_sha256, reason, created_at, updated_at",
    names: &[
        "id",
        "request_id",
        "subject_id",
        "method",
        "state",
        "revision",
        "attempts",
        "resends",
        "code_hash",
        "code_expires_at",
        "document_type",
        "document_size",
        "document_sha256",
        "reason",
        "created_at",
        "updated_at",
    ],
};

pub static REQUEST: Columns = Columns {
    table: "subject_requests",
    select: "id, subject_id, kind, state, channel, regimes, received_at, due_on, extended_due_on, \
             extendable_to, extension, open_due, paused_at, paused_secs, refusal, outcome, verification, \
             duplicate_of, repeat_of, download, filed_by, sealed, updated_at",
    names: &[
        "id",
        "subject_id",
        "kind",
        "state",
        "channel",
        "regimes",
        "received_at",
        "due_on",
        "extended_due_on",
        "extendable_to",
        "extension",
        "open_due",
        "paused_at",
        "paused_secs",
        "refusal",
        "outcome",
        "verification",
        "duplicate_of",
        "repeat_of",
        "download",
        "filed_by",
        "sealed",
        "updated_at",
    ],
};

/// A verification from the [`VERIFICATION`] columns.
pub fn verification(row: &(impl Row + ?Sized)) -> Result<crate::VerificationRecord> {
    let c = Cols::new(row, 0, &VERIFICATION);
    let count = |k: usize| -> Result<u32> {
        u32::try_from(c.int(k)?).map_err(|_| corrupt(VERIFICATION.table, c.name(k), "out of range"))
    };
    Ok(crate::VerificationRecord {
        id: c.parse(0)?,
        request: c.parse(1)?,
        subject: c.subject_id(2)?,
        method: c.parse(3)?,
        state: c.parse(4)?,
        revision: count(5)?,
        attempts: count(6)?,
        resends: count(7)?,
        code_hash: c.opt_bytes(8)?,
        code_expires_at: c.opt_int(9)?.map(from_micros),
        document_type: c
            .opt_text(10)?
            .map(|t| parse(&t, VERIFICATION.table, "document_type"))
            .transpose()?,
        document_size: c
            .opt_int(11)?
            .map(|n| u64::try_from(n).map_err(|_| corrupt(VERIFICATION.table, "document_size", "negative")))
            .transpose()?,
        document_sha256: c.opt_text(12)?,
        reason: c.opt_text(13)?,
        created_at: from_micros(c.int(14)?),
        updated_at: from_micros(c.int(15)?),
    })
}

/// A request from the [`REQUEST`] columns.
pub fn request(row: &(impl Row + ?Sized)) -> Result<crate::RequestRecord> {
    let c = Cols::new(row, 0, &REQUEST);
    let date = |k: usize| -> Result<Option<time::Date>> {
        c.opt_int(k)?
            .map(|d| {
                i32::try_from(d)
                    .ok()
                    .and_then(|d| time::Date::from_julian_day(d).ok())
                    .ok_or_else(|| c.wrong(k, "not a day".into()))
            })
            .transpose()
    };
    let opt_parse = |k: usize| -> Result<Option<String>> { c.opt_text(k) };
    let regimes = split_names(&c.text(5)?)
        .iter()
        .map(|r| parse(r, REQUEST.table, "regimes"))
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::RequestRecord {
        id: c.parse(0)?,
        subject: c.subject_id(1)?,
        kind: c.parse(2)?,
        state: c.parse(3)?,
        channel: c.parse(4)?,
        regimes,
        received_at: from_micros(c.int(6)?),
        due_on: c.required(7, date(7)?)?,
        extended_due_on: date(8)?,
        extendable_to: date(9)?,
        extension: opt_parse(10)?
            .map(|s| parse(&s, REQUEST.table, "extension"))
            .transpose()?,
        open_due: date(11)?,
        paused_at: c.opt_int(12)?.map(from_micros),
        paused_secs: c.int(13)?,
        refusal: opt_parse(14)?
            .map(|s| parse(&s, REQUEST.table, "refusal"))
            .transpose()?,
        outcome: c.opt_text(15)?,
        verification: c.opt_text(16)?,
        duplicate_of: opt_parse(17)?
            .map(|s| parse(&s, REQUEST.table, "duplicate_of"))
            .transpose()?,
        repeat_of: opt_parse(18)?
            .map(|s| parse(&s, REQUEST.table, "repeat_of"))
            .transpose()?,
        download: opt_parse(19)?
            .map(|s| parse(&s, REQUEST.table, "download"))
            .transpose()?,
        filed_by: c.text(20)?,
        sealed: c.opt_bytes(21)?,
        updated_at: from_micros(c.int(22)?),
    })
}

/// A request's stored columns after the id, in [`REQUEST`] order (`id` first): what both
/// backends bind for an insert or a whole-row update.
pub fn request_values(r: &crate::RequestRecord) -> Option<Vec<crate::Bind>> {
    use crate::Bind::{Bytes, Int, Text};
    let opt_text = |s: Option<String>| s.map_or(crate::Bind::NullText, Text);
    let opt_int = |i: Option<i64>| i.map_or(crate::Bind::NullInt, Int);
    let regimes: Vec<String> = r.regimes.iter().map(|g| g.as_str().to_owned()).collect();
    Some(vec![
        Text(r.id.to_string()),
        Bytes(r.subject.as_bytes().to_vec()),
        Text(r.kind.as_str().to_owned()),
        Text(r.state.as_str().to_owned()),
        Text(r.channel.as_str().to_owned()),
        Text(crate::write::join_names(&regimes)?),
        Int(ward_core::clock::to_micros(r.received_at)),
        Int(crate::day(r.due_on)),
        opt_int(r.extended_due_on.map(crate::day)),
        opt_int(r.extendable_to.map(crate::day)),
        opt_text(r.extension.map(|e| e.as_str().to_owned())),
        opt_int(r.open_due.map(crate::day)),
        opt_int(r.paused_at.map(ward_core::clock::to_micros)),
        Int(r.paused_secs),
        opt_text(r.refusal.map(|e| e.as_str().to_owned())),
        opt_text(r.outcome.clone()),
        opt_text(r.verification.clone()),
        opt_text(r.duplicate_of.map(|i| i.to_string())),
        opt_text(r.repeat_of.map(|i| i.to_string())),
        opt_text(r.download.map(|i| i.to_string())),
        Text(r.filed_by.clone()),
        r.sealed.clone().map_or(crate::Bind::NullBytes, Bytes),
        Int(ward_core::clock::to_micros(r.updated_at)),
    ])
}

pub static DOWNLOAD: Columns = Columns {
    table: "downloads",
    select: "id, subject_id, request, token_hash, format, document, created_at, expires_at, used_at",
    names: &[
        "id",
        "subject_id",
        "request",
        "token_hash",
        "format",
        "document",
        "created_at",
        "expires_at",
        "used_at",
    ],
};

/// A download from the [`DOWNLOAD`] columns.
pub fn download(row: &(impl Row + ?Sized)) -> Result<crate::DownloadRecord> {
    let c = Cols::new(row, 0, &DOWNLOAD);
    let uuid = |k: usize, column: &str| -> Result<[u8; 16]> {
        c.bytes(k)?
            .try_into()
            .map_err(|_| corrupt(DOWNLOAD.table, column, "expected 16 bytes"))
    };
    let request = match c.opt_bytes(2)? {
        None => None,
        Some(b) => Some(ward_core::RequestId::from_bytes(
            b.try_into()
                .map_err(|_| corrupt(DOWNLOAD.table, "request", "expected 16 bytes"))?,
        )),
    };
    Ok(crate::DownloadRecord {
        id: ward_core::DownloadId::from_bytes(uuid(0, "id")?),
        subject: c.subject_id(1)?,
        request,
        token_hash: hash32(&c.bytes(3)?, DOWNLOAD.table, "token_hash")?,
        format: c.text(4)?,
        document: c.opt_bytes(5)?,
        created_at: from_micros(c.int(6)?),
        expires_at: from_micros(c.int(7)?),
        used_at: c.opt_int(8)?.map(from_micros),
    })
}
