//! Physical media (D9) in the register: what each is, where it is kept, the recordings on it, and its destruction.

use custodian_core::ids::{PhysicalMediumId, RecordingId, StaffId};
use custodian_core::retention::{DestructionMethod, MediumDestruction, MediumKind, PhysicalMedium};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{present, short, short_opt, stored};
use crate::{RegisterTx, StoreResult, on_both};

#[derive(sqlx::FromRow)]
struct MediumRow {
    id: Uuid,
    kind: String,
    description: Option<String>,
    label: String,
    location: String,
    registered_by: Uuid,
    registered_at: OffsetDateTime,
    destruction_method: Option<String>,
    destroyed_by: Option<String>,
    witness: Option<String>,
    destroyed_at: Option<OffsetDateTime>,
    certificate: Option<String>,
    destruction_recorded_by: Option<Uuid>,
    destruction_recorded_at: Option<OffsetDateTime>,
}

const MEDIUM_COLUMNS: &str = "m.id, m.kind, m.description, m.label, m.location, m.registered_by, m.registered_at, m.destruction_method, m.destroyed_by, m.witness, m.destroyed_at, m.certificate, m.destruction_recorded_by, m.destruction_recorded_at";

impl RegisterTx {
    /// Records a newly registered medium with the recordings on it.
    pub async fn insert_physical_medium(&mut self, medium: &PhysicalMedium) -> StoreResult<()> {
        on_both!(self, conn => sqlx::query(
            "INSERT INTO physical_media (id, kind, description, label, location, registered_by, registered_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(medium.id.as_uuid())
        .bind(medium.kind.as_str())
        .bind(medium.description.as_ref().map(|d| d.as_str()))
        .bind(medium.label.as_str())
        .bind(medium.location.as_str())
        .bind(medium.registered_by.as_uuid())
        .bind(medium.registered_at)
        .execute(&mut **conn)
        .await?.rows_affected());
        let recordings: Vec<Uuid> = medium.recordings.iter().map(|r| r.as_uuid()).collect();
        self.insert_ids(
            "physical_media_recordings",
            "medium_id",
            "recording_id",
            medium.id.as_uuid(),
            &recordings,
        )
        .await
    }

    /// Records a medium's destruction. The core refuses destroying twice; the `IS NULL` keeps a
    /// second destruction recorded at the same moment from overwriting the first.
    pub async fn record_medium_destruction(
        &mut self,
        medium: PhysicalMediumId,
        done: &MediumDestruction,
    ) -> StoreResult<bool> {
        let changed = on_both!(self, conn => sqlx::query(
            "UPDATE physical_media SET destruction_method = $2, destroyed_by = $3, witness = $4,
                 destroyed_at = $5, certificate = $6, destruction_recorded_by = $7, destruction_recorded_at = $8
             WHERE id = $1 AND destroyed_at IS NULL",
        )
        .bind(medium.as_uuid())
        .bind(done.method.as_str())
        .bind(done.carried_out_by.as_str())
        .bind(done.witness.as_ref().map(|w| w.as_str()))
        .bind(done.at)
        .bind(done.certificate.as_ref().map(|c| c.as_str()))
        .bind(done.recorded_by.as_uuid())
        .bind(done.recorded_at)
        .execute(&mut **conn)
        .await?.rows_affected());
        Ok(changed == 1)
    }

    /// The medium with `id`.
    pub async fn physical_medium(
        &mut self,
        id: PhysicalMediumId,
    ) -> StoreResult<Option<PhysicalMedium>> {
        let sql = format!("SELECT {MEDIUM_COLUMNS} FROM physical_media m WHERE m.id = $1");
        let row: Option<MediumRow> = on_both!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id.as_uuid())
            .fetch_optional(&mut **conn)
            .await?);
        match row {
            Some(row) => self.complete_medium(row).await.map(Some),
            None => Ok(None),
        }
    }

    /// Every medium, those not yet destroyed first, newest first; or only those holding
    /// `recording`.
    pub async fn physical_media(
        &mut self,
        recording: Option<RecordingId>,
    ) -> StoreResult<Vec<PhysicalMedium>> {
        let filter = if recording.is_some() {
            "WHERE m.id IN (SELECT medium_id FROM physical_media_recordings WHERE recording_id = $1)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {MEDIUM_COLUMNS} FROM physical_media m {filter}
             ORDER BY CASE WHEN m.destroyed_at IS NULL THEN 0 ELSE 1 END, m.registered_at DESC, m.id"
        );
        let rows: Vec<MediumRow> = on_both!(self, conn => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            if let Some(recording) = recording {
                query = query.bind(recording.as_uuid());
            }
            query.fetch_all(&mut **conn).await?
        });
        let mut media = Vec::with_capacity(rows.len());
        for row in rows {
            media.push(self.complete_medium(row).await?);
        }
        Ok(media)
    }

    async fn complete_medium(&mut self, row: MediumRow) -> StoreResult<PhysicalMedium> {
        let recordings: Vec<Uuid> = on_both!(self, conn => sqlx::query_scalar(
            "SELECT recording_id FROM physical_media_recordings WHERE medium_id = $1 ORDER BY recording_id",
        )
        .bind(row.id)
        .fetch_all(&mut **conn)
        .await?);
        let mut recordings: Vec<RecordingId> =
            recordings.into_iter().map(RecordingId::from_uuid).collect();
        recordings.sort_unstable();
        let destruction = match row.destroyed_at {
            Some(at) => Some(MediumDestruction {
                method: stored(
                    "destruction method",
                    DestructionMethod::parse(&present(
                        "destruction method",
                        row.destruction_method,
                    )?),
                )?,
                carried_out_by: short("destroyed by", &present("destroyed by", row.destroyed_by)?)?,
                witness: short_opt("witness", row.witness.as_deref())?,
                at,
                certificate: short_opt("certificate", row.certificate.as_deref())?,
                recorded_by: StaffId::from_uuid(present(
                    "destruction recorded by",
                    row.destruction_recorded_by,
                )?),
                recorded_at: present("destruction recorded at", row.destruction_recorded_at)?,
            }),
            None => None,
        };
        Ok(PhysicalMedium {
            id: PhysicalMediumId::from_uuid(row.id),
            kind: stored("medium kind", MediumKind::parse(&row.kind))?,
            description: short_opt("medium description", row.description.as_deref())?,
            label: short("medium label", &row.label)?,
            location: short("medium location", &row.location)?,
            recordings,
            registered_by: StaffId::from_uuid(row.registered_by),
            registered_at: row.registered_at,
            destruction,
        })
    }
}
