//! The printable destruction act: one HTML page with the act's fields a)–j) under the names
//! RKN Order No. 179 p. 3 gives them (English alongside), and the journal extract (p. 5).
//! Every value is escaped.

use super::DestructionAct;
use time::format_description::well_known::Rfc3339;
use ward_core::destruction::DestructionReason;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The reason in Russian, for the printed act.
fn reason_ru(reason: &str) -> &'static str {
    match reason.parse::<DestructionReason>() {
        Ok(DestructionReason::SubjectRequest) => "требование субъекта персональных данных",
        Ok(DestructionReason::ConsentWithdrawn) => "отзыв согласия на обработку персональных данных",
        Ok(DestructionReason::PurposeAchieved) => "достижение цели обработки персональных данных",
        Ok(DestructionReason::RetentionExpired) => "истечение срока хранения персональных данных",
        Ok(DestructionReason::UnlawfulProcessing) => "выявление неправомерной обработки персональных данных",
        Ok(DestructionReason::AuthorityOrder) => "требование уполномоченного органа по защите прав субъектов",
        Ok(DestructionReason::DestructionDeadline) => {
            "истечение шести месяцев блокирования при невозможности уничтожения в срок"
        }
        Err(_) => "",
    }
}

fn row(out: &mut String, item: &str, ru: &str, en: &str, value: &str) {
    out.push_str(&format!(
        "<tr><th>{item}</th><td>{ru}<br><small>{en}</small></td><td>{value}</td></tr>\n"
    ));
}

pub(super) fn html(act: &DestructionAct) -> String {
    let r = &act.record;
    let date = r.at.format(&Rfc3339).unwrap_or_default();
    let (method_ru, method_en) = act.method().map_or(("", ""), |m| m.describe());
    let mut t = String::new();
    let operator = match &r.operator_address {
        Some(a) => format!("{}, {}", esc(&r.operator), esc(a)),
        None => esc(&r.operator),
    };
    row(
        &mut t,
        "а)",
        "Наименование и адрес оператора",
        "Operator's name and address",
        &operator,
    );
    row(
        &mut t,
        "б)",
        "Наименование и адрес лица, осуществляющего обработку персональных данных по поручению оператора",
        "Processor acting on the operator's instruction",
        &r.processor.as_deref().map_or_else(|| "— (нет / none)".to_owned(), esc),
    );
    row(
        &mut t,
        "в)",
        "Иная информация, относящаяся к субъекту персональных данных",
        "Other information about the individual (pseudonymous subject id)",
        &format!("<code>{}</code>", r.subject),
    );
    row(
        &mut t,
        "г)",
        "Лицо, уничтожившее персональные данные, должность, подпись",
        "Who destroyed the data, position, signature",
        &format!(
            "{} ({})<br>подпись / signature: <code>sha256:{}</code>, записан в журнале / recorded in the journal",
            esc(&r.destroyed_by),
            esc(&r.position),
            act.digest
        ),
    );
    row(
        &mut t,
        "д)",
        "Перечень категорий уничтоженных персональных данных",
        "Categories of personal data destroyed",
        &format!(
            "{}<br><small>поля / fields: {}</small>",
            esc(&r.categories.join(", ")),
            esc(&r.fields.join(", "))
        ),
    );
    row(
        &mut t,
        "е)",
        "Наименование уничтоженного материального носителя, количество листов",
        "Physical medium destroyed, number of sheets",
        "— (автоматизированная обработка / automated processing)",
    );
    row(
        &mut t,
        "ж)",
        "Наименование информационной системы",
        "Information system",
        &esc(&r.system),
    );
    row(
        &mut t,
        "з)",
        "Способ уничтожения",
        "Method of destruction",
        &format!("{}<br><small>{}</small>", esc(method_ru), esc(method_en)),
    );
    row(
        &mut t,
        "и)",
        "Причина уничтожения",
        "Reason for destruction",
        &format!("{}<br><small>{}</small>", reason_ru(&r.reason), esc(&r.reason)),
    );
    row(&mut t, "к)", "Дата уничтожения", "Date of destruction", &esc(&date));
    if !r.withheld.is_empty() {
        row(
            &mut t,
            "",
            "Не уничтожено: хранение требуется законом (категория:цель)",
            "Withheld: retention required by law (category:purpose)",
            &esc(&r.withheld.join(", ")),
        );
    }
    let x = act.extract();
    let mut e = String::new();
    row(
        &mut e,
        "а)",
        "Субъект персональных данных",
        "The individual",
        &format!("<code>{}</code>", x.subject),
    );
    row(
        &mut e,
        "б)",
        "Перечень категорий",
        "Categories",
        &esc(&x.categories.join(", ")),
    );
    row(
        &mut e,
        "в)",
        "Информационная система",
        "Information system",
        &esc(&x.system),
    );
    row(&mut e, "г)", "Причина уничтожения", "Reason", &esc(&x.reason));
    row(&mut e, "д)", "Дата уничтожения", "Date", &esc(&date));
    row(
        &mut e,
        "",
        "Запись журнала",
        "Journal entry",
        &format!(
            "action <code>{}</code>, detail <code>{}</code>",
            x.action,
            esc(&x.detail)
        ),
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <title>Акт об уничтожении персональных данных {id}</title>\
         <style>body{{font-family:serif;max-width:50em;margin:2em auto}}table{{border-collapse:collapse;width:100%}}\
         th,td{{border:1px solid #000;padding:.3em;vertical-align:top;text-align:left}}</style></head><body>\n\
         <h1>Акт об уничтожении персональных данных<br><small>Act of destruction of personal data</small></h1>\n\
         <p>№ <code>{id}</code>. Требования приказа Роскомнадзора от 28.10.2022 № 179 / RKN Order No. 179.</p>\n\
         <table>\n{t}</table>\n\
         <h2>Выгрузка из журнала регистрации событий<br><small>Extract from the event log</small></h2>\n\
         <table>\n{e}</table>\n</body></html>\n",
        id = r.id
    )
}
