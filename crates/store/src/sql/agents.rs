// Portable SQL for the agent port (registrations, mandates, home visits), compiled once per
// engine (see sql/catalog.rs for the scheme). Each record is one row with its whole document and
// the columns that lists filter on; a revocation only lands on an unrevoked mandate, and a home
// visit only changes at the version its writer read.

mod agent_sql {
    use sqlx::types::Json;
    use sqlx::{QueryBuilder, Row};
    use tongban_domain::agents::Agent;
    use tongban_domain::agents::home_visits::HomeVisit;
    use tongban_domain::agents::mandates::Mandate;
    use tongban_domain::keys::{AccountName, HomeVisitId, MandateId};

    use super::{Adapter, Db};
    use crate::error::StoreError;
    use crate::model::{HomeVisitFilter, MandateFilter};
    use crate::ports::AgentStore;
    use crate::to_micros;

    /// Versions and limits are BIGINT/INTEGER columns; real values stay far below the bounds.
    fn version_column(version: u64) -> i64 {
        i64::try_from(version).unwrap_or(i64::MAX)
    }

    fn limit_column(limit: u32) -> i64 {
        i64::from(if limit == 0 { 100 } else { limit.min(1000) })
    }

    /// An insert that may meet an existing id (`ON CONFLICT DO NOTHING`): `Conflict` if it did.
    fn require_inserted(rows: u64, what: String) -> Result<(), StoreError> {
        if rows == 0 {
            return Err(StoreError::Conflict(format!("{what} exists")));
        }
        Ok(())
    }

    fn decode<T: serde::de::DeserializeOwned>(
        row: &<Db as sqlx::Database>::Row,
    ) -> Result<T, StoreError> {
        let Json(value): Json<T> = row.try_get("document")?;
        Ok(value)
    }

    #[async_trait::async_trait]
    impl AgentStore for Adapter {
        async fn save_agent(&self, agent: &Agent) -> Result<(), StoreError> {
            let agent = agent.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO agents (account, level, region, hall, active, updated_at, \
                         document) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (account) DO UPDATE SET level = $8, region = $9, hall = $10, \
                         active = $11, updated_at = $12, document = $13",
                    )
                    .bind(agent.account.as_str())
                    .bind(agent.level.code())
                    .bind(agent.region.as_str())
                    .bind(agent.hall.as_ref().map(|h| h.as_str()))
                    .bind(agent.active)
                    .bind(to_micros(agent.updated_at))
                    .bind(Json(&agent))
                    .bind(agent.level.code())
                    .bind(agent.region.as_str())
                    .bind(agent.hall.as_ref().map(|h| h.as_str()))
                    .bind(agent.active)
                    .bind(to_micros(agent.updated_at))
                    .bind(Json(&agent))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        }

        async fn agent(&self, account: &AccountName) -> Result<Option<Agent>, StoreError> {
            let row = sqlx::query("SELECT document FROM agents WHERE account = $1")
                .bind(account.as_str())
                .fetch_optional(&self.read)
                .await?;
            row.as_ref().map(decode).transpose()
        }

        async fn agents(&self) -> Result<Vec<Agent>, StoreError> {
            let rows = sqlx::query("SELECT level, region, account, document FROM agents")
                .fetch_all(&self.read)
                .await?;
            let mut agents: Vec<Agent> = rows.iter().map(decode).collect::<Result<_, _>>()?;
            // The level's order (district, street, community) is the enum's, not the text's.
            agents.sort_by(|a, b| {
                (a.level, a.region.as_str(), a.account.as_str()).cmp(&(
                    b.level,
                    b.region.as_str(),
                    b.account.as_str(),
                ))
            });
            Ok(agents)
        }

