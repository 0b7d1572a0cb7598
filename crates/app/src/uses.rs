//! The gate (X1, S2): every use of a recording's content is decided here, once — access and
//! consent, for a named purpose — and an allowed use yields a short grant under which the
//! content is then served. Nothing else reads content out of the vault for a member of staff.

use custodian_access::{Action, Refusal, Verdict};
use custodian_core::audit::AuditOutcome;
use custodian_core::consent::EthicsReference;
use custodian_core::decision::{Decision, Explanation, RecordingEvidence, Requester, decide};
use custodian_core::grant::{UnderGrant, UseGrant};
use custodian_core::ids::{PersonId, RecordingId, UseGrantId};
use custodian_core::purpose::Purpose;
use custodian_core::recording::{DerivationForm, Recording};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::Target;
use crate::accounts::{Caller, Secret};
use crate::audit_trail::Audit;
use crate::decisions::gather_evidence;
use crate::error_code::ErrorCode;
use crate::london::london_time;
use crate::{AppError, AppResult, Custodian};

/// The audit action of a use allowed and the grant issued for it.
pub const USE_GRANTED: &str = "media.use_granted";
/// The audit action of a use refused by the consent decision (access refusals are
/// `access.refused`, as for every other act).
pub const USE_REFUSED: &str = "media.use_refused";
/// The audit action of a request under a grant that the grant does not admit.
pub const GRANT_REFUSED: &str = "media.grant_refused";

/// A use of a recording's content, as asked: which recording, for what.
#[derive(Clone, Debug)]
pub struct UseAsked {
    pub recording: RecordingId,
    pub purpose: Purpose,
    /// For research: the study's ethics approval reference (C10).
    pub study: Option<EthicsReference>,
}

/// A grant just issued: its secret is shown to its holder once, here.
#[derive(Clone, Debug)]
pub struct IssuedGrant {
    pub id: UseGrantId,
    pub secret: Secret,
    pub expires_at: OffsetDateTime,
}

/// A use the gate allowed. Its fields are private to this module, so only the gate makes one,
/// and holding one proves the use was decided.
#[derive(Debug)]
pub struct Permit {
    recording: RecordingId,
    purpose: Purpose,
    /// The grant issued with the decision; `None` for a request made under an existing grant.
    grant: Option<IssuedGrant>,
    /// The media as read with the grant, for a request under one (saves a second read).
    media: Option<custodian_store::MediaRecord>,
}

impl Permit {
    /// The grant issued with the decision, if this permit came from one.
    pub fn grant(&self) -> Option<&IssuedGrant> {
        self.grant.as_ref()
    }

    /// What the permit lets be read: the recording, for what, the grant issued with it, and
    /// its media if already read.
    pub(crate) fn into_parts(
        self,
    ) -> (
        RecordingId,
        Purpose,
        Option<IssuedGrant>,
        Option<custodian_store::MediaRecord>,
    ) {
        (self.recording, self.purpose, self.grant, self.media)
    }
}

/// Why a use was refused: by access, by consent, or both, with every reason and remedy.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UseRefused {
    pub recording_id: RecordingId,
    pub purpose: Purpose,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The access policies' refusal, if access refused (S2, S3).
    pub access: Option<AccessRefusal>,
    /// The consent decision's reasons (X1), for a caller who may see the recording's details;
    /// left out for one who may not, so a refusal never tells them about the people in it.
    pub reasons: Vec<Explanation>,
}

/// An access refusal in words.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessRefusal {
    pub requirement: String,
    pub policy: Option<String>,
    pub reason: String,
    pub remedy: String,
}

impl From<&Refusal> for AccessRefusal {
    fn from(refusal: &Refusal) -> Self {
        Self {
            requirement: refusal.requirement.clone(),
            policy: refusal.policy.clone(),
            reason: refusal.reason.clone(),
            remedy: refusal.remedy.clone(),
        }
    }
}

