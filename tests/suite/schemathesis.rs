//! The API holds to its OpenAPI document under schemathesis (issue 27): generated requests, as a
//! practitioner and as an administrator, get no server error, only documented statuses and
//! content types, and bodies of the documented shapes.

use custodian_testkit::TestApp;

/// The checks of the kinds the outside run found failing.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

async fn x2_the_api_answers_as_its_document_says_under_generated_requests(app: TestApp) {
    let st = custodian_testkit::outside::schemathesis();
    let base = app.serve().await;
    // Something to find, so that not every generated id is a stranger's.
    app.consenting_person("Generated", &["clinical"]).await;
    // Schemathesis keeps a cache of what it found in its working folder: not in the clone.
    let scratch = tempfile::tempdir().unwrap();
    for (who, token) in [
        ("practitioner", &app.token),
        ("administrator", &app.admin_token),
    ] {
        let output = tokio::process::Command::new(&st)
            .current_dir(scratch.path())
            .arg("run")
            .arg(format!("{base}/api/v1/openapi.json"))
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", CHECKS])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", "10", "--workers", "2", "--no-color"])
            // The same cases every run, so a failure is this change's, not a new draw's.
            .args(["--seed", "27"])
            // Uploads speak tus, whose bodies the generator cannot make; signing out, in or
            // changing the password as a generated user would end the run's own credentials.
            .args([
                "--exclude-path-regex",
                "^/api/v1/(uploads|auth/(sign-out|sign-in|password))",
            ])
            .output()
            .await
            .expect("schemathesis runs");
        assert!(
            output.status.success(),
            "as {who}:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

on_both_backends!(app, needs [Schemathesis]: x2_the_api_answers_as_its_document_says_under_generated_requests);