        async fn create_mandate(&self, mandate: &Mandate) -> Result<(), StoreError> {
            let mandate = mandate.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    let inserted = sqlx::query(
                        "INSERT INTO mandates (id, agent, principal, valid_from, valid_until, \
                         revoked_at, created_at, document) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(mandate.id.as_uuid())
                    .bind(mandate.agent.as_str())
                    .bind(&mandate.principal.identifier)
                    .bind(mandate.valid_from.to_string())
                    .bind(mandate.valid_until.to_string())
                    .bind(mandate.revoked.as_ref().map(|r| to_micros(r.at)))
                    .bind(to_micros(mandate.created_at))
                    .bind(Json(&mandate))
                    .execute(&mut *conn)
                    .await?;
                    require_inserted(inserted.rows_affected(), format!("mandate {}", mandate.id))
                })
            })
            .await
        }

        async fn revoke_mandate(&self, mandate: &Mandate) -> Result<bool, StoreError> {
            let mandate = mandate.clone();
            let Some(revoked_at) = mandate.revoked.as_ref().map(|r| to_micros(r.at)) else {
                return Ok(false);
            };
            self.write(move |conn| {
                Box::pin(async move {
                    let updated = sqlx::query(
                        "UPDATE mandates SET revoked_at = $1, document = $2 \
                         WHERE id = $3 AND revoked_at IS NULL",
                    )
                    .bind(revoked_at)
                    .bind(Json(&mandate))
                    .bind(mandate.id.as_uuid())
                    .execute(&mut *conn)
                    .await?;
                    Ok(updated.rows_affected() == 1)
                })
            })
            .await
        }

        async fn mandate(&self, id: MandateId) -> Result<Option<Mandate>, StoreError> {
            let row = sqlx::query("SELECT document FROM mandates WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.read)
                .await?;
            row.as_ref().map(decode).transpose()
        }

        async fn mandates(&self, filter: &MandateFilter) -> Result<Vec<Mandate>, StoreError> {
            let mut query = QueryBuilder::<Db>::new("SELECT document FROM mandates WHERE 1 = 1");
            if let Some(agent) = &filter.agent {
                query
                    .push(" AND agent = ")
                    .push_bind(agent.as_str().to_owned());
            }
            if let Some(principal) = &filter.principal {
                query.push(" AND principal = ").push_bind(principal.clone());
            }
            query
                .push(" ORDER BY created_at DESC, id DESC LIMIT ")
                .push_bind(limit_column(filter.limit));
            let rows = query.build().fetch_all(&self.read).await?;
            rows.iter().map(decode).collect()
        }

        async fn create_home_visit(&self, visit: &HomeVisit) -> Result<(), StoreError> {
            let visit = visit.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    let inserted = sqlx::query(
                        "INSERT INTO home_visits (id, version, hall, state, person, agent, \
                         planned_at, requested_at, document) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(visit.id.as_uuid())
                    .bind(version_column(visit.version))
                    .bind(visit.hall.as_str())
                    .bind(visit.state.name())
                    .bind(&visit.person.identifier)
                    .bind(visit.state.agent().map(|a| a.as_str()))
                    .bind(visit.state.planned_at().map(to_micros))
                    .bind(to_micros(visit.requested_at))
                    .bind(Json(&visit))
                    .execute(&mut *conn)
                    .await?;
                    require_inserted(inserted.rows_affected(), format!("home visit {}", visit.id))
                })
            })
            .await
        }

        async fn save_home_visit(
            &self,
            visit: &HomeVisit,
            expected_version: u64,
        ) -> Result<(), StoreError> {
            let visit = visit.clone();
            self.write(move |conn| {
                Box::pin(async move {
                    let updated = sqlx::query(
                        "UPDATE home_visits SET version = $1, hall = $2, state = $3, agent = $4, \
                         planned_at = $5, document = $6 WHERE id = $7 AND version = $8",
                    )
                    .bind(version_column(visit.version))
                    .bind(visit.hall.as_str())
                    .bind(visit.state.name())
                    .bind(visit.state.agent().map(|a| a.as_str()))
                    .bind(visit.state.planned_at().map(to_micros))
                    .bind(Json(&visit))
                    .bind(visit.id.as_uuid())
                    .bind(version_column(expected_version))
                    .execute(&mut *conn)
                    .await?;
                    if updated.rows_affected() == 1 {
                        return Ok(());
                    }
                    let actual: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM home_visits WHERE id = $1")
                            .bind(visit.id.as_uuid())
                            .fetch_optional(&mut *conn)
                            .await?;
                    match actual {
                        Some(actual) => Err(StoreError::StaleVersion {
                            expected: expected_version,
                            actual: u64::try_from(actual).unwrap_or(0),
                        }),
                        None => Err(StoreError::NotFound {
                            what: format!("home visit {}", visit.id),
                        }),
                    }
                })
            })
            .await
        }

        async fn home_visit(&self, id: HomeVisitId) -> Result<Option<HomeVisit>, StoreError> {
            let row = sqlx::query("SELECT document FROM home_visits WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.read)
                .await?;
            row.as_ref().map(decode).transpose()
        }

        async fn home_visits(
            &self,
            filter: &HomeVisitFilter,
        ) -> Result<Vec<HomeVisit>, StoreError> {
            let mut query = QueryBuilder::<Db>::new("SELECT document FROM home_visits WHERE 1 = 1");
            if let Some(hall) = &filter.hall {
                query
                    .push(" AND hall = ")
                    .push_bind(hall.as_str().to_owned());
            }
            if let Some(agent) = &filter.agent {
                query
                    .push(" AND agent = ")
                    .push_bind(agent.as_str().to_owned());
            }
            if let Some(person) = &filter.person {
                query.push(" AND person = ").push_bind(person.clone());
            }
            if !filter.states.is_empty() {
                query.push(" AND state IN (");
                let mut states = query.separated(", ");
                for state in &filter.states {
                    states.push_bind(state.clone());
                }
                query.push(")");
            }
            query
                .push(
                    " ORDER BY CASE WHEN planned_at IS NULL THEN 1 ELSE 0 END, planned_at, \
                     requested_at DESC, id LIMIT ",
                )
                .push_bind(limit_column(filter.limit));
            let rows = query.build().fetch_all(&self.read).await?;
            rows.iter().map(decode).collect()
        }
    }
}
