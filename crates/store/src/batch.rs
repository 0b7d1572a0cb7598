//! Inserting an owner's list of codes or ids in one statement, not one statement per item.

use uuid::Uuid;

use crate::rows::owned_values_sql;
use crate::{RegisterTx, StoreResult, on_both};

impl RegisterTx {
    /// Inserts `(owner, code)` rows into `table`.
    pub(crate) async fn insert_codes(
        &mut self,
        table: &'static str,
        owner_column: &'static str,
        value_column: &'static str,
        owner: Uuid,
        codes: &[&'static str],
    ) -> StoreResult<()> {
        if codes.is_empty() {
            return Ok(());
        }
        let sql = owned_values_sql(table, owner_column, value_column, codes.len());
        on_both!(self, conn => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(owner);
            for code in codes {
                query = query.bind(*code);
            }
            query.execute(&mut **conn).await?.rows_affected()
        });
        Ok(())
    }

    /// Inserts `(owner, id)` rows into `table`.
    pub(crate) async fn insert_ids(
        &mut self,
        table: &'static str,
        owner_column: &'static str,
        value_column: &'static str,
        owner: Uuid,
        ids: &[Uuid],
    ) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = owned_values_sql(table, owner_column, value_column, ids.len());
        on_both!(self, conn => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(owner);
            for id in ids {
                query = query.bind(*id);
            }
            query.execute(&mut **conn).await?.rows_affected()
        });
        Ok(())
    }
}
