//! The two backends' schemas agree, and tests can reach either database directly (to tamper).

use std::collections::{BTreeMap, BTreeSet};

use custodian_testkit::{Backend, TestDatabase};
use sqlx::{Connection, Row};

/// A column as both backends can describe it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Column {
    name: String,
    /// The SQLite declared type, or for PostgreSQL the SQLite type its type corresponds to.
    sqlite_type: String,
    not_null: bool,
    primary_key: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    columns: BTreeMap<String, Vec<Column>>,
    unique: BTreeSet<(String, String)>,
    foreign_keys: BTreeSet<(String, String, String)>,
    indexes: BTreeSet<String>,
    triggers: BTreeSet<String>,
}

/// The SQLite storage type each PostgreSQL type is declared as in the SQLite migrations.
fn sqlite_equivalent(postgres_type: &str) -> String {
    match postgres_type {
        "uuid" | "bytea" => "BLOB",
        "text" | "timestamp with time zone" | "date" => "TEXT",
        "boolean" | "bigint" | "integer" => "INTEGER",
        other => panic!("PostgreSQL type `{other}` has no agreed SQLite equivalent; add it here and to both migrations"),
    }
    .to_owned()
}

async fn sqlite_schema(db: &TestDatabase) -> Schema {
    let path = db.sqlite_path().unwrap();
    let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for table in tables {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA table_info({table})")))
            .fetch_all(&mut connection)
            .await
            .unwrap();
        let mut columns: Vec<Column> = rows
            .iter()
            .map(|row| Column {
                name: row.get("name"),
                sqlite_type: row.get("type"),
                // SQLite does not imply NOT NULL for a single-column primary key; PostgreSQL does.
                not_null: row.get::<i64, _>("notnull") == 1 || row.get::<i64, _>("pk") > 0,
                primary_key: row.get::<i64, _>("pk") > 0,
            })
            .collect();
        columns.sort();
        for index in sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA index_list({table})")))
            .fetch_all(&mut connection)
            .await
            .unwrap()
        {
            let name: String = index.get("name");
            match index.get::<String, _>("origin").as_str() {
                "c" => {
                    schema.indexes.insert(name);
                }
                "u" => {
                    // Every column of the constraint, as PostgreSQL lists them.
                    for column in
                        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA index_info({name})")))
                            .fetch_all(&mut connection)
                            .await
                            .unwrap()
                    {
                        schema.unique.insert((table.clone(), column.get("name")));
                    }
                }
                _ => {}
            }
        }
        for key in sqlx::query(sqlx::AssertSqlSafe(format!(
            "PRAGMA foreign_key_list({table})"
        )))
        .fetch_all(&mut connection)
        .await
        .unwrap()
        {
            schema
                .foreign_keys
                .insert((table.clone(), key.get("from"), key.get("table")));
        }
        schema.columns.insert(table, columns);
    }
    let triggers: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut connection)
            .await
            .unwrap();
    schema.triggers.extend(triggers);
    schema
}

async fn postgres_schema(db: &TestDatabase) -> Schema {
    let namespace = db.postgres_schema().unwrap().to_owned();
    let mut connection = sqlx::PgConnection::connect(&custodian_testkit::postgres_admin_url())
        .await
        .unwrap();
    let mut schema = Schema::default();
    let primary_keys: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT tc.table_name::text, kcu.column_name::text FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
         WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = $1",
    )
    .bind(&namespace)
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name <> '_sqlx_migrations'",
    )
    .bind(&namespace)
    .fetch_all(&mut connection)
    .await
    .unwrap();
    for (table, name, data_type, nullable) in rows {
        let primary_key = primary_keys.contains(&(table.clone(), name.clone()));
        schema.columns.entry(table).or_default().push(Column {
            name,
            sqlite_type: sqlite_equivalent(&data_type),
            not_null: nullable == "NO",
            primary_key,
        });
    }
    schema
        .columns
        .values_mut()
        .for_each(|columns| columns.sort());
    schema.unique = sqlx::query_as(
        "SELECT tc.table_name::text, kcu.column_name::text FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
         WHERE tc.constraint_type = 'UNIQUE' AND tc.table_schema = $1",
    )
    .bind(&namespace)
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .into_iter()
    .collect();
    schema.foreign_keys = sqlx::query_as(
        "SELECT tc.table_name::text, kcu.column_name::text, ccu.table_name::text FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
         JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
         WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = $1",
    )
    .bind(&namespace)
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .into_iter()
    .collect();
    schema.indexes = sqlx::query_scalar::<_, String>(
        "SELECT i.indexname::text FROM pg_indexes i WHERE i.schemaname = $1
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                         WHERE n.nspname = $1 AND c.conname = i.indexname)",
    )
    .bind(&namespace)
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .into_iter()
    .collect();
    schema.triggers = sqlx::query_scalar::<_, String>(
        "SELECT DISTINCT trigger_name::text FROM information_schema.triggers WHERE trigger_schema = $1",
    )
    .bind(&namespace)
    .fetch_all(&mut connection)
    .await
    .unwrap()
    .into_iter()
    .collect();
    // PostgreSQL also refuses TRUNCATE, which SQLite does not have.
    schema.triggers.remove("audit_events_are_never_truncated");
    schema
}

#[tokio::test]
async fn the_sqlite_and_postgresql_schemas_agree() {
    if custodian_testkit::skip_without(custodian_testkit::Needs::Postgres).await {
        return;
    }
    let sqlite = TestDatabase::new(Backend::Sqlite).await;
    let postgres = TestDatabase::new(Backend::Postgres).await;
    let (sqlite, postgres) = (
        sqlite_schema(&sqlite).await,
        postgres_schema(&postgres).await,
    );
    assert!(
        sqlite.columns.len() > 15,
        "the introspection found the tables: {:?}",
        sqlite.columns.keys()
    );
    for (table, columns) in &sqlite.columns {
        assert_eq!(
            Some(columns),
            postgres.columns.get(table),
            "table `{table}` differs"
        );
    }
    assert_eq!(
        sqlite.columns.keys().collect::<Vec<_>>(),
        postgres.columns.keys().collect::<Vec<_>>()
    );
    assert_eq!(sqlite.unique, postgres.unique, "unique constraints differ");
    assert_eq!(
        sqlite.foreign_keys, postgres.foreign_keys,
        "foreign keys differ"
    );
    assert_eq!(sqlite.indexes, postgres.indexes, "indexes differ");
    assert_eq!(sqlite.triggers, postgres.triggers, "triggers differ");
}

/// Runs `statement` on the test database through a connection of its own, bypassing the
/// register, as someone with direct database access could. Returns the rows affected or the
/// database's error message.
pub async fn execute_directly(db: &TestDatabase, statement: &str) -> Result<u64, String> {
    let statement = sqlx::AssertSqlSafe(statement.to_owned());
    let result = match db.backend {
        Backend::Sqlite => {
            let path = db.sqlite_path().unwrap();
            let mut connection =
                sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .unwrap();
            sqlx::raw_sql(statement)
                .execute(&mut connection)
                .await
                .map(|r| r.rows_affected())
        }
        Backend::Postgres => {
            let mut connection =
                sqlx::PgConnection::connect(&custodian_testkit::postgres_admin_url())
                    .await
                    .unwrap();
            let schema = db.postgres_schema().unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path TO {schema}")))
                .execute(&mut connection)
                .await
                .unwrap();
            sqlx::raw_sql(statement)
                .execute(&mut connection)
                .await
                .map(|r| r.rows_affected())
        }
    };
    result.map_err(|error| error.to_string())
}
