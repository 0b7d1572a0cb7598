//! Consents and withdrawals in the register.

use custodian_core::consent::{
    CapacityDecision, Consent, ConsentAnswer, ConsentGiver, Disposition, EthicsReference,
    ResearchApproval, Scope, Signature, SignatureMethod, Withdrawal, Withdrawer,
};
use custodian_core::ids::{
    ConsentId, CourseId, PersonId, RecordingId, RepresentativeId, SessionId, StaffId, WithdrawalId,
};
use custodian_core::signature::SignatureDrawing;
use custodian_core::text::ServiceCode;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::rows::{
    KnownBy, note, present, purposes_by_owner, purposes_of, short, short_opt, stored,
};
use crate::{RegisterTx, StoreError, StoreResult, on_both};

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: Uuid,
    person_id: Uuid,
    answer: String,
    giver_kind: String,
    representative_id: Option<Uuid>,
    capacity_assessed_on: Option<Date>,
    capacity_assessed_by: Option<String>,
    capacity_decision: Option<String>,
    best_interest_note: Option<String>,
    scope_kind: String,
    scope_service: Option<String>,
    scope_course_id: Option<Uuid>,
    scope_session_id: Option<Uuid>,
    scope_recording_id: Option<Uuid>,
    signed_at: OffsetDateTime,
    signature_method: String,
    signed_by: String,
    signature_witness: Option<String>,
    signature_drawing: Option<String>,
    representatives_may_have_copies: bool,
    research_study: Option<String>,
    research_ethics_reference: Option<String>,
    notes: Option<String>,
    recorded_at: OffsetDateTime,
}

impl ConsentRow {
    fn into_consent(
        self,
        purposes: custodian_core::purpose::PurposeSet,
    ) -> Result<Consent, StoreError> {
        let given_by = match self.giver_kind.as_str() {
            "person" => ConsentGiver::Person,
            "representative" => ConsentGiver::Representative {
                representative_id: RepresentativeId::from_uuid(present(
                    "consent representative",
                    self.representative_id,
                )?),
                capacity_decision: CapacityDecision {
                    assessed_on: present("capacity assessment date", self.capacity_assessed_on)?,
                    assessed_by: short(
                        "capacity assessor",
                        &present("capacity assessor", self.capacity_assessed_by)?,
                    )?,
                    decision: present(
                        "capacity decision",
                        note("capacity decision", self.capacity_decision.as_deref())?,
                    )?,
                },
                best_interest_note: present(
                    "best-interest note",
                    note("best-interest note", self.best_interest_note.as_deref())?,
                )?,
            },
            other => return Err(StoreError::corrupt("consent giver", other)),
        };
        let scope = scope_from_columns(
            &self.scope_kind,
            self.scope_service,
            self.scope_course_id,
            self.scope_session_id,
            self.scope_recording_id,
        )?;
        let research = match (self.research_study, self.research_ethics_reference) {
            (Some(study), Some(reference)) => Some(ResearchApproval {
                study: short("research study", &study)?,
                ethics_reference: stored("ethics reference", EthicsReference::parse(&reference))?,
            }),
            _ => None,
        };
        Ok(Consent {
            id: ConsentId::from_uuid(self.id),
            person_id: PersonId::from_uuid(self.person_id),
            answer: stored("consent answer", ConsentAnswer::parse(&self.answer))?,
            purposes,
            given_by,
            scope,
            signed_at: self.signed_at,
            signature: Signature {
                method: stored(
                    "signature method",
                    SignatureMethod::parse(&self.signature_method),
                )?,
                signed_by: short("signed by", &self.signed_by)?,
                witness: short_opt("witness", self.signature_witness.as_deref())?,
                drawing: self
                    .signature_drawing
                    .as_deref()
                    .map(|strokes| stored("signature drawing", SignatureDrawing::parse(strokes)))
                    .transpose()?,
            },
            representatives_may_have_copies: self.representatives_may_have_copies,
            research,
            notes: note("consent notes", self.notes.as_deref())?,
        })
    }
}