impl UseRefused {
    /// The requirement the refusal first enforces: access's, else the first blocking reason's.
    pub fn requirement(&self) -> &str {
        self.access
            .as_ref()
            .map(|access| access.requirement.as_str())
            .or_else(|| {
                self.reasons
                    .iter()
                    .find(|r| r.effect == "blocks")
                    .map(|r| r.requirement)
            })
            .unwrap_or("X1")
    }

    /// One sentence for the problem detail; the reasons carry the rest.
    pub fn summary(&self) -> String {
        let purpose = self.purpose.label();
        match (
            &self.access,
            self.reasons.iter().find(|r| r.effect == "blocks"),
        ) {
            (Some(access), _) => format!(
                "you may not use this recording for {purpose} ({}): {}; {}",
                access.requirement, access.reason, access.remedy
            ),
            (None, Some(first)) => format!(
                "this recording may not be used for {purpose} ({}): {}{}",
                first.requirement,
                first.message,
                first
                    .remedy
                    .as_deref()
                    .map(|remedy| format!(" {remedy}"))
                    .unwrap_or_default()
            ),
            (None, None) => format!("this recording may not be used for {purpose}"),
        }
    }
}

impl Custodian {
    /// Decides whether `caller` may use a recording's content for `asked.purpose` now: access
    /// (with the purpose and the consent answer in its context) and consent (the decision
    /// function), both asked, and a refusal by either refuses. An allowed use is audited with
    /// the decision it rests on and yields a grant; a refused one is audited with its reasons.
    #[tracing::instrument(skip(self, caller, asked), fields(staff = %caller.member.id, recording = %asked.recording, purpose = %asked.purpose))]
    pub async fn authorize_use(&self, caller: &Caller, asked: &UseAsked) -> AppResult<Permit> {
        caller.ready()?;
        let now = self.clock.now();
        let (evidence, known, emergency_ends) = {
            let mut tx = self.register.read().await?;
            let evidence = gather_evidence(&mut tx, asked.recording, None).await?;
            let known =
                Self::person_access_in(&mut tx, caller, evidence.recording.subjects.clone(), now)
                    .await?;
            let mut ends: Option<OffsetDateTime> = None;
            for (person, access) in &known {
                if access.emergency
                    && let Some(end) = tx
                        .emergency_access_ends(caller.member.id, *person, now)
                        .await?
                {
                    ends = Some(ends.map_or(end, |sooner| sooner.min(end)));
                }
            }
            (evidence, known, ends)
        };
        let requester = Requester {
            staff_id: caller.member.id,
            study: asked.study.clone(),
        };
        let decision = decide(&evidence, asked.purpose, &requester, now);
        let recording = &evidence.recording;
        let content = Target::Content {
            recording,
            purpose: asked.purpose,
            consented: decision.is_allowed(),
        };
        let access = self.verdict_knowing(caller, Action::PlayRecording, &content, &known)?;
        match access {
            Verdict::Refused(refusal) => {
                let may_see_details = self
                    .verdict_knowing(
                        caller,
                        Action::ViewRecording,
                        &Target::Recording(recording),
                        &known,
                    )?
                    .is_allowed();
                self.record_refusal(caller, Action::PlayRecording, &content, &refusal)
                    .await?;
                Err(AppError::UseRefused(Box::new(UseRefused {
                    recording_id: recording.id,
                    purpose: asked.purpose,
                    at: now,
                    access: Some(AccessRefusal::from(&refusal)),
                    reasons: if may_see_details {
                        decision.explain(&evidence, &london_time)
                    } else {
                        Vec::new()
                    },
                })))
            }
            // Said only to those access lets in, so a refusal never tells others it existed.
            Verdict::Allowed { .. } if evidence.destroyed_at.is_some() => Err(AppError::Rule {
                code: ErrorCode::RecordingDestroyed,
                message: "this recording was destroyed: its key is gone and nothing can be read; see its destruction certificate".to_owned(),
            }),
            Verdict::Allowed { .. } if !decision.is_allowed() => {
                self.audit_use_refused(caller, asked, &evidence, &decision, now)
                    .await?;
                Err(AppError::UseRefused(Box::new(UseRefused {
                    recording_id: recording.id,
                    purpose: asked.purpose,
                    at: now,
                    access: None,
                    reasons: decision.explain(&evidence, &london_time),
                })))
            }
            Verdict::Allowed { policies } => {
                let grant = self
                    .issue_grant(
                        caller,
                        asked,
                        &evidence,
                        &decision,
                        &policies,
                        emergency_ends,
                        now,
                    )
                    .await?;
                Ok(Permit {
                    recording: recording.id,
                    purpose: asked.purpose,
                    grant: Some(grant),
                    media: None,
                })
            }
        }
    }

