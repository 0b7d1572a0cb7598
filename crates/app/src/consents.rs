//! Recording consent forms and withdrawals (C1–C4, C8, C10, C14).

use custodian_core::audit::AuditOutcome;
use custodian_core::consent::{
    Consent, ConsentForm, ConsentGiver, Disposition, Scope, Withdrawal, WithdrawalForm, Withdrawer,
};
use custodian_core::ids::{ConsentId, PersonId, RepresentativeId, WithdrawalId};
use custodian_core::person::{Capacity, Representative};
use custodian_core::purpose::PurposeSet;
use custodian_core::text::Note;
use custodian_store::RegisterTx;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::Caller;
use crate::audit_trail::Audit;
use crate::error_code::ErrorCode;
use crate::uses::{GrantsResting, revoke_grants};
use crate::{AppError, AppResult, Custodian};
use custodian_access::Action;

/// Who withdrew consent, as staff record it; whether a person had capacity is taken from their record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithdrawnBy {
    Person,
    Representative(RepresentativeId),
}

/// A withdrawal as staff enter it.
#[derive(Clone, Debug)]
pub struct WithdrawalRequest {
    pub at: OffsetDateTime,
    /// Empty means every purpose of the consent.
    pub purposes: PurposeSet,
    pub withdrawn_by: WithdrawnBy,
    pub existing_recordings: Disposition,
    pub note: Option<Note>,
}

/// A person's consents and withdrawals.
#[derive(Clone, Debug, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentHistory {
    pub consents: Vec<Consent>,
    pub withdrawals: Vec<Withdrawal>,
}

impl Custodian {
    /// Records a completed consent form for `person`.
    #[tracing::instrument(skip(self, caller, form), fields(staff = %caller.member.id))]
    pub async fn record_consent(
        &self,
        caller: &Caller,
        person: PersonId,
        form: ConsentForm,
    ) -> AppResult<Consent> {
        let id = ConsentId::from_uuid(Uuid::now_v7());
        self.record_consent_once(caller, person, id, form).await
    }