/// A scope from its stored form: its kind and the one column that names what it covers.
pub(crate) fn scope_from_columns(
    kind: &str,
    service: Option<String>,
    course: Option<Uuid>,
    session: Option<Uuid>,
    recording: Option<Uuid>,
) -> StoreResult<Scope> {
    Ok(match kind {
        "service" => Scope::Service {
            service: stored(
                "consent service",
                ServiceCode::parse(&present("consent service", service)?),
            )?,
        },
        "course" => Scope::Course {
            course_id: CourseId::from_uuid(present("consent course", course)?),
        },
        "session" => Scope::Session {
            session_id: SessionId::from_uuid(present("consent session", session)?),
        },
        "recording" => Scope::Recording {
            recording_id: RecordingId::from_uuid(present("consent recording", recording)?),
        },
        other => return Err(StoreError::corrupt("consent scope", other)),
    })
}

/// The stored form of a scope: its kind and the one column that names what it covers.
fn scope_columns(
    scope: &Scope,
) -> (
    &'static str,
    Option<String>,
    Option<Uuid>,
    Option<Uuid>,
    Option<Uuid>,
) {
    match scope {
        Scope::Service { service } => (
            "service",
            Some(service.as_str().to_owned()),
            None,
            None,
            None,
        ),
        Scope::Course { course_id } => ("course", None, Some(course_id.as_uuid()), None, None),
        Scope::Session { session_id } => ("session", None, None, Some(session_id.as_uuid()), None),
        Scope::Recording { recording_id } => {
            ("recording", None, None, None, Some(recording_id.as_uuid()))
        }
    }
}

#[derive(sqlx::FromRow)]
struct WithdrawalRow {
    id: Uuid,
    consent_id: Uuid,
    person_id: Uuid,
    at: OffsetDateTime,
    withdrawn_by_kind: String,
    had_capacity: Option<bool>,
    representative_id: Option<Uuid>,
    existing_recordings: String,
    note: Option<String>,
    recorded_at: OffsetDateTime,
}

impl WithdrawalRow {
    fn into_withdrawal(
        self,
        purposes: custodian_core::purpose::PurposeSet,
    ) -> Result<Withdrawal, StoreError> {
        let withdrawn_by = match self.withdrawn_by_kind.as_str() {
            "person" => Withdrawer::Person {
                had_capacity: present("withdrawer capacity", self.had_capacity)?,
            },
            "representative" => Withdrawer::Representative {
                representative_id: RepresentativeId::from_uuid(present(
                    "withdrawing representative",
                    self.representative_id,
                )?),
            },
            other => return Err(StoreError::corrupt("withdrawer", other)),
        };
        Ok(Withdrawal {
            id: WithdrawalId::from_uuid(self.id),
            consent_id: ConsentId::from_uuid(self.consent_id),
            person_id: PersonId::from_uuid(self.person_id),
            at: self.at,
            purposes,
            withdrawn_by,
            existing_recordings: stored(
                "disposition",
                Disposition::parse(&self.existing_recordings),
            )?,
            note: note("withdrawal note", self.note.as_deref())?,
        })
    }
}