    /// Decides whether `caller` may make an item described by `form` from `asked.recording`
    /// for `asked.purpose` (a transcript, a redaction, a de-identified copy: R6, C7, C11).
    /// Making one uses the original's content, so access is asked for both changing the
    /// recording and using its content; consent is asked of the item as it would be — its
    /// people and whether it is de-identified — so a de-identified copy for teaching, or a
    /// redaction without a group member who withdrew, is judged as what it will be. Returns the
    /// decision, for the audit event of the derivation; a refusal is audited here.
    #[tracing::instrument(skip(self, caller, asked, form), fields(staff = %caller.member.id, recording = %asked.recording, purpose = %asked.purpose))]
    pub(crate) async fn authorize_derivation(
        &self,
        caller: &Caller,
        asked: &UseAsked,
        form: &DerivationForm,
    ) -> AppResult<serde_json::Value> {
        caller.ready()?;
        let now = self.clock.now();
        let (mut evidence, known) = {
            let mut tx = self.register.read().await?;
            let evidence = gather_evidence(&mut tx, asked.recording, None).await?;
            let known =
                Self::person_access_in(&mut tx, caller, evidence.recording.subjects.clone(), now)
                    .await?;
            (evidence, known)
        };
        let original = evidence.recording.clone();
        let source = Target::Recording(&original);
        if let Verdict::Refused(refusal) =
            self.verdict_knowing(caller, Action::UpdateRecording, &source, &known)?
        {
            self.record_refusal(caller, Action::UpdateRecording, &source, &refusal)
                .await?;
            return Err(AppError::Refused(refusal));
        }
        // The item as it would be; its id is never stored.
        evidence.recording = Recording::derive(
            RecordingId::from_uuid(Uuid::nil()),
            &original,
            form.clone(),
            now,
        )?;
        let requester = Requester {
            staff_id: caller.member.id,
            study: asked.study.clone(),
        };
        let decision = decide(&evidence, asked.purpose, &requester, now);
        let content = Target::Content {
            recording: &original,
            purpose: asked.purpose,
            consented: decision.is_allowed(),
        };
        if let Verdict::Refused(refusal) =
            self.verdict_knowing(caller, Action::PlayRecording, &content, &known)?
        {
            self.record_refusal(caller, Action::PlayRecording, &content, &refusal)
                .await?;
            return Err(AppError::UseRefused(Box::new(UseRefused {
                recording_id: original.id,
                purpose: asked.purpose,
                at: now,
                access: Some(AccessRefusal::from(&refusal)),
                reasons: decision.explain(&evidence, &london_time),
            })));
        }
        if !decision.is_allowed() {
            self.audit_use_refused(caller, asked, &evidence, &decision, now)
                .await?;
            return Err(AppError::UseRefused(Box::new(UseRefused {
                recording_id: original.id,
                purpose: asked.purpose,
                at: now,
                access: None,
                reasons: decision.explain(&evidence, &london_time),
            })));
        }
        Ok(serde_json::json!({
            "purpose": asked.purpose,
            "study": asked.study,
            "decision": decision_record(&decision),
        }))
    }

