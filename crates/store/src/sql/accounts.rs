// Portable SQL for the account port (sign-in accounts, sessions, API tokens), compiled once per
// engine like `catalog.rs`: `sqlite.rs` and `postgres.rs` define `Db` and `Adapter` and include
// this file after the catalog. Everything sits in its own module so that its imports and helpers
// cannot collide with the catalog's.

mod account_sql {
    use sqlx::Row;
    use tongban_domain::cases::ActorKind;
    use tongban_domain::keys::AccountName;
    use tongban_domain::org::{Role, RoleAssignment};

    use super::{Adapter, Db};
    use crate::error::StoreError;
    use crate::model::{
        AccountProfile, AccountRecord, ApiTokenRecord, NewAccount, NewApiToken, NewSession,
        SessionRecord,
    };
    use crate::ports::AccountStore;
    use crate::{from_micros, new_id, to_micros};

    type DbRow = <Db as sqlx::Database>::Row;

    fn kind_name(kind: ActorKind) -> &'static str {
        match kind {
            ActorKind::Person => "person",
            ActorKind::Enterprise => "enterprise",
            ActorKind::Staff => "staff",
            ActorKind::System => "system",
        }
    }

    fn parse_kind(text: &str) -> Result<ActorKind, StoreError> {
        match text {
            "person" => Ok(ActorKind::Person),
            "enterprise" => Ok(ActorKind::Enterprise),
            "staff" => Ok(ActorKind::Staff),
            "system" => Ok(ActorKind::System),
            other => Err(StoreError::corrupt(format!("unknown account kind {other}"))),
        }
    }

    /// The role of a `staff_roles` row joined to the account, if the row has one (a LEFT JOIN
    /// gives NULLs for accounts without roles).
    fn role_of(row: &DbRow) -> Result<Option<RoleAssignment>, StoreError> {
        let role: Option<String> = row.try_get("role")?;
        let Some(role) = role else {
            return Ok(None);
        };
        let department: Option<String> = row.try_get("role_department")?;
        let hall: Option<String> = row.try_get("role_hall")?;
        let region: Option<String> = row.try_get("role_region")?;
        let role: Role =
            serde_json::from_value(serde_json::Value::String(role)).map_err(StoreError::corrupt)?;
        Ok(Some(RoleAssignment {
            role,
            department: department
                .map(|d| d.parse())
                .transpose()
                .map_err(StoreError::corrupt)?,
            hall: hall
                .map(|h| h.parse())
                .transpose()
                .map_err(StoreError::corrupt)?,
            region: region
                .map(|r| r.parse())
                .transpose()
                .map_err(StoreError::corrupt)?,
        }))
    }

    /// The profile from the first row of an account ⟕ roles result, with the roles of every row.
    fn profile_of(rows: &[DbRow]) -> Result<Option<AccountProfile>, StoreError> {
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let account: String = first.try_get("account")?;
        let kind: String = first.try_get("kind")?;
        let mut roles = Vec::new();
        for row in rows {
            if let Some(role) = role_of(row)? {
                roles.push(role);
            }
        }
        Ok(Some(AccountProfile {
            account: AccountName::parse(&account).map_err(StoreError::corrupt)?,
            kind: parse_kind(&kind)?,
            display_name: first.try_get("display_name")?,
            identifier: first.try_get("identifier")?,
            disabled: first.try_get("disabled")?,
            roles,
        }))
    }

    fn api_token_of(row: &DbRow) -> Result<ApiTokenRecord, StoreError> {
        let department: String = row.try_get("department")?;
        let created_at: i64 = row.try_get("created_at")?;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        Ok(ApiTokenRecord {
            id: row.try_get("id")?,
            department: department.parse().map_err(StoreError::corrupt)?,
            name: row.try_get("name")?,
            created_at: from_micros(created_at)?,
            revoked_at: revoked_at.map(from_micros).transpose()?,
        })
    }

    /// The columns of an account and of its roles, for `FROM accounts a LEFT JOIN staff_roles r`
    /// (a macro, so that the queries stay `&'static str`).
    macro_rules! profile_columns {
        () => {
            "a.account, a.kind, a.display_name, a.identifier, a.disabled, r.role, \
             r.department AS role_department, r.hall AS role_hall, r.region AS role_region"
        };
    }

    #[async_trait::async_trait]
    impl AccountStore for Adapter {
        async fn upsert_accounts(
            &self,
            accounts: &[NewAccount],
            at: jiff::Timestamp,
        ) -> Result<u64, StoreError> {
            let at = to_micros(at);
            let accounts = accounts.to_vec();
            self.write(move |conn| {
                Box::pin(async move {
                    let mut written = 0;
                    for account in &accounts {
                        let result = sqlx::query(
                            "INSERT INTO accounts (account, kind, display_name, identifier, \
                             password_hash, disabled, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7) \
                             ON CONFLICT (account) DO UPDATE SET kind = excluded.kind, \
                             display_name = excluded.display_name, \
                             identifier = excluded.identifier, \
                             password_hash = excluded.password_hash, \
                             disabled = excluded.disabled",
                        )
                        .bind(account.account.as_str())
                        .bind(kind_name(account.kind))
                        .bind(&account.display_name)
                        .bind(account.identifier.as_deref())
                        .bind(&account.password_hash)
                        .bind(account.disabled)
                        .bind(at)
                        .execute(&mut *conn)
                        .await?;
                        written += result.rows_affected().min(1);
                    }
                    Ok(written)
                })
            })
            .await
        }

        async fn find_account(
            &self,
            account: &AccountName,
        ) -> Result<Option<AccountRecord>, StoreError> {
            let sql = concat!(
                "SELECT ",
                profile_columns!(),
                ", a.password_hash, a.created_at FROM accounts a \
                 LEFT JOIN staff_roles r ON r.account = a.account \
                 WHERE a.account = $1 ORDER BY r.position"
            );
            let rows = sqlx::query(sql)
                .bind(account.as_str())
                .fetch_all(&self.read)
                .await?;
            let Some(profile) = profile_of(&rows)? else {
                return Ok(None);
            };
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            let created_at: i64 = first.try_get("created_at")?;
            Ok(Some(AccountRecord {
                profile,
                password_hash: first.try_get("password_hash")?,
                created_at: from_micros(created_at)?,
            }))
        }

        async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
            let session = session.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    // Housekeeping where it is cheap: this account's sessions, by its index.
                    sqlx::query("DELETE FROM sessions WHERE account = $1 AND expires_at <= $2")
                        .bind(session.account.as_str())
                        .bind(to_micros(session.created_at))
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(
                        "INSERT INTO sessions (token_hash, account, csrf_token, created_at, \
                         expires_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&session.token_hash)
                    .bind(session.account.as_str())
                    .bind(&session.csrf_token)
                    .bind(to_micros(session.created_at))
                    .bind(to_micros(session.expires_at))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        }

        async fn find_session(
            &self,
            token_hash: &str,
            at: jiff::Timestamp,
        ) -> Result<Option<SessionRecord>, StoreError> {
            let sql = concat!(
                "SELECT ",
                profile_columns!(),
                ", s.csrf_token, s.created_at AS session_created_at, s.expires_at \
                 FROM sessions s JOIN accounts a ON a.account = s.account \
                 LEFT JOIN staff_roles r ON r.account = a.account \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 ORDER BY r.position"
            );
            let rows = sqlx::query(sql)
                .bind(token_hash)
                .bind(to_micros(at))
                .fetch_all(&self.read)
                .await?;
            let Some(profile) = profile_of(&rows)? else {
                return Ok(None);
            };
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            let created_at: i64 = first.try_get("session_created_at")?;
            let expires_at: i64 = first.try_get("expires_at")?;
            Ok(Some(SessionRecord {
                profile,
                csrf_token: first.try_get("csrf_token")?,
                created_at: from_micros(created_at)?,
                expires_at: from_micros(expires_at)?,
            }))
        }

        async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
            let token_hash = token_hash.to_owned();
            self.write(move |conn| {
                Box::pin(async move {
                    let result = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                        .bind(&token_hash)
                        .execute(&mut *conn)
                        .await?;
                    Ok(result.rows_affected() > 0)
                })
            })
            .await
        }

        async fn create_api_token(
            &self,
            token: &NewApiToken,
        ) -> Result<ApiTokenRecord, StoreError> {
            let token = token.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "INSERT INTO api_tokens (id, token_hash, department, name, created_at, \
                         revoked_at) VALUES ($1, $2, $3, $4, $5, NULL) \
                         RETURNING id, department, name, created_at, revoked_at",
                    )
                    .bind(new_id(to_micros(token.created_at)))
                    .bind(&token.token_hash)
                    .bind(token.department.as_str())
                    .bind(&token.name)
                    .bind(to_micros(token.created_at))
                    .fetch_one(&mut *conn)
                    .await?;
                    api_token_of(&row)
                })
            })
            .await
        }

        async fn find_api_token(
            &self,
            token_hash: &str,
        ) -> Result<Option<ApiTokenRecord>, StoreError> {
            let row = sqlx::query(
                "SELECT id, department, name, created_at, revoked_at FROM api_tokens \
                 WHERE token_hash = $1 AND revoked_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await?;
            row.as_ref().map(api_token_of).transpose()
        }

        async fn revoke_api_token(
            &self,
            id: uuid::Uuid,
            at: jiff::Timestamp,
        ) -> Result<bool, StoreError> {
            let at = to_micros(at);
            self.write(move |conn| {
                Box::pin(async move {
                    let result = sqlx::query(
                        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                    )
                    .bind(at)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(result.rows_affected() > 0)
                })
            })
            .await
        }

        async fn list_api_tokens(&self) -> Result<Vec<ApiTokenRecord>, StoreError> {
            let rows = sqlx::query(
                "SELECT id, department, name, created_at, revoked_at FROM api_tokens \
                 ORDER BY created_at, id",
            )
            .fetch_all(&self.read)
            .await?;
            rows.iter().map(api_token_of).collect()
        }
    }
}