impl RegisterTx {
    /// Records a consent form.
    pub async fn insert_consent(
        &mut self,
        consent: &Consent,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (giver_kind, representative, assessment, best_interest) = match &consent.given_by {
            ConsentGiver::Person => ("person", None, None, None),
            ConsentGiver::Representative {
                representative_id,
                capacity_decision,
                best_interest_note,
            } => (
                "representative",
                Some(representative_id.as_uuid()),
                Some(capacity_decision),
                Some(best_interest_note.as_str().to_owned()),
            ),
        };
        let (scope_kind, service, course, session, recording) = scope_columns(&consent.scope);
        on_both!(self, conn => sqlx::query(
            "INSERT INTO consents (id, person_id, answer, giver_kind, representative_id, capacity_assessed_on, capacity_assessed_by,
                 capacity_decision, best_interest_note, scope_kind, scope_service, scope_course_id, scope_session_id, scope_recording_id,
                 signed_at, signature_method, signed_by, signature_witness, representatives_may_have_copies, research_study,
                 research_ethics_reference, notes, recorded_at, recorded_by, signature_drawing)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)",
        )
        .bind(consent.id.as_uuid())
        .bind(consent.person_id.as_uuid())
        .bind(consent.answer.as_str())
        .bind(giver_kind)
        .bind(representative)
        .bind(assessment.map(|a| a.assessed_on))
        .bind(assessment.map(|a| a.assessed_by.as_str().to_owned()))
        .bind(assessment.map(|a| a.decision.as_str().to_owned()))
        .bind(best_interest.clone())
        .bind(scope_kind)
        .bind(service.clone())
        .bind(course)
        .bind(session)
        .bind(recording)
        .bind(consent.signed_at)
        .bind(consent.signature.method.as_str())
        .bind(consent.signature.signed_by.as_str())
        .bind(consent.signature.witness.as_ref().map(|w| w.as_str().to_owned()))
        .bind(consent.representatives_may_have_copies)
        .bind(consent.research.as_ref().map(|r| r.study.as_str().to_owned()))
        .bind(consent.research.as_ref().map(|r| r.ethics_reference.as_str().to_owned()))
        .bind(consent.notes.as_ref().map(|n| n.as_str().to_owned()))
        .bind(at)
        .bind(by.as_uuid())
        .bind(consent.signature.drawing.as_ref().map(SignatureDrawing::encode))
        .execute(&mut **conn)
        .await?.rows_affected());
        let codes: Vec<&str> = consent.purposes.iter().map(|p| p.as_str()).collect();
        self.insert_codes(
            "consent_purposes",
            "consent_id",
            "purpose",
            consent.id.as_uuid(),
            &codes,
        )
        .await?;
        Ok(())
    }

    /// The consent with `id`.
    pub async fn consent(&mut self, id: ConsentId) -> StoreResult<Option<Consent>> {
        let row: Option<ConsentRow> = on_both!(self, conn => sqlx::query_as("SELECT * FROM consents WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut **conn)
            .await?);
        let Some(row) = row else { return Ok(None) };
        let purposes: Vec<(Uuid, String)> = on_both!(self, conn => sqlx::query_as("SELECT consent_id, purpose FROM consent_purposes WHERE consent_id = $1")
                .bind(id.as_uuid())
                .fetch_all(&mut **conn)
                .await?);
        let purposes = purposes_of(&purposes_by_owner(purposes)?, id.as_uuid());
        row.into_consent(purposes).map(Some)
    }

    /// A person's consents, in the order they were signed.
    pub async fn consents_of(&mut self, person: PersonId) -> StoreResult<Vec<Consent>> {
        self.consents_known_by(person, KnownBy::EVERYTHING).await
    }

    /// The consents of a person that the register held at `known_at` (recorded at or before
    /// it), in the order they were signed.
    pub async fn consents_known_at(
        &mut self,
        person: PersonId,
        known_at: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<Consent>> {
        self.consents_known_by(person, KnownBy::as_of(known_at))
            .await
    }

    async fn consents_known_by(
        &mut self,
        person: PersonId,
        known: KnownBy,
    ) -> StoreResult<Vec<Consent>> {
        let rows: Vec<ConsentRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT * FROM consents WHERE person_id = $1 AND ($2 IS NULL OR recorded_at <= $2) ORDER BY signed_at, id",
        )
        .bind(person.as_uuid())
        .bind(known.bound())
        .fetch_all(&mut **conn)
        .await?);
        let purposes: Vec<(Uuid, String)> = on_both!(self, conn => sqlx::query_as(
            "SELECT cp.consent_id, cp.purpose FROM consent_purposes cp JOIN consents c ON c.id = cp.consent_id
             WHERE c.person_id = $1 AND ($2 IS NULL OR c.recorded_at <= $2)",
        )
        .bind(person.as_uuid())
        .bind(known.bound())
        .fetch_all(&mut **conn)
        .await?);
        let purposes = purposes_by_owner(purposes)?;
        rows.into_iter()
            .filter(|row| known.holds(row.recorded_at))
            .map(|row| {
                let set = purposes_of(&purposes, row.id);
                row.into_consent(set)
            })
            .collect()
    }

    /// Records a withdrawal.
    pub async fn insert_withdrawal(
        &mut self,
        withdrawal: &Withdrawal,
        by: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (kind, had_capacity, representative) = match &withdrawal.withdrawn_by {
            Withdrawer::Person { had_capacity } => ("person", Some(*had_capacity), None),
            Withdrawer::Representative { representative_id } => {
                ("representative", None, Some(representative_id.as_uuid()))
            }
        };
        on_both!(self, conn => sqlx::query(
            "INSERT INTO withdrawals (id, consent_id, person_id, at, withdrawn_by_kind, had_capacity, representative_id,
                 existing_recordings, note, recorded_at, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(withdrawal.id.as_uuid())
        .bind(withdrawal.consent_id.as_uuid())
        .bind(withdrawal.person_id.as_uuid())
        .bind(withdrawal.at)
        .bind(kind)
        .bind(had_capacity)
        .bind(representative)
        .bind(withdrawal.existing_recordings.as_str())
        .bind(withdrawal.note.as_ref().map(|n| n.as_str().to_owned()))
        .bind(at)
        .bind(by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        let codes: Vec<&str> = withdrawal.purposes.iter().map(|p| p.as_str()).collect();
        self.insert_codes(
            "withdrawal_purposes",
            "withdrawal_id",
            "purpose",
            withdrawal.id.as_uuid(),
            &codes,
        )
        .await?;
        Ok(())
    }

    /// A person's withdrawals, in the order they happened.
    pub async fn withdrawals_of(&mut self, person: PersonId) -> StoreResult<Vec<Withdrawal>> {
        self.withdrawals_known_by(person, KnownBy::EVERYTHING).await
    }

    /// The withdrawals of a person that the register held at `known_at` (recorded at or
    /// before it), in the order they happened.
    pub async fn withdrawals_known_at(
        &mut self,
        person: PersonId,
        known_at: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<Withdrawal>> {
        self.withdrawals_known_by(person, KnownBy::as_of(known_at))
            .await
    }

    async fn withdrawals_known_by(
        &mut self,
        person: PersonId,
        known: KnownBy,
    ) -> StoreResult<Vec<Withdrawal>> {
        let rows: Vec<WithdrawalRow> = on_both!(self, conn => sqlx::query_as(
            "SELECT id, consent_id, person_id, at, withdrawn_by_kind, had_capacity, representative_id, existing_recordings, note, recorded_at
             FROM withdrawals WHERE person_id = $1 AND ($2 IS NULL OR recorded_at <= $2) ORDER BY at, id",
        )
        .bind(person.as_uuid())
        .bind(known.bound())
        .fetch_all(&mut **conn)
        .await?);
        let purposes: Vec<(Uuid, String)> = on_both!(self, conn => sqlx::query_as(
            "SELECT wp.withdrawal_id, wp.purpose FROM withdrawal_purposes wp JOIN withdrawals w ON w.id = wp.withdrawal_id
             WHERE w.person_id = $1 AND ($2 IS NULL OR w.recorded_at <= $2)",
        )
        .bind(person.as_uuid())
        .bind(known.bound())
        .fetch_all(&mut **conn)
        .await?);
        let purposes = purposes_by_owner(purposes)?;
        rows.into_iter()
            .filter(|row| known.holds(row.recorded_at))
            .map(|row| {
                let set = purposes_of(&purposes, row.id);
                row.into_withdrawal(set)
            })
            .collect()
    }
}
