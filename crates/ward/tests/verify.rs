//! The officer's identity verification at the console (seed 003: a scanned, signed request):
//! `ward verify start` for a document, `upload` of the scan, `show`, `document --out` (the
//! same bytes back, the reading journaled), `accept`/`reject` with a reason from the list;
//! bad input is a message and a non-zero exit.

mod common;

use common::{init, register, run, stderr, stdout};

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(stdout(out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn the_officer_verifies_a_scanned_signed_request_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let id = register(&dir, &["email=scan@example.org", "full_name=Signed Here"]);
    // Seed 003: the scanned, signed request arrives; the officer files it, to verify first.
    let out = run(
        &dir,
        &["requests", "file", "--subject", &id, "--kind", "access", "--verify"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let filed = json(&out);
    let request = filed["id"].as_str().unwrap().to_owned();
    let request = request.as_str();

    let out = run(
        &dir,
        &[
            "verify",
            "start",
            "--request",
            request,
            "--subject",
            &id,
            "--method",
            "seance",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown_verification_method"), "{}", stderr(&out));
    let out = run(
        &dir,
        &[
            "verify",
            "start",
            "--request",
            request,
            "--subject",
            &id,
            "--method",
            "document",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let started = json(&out);
    assert_eq!(
        (started["state"].as_str(), started["request_id"].as_str()),
        (Some("pending"), Some(request))
    );
    let vid = started["id"].as_str().unwrap().to_owned();

    // A GIF is refused by its content; the scan (a PDF) is taken.
    let gif = tmp.path().join("scan.gif");
    std::fs::write(&gif, b"GIF89a\x01\x00").unwrap();
    let out = run(&dir, &["verify", "upload", &vid, gif.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unsupported_document_type"), "{}", stderr(&out));
    let scan = tmp.path().join("scan.pdf");
    let bytes = b"%PDF-1.4\n% signed: Signed Here, 2026-03-01\n%%EOF\n".to_vec();
    std::fs::write(&scan, &bytes).unwrap();
    let out = run(&dir, &["verify", "upload", &vid, scan.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sha = json(&out)["document_sha256"].as_str().unwrap().to_owned();

    let out = run(&dir, &["verify", "show", &vid]);
    assert_eq!(json(&out)["document_type"], "application/pdf");
    let copy = tmp.path().join("copy.pdf");
    let out = run(&dir, &["verify", "document", &vid, "--out", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["sha256"], sha.as_str());
    assert_eq!(std::fs::read(&copy).unwrap(), bytes);
    let out = run(&dir, &["verify", "document", &vid, "--out", copy.to_str().unwrap()]);
    assert!(!out.status.success(), "an existing file is not overwritten");

    let out = run(&dir, &["verify", "accept", &vid, "--reason", "illegible"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown_reason"), "{}", stderr(&out));
    let out = run(&dir, &["verify", "accept", &vid, "--reason", "signature_matches"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["state"], "verified");
    let out = run(&dir, &["verify", "reject", &vid, "--reason", "illegible"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("verification_not_pending"), "{}", stderr(&out));
    // The accepted document moved the request on; the officer answers it.
    let out = run(&dir, &["requests", "show", request]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["state"], "in_progress", "{}", stdout(&out));
    let out = run(&dir, &["requests", "complete", request]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["state"], "completed", "{}", stdout(&out));

    let out = run(&dir, &["verify", "show", "not-an-id"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a verification id"), "{}", stderr(&out));

    let out = run(&dir, &["journal", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&dir, &["journal", "list", "--subject", &id]);
    let listed = stdout(&out);
    for action in [
        "verification.started",
        "verification.document_uploaded",
        "verification.document_read",
        "verification.decided",
        "subject_request.verifying",
        "subject_request.verified",
        "subject_request.completed",
    ] {
        assert!(listed.contains(action), "{action}: {listed}");
    }
    assert!(listed.contains(&sha), "the document's digest is journaled: {listed}");
}