    /// The purposes `caller`'s access would let them open `recording` for, were consent given:
    /// what a page may offer to open it for, the recording's own purposes first. Asked without
    /// auditing; opening is decided, and audited, by [`Self::authorize_use`].
    pub async fn purposes_to_open(
        &self,
        caller: &Caller,
        recording: &Recording,
    ) -> AppResult<Vec<Purpose>> {
        caller.ready()?;
        let now = self.clock.now();
        let known = {
            let mut tx = self.register.read().await?;
            Self::person_access_in(&mut tx, caller, recording.subjects.clone(), now).await?
        };
        let own = Purpose::ALL
            .iter()
            .filter(|p| recording.purposes.contains(**p));
        let others = Purpose::ALL
            .iter()
            .filter(|p| !recording.purposes.contains(**p));
        let mut open = Vec::new();
        for purpose in own.chain(others) {
            let content = Target::Content {
                recording,
                purpose: *purpose,
                consented: true,
            };
            if self
                .verdict_knowing(caller, Action::PlayRecording, &content, &known)?
                .is_allowed()
            {
                open.push(*purpose);
            }
        }
        Ok(open)
    }

    /// Lets a request through under the grant whose secret is `secret`, if the grant admits it:
    /// the same member of staff, recording and purpose, not expired, not revoked. One read, no
    /// decision, no audit event (the grant's issue was audited); a refusal is audited.
    #[tracing::instrument(skip(self, caller, asked, secret), fields(staff = %caller.member.id, recording = %asked.recording))]
    pub async fn use_under_grant(
        &self,
        caller: &Caller,
        asked: &UseAsked,
        secret: &Secret,
    ) -> AppResult<Permit> {
        caller.ready()?;
        let now = self.clock.now();
        let (found, media) = {
            let mut tx = self.register.read().await?;
            let found = tx.use_grant(&secret.digest()).await?;
            let media = match &found {
                Some(grant) => tx.media(grant.recording_id).await?,
                None => None,
            };
            (found, media)
        };
        let admitted = match &found {
            None => Err(custodian_core::grant::GrantRefusal::Unknown),
            Some(grant) => grant.admits(&UnderGrant {
                staff_id: caller.member.id,
                recording_id: asked.recording,
                purpose: asked.purpose,
                at: now,
            }),
        };
        match (admitted, found) {
            (Ok(()), Some(grant)) => Ok(Permit {
                recording: grant.recording_id,
                purpose: grant.purpose,
                grant: None,
                media: Some(media.ok_or_else(|| {
                    AppError::not_found("media of recording", grant.recording_id)
                })?),
            }),
            (Err(refusal), found) => {
                let mut tx = self.register.write().await?;
                Audit::change(GRANT_REFUSED)
                    .recording(asked.recording)
                    .outcome(AuditOutcome::Refused)
                    .detail(serde_json::json!({
                        "code": refusal.code(),
                        "purpose": asked.purpose,
                        "grant": found.as_ref().map(|grant| grant.id),
                    }))
                    .write(&mut tx, caller.actor(), now)
                    .await?;
                tx.commit().await?;
                Err(AppError::Grant(refusal))
            }
            (Ok(()), None) => Err(AppError::Internal(
                "a grant was admitted without being found".to_owned(),
            )),
        }
    }

    /// Deletes grants that expired over a day ago: they admit nothing, and the audit trail
    /// keeps each one's issue with the decision it rested on. `serve` calls this hourly.
    pub async fn forget_expired_grants(&self) -> AppResult<u64> {
        let cutoff = self.clock.now() - time::Duration::days(1);
        let mut tx = self.register.write().await?;
        let forgotten = tx.delete_use_grants_expired_before(cutoff).await?;
        tx.commit().await?;
        Ok(forgotten)
    }

