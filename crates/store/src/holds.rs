//! Legal holds (D7) in the register: the matter, what they cover, and their lifting.

use custodian_core::ids::{LegalHoldId, PersonId, RecordingId, StaffId};
use custodian_core::retention::{HoldLifted, LegalHold, Matter, MatterKind};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{note, present, short, stored};
use crate::{RegisterTx, StoreResult, on_both};

#[derive(sqlx::FromRow)]
struct HoldRow {
    id: Uuid,
    matter_kind: String,
    matter_reference: String,
    placed_at: OffsetDateTime,
    placed_by: Uuid,
    lifted_at: Option<OffsetDateTime>,
    lifted_by: Option<Uuid>,
    lifted_reason: Option<String>,
}

const HOLD_COLUMNS: &str = "h.id, h.matter_kind, h.matter_reference, h.placed_at, h.placed_by, h.lifted_at, h.lifted_by, h.lifted_reason";

impl RegisterTx {
    /// Records a new legal hold with what it covers.
    pub async fn insert_hold(&mut self, hold: &LegalHold) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO legal_holds (id, matter_kind, matter_reference, placed_at, placed_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hold.id.as_uuid())
        .bind(hold.matter.kind.as_str())
        .bind(hold.matter.reference.as_str())
        .bind(hold.placed_at)
        .bind(hold.placed_by.as_uuid())
        .execute(&mut **conn)
        .await?.rows_affected());
        let recordings: Vec<Uuid> = hold.recordings.iter().map(|r| r.as_uuid()).collect();
        self.insert_ids(
            "legal_hold_recordings",
            "hold_id",
            "recording_id",
            hold.id.as_uuid(),
            &recordings,
        )
        .await?;
        let persons: Vec<Uuid> = hold.persons.iter().map(|p| p.as_uuid()).collect();
        self.insert_ids(
            "legal_hold_persons",
            "hold_id",
            "person_id",
            hold.id.as_uuid(),
            &persons,
        )
        .await?;
        Ok(())
    }

    /// Records that a hold was lifted (the core refuses lifting twice; the `IS NULL` keeps a
    /// concurrent second lifting from overwriting the first).
    pub async fn lift_hold(&mut self, hold: LegalHoldId, lifted: &HoldLifted) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE legal_holds SET lifted_at = $2, lifted_by = $3, lifted_reason = $4 WHERE id = $1 AND lifted_at IS NULL",
        )
        .bind(hold.as_uuid())
        .bind(lifted.at)
        .bind(lifted.by.as_uuid())
        .bind(lifted.reason.as_str())
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(changed == 1)
    }

    /// The hold with `id`.
    pub async fn hold(&mut self, id: LegalHoldId) -> StoreResult<Option<LegalHold>> {
        let sql = format!("SELECT {HOLD_COLUMNS} FROM legal_holds h WHERE h.id = $1");
        let row: Option<HoldRow> = on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id.as_uuid())
            .fetch_optional(&mut **conn)
            .await?);
        match row {
            Some(row) => self.complete_hold(row).await.map(Some),
            None => Ok(None),
        }
    }

    /// Every hold, standing ones first, newest first.
    pub async fn holds(&mut self) -> StoreResult<Vec<LegalHold>> {
        let sql = format!(
            "SELECT {HOLD_COLUMNS} FROM legal_holds h
             ORDER BY CASE WHEN h.lifted_at IS NULL THEN 0 ELSE 1 END, h.placed_at DESC, h.id"
        );
        let rows: Vec<HoldRow> = on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(&mut **conn)
            .await?);
        let mut holds = Vec::with_capacity(rows.len());
        for row in rows {
            holds.push(self.complete_hold(row).await?);
        }
        Ok(holds)
    }

    /// The standing holds that cover any of `recordings` or any of `persons`: all that can stop
    /// a destruction of those recordings.
    pub async fn standing_holds_over(
        &mut self,
        recordings: &[RecordingId],
        persons: &[PersonId],
    ) -> StoreResult<Vec<LegalHold>> {
        let mut ids: Vec<Uuid> = Vec::new();
        for recording in recordings {
            let found: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
                "SELECT c.hold_id FROM legal_hold_recordings c JOIN legal_holds h ON h.id = c.hold_id
                 WHERE c.recording_id = $1 AND h.lifted_at IS NULL",
            )
            .bind(recording.as_uuid())
            .fetch_all(&mut **conn)
            .await?);
            ids.extend(found);
        }
        for person in persons {
            let found: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
                "SELECT c.hold_id FROM legal_hold_persons c JOIN legal_holds h ON h.id = c.hold_id
                 WHERE c.person_id = $1 AND h.lifted_at IS NULL",
            )
            .bind(person.as_uuid())
            .fetch_all(&mut **conn)
            .await?);
            ids.extend(found);
        }
        ids.sort_unstable();
        ids.dedup();
        let mut holds = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(hold) = self.hold(LegalHoldId::from_uuid(id)).await? {
                holds.push(hold);
            }
        }
        Ok(holds)
    }

    async fn complete_hold(&mut self, row: HoldRow) -> StoreResult<LegalHold> {
        let recordings: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT recording_id FROM legal_hold_recordings WHERE hold_id = $1 ORDER BY recording_id",
        )
        .bind(row.id)
        .fetch_all(&mut **conn)
        .await?);
        let persons: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT person_id FROM legal_hold_persons WHERE hold_id = $1 ORDER BY person_id",
        )
        .bind(row.id)
        .fetch_all(&mut **conn)
        .await?);
        let lifted = match row.lifted_at {
            Some(at) => Some(HoldLifted {
                at,
                by: StaffId::from_uuid(present("hold lifted by", row.lifted_by)?),
                reason: present(
                    "hold lifted reason",
                    note("hold lifted reason", row.lifted_reason.as_deref())?,
                )?,
            }),
            None => None,
        };
        let mut recordings: Vec<RecordingId> =
            recordings.into_iter().map(RecordingId::from_uuid).collect();
        recordings.sort_unstable();
        let mut persons: Vec<PersonId> = persons.into_iter().map(PersonId::from_uuid).collect();
        persons.sort_unstable();
        Ok(LegalHold {
            id: LegalHoldId::from_uuid(row.id),
            matter: Matter {
                kind: stored("matter kind", MatterKind::parse(&row.matter_kind))?,
                reference: short("matter reference", &row.matter_reference)?,
            },
            recordings,
            persons,
            placed_at: row.placed_at,
            placed_by: StaffId::from_uuid(row.placed_by),
            lifted,
        })
    }
}
