//! The shipped policies against the roles they describe, local policies, and the S3 forbid.

use std::str::FromStr;

use cedar_policy::{Context, EntityUid, Request, RestrictedExpression};
use custodian_core::staff::Role;
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

const MINE: &[&str] = &["CAMHS-NORTH"];
const THEIRS: &[&str] = &["ADULT-MH-EAST"];

fn policies() -> AccessPolicies {
    AccessPolicies::shipped().unwrap()
}

fn resource(kind: ResourceKind, services: &'static [&'static str]) -> Resource<'static> {
    let id = Uuid::nil();
    match kind {
        ResourceKind::Organisation => Resource::Organisation,
        ResourceKind::Person => Resource::Person { id, services },
        ResourceKind::Session => Resource::Session { id, services },
        ResourceKind::Recording => Resource::Recording {
            id,
            services,
            purposes: &["clinical"],
            de_identified: false,
        },
    }
}

/// The circumstances of asking `action`: a use of content is always asked with its purpose.
fn asked(action: Action, connected: bool, emergency: bool) -> Circumstances<'static> {
    let use_of_content = action == Action::PlayRecording;
    Circumstances {
        connected,
        emergency,
        purpose: use_of_content.then_some("clinical"),
        consented: use_of_content,
    }
}

fn allowed(roles: &[Role], action: Action, services: &'static [&'static str]) -> bool {
    let principal = Principal {
        id: Uuid::nil(),
        roles,
        services: MINE,
    };
    policies()
        .decide(
            &principal,
            action,
            &resource(action.resource_kind(), services),
            asked(action, false, false),
        )
        .unwrap()
        .is_allowed()
}

