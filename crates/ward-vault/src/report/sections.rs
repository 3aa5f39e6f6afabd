//! The access report's sections: 152-FZ Art. 14 p. 7 items 1–11, each with the legal item it
//! answers and the GDPR Art. 15 point it also serves, built from the policy in force and one
//! subject's [`Gathered`] material. Pure: no I/O, no clock (the call's `now` is passed in).

use super::gather::Gathered;
use super::Section;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_core::access::Role;
use ward_core::policy::{Policy, ProcessingMethod, RecipientRole};
use ward_core::standing::{BasisState, ConsentState};

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn section(item: &str, law: &str, gdpr: &str, title: &str, title_ru: &str, content: Value) -> Section {
    Section {
        item: item.to_owned(),
        law: law.to_owned(),
        gdpr: gdpr.to_owned(),
        title: title.to_owned(),
        title_ru: title_ru.to_owned(),
        content,
    }
}

/// The purposes that hold for the subject now: a consent given, or another basis established.
fn holding(policy: &Policy, g: &Gathered) -> BTreeSet<String> {
    policy
        .purposes
        .iter()
        .filter(|(name, p)| {
            if p.legal_basis.needs_consent() {
                g.consent.get(*name).is_some_and(|c| c.state == ConsentState::Given)
            } else {
                g.loaded
                    .bases
                    .get(*name)
                    .is_some_and(|b| b.state == BasisState::Established)
            }
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// Who acted, as the report may say it: the role of the key, the console, or Ward itself.
fn role_of(actor: &str, roles: &BTreeMap<String, Role>) -> String {
    match actor.strip_prefix("key:") {
        Some(id) => roles
            .get(id)
            .map_or_else(|| "api key".to_owned(), |r| r.as_str().to_owned()),
        None if actor == "cli" => "operator (command line)".to_owned(),
        None => "ward (automatic)".to_owned(),
    }
}

/// The reasons an entry's detail names (`opened:<reason>`, `reason:<name>`, `verification`):
/// nothing else of the detail, so no id of anything else reaches the report.
fn reasons(detail: Option<&str>) -> Vec<String> {
    detail
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|t| {
            if let Some(r) = t.strip_prefix("opened:").or_else(|| t.strip_prefix("reason:")) {
                Some(r.to_owned())
            } else {
                (t == "verification").then(|| t.to_owned())
            }
        })
        .collect()
}

/// Every section of the report, in the order of Art. 14 p. 7.
pub(crate) fn sections(policy: &Policy, g: &Gathered, now: OffsetDateTime) -> Vec<Section> {
    let holding = holding(policy, g);
    let record = &g.loaded.record;
    let purposes_in_force = || policy.purposes.iter().filter(|(n, _)| holding.contains(*n));
    let recipient_ids: BTreeSet<&String> = purposes_in_force().flat_map(|(_, p)| &p.recipients).collect();
    let recipients: Vec<Value> = recipient_ids
        .iter()
        .filter_map(|id| policy.recipients.get(*id).map(|r| (id, r)))
        .map(|(id, r)| {
            let for_purposes: Vec<&String> = purposes_in_force()
                .filter(|(_, p)| p.recipients.contains(*id))
                .map(|(n, _)| n)
                .collect();
            json!({"id": id, "name": r.title, "role": r.role.as_str(), "country": r.country,
                   "address": r.address, "categories": r.categories, "purposes": for_purposes})
        })
        .collect();
    let held: BTreeSet<&str> = g
        .fields
        .keys()
        .filter_map(|f| policy.field(f).map(|d| d.category.as_str()))
        .collect();

    let mut out = Vec::new();
    out.push(section(
        "1",
        "152-FZ Art. 14 p. 7 item 1",
        "GDPR Art. 15(1)",
        "Confirmation that the operator processes the data",
        "Подтверждение факта обработки персональных данных оператором",
        json!({"processes": !g.fields.is_empty() || !holding.is_empty(),
               "subject": record.id.to_string(),
               "registered_at": rfc3339(record.created_at),
               "as_of": rfc3339(now)}),
    ));
    let grounds: Vec<Value> = policy
        .purposes
        .iter()
        .filter_map(|(name, p)| {
            let (state, since) = if p.legal_basis.needs_consent() {
                let c = g.consent.get(name)?;
                (c.state.as_str().to_owned(), Some(rfc3339(c.since)))
            } else {
                let b = g.loaded.bases.get(name)?;
                if b.state == BasisState::NotEstablished {
                    return None;
                }
                (b.state.as_str().to_owned(), Some(rfc3339(b.since)))
            };
            Some(
                json!({"purpose": name, "title": p.title, "legal_basis": p.legal_basis.as_str(),
                        "fz152_art6_item": p.fz152_item, "standing": state, "since": since,
                        "in_force": holding.contains(name)}),
            )
        })
        .collect();
    out.push(section(
        "2",
        "152-FZ Art. 14 p. 7 item 2",
        "GDPR Art. 15(1)(a)",
        "Legal grounds and purposes of processing",
        "Правовые основания и цели обработки персональных данных",
        json!({"purposes": grounds}),
    ));
    let purposes: Vec<Value> = purposes_in_force()
        .map(|(name, p)| {
            json!({"purpose": name, "title": p.title, "description": p.description,
                   "methods": p.methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
                   "actions": p.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                   "categories": p.categories})
        })
        .collect();
    out.push(section(
        "3",
        "152-FZ Art. 14 p. 7 item 3",
        "GDPR Art. 15(1)(a)",
        "Purposes and methods of processing",
        "Цели и применяемые оператором способы обработки персональных данных",
        json!({"purposes": purposes}),
    ));
    let op = &policy.operator;
    out.push(section(
        "4",
        "152-FZ Art. 14 p. 7 item 4",
        "GDPR Art. 15(1)(c)",
        "The operator, and who has access to the data or receives it",
        "Наименование и место нахождения оператора, сведения о лицах, которые имеют доступ к персональным данным или которым они могут быть раскрыты",
        json!({"operator": {"name": op.name, "address": op.address, "country": op.country,
                            "inn": op.inn, "ogrn": op.ogrn, "contact_email": op.contact_email},
               "recipients": recipients}),
    ));
    let data: Vec<Value> = g
        .fields
        .iter()
        .map(|(name, value)| {
            let def = policy.field(name);
            json!({"category": def.map(|d| d.category.as_str()), "field": name,
                   "title": def.map(|d| d.title.as_str()), "value": value})
        })
        .collect();
    let collected: Vec<Value> = g
        .journal
        .iter()
        .filter(|e| e.action == "collection")
        .map(|e| json!({"at": rfc3339(e.at), "by": role_of(&e.actor, &g.roles), "fields": e.fields}))
        .collect();
    out.push(section(
        "5",
        "152-FZ Art. 14 p. 7 item 5",
        "GDPR Art. 15(1)(b), (g), 15(3)",
        "The data processed about the subject, and its source",
        "Обрабатываемые персональные данные, относящиеся к субъекту, и источник их получения",
        json!({"data": data,
               "source": "collected from the data subject (or submitted on their behalf) through the operator's channels",
               "collections": collected}),
    ));
    let periods: Vec<Value> = purposes_in_force()
        .map(|(name, p)| {
            json!({"purpose": name,
                   "retention": p.retention.map_or_else(|| "not set in the register".to_owned(), |r| r.to_string()),
                   "counted_from": p.retention_after.as_str(),
                   "consent_expires_at": g.consent.get(name).and_then(|c| c.expires_at).map(rfc3339),
                   "obligation_until": g.loaded.bases.get(name).and_then(|b| b.until).map(rfc3339)})
        })
        .collect();
    let per_category: Vec<Value> = held
        .iter()
        .map(|c| {
            let by: Vec<Value> = purposes_in_force()
                .filter(|(_, p)| p.categories.contains(*c))
                .map(|(n, p)| json!({"purpose": n, "retention": p.retention.map(|r| r.to_string())}))
                .collect();
            json!({"category": c, "kept_for": by})
        })
        .collect();
    out.push(section(
        "6",
        "152-FZ Art. 14 p. 7 item 6",
        "GDPR Art. 15(1)(d)",
        "Processing periods, including storage periods",
        "Сроки обработки персональных данных, в том числе сроки их хранения",
        json!({"purposes": periods, "categories": per_category,
               "after_purpose_or_withdrawal": "destroyed within 30 days (152-FZ Art. 21 p. 4-5) unless another basis applies"}),
    ));
    out.push(section(
        "7",
        "152-FZ Art. 14 p. 7 item 7",
        "GDPR Art. 15(1)(e), (f)",
        "How the subject exercises their rights",
        "Порядок осуществления субъектом персональных данных прав, предусмотренных Федеральным законом",
        json!({"rights": [
                   {"right": "access", "law": "152-FZ Art. 14; GDPR Art. 15"},
                   {"right": "rectification", "law": "152-FZ Art. 14 p. 1, Art. 21 p. 2; GDPR Art. 16"},
                   {"right": "blocking (restriction)", "law": "152-FZ Art. 14 p. 1, Art. 21 p. 1; GDPR Art. 18"},
                   {"right": "destruction (erasure)", "law": "152-FZ Art. 14 p. 1, Art. 21; GDPR Art. 17"},
                   {"right": "withdraw consent", "law": "152-FZ Art. 9 p. 2; GDPR Art. 7(3)"},
                   {"right": "stop processing", "law": "152-FZ Art. 21 p. 5.1"},
                   {"right": "object to direct marketing", "law": "152-FZ Art. 15; 38-FZ Art. 18; GDPR Art. 21(2)"},
                   {"right": "data portability", "law": "GDPR Art. 20"},
                   {"right": "complain to the supervisory authority (Roskomnadzor) or a court", "law": "152-FZ Art. 17; GDPR Art. 77, 79"}],
               "contact": {"email": op.contact_email, "dpo_email": op.dpo_email, "address": op.address}}),
    ));
    let abroad: Vec<Value> = purposes_in_force()
        .flat_map(|(name, p)| {
            policy
                .cross_border_recipients(p)
                .map(move |(id, r)| json!({"purpose": name, "recipient": id, "name": r.title, "country": r.country}))
        })
        .collect();
    let safeguards: Vec<Value> = policy
        .consent_documents
        .iter()
        .filter(|(_, d)| d.kind.as_str() == "cross_border")
        .map(|(id, d)| {
            let given = d
                .purposes
                .iter()
                .any(|p| g.consent.get(p).is_some_and(|c| c.state == ConsentState::Given));
            json!({"consent_document": id, "title": d.title, "given": given})
        })
        .collect();
    out.push(section(
        "8",
        "152-FZ Art. 14 p. 7 item 8",
        "GDPR Art. 15(1)(c), 15(2)",
        "Completed or planned cross-border transfer, and its safeguards",
        "Информация об осуществленной или о предполагаемой трансграничной передаче данных",
        json!({"transfers": abroad, "safeguards": safeguards}),
    ));
    let processors: Vec<Value> = recipient_ids
        .iter()
        .filter_map(|id| policy.recipients.get(*id).map(|r| (id, r)))
        .filter(|(_, r)| r.role == RecipientRole::Processor)
        .map(|(id, r)| json!({"id": id, "name": r.title, "address": r.address, "country": r.country}))
        .collect();
    out.push(section(
        "9",
        "152-FZ Art. 14 p. 7 item 9",
        "GDPR Art. 15(1)(c)",
        "Persons processing the data on the operator's instruction",
        "Наименование или фамилия, имя, отчество и адрес лица, осуществляющего обработку персональных данных по поручению оператора",
        json!({"processors": processors}),
    ));
    out.push(section(
        "10",
        "152-FZ Art. 14 p. 7 item 10",
        "GDPR Art. 24, 37",
        "How the operator meets its duties under Art. 18.1",
        "Информация о способах исполнения оператором обязанностей, установленных статьей 18.1",
        json!({"responsible_person": op.responsible_person, "dpo_email": op.dpo_email,
               "information_system": op.information_system,
               "published_policy": {"id": policy.id, "version": policy.version, "text": policy.text_file},
               "measures": ["every access to the data is journaled in a hash-chained, signed journal",
                            "personal data is encrypted with a key of its own per subject",
                            "destruction is documented by acts (RKN Order No. 179)"]}),
    ));
    let automated: Vec<&String> = purposes_in_force()
        .filter(|(_, p)| p.methods.contains(&ProcessingMethod::Automated))
        .map(|(n, _)| n)
        .collect();
    let consent_history: Vec<Value> = g
        .loaded
        .events
        .iter()
        .map(|e| {
            json!({"purpose": e.purpose, "event": e.kind.as_str(), "at": rfc3339(e.at),
                        "policy_version": e.policy_version})
        })
        .collect();
    let basis_history: Vec<Value> = g
        .loaded
        .basis_events
        .iter()
        .map(|e| json!({"purpose": e.purpose, "event": e.kind.as_str(), "at": rfc3339(e.at)}))
        .collect();
    let blocks: Vec<Value> = g
        .blocks
        .iter()
        .map(|b| {
            json!({"categories": b.categories, "reason": b.reason, "at": rfc3339(b.at),
                        "lifted_at": b.lifted_at.map(rfc3339)})
        })
        .collect();
    let processing: Vec<Value> = g
        .journal
        .iter()
        .map(|e| {
            json!({"at": rfc3339(e.at), "action": e.action, "by": role_of(&e.actor, &g.roles),
                        "purpose": e.purpose, "fields": e.fields, "reasons": reasons(e.detail.as_deref())})
        })
        .collect();
    out.push(section(
        "11",
        "152-FZ Art. 14 p. 7 item 11",
        "GDPR Art. 15(1)(h), 15(1)",
        "Other information required by federal laws",
        "Иные сведения, предусмотренные федеральными законами",
        json!({"automated_decisions": {
                   "purposes_processed_by_automated_means": automated,
                   "decisions_based_solely_on_automated_processing": "none declared in the operator's register"},
               "consent_history": consent_history,
               "basis_history": basis_history,
               "blocks": blocks,
               "processing_record": processing}),
    ));
    out
}
