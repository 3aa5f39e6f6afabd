use crate::support::{both_backends, Server};
use serde_json::json;

both_backends!(the_policy_in_force_is_served);
async fn the_policy_in_force_is_served(s: Server) {
    let svc = s.service_key(&["analytics"]).await;
    let r = s.get("/v1/policy", &svc).await;
    let p = r.json_with(200);
    assert_eq!(p["id"], "website");
    assert_eq!(p["version"], "1");
    assert_eq!(p["hash"], s.vault.policies().current_hash());
    assert_eq!(p["default_region"], "RU");
    assert_eq!(p["operator"]["contact_email"], "privacy@example.com");
    assert_eq!(p["categories"]["contact"]["title"], "Contact details");
    assert_eq!(p["categories"]["contact"]["special"], false);
    assert_eq!(
        p["fields"]["email"],
        json!({"title": "Email address", "type": "email", "category": "contact", "lookup": true, "required": true})
    );
    assert_eq!(p["fields"]["full_name"]["type"], "text");
    assert_eq!(p["fields"]["full_name"]["max_length"], 200);
    let marketing = &p["purposes"]["marketing"];
    assert_eq!(marketing["legal_basis"], "consent");
    assert_eq!(marketing["fz152_item"], "1");
    assert_eq!(marketing["gdpr_point"], "a");
    assert_eq!(marketing["categories"], json!(["contact", "identity"]));
    assert_eq!(
        marketing["actions"],
        json!([
            "collection",
            "recording",
            "storage",
            "retrieval",
            "use",
            "deletion",
            "destruction"
        ])
    );
    assert_eq!(p["purposes"]["accounting"]["legal_basis"], "legal_obligation");
    assert_eq!(p["purposes"]["accounting"]["gdpr_point"], "c");
    assert_eq!(p["purposes"].as_object().unwrap().len(), 5);
}