#[test]
fn s2_every_action_in_code_is_an_action_of_the_schema() {
    let (schema, _) = cedar_policy::Schema::from_cedarschema_str(SCHEMA).unwrap();
    for action in Action::ALL {
        let kind = match action.resource_kind() {
            ResourceKind::Organisation => "Organisation",
            ResourceKind::Person => "Person",
            ResourceKind::Session => "Session",
            ResourceKind::Recording => "Recording",
        };
        let mut pairs = vec![
            (
                "connected".to_owned(),
                RestrictedExpression::new_bool(false),
            ),
            (
                "emergency".to_owned(),
                RestrictedExpression::new_bool(false),
            ),
        ];
        if *action == Action::PlayRecording {
            pairs.push((
                "purpose".to_owned(),
                RestrictedExpression::new_string("clinical".to_owned()),
            ));
            pairs.push(("consented".to_owned(), RestrictedExpression::new_bool(true)));
        }
        let context = Context::from_pairs(pairs).unwrap();
        let request = Request::new(
            EntityUid::from_str(r#"Custodian::Staff::"a""#).unwrap(),
            EntityUid::from_str(&format!(r#"Custodian::Action::"{}""#, action.as_str())).unwrap(),
            EntityUid::from_str(&format!(r#"Custodian::{kind}::"b""#)).unwrap(),
            context,
            Some(&schema),
        );
        assert!(request.is_ok(), "{}: {:?}", action.as_str(), request.err());
    }
}

#[test]
fn s2_practitioners_work_with_their_own_services_people_only() {
    let practitioner = &[Role::Practitioner];
    for action in [
        Action::ViewPerson,
        Action::RecordConsent,
        Action::ViewRecording,
        Action::PlayRecording,
        Action::RunSession,
    ] {
        assert!(allowed(practitioner, action, MINE), "{action:?}");
        assert!(!allowed(practitioner, action, THEIRS), "{action:?}");
    }
    assert!(allowed(practitioner, Action::FindPersons, &[]));
    assert!(!allowed(practitioner, Action::ReadAuditTrail, &[]));
    assert!(!allowed(practitioner, Action::ManageAccounts, &[]));
}

#[test]
fn s3_only_clinicians_on_call_may_take_emergency_access() {
    for (roles, may) in [
        (&[Role::Practitioner][..], false),
        (&[Role::TeamManager][..], false),
        (&[Role::OnCall][..], false),
        (&[Role::Administrator, Role::OnCall][..], false),
        (&[Role::Practitioner, Role::OnCall][..], true),
        (&[Role::TeamManager, Role::OnCall][..], true),
    ] {
        assert_eq!(allowed(roles, Action::BreakGlass, THEIRS), may, "{roles:?}");
    }
}

#[test]
fn s2_administrators_manage_accounts_but_see_no_one() {
    let administrator = &[Role::Administrator];
    assert!(allowed(administrator, Action::ManageAccounts, &[]));
    assert!(allowed(administrator, Action::ManagePolicies, &[]));
    for action in [
        Action::ViewPerson,
        Action::ViewRecording,
        Action::PlayRecording,
    ] {
        assert!(!allowed(administrator, action, MINE), "{action:?}");
    }
    assert!(!allowed(administrator, Action::FindPersons, &[]));
}

#[test]
fn s2_records_managers_and_ig_leads_see_details_across_services_but_play_nothing() {
    for role in [Role::RecordsManager, Role::InformationGovernanceLead] {
        assert!(allowed(&[role], Action::ViewRecording, THEIRS), "{role:?}");
        assert!(!allowed(&[role], Action::PlayRecording, THEIRS), "{role:?}");
        assert!(!allowed(&[role], Action::RecordConsent, THEIRS), "{role:?}");
    }
    assert!(allowed(
        &[Role::InformationGovernanceLead],
        Action::OverseeAccess,
        &[]
    ));
    assert!(!allowed(
        &[Role::RecordsManager],
        Action::OverseeAccess,
        &[]
    ));
}

#[test]
fn s2_auditors_read_the_audit_trail_and_nothing_else() {
    for action in Action::ALL {
        // Anyone may declare a personal connection (S3).
        let expected = matches!(action, Action::ReadAuditTrail | Action::DeclareConnection);
        assert_eq!(
            allowed(&[Role::Auditor], *action, MINE),
            expected,
            "{action:?}"
        );
    }
}

#[test]
fn s2_communications_see_only_recordings_made_for_publication_and_use_them_only_for_it() {
    let principal = Principal {
        id: Uuid::nil(),
        roles: &[Role::Communications],
        services: &[],
    };
    let decide = |purposes: &'static [&'static str], purpose: &'static str| {
        policies()
            .decide(
                &principal,
                Action::PlayRecording,
                &Resource::Recording {
                    id: Uuid::nil(),
                    services: THEIRS,
                    purposes,
                    de_identified: false,
                },
                Circumstances {
                    purpose: Some(purpose),
                    ..asked(Action::PlayRecording, false, false)
                },
            )
            .unwrap()
            .is_allowed()
    };
    assert!(decide(&["newsletters", "clinical"], "newsletters"));
    assert!(
        !decide(&["newsletters", "clinical"], "clinical"),
        "a recording made for publication too is used by communications only for publication"
    );
    assert!(!decide(&["clinical", "teaching"], "social_media"));
}

#[test]
fn s3_a_connection_refuses_every_role_and_names_the_rule() {
    let every_role = Role::ALL;
    let principal = Principal {
        id: Uuid::nil(),
        roles: every_role,
        services: MINE,
    };
    let verdict = policies()
        .decide(
            &principal,
            Action::ViewPerson,
            &resource(ResourceKind::Person, MINE),
            asked(Action::ViewPerson, true, false),
        )
        .unwrap();
    let Verdict::Refused(refusal) = verdict else {
        panic!("a connected member of staff was let in: {verdict:?}");
    };
    assert_eq!(refusal.requirement, "S3");
    assert_eq!(refusal.policy.as_deref(), Some("S3.personal-connection"));
    assert!(refusal.remedy.contains("emergency"), "{}", refusal.remedy);
}

#[test]
fn s3_emergency_access_lets_its_holder_see_but_not_change() {
    let principal = Principal {
        id: Uuid::nil(),
        roles: &[Role::Practitioner],
        services: MINE,
    };
    let emergency = asked(Action::ViewPerson, false, true);
    let decide = |action| {
        policies()
            .decide(
                &principal,
                action,
                &resource(ResourceKind::Person, THEIRS),
                emergency,
            )
            .unwrap()
            .is_allowed()
    };
    assert!(decide(Action::ViewPerson));
    assert!(!decide(Action::RecordConsent));
    assert!(!decide(Action::UpdatePerson));
}

#[test]
fn s2_no_policy_allowing_is_refused_with_what_to_do_next() {
    let verdict = policies()
        .decide(
            &Principal {
                id: Uuid::nil(),
                roles: &[Role::Practitioner],
                services: MINE,
            },
            Action::ViewPerson,
            &resource(ResourceKind::Person, THEIRS),
            Circumstances::default(),
        )
        .unwrap();
    let Verdict::Refused(refusal) = verdict else {
        panic!("let in: {verdict:?}");
    };
    assert_eq!(refusal.requirement, "S2");
    assert_eq!(refusal.policy, None);
    assert!(
        refusal.remedy.contains("team manager"),
        "{}",
        refusal.remedy
    );
}

#[test]
fn x6_a_local_policy_grants_what_the_organisation_decides() {
    let local = LocalPolicy {
        name: "auditors-see-refusals".to_owned(),
        text: r#"permit (principal in Custodian::Role::"auditor", action == Custodian::Action::"oversee_access", resource);"#.to_owned(),
    };
    let with_local = AccessPolicies::with_local(&[local]).unwrap();
    let verdict = with_local
        .decide(
            &Principal {
                id: Uuid::nil(),
                roles: &[Role::Auditor],
                services: &[],
            },
            Action::OverseeAccess,
            &Resource::Organisation,
            Circumstances::default(),
        )
        .unwrap();
    assert_eq!(
        verdict,
        Verdict::Allowed {
            policies: vec!["local.auditors-see-refusals.0".to_owned()]
        }
    );
}

#[test]
fn x6_an_invalid_local_policy_is_refused_with_the_validators_message() {
    let shipped = policies();
    let unknown_attribute = shipped
        .check_local(
            "typo",
            r#"permit (principal, action, resource) when { principal.servces.contains("X") };"#,
        )
        .unwrap_err()
        .to_string();
    assert!(unknown_attribute.contains("servces"), "{unknown_attribute}");
    let unknown_action = shipped
        .check_local(
            "typo",
            r#"permit (principal, action == Custodian::Action::"delete_everything", resource);"#,
        )
        .unwrap_err()
        .to_string();
    assert!(
        unknown_action.contains("delete_everything"),
        "{unknown_action}"
    );
    let syntax = shipped
        .check_local("broken", "permit (principal, action")
        .unwrap_err()
        .to_string();
    assert!(syntax.contains("does not parse"), "{syntax}");
    assert!(
        shipped
            .check_local("bad name!", "permit (principal, action, resource);")
            .is_err()
    );
}

proptest! {
    // Each case parses and validates a policy set, so fewer cases than the default.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// S3: whatever an organisation permits with its own policies, and whether or not they hold
    /// emergency access, a member of staff with a connection is refused every act but declaring
    /// the connection: taking emergency access and using it included.
    #[test]
    fn s3_nothing_lifts_the_connection_forbid_not_even_emergency_access(
        roles in proptest::sample::subsequence(Role::ALL.to_vec(), 0..=Role::ALL.len()),
        action in proptest::sample::select(Action::ALL.to_vec()),
        grants in proptest::collection::vec(proptest::sample::select(Action::ALL.to_vec()), 0..6),
        emergency in any::<bool>(),
    ) {
        let local: Vec<LocalPolicy> = grants.iter().enumerate().map(|(n, granted)| LocalPolicy {
            name: format!("grant-{n}"),
            text: format!(r#"permit (principal, action == Custodian::Action::"{}", resource);"#, granted.as_str()),
        }).collect();
        let policies = AccessPolicies::with_local(&local).unwrap();
        let principal = Principal { id: Uuid::nil(), roles: &roles, services: MINE };
        let verdict = policies.decide(
            &principal,
            action,
            &resource(action.resource_kind(), MINE),
            asked(action, true, emergency),
        ).unwrap();
        if action != Action::DeclareConnection {
            prop_assert!(!verdict.is_allowed(), "{action:?} allowed to {roles:?}");
        }
    }
}

/// A local policy of one of the shapes organisations write, over a chosen act, role and
/// service, for comparing sliced decisions with the whole set's.
fn local_policy_strategy() -> impl Strategy<Value = String> {
    let acts = proptest::sample::subsequence(Action::ALL.to_vec(), 1..4);
    let role = proptest::option::of(proptest::sample::select(Role::ALL.to_vec()));
    let service = proptest::sample::select(vec!["CAMHS-NORTH", "ADULT-MH-EAST", "SERVICE-7"]);
    let purpose = proptest::sample::select(vec!["clinical", "teaching"]);
    (any::<bool>(), acts, role, service, purpose, 0..4u8).prop_map(|(permit, acts, role, service, purpose, shape)| {
        let effect = if permit { "permit" } else { "forbid" };
        let principal = role.map_or("principal".to_owned(), |role| {
            format!(r#"principal in Custodian::Role::"{}""#, role.as_str())
        });
        let named: Vec<String> = acts
            .iter()
            .map(|act| format!(r#"Custodian::Action::"{}""#, act.as_str()))
            .collect();
        // Conditions must type-check for every act named: only organisation-wide acts
        // lack `resource.services`, so those get a condition on the principal.
        let on_record = acts
            .iter()
            .all(|act| act.resource_kind() != ResourceKind::Organisation);
        let on_recordings = acts
            .iter()
            .all(|act| act.resource_kind() == ResourceKind::Recording);
        let only_use = acts.iter().all(|act| *act == Action::PlayRecording);
        let condition = match (shape, on_record) {
            (0, _) => "true".to_owned(),
            (2, true) if only_use => format!(
                r#"context.purpose == "{purpose}" && (context.consented || resource.de_identified)"#
            ),
            (3, true) if on_recordings => format!(
                r#"resource.services.contains("{service}") && (context.connected || resource.purposes.contains("{purpose}")) && resource.purposes.contains("{purpose}")"#
            ),
            (1, true) => format!(r#"resource.services.contains("{service}")"#),
            (_, true) => "context.connected".to_owned(),
            (_, false) => format!(r#"principal.services.contains("{service}")"#),
        };
        format!(
            "{effect} ({principal}, action in [{}], resource) when {{ {condition} }};",
            named.join(", ")
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// S2, X6: deciding against the slice of policies for the act and the asker's roles gives
    /// exactly the answer the whole set of policies gives, whatever local policies are loaded.
    #[test]
    fn x6_the_policies_sliced_by_act_and_role_decide_as_the_whole_set_does(
        texts in proptest::collection::vec(local_policy_strategy(), 0..12),
        roles in proptest::sample::subsequence(Role::ALL.to_vec(), 0..=3),
        action in proptest::sample::select(Action::ALL.to_vec()),
        theirs in any::<bool>(),
        connected in any::<bool>(),
        emergency in any::<bool>(),
        consented in any::<bool>(),
    ) {
        let local: Vec<LocalPolicy> = texts.iter().enumerate().map(|(n, text)| LocalPolicy {
            name: format!("local-{n}"),
            text: text.clone(),
        }).collect();
        let policies = AccessPolicies::with_local(&local).unwrap();
        let principal = Principal { id: Uuid::nil(), roles: &roles, services: MINE };
        let target = resource(action.resource_kind(), if theirs { THEIRS } else { MINE });
        let circumstances = Circumstances { consented, ..asked(action, connected, emergency) };
        let sliced = policies.decide(&principal, action, &target, circumstances).unwrap();
        let (request, entities) = policies.names.request(&principal, action, &target, circumstances).unwrap();
        let whole = policies.authorizer.is_authorized(&request, &policies.policies, &entities);
        prop_assert_eq!(sliced.is_allowed(), whole.decision() == Decision::Allow, "{:?}", texts);
        if let Verdict::Allowed { policies: mut reasons } = sliced {
            let mut whole_reasons: Vec<String> = whole.diagnostics().reason().map(ToString::to_string).collect();
            reasons.sort();
            whole_reasons.sort();
            prop_assert_eq!(reasons, whole_reasons);
        }
    }
}

#[test]
fn d7_records_managers_run_retention_and_alone_lift_holds() {
    let retention = [
        Action::ViewRetention,
        Action::ManageRetention,
        Action::ReviewDisposal,
        Action::ViewLegalHolds,
        Action::PlaceLegalHold,
        Action::LiftLegalHold,
        Action::RegisterPhysicalMedia,
        Action::DestroyPhysicalMedia,
    ];
    // Who may do each, in the order above: records manager, IG lead, administrator.
    let expected = [
        (
            Role::RecordsManager,
            [true, true, true, true, true, true, true, true],
        ),
        (
            Role::InformationGovernanceLead,
            [true, false, false, true, true, false, false, false],
        ),
        (
            Role::Administrator,
            [true, true, false, false, false, false, true, false],
        ),
        (Role::Practitioner, [false; 8]),
        (Role::TeamManager, [false; 8]),
        (Role::Communications, [false; 8]),
        (Role::Auditor, [false; 8]),
        (Role::OnCall, [false; 8]),
    ];
    for (role, answers) in expected {
        for (action, answer) in retention.iter().zip(answers) {
            assert_eq!(
                allowed(&[role], *action, &[]),
                answer,
                "{role:?} {action:?}"
            );
        }
    }
}

#[test]
fn s2_no_local_policy_may_let_a_role_outside_care_play_clinical_media() {
    assert!(policies().beyond_guard_rails().unwrap().is_empty());
    let everything = AccessPolicies::with_local(&[LocalPolicy {
        name: "everything".to_owned(),
        text: "permit (principal, action, resource);".to_owned(),
    }])
    .unwrap();
    let breaches = everything.beyond_guard_rails().unwrap();
    assert_eq!(breaches.len(), 6, "{breaches:?}");
    assert!(breaches.iter().any(|b| b.contains("communications team")));
    let narrowing = AccessPolicies::with_local(&[LocalPolicy {
        name: "no-bank-break-glass".to_owned(),
        text: r#"forbid (principal, action == Custodian::Action::"break_glass", resource) when { principal.services.contains("AGENCY-BANK") };"#.to_owned(),
    }])
    .unwrap();
    assert!(narrowing.beyond_guard_rails().unwrap().is_empty());
}