    /// Records a consent form under an id chosen when the form was shown, so that a form sent
    /// twice (a double click, a resent page) records one consent: the second gets the first.
    #[tracing::instrument(skip(self, caller, form), fields(staff = %caller.member.id))]
    pub async fn record_consent_once(
        &self,
        caller: &Caller,
        person: PersonId,
        id: ConsentId,
        form: ConsentForm,
    ) -> AppResult<Consent> {
        self.read_person(caller, Action::RecordConsent, person)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        if let Some(recorded) = tx.consent(id).await? {
            if recorded.person_id != person {
                return Err(AppError::Rule {
                    code: ErrorCode::ConsentIdInUse,
                    message: format!("consent {id} belongs to someone else; open the form again"),
                });
            }
            return Ok(recorded);
        }
        let subject = tx
            .person(person)
            .await?
            .ok_or_else(|| AppError::not_found("person", person))?;
        let representative = match &form.given_by {
            ConsentGiver::Person => None,
            ConsentGiver::Representative {
                representative_id, ..
            } => Some(representative(&mut tx, *representative_id).await?),
        };
        check_scope(&mut tx, &form.scope, person).await?;
        let consent = Consent::new(id, &subject, representative.as_ref(), form, now)?;
        tx.insert_consent(&consent, caller.member.id, now).await?;
        if consent.answer == custodian_core::consent::ConsentAnswer::Refused {
            // A refusal cancels the grants signed before it (C4, X1).
            revoke_grants(
                &mut tx,
                GrantsResting::On(person),
                now,
                "consent was refused",
            )
            .await?;
        }
        Audit::change("consent.recorded")
            .person(person)
            .outcome(AuditOutcome::Succeeded)
            .detail(serde_json::json!({
                "consent_id": consent.id,
                "answer": consent.answer,
                "purposes": consent.purposes,
                "scope": consent.scope,
                "by_representative": consent.representative_id(),
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(consent)
    }

    /// Records the withdrawal of a consent (C8).
    #[tracing::instrument(skip(self, caller, request), fields(staff = %caller.member.id))]
    pub async fn withdraw_consent(
        &self,
        caller: &Caller,
        consent: ConsentId,
        request: WithdrawalRequest,
    ) -> AppResult<Withdrawal> {
        let of = self
            .consent_of(caller, Action::RecordConsent, consent)
            .await?;
        let now = self.clock.now();
        let mut tx = self.register.write().await?;
        let withdrawn = tx
            .consent(consent)
            .await?
            .filter(|recorded| recorded.person_id == of.person_id)
            .ok_or_else(|| AppError::not_found("consent", consent))?;
        let person = tx
            .person(withdrawn.person_id)
            .await?
            .ok_or_else(|| AppError::not_found("person", withdrawn.person_id))?;
        let (withdrawn_by, representative) = match request.withdrawn_by {
            WithdrawnBy::Person => (
                Withdrawer::Person {
                    had_capacity: person.capacity == Capacity::HasCapacity,
                },
                None,
            ),
            WithdrawnBy::Representative(id) => (
                Withdrawer::Representative {
                    representative_id: id,
                },
                Some(representative(&mut tx, id).await?),
            ),
        };
        let withdrawal = Withdrawal::new(
            WithdrawalId::from_uuid(Uuid::now_v7()),
            &withdrawn,
            representative.as_ref(),
            WithdrawalForm {
                at: request.at,
                purposes: request.purposes,
                withdrawn_by,
                existing_recordings: request.existing_recordings,
                note: request.note,
            },
            now,
        )?;
        tx.insert_withdrawal(&withdrawal, caller.member.id, now)
            .await?;
        revoke_grants(
            &mut tx,
            GrantsResting::On(withdrawal.person_id),
            now,
            "consent was withdrawn",
        )
        .await?;
        // Withdrawal brings the person's recordings up for disposal with their choice (C8).
        let schedule = crate::retention::schedule_in_force(&mut tx).await?;
        crate::retention::recalculate_person(&mut tx, &schedule, withdrawal.person_id, now).await?;
        Audit::change("consent.withdrawn")
            .person(withdrawal.person_id)
            .detail(serde_json::json!({
                "consent_id": consent,
                "withdrawal_id": withdrawal.id,
                "purposes": withdrawal.purposes,
                "existing_recordings": withdrawal.existing_recordings,
            }))
            .write(&mut tx, caller.actor(), now)
            .await?;
        tx.commit().await?;
        Ok(withdrawal)
    }

    /// A consent form.
    pub async fn consent(&self, caller: &Caller, id: ConsentId) -> AppResult<Consent> {
        self.consent_of(caller, Action::ViewPerson, id).await
    }

    /// Loads a consent after checking the caller may do `action` to the person who gave it.
    async fn consent_of(
        &self,
        caller: &Caller,
        action: Action,
        id: ConsentId,
    ) -> AppResult<Consent> {
        caller.ready()?;
        let consent = {
            let mut tx = self.register.read().await?;
            tx.consent(id)
                .await?
                .ok_or_else(|| AppError::not_found("consent", id))?
        };
        self.authorize(caller, action, Target::Person(consent.person_id))
            .await?;
        Ok(consent)
    }

    /// A person's consents and withdrawals, in the order they happened.
    pub async fn consent_history(
        &self,
        caller: &Caller,
        person: PersonId,
    ) -> AppResult<ConsentHistory> {
        self.read_person(caller, Action::ViewPerson, person).await?;
        let mut tx = self.register.read().await?;
        Ok(ConsentHistory {
            consents: tx.consents_of(person).await?,
            withdrawals: tx.withdrawals_of(person).await?,
        })
    }
}

async fn representative(tx: &mut RegisterTx, id: RepresentativeId) -> AppResult<Representative> {
    tx.representative(id)
        .await?
        .ok_or_else(|| AppError::not_found("representative", id))
}

/// What a consent covers must exist, and a consent for a session or recording must be from
/// someone who takes part in it.
async fn check_scope(tx: &mut RegisterTx, scope: &Scope, person: PersonId) -> AppResult<()> {
    let outsider = || {
        AppError::Rule {
        code: ErrorCode::ConsentScopeWithoutPerson,
        message: "the person does not take part in what this consent covers; add them to the session or recording first".to_owned(),
    }
    };
    match scope {
        Scope::Service { .. } => {}
        Scope::Course { course_id } => {
            tx.course(*course_id)
                .await?
                .ok_or_else(|| AppError::not_found("course", course_id))?;
        }
        Scope::Session { session_id } => {
            let session = tx
                .session(*session_id)
                .await?
                .ok_or_else(|| AppError::not_found("session", session_id))?;
            if !session.has_participant(person) {
                return Err(outsider());
            }
        }
        Scope::Recording { recording_id } => {
            let recording = tx
                .recording(*recording_id)
                .await?
                .ok_or_else(|| AppError::not_found("recording", recording_id))?;
            if !recording.subjects.contains(&person) {
                return Err(outsider());
            }
        }
    }
    Ok(())
}