    #[allow(clippy::too_many_arguments)]
    async fn issue_grant(
        &self,
        caller: &Caller,
        asked: &UseAsked,
        evidence: &RecordingEvidence,
        decision: &Decision,
        policies: &[String],
        emergency_ends: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> AppResult<IssuedGrant> {
        let secret = Secret::random("cg_")?;
        let grant = UseGrant::issue(
            UseGrantId::from_uuid(Uuid::now_v7()),
            UnderGrant {
                staff_id: caller.member.id,
                recording_id: asked.recording,
                purpose: asked.purpose,
                at: now,
            },
            emergency_ends,
        );
        let persons = persons_concerned(evidence);
        let study = asked.study.as_ref().map(|s| s.as_str().to_owned());
        let mut tx = self.register.write().await?;
        tx.insert_use_grant(&grant, &secret.digest(), study.as_deref(), &persons)
            .await?;
        let detail = serde_json::json!({
            "purpose": asked.purpose,
            "study": study,
            "grant": grant.id,
            "expires_at": custodian_core::clock::Shown(grant.expires_at).to_string(),
            "emergency": emergency_ends.is_some(),
            "access": policies,
            "decision": decision_record(decision),
        });
        for person in &persons {
            Audit::change(USE_GRANTED)
                .person(*person)
                .recording(asked.recording)
                .outcome(AuditOutcome::Allowed)
                .detail(detail.clone())
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(IssuedGrant {
            id: grant.id,
            secret,
            expires_at: grant.expires_at,
        })
    }

    async fn audit_use_refused(
        &self,
        caller: &Caller,
        asked: &UseAsked,
        evidence: &RecordingEvidence,
        decision: &Decision,
        now: OffsetDateTime,
    ) -> AppResult<()> {
        let detail = serde_json::json!({
            "purpose": asked.purpose,
            "study": asked.study,
            "decision": decision_record(decision),
        });
        let mut tx = self.register.write().await?;
        for person in persons_concerned(evidence) {
            Audit::change(USE_REFUSED)
                .person(person)
                .recording(asked.recording)
                .outcome(AuditOutcome::Refused)
                .detail(detail.clone())
                .write(&mut tx, caller.actor(), now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The people a use rests on: the recording's subjects and, in a family session, every member.
fn persons_concerned(evidence: &RecordingEvidence) -> Vec<PersonId> {
    let mut persons: Vec<PersonId> = evidence
        .people
        .iter()
        .map(|p| p.person_id)
        .chain(evidence.recording.subjects.iter().copied())
        .collect();
    persons.sort_unstable();
    persons.dedup();
    persons
}

/// The decision as the audit trail keeps it: enough to answer "what did this use rest on?"
/// without the wording, which the reason codes and consent ids reproduce.
fn decision_record(decision: &Decision) -> serde_json::Value {
    serde_json::json!({
        "outcome": decision.outcome,
        "at": custodian_core::clock::Shown(decision.at).to_string(),
        "reasons": decision.reasons.iter().map(|reason| serde_json::json!({
            "code": reason.code,
            "person": reason.person,
            "consent": reason.consent,
            "since": reason.since.map(|since| custodian_core::clock::Shown(since).to_string()),
        })).collect::<Vec<_>>(),
    })
}

/// Whose grants a change revokes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum GrantsResting {
    /// Every grant resting on a person's consent or record.
    On(PersonId),
    /// Every grant to use one recording.
    ToUse(RecordingId),
    /// Every grant a member of staff holds.
    HeldBy(custodian_core::ids::StaffId),
    /// The grants a member of staff holds that rest on one person.
    HeldByOn(custodian_core::ids::StaffId, PersonId),
    /// Every grant.
    Anywhere,
}

/// Revokes, in `tx`, the live grants a change could turn the decision of, so that the next
/// request under any of them — on this server or another sharing the register — is refused.
/// Called by every use case whose change could turn a decision, in the transaction of that
/// change: withdrawals and refusals of consent, "not willing" answers and stops, destructions,
/// and changes of who may see what.
pub(crate) async fn revoke_grants(
    tx: &mut custodian_store::RegisterTx,
    resting: GrantsResting,
    now: OffsetDateTime,
    because: &str,
) -> AppResult<u64> {
    Ok(match resting {
        GrantsResting::On(person) => tx.revoke_use_grants_about(person, now, because).await?,
        GrantsResting::ToUse(recording) => {
            tx.revoke_use_grants_of_recording(recording, now, because)
                .await?
        }
        GrantsResting::HeldBy(staff) => {
            tx.revoke_use_grants_of_staff(staff, None, now, because)
                .await?
        }
        GrantsResting::HeldByOn(staff, person) => {
            tx.revoke_use_grants_of_staff(staff, Some(person), now, because)
                .await?
        }
        GrantsResting::Anywhere => tx.revoke_all_use_grants(now, because).await?,
    })
}
